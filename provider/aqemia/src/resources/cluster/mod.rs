//! `aqemia_cluster`: the whole EKS platform from one resource. Its parts live in one file
//! each (network, iam, ecr, eks, leftovers); this file holds the lifecycle.
//!
//! Create and update are one convergence: every part is found (by its tags, or the id in
//! state) and repaired, or created. That makes a retry after a failure, an apply after the
//! provider was killed, drift repair and adoption the same code path, and none of them can
//! duplicate a part.

mod adopt;
mod ecr;
mod eks;
mod iam;
mod leftovers;
mod network;
mod parts;
mod run;
mod schema;
mod spec;

use std::collections::BTreeMap;

use anyhow::Context as _;
use async_trait::async_trait;
use aws_sdk_ec2::types::{AvailabilityZoneState, Filter};
use tokio::time::Instant;

use crate::aws::{Aws, AwsError};
use crate::config::ProviderConfig;
use crate::cty::{Path, Value};
use crate::framework::timeouts::Operation;
use crate::framework::{Applied, Context, Diagnostics, Plan, Private, Read, Resource, Schema};

use parts::Parts;
use run::Run;
use spec::{derive_subnets, Spec, NEWEST_KNOWN_VERSION};

pub const TYPE_NAME: &str = "aqemia_cluster";

pub struct Cluster;

#[async_trait]
impl Resource<ProviderConfig> for Cluster {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema::schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        schema::validate(config, diags);
    }

    async fn plan(&self, ctx: &Context, plan: &mut Plan) {
        if let Some(name) = plan.planned.get("name").and_then(Value::as_str).map(str::to_string) {
            set(&mut plan.planned, "id", Value::string(name));
        }
        if plan.planned.get("region").is_some_and(Value::is_unknown) && plan.config.get("region").is_some_and(Value::is_null) {
            match &ctx.config.region {
                Some(region) => set(&mut plan.planned, "region", Value::string(region.clone())),
                None if ctx.config.unknown.iter().any(|u| u == "region") => {}
                None => plan.diags.attribute_error(
                    &Path::root().attr("region"),
                    "No region",
                    "Set region here, or in the provider block, or AWS_REGION in the environment, like \"eu-west-1\".",
                ),
            }
        }
        if plan.is_create() {
            if plan.planned.get("kubernetes_version").is_some_and(Value::is_unknown) {
                set(&mut plan.planned, "kubernetes_version", Value::string(NEWEST_KNOWN_VERSION));
            }
            if plan.planned.get("availability_zones").is_some_and(Value::is_unknown) {
                if let Some(region) = plan.planned.get("region").and_then(Value::as_str).map(str::to_string) {
                    // Unreachable AWS at plan time is not an error: apply looks them up.
                    if let Ok(zones) = default_zones(&Aws::connect(&ctx.config, &region).await).await {
                        set(&mut plan.planned, "availability_zones", Value::List(zones.into_iter().map(Value::string).collect()));
                    }
                }
            }
            fill_subnets(&mut plan.planned);
        } else {
            let prior = plan.prior.get("kubernetes_version").and_then(Value::as_str).unwrap_or_default().to_string();
            if let Some(next) = plan.planned.get("kubernetes_version").and_then(Value::as_str) {
                if let Err(why) = schema::check_upgrade(&prior, next) {
                    plan.diags.attribute_error(&Path::root().attr("kubernetes_version"), "Unsupported version change", why);
                }
            }
            plan_parts(plan);
        }
    }

    async fn create(&self, ctx: &Context, mut planned: Value, private: Private) -> Applied {
        let parts = Parts::default();
        let deadline = Instant::now() + schema::TIMEOUTS.resolve(&planned, Operation::Create);
        let aws = match aws_for(ctx, &planned).await {
            Ok(aws) => aws,
            Err(e) => return finish(planned, parts, Err(e), None, private, "creating").await,
        };
        let result = async {
            if planned.get("availability_zones").is_some_and(Value::is_unknown) {
                let zones = default_zones(&aws).await.context("listing availability zones")?;
                set(&mut planned, "availability_zones", Value::List(zones.into_iter().map(Value::string).collect()));
                fill_subnets(&mut planned);
            }
            let spec = Spec::from_value(&planned)?;
            converge(ctx, &aws, &spec, &parts, BTreeMap::new(), deadline).await
        }
        .await;
        finish(planned, parts, result, Some(&aws), private, "creating").await
    }

    async fn update(&self, ctx: &Context, prior: Value, planned: Value, private: Private) -> Applied {
        let parts = Parts::from_value(&prior);
        let deadline = Instant::now() + schema::TIMEOUTS.resolve(&planned, Operation::Update);
        let aws = match aws_for(ctx, &planned).await {
            Ok(aws) => aws,
            Err(e) => return finish(planned, parts, Err(e), None, private, "updating").await,
        };
        let result = async {
            let spec = Spec::from_value(&planned)?;
            let prior_tags = Spec::from_value(&prior).map(|p| p.tags).unwrap_or_default();
            converge(ctx, &aws, &spec, &parts, prior_tags, deadline).await
        }
        .await;
        finish(planned, parts, result, Some(&aws), private, "updating").await
    }

    async fn import(&self, ctx: &Context, id: &str) -> Result<(Value, Private), Diagnostics> {
        let state = adopt::skeleton(schema::schema().block.empty_value(), id, ctx.config.region.as_deref())?;
        Ok((state, Private::default()))
    }

    async fn read(&self, ctx: &Context, state: Value, private: Private) -> Read {
        let deadline = Instant::now() + schema::TIMEOUTS.resolve(&state, Operation::Read);
        match refresh(ctx, state, deadline).await {
            Ok(state) => Read { state, private, diags: Diagnostics::new() },
            Err((state, e)) => {
                let mut diags = Diagnostics::new();
                diags.error(format!("reading cluster {}", text(&state, "name")), format!("{e:#}"));
                Read { state: Some(state), private, diags }
            }
        }
    }

    async fn delete(&self, ctx: &Context, prior: Value, _private: Private) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let parts = Parts::from_value(&prior);
        let deadline = Instant::now() + schema::TIMEOUTS.resolve(&prior, Operation::Delete);
        let result = async {
            let aws = aws_for(ctx, &prior).await?;
            let spec = Spec::from_value(&prior)?;
            let run = Run { aws: &aws, spec: &spec, parts: &parts, prior_tags: BTreeMap::new(), deadline, cancel: ctx.cancel.clone() };
            run.delete_node_groups().await?;
            run.delete_cluster().await?;
            let vpc = run
                .network()
                .await
                .map_err(anyhow::Error::from)
                .context("reading the VPC")?
                .vpc
                .and_then(|v| v.vpc_id().map(str::to_string))
                .or_else(|| parts.id(network::VPC));
            if let Some(vpc) = vpc {
                run.delete_leftovers(&vpc).await?;
            }
            let roles = run.roles();
            let (net, template, cluster_role, node_role) =
                tokio::join!(run.delete_network(), run.delete_template(), run.delete_role(&roles[0]), run.delete_role(&roles[1]));
            net.and(template).and(cluster_role).and(node_role)?;
            run.delete_repository().await
        }
        .await;
        match result {
            Ok(true) => diags.warning(
                "ECR repository kept",
                format!(
                    "The ECR repository {} and its images were kept, as they cannot be recreated by an apply. Set ecr {{ force_delete = true }} to delete it with the cluster, or delete it by hand.",
                    text(&prior, "name")
                ),
            ),
            Ok(false) => {}
            Err(e) => diags.error(format!("deleting cluster {}", text(&prior, "name")), format!("{e:#}")),
        }
        diags
    }
}

async fn aws_for(ctx: &Context, value: &Value) -> anyhow::Result<Aws> {
    let region = value.get("region").and_then(Value::as_str).context("the region is not known")?;
    Ok(Aws::connect(&ctx.config, region).await)
}

/// Creates what is missing and repairs what drifted, in dependency order; what does not
/// depend on the control plane runs beside it.
async fn converge(
    ctx: &Context,
    aws: &Aws,
    spec: &Spec,
    parts: &Parts,
    prior_tags: BTreeMap<String, String>,
    deadline: Instant,
) -> anyhow::Result<()> {
    let run = Run { aws, spec, parts, prior_tags, deadline, cancel: ctx.cancel.clone() };
    let roles = run.roles();
    let (net, cluster_role, node_role, repository, template) = tokio::join!(
        run.ensure_network(),
        run.ensure_role(&roles[0]),
        run.ensure_role(&roles[1]),
        run.ensure_repository(),
        run.ensure_template(),
    );
    // Every branch ran to its end; report the first failure after all recorded their parts.
    net?;
    let (cluster_role, node_role, template) = (cluster_role?, node_role?, template?);
    repository?;
    let (private_subnets, all_subnets) = run.subnet_ids()?;
    let security_group = parts.id(network::SECURITY_GROUP).context("the security group is not recorded")?;
    run.ensure_cluster(all_subnets, security_group, cluster_role).await?;
    run.ensure_node_group(private_subnets, node_role, template).await?;
    run.log("ready");
    Ok(())
}

/// The state after create or update: every recorded part, whatever happened, and the
/// outputs that can be known.
async fn finish(mut planned: Value, parts: Parts, result: anyhow::Result<()>, aws: Option<&Aws>, private: Private, verb: &str) -> Applied {
    let mut diags = Diagnostics::new();
    let name = text(&planned, "name");
    if let Err(e) = &result {
        diags.error(
            format!("{verb} cluster {name}"),
            format!("{e:#}\n\nEvery part created so far is recorded in the state; apply again to resume."),
        );
    }
    set(&mut planned, "parts", parts.to_value());
    if let (Ok(spec), Some(aws)) = (Spec::from_value(&planned), aws) {
        // The description carries the endpoint and CA; only asked for once the cluster exists.
        let cluster = match parts.id(eks::CLUSTER) {
            Some(_) => aws.eks.describe_cluster().name(&spec.name).send().await.ok().and_then(|o| o.cluster().cloned()),
            None => None,
        };
        outputs(&mut planned, &spec, &parts, cluster.as_ref());
    }
    null_unknowns(&mut planned);
    Applied { state: planned, private, diags }
}

/// Fills the computed outputs from the parts record and the cluster's description.
fn outputs(value: &mut Value, spec: &Spec, parts: &Parts, cluster: Option<&aws_sdk_eks::types::Cluster>) {
    let id = |key: &str| parts.id(key).map(Value::string).unwrap_or(Value::Null);
    let ids = |keys: Vec<String>| Value::List(keys.iter().filter_map(|k| parts.id(k)).map(Value::string).collect());
    set(value, "vpc_id", id(network::VPC));
    set(value, "public_subnet_ids", ids(spec.zones.iter().map(|z| network::public_subnet(z)).collect()));
    set(value, "private_subnet_ids", ids(spec.zones.iter().map(|z| network::private_subnet(z)).collect()));
    set(value, "nat_gateway_ids", ids(spec.nat_zones().iter().map(|z| network::nat(z)).collect()));
    set(value, "security_group_id", id(network::SECURITY_GROUP));
    set(value, "cluster_role_arn", id(iam::CLUSTER_ROLE));
    set(value, "node_role_arn", id(iam::NODE_ROLE));
    set(value, "launch_template_id", id(eks::LAUNCH_TEMPLATE));
    set(value, "node_group_name", Value::string(spec.node_group_name()));
    let repository_arn = parts.id(ecr::REPOSITORY);
    // arn:aws:ecr:<region>:<account>:repository/<name> → <account>.dkr.ecr.<region>.amazonaws.com/<name>
    let url = repository_arn.as_deref().and_then(|arn| {
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let name = fields.get(5)?.strip_prefix("repository/")?;
        Some(format!("{}.dkr.ecr.{}.amazonaws.com/{name}", fields.get(4)?, fields.get(3)?))
    });
    set(value, "ecr_repository_arn", repository_arn.map(Value::string).unwrap_or(Value::Null));
    set(value, "ecr_repository_url", url.map(Value::string).unwrap_or(Value::Null));
    let Some(cluster) = cluster else { return };
    let ca = eks::decode_ca(cluster).ok();
    let endpoint = cluster.endpoint().map(str::to_string);
    let text = |v: Option<String>| v.map(Value::string).unwrap_or(Value::Null);
    set(value, "arn", text(cluster.arn().map(str::to_string)));
    set(value, "endpoint", text(endpoint.clone()));
    set(value, "ca_certificate", text(ca.clone()));
    set(value, "oidc_issuer_url", text(cluster.identity().and_then(|i| i.oidc()).and_then(|o| o.issuer()).map(str::to_string)));
    if let (Some(endpoint), Some(ca)) = (endpoint, ca) {
        let connection =
            [("name", spec.name.clone()), ("endpoint", endpoint.clone()), ("ca_certificate", ca.clone()), ("region", spec.region.clone())];
        set(value, "connection", Value::Map(connection.into_iter().map(|(k, v)| (k.to_string(), Value::string(v))).collect()));
        set(value, "kubeconfig", Value::string(kubeconfig(spec, &endpoint, &ca)));
    }
}

fn kubeconfig(spec: &Spec, endpoint: &str, ca_pem: &str) -> String {
    use base64::Engine as _;
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let name = &spec.name;
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {endpoint}\n    certificate-authority-data: {ca}\n\
         contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\ncurrent-context: {name}\nusers:\n- name: {name}\n  user:\n    exec:\n\
         \x20     apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n      args: [\"eks\", \"get-token\", \"--cluster-name\", \"{name}\", \"--region\", \"{}\"]\n\
         \x20     interactiveMode: Never\n",
        spec.region
    )
}

/// Refreshes every part. Arguments AWS holds (version, endpoint access, node sizes) take
/// the values found, so the plan shows the change back; drift no argument shows is noted
/// in `parts`. `Ok(None)` when nothing of the cluster is left.
async fn refresh(ctx: &Context, mut state: Value, deadline: Instant) -> Result<Option<Value>, (Value, anyhow::Error)> {
    let aws = match aws_for(ctx, &state).await {
        Ok(aws) => aws,
        Err(e) => return Err((state, e)),
    };
    if adopt::is_skeleton(&state) {
        // Enough of a spec to find parts by name and tags.
        let bare = [
            ("name", Value::string(text(&state, "name"))),
            ("region", Value::string(aws.region.clone())),
            ("vpc_cidr", Value::from("10.0.0.0/16")),
        ];
        let bare = Spec::from_value(&Value::object(bare)).expect("name, region and a CIDR make a spec");
        let parts = Parts::default();
        let run = Run { aws: &aws, spec: &bare, parts: &parts, prior_tags: BTreeMap::new(), deadline, cancel: ctx.cancel.clone() };
        state = match adopt::arguments(&run, state.clone()).await {
            Ok(adopted) => adopted,
            Err(e) => return Err((state, e.context("importing"))),
        };
    }
    let spec = match Spec::from_value(&state) {
        Ok(spec) => spec,
        Err(e) => return Err((state, e)),
    };
    let recorded = Parts::from_value(&state);
    let run = Run { aws: &aws, spec: &spec, parts: &recorded, prior_tags: BTreeMap::new(), deadline, cancel: ctx.cancel.clone() };
    let roles = run.roles();
    let group_name = spec.node_group_name();
    let observed = async {
        let (net, cluster_role, node_role, repository, template, cluster, group) = tokio::join!(
            run.network(),
            run.role_drift(&roles[0]),
            run.role_drift(&roles[1]),
            run.repository(),
            run.template(),
            run.cluster(),
            run.node_group(&group_name),
        );
        Ok::<_, AwsError>((net?, cluster_role?, node_role?, repository?, template?, cluster?, group?))
    }
    .await;
    let (net, cluster_role, node_role, repository, template, cluster, group) = match observed {
        Ok(o) => o,
        Err(e) => return Err((state, anyhow::Error::from(e).context("refreshing the cluster's parts"))),
    };
    let mut found: Vec<(String, Option<(String, Option<String>)>)> = run.network_drift(&net);
    found.push((iam::CLUSTER_ROLE.into(), cluster_role));
    found.push((iam::NODE_ROLE.into(), node_role));
    found.push((ecr::REPOSITORY.into(), repository.as_ref().map(|r| run.repository_drift(r))));
    found.push((eks::LAUNCH_TEMPLATE.into(), template.as_ref().map(|t| run.template_drift(t))));
    found.push((eks::CLUSTER.into(), cluster.as_ref().map(|c| run.cluster_drift(c))));
    let template_version = template.as_ref().map(|t| t.default_version);
    found.push((eks::NODE_GROUP.into(), group.as_ref().map(|g| run.node_group_drift(g, template_version))));
    if found.iter().all(|(_, f)| f.is_none()) {
        return Ok(None);
    }
    let parts = Parts::default();
    for (key, seen) in found {
        match seen {
            Some((id, None)) => parts.record(&key, &id),
            Some((id, Some(what))) => {
                parts.record(&key, &id);
                parts.mark_drifted(&key, &what);
            }
            None => parts.mark_missing(&key),
        }
    }
    if let Some(cluster) = &cluster {
        if let Some(version) = cluster.version() {
            set(&mut state, "kubernetes_version", Value::string(version));
        }
        if let Some(vpc) = cluster.resources_vpc_config() {
            set(&mut state, "endpoint_public_access", Value::from(vpc.endpoint_public_access()));
            set(&mut state, "endpoint_private_access", Value::from(vpc.endpoint_private_access()));
            if vpc.endpoint_public_access() && !vpc.public_access_cidrs().is_empty() {
                set(
                    &mut state,
                    "public_access_cidrs",
                    Value::List(vpc.public_access_cidrs().iter().map(|c| Value::string(c.clone())).collect()),
                );
            }
        }
    }
    if let Some(scaling) = group.as_ref().and_then(|g| g.scaling_config()) {
        for (name, size) in
            [("node_desired_size", scaling.desired_size()), ("node_min_size", scaling.min_size()), ("node_max_size", scaling.max_size())]
        {
            if let Some(size) = size {
                set(&mut state, name, Value::from(size as i64));
            }
        }
    }
    set(&mut state, "parts", parts.to_value());
    outputs(&mut state, &spec, &parts, cluster.as_ref());
    null_unknowns(&mut state);
    Ok(Some(state))
}

/// On update, `parts` becomes the plain ids again (what drifted is repaired) and unknown
/// where a part is made anew; outputs stay known unless a part is remade or the node
/// group is replaced.
fn plan_parts(plan: &mut Plan) {
    let prior_parts = plan.prior.get("parts").and_then(Value::as_entries).cloned().unwrap_or_default();
    let remade = prior_parts.values().any(|v| parts::plain_id(v.as_str().unwrap_or_default()).is_none());
    let node_group_kept =
        ["node_instance_types", "node_capacity_type"].iter().all(|a| plan.planned.get(a).is_some_and(|v| Some(v) == plan.prior.get(a)));
    let mut planned_parts: BTreeMap<String, Value> =
        prior_parts.iter().map(|(k, v)| (k.clone(), parts::planned_value(v.as_str().unwrap_or_default()))).collect();
    if !node_group_kept {
        planned_parts.insert(eks::NODE_GROUP.to_string(), Value::unknown());
    }
    set(&mut plan.planned, "parts", Value::Map(planned_parts));
    for name in schema::OUTPUTS {
        let keep = !remade && (*name != "node_group_name" || node_group_kept);
        if let (true, Some(prior)) = (keep, plan.prior.get(name).cloned()) {
            set(&mut plan.planned, name, prior);
        }
    }
}

/// Subnet blocks derived from `vpc_cidr`, where the configuration leaves them out and the
/// zones are known.
fn fill_subnets(planned: &mut Value) {
    let zones = planned.get("availability_zones").filter(|z| z.is_wholly_known()).and_then(Value::as_seq).map(<[Value]>::len);
    let vpc = planned.get("vpc_cidr").and_then(Value::as_str).and_then(|c| c.parse().ok());
    let (Some(zones), Some(vpc)) = (zones, vpc) else { return };
    let (private, public) = derive_subnets(vpc, zones);
    for (name, blocks) in [("private_subnet_cidrs", private), ("public_subnet_cidrs", public)] {
        if planned.get(name).is_some_and(Value::is_unknown) {
            set(planned, name, Value::List(blocks.iter().map(|c| Value::string(c.to_string())).collect()));
        }
    }
}

/// The region's first three available zones, by name: stable across plans.
async fn default_zones(aws: &Aws) -> anyhow::Result<Vec<String>> {
    let out = aws
        .ec2
        .describe_availability_zones()
        .filters(Filter::builder().name("state").values("available").build())
        .send()
        .await
        .map_err(AwsError::from)?;
    let mut zones: Vec<String> = out
        .availability_zones()
        .iter()
        .filter(|z| z.state() == Some(&AvailabilityZoneState::Available) && z.zone_type().is_none_or(|t| t == "availability-zone"))
        .filter_map(|z| z.zone_name().map(str::to_string))
        .collect();
    zones.sort();
    zones.truncate(3);
    anyhow::ensure!(zones.len() >= 2, "region {} has {} available zones; EKS needs 2", aws.region, zones.len());
    Ok(zones)
}

pub(super) fn text(value: &Value, name: &str) -> String {
    value.get(name).and_then(Value::as_str).unwrap_or_default().to_string()
}

pub(super) fn set(value: &mut Value, name: &str, new: Value) {
    if let Some(slot) = value.get_mut(name) {
        *slot = new;
    }
}

/// After apply every attribute must be known; what could not be learned is null.
fn null_unknowns(value: &mut Value) {
    if let Value::Object(attrs) = value {
        for slot in attrs.values_mut() {
            if !slot.is_wholly_known() {
                *slot = Value::Null;
            }
        }
    }
}
