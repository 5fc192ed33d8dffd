//! `terraform import aqemia_cluster.main <name>` (or `<region>/<name>`): the arguments are
//! read back from the parts found by their tags, so the next plan compares the
//! configuration with what really runs.

use std::collections::BTreeMap;

use anyhow::Context as _;

use super::network::{self, Network};
use super::run::Run;
use super::spec::{Cidr, Ecr, Spec, OWNER_TAG, PART_TAG};
use super::{set, text};
use crate::cty::Value;
use crate::framework::Diagnostics;

/// The state `import` hands to the first refresh: name and region only.
pub fn skeleton(empty: Value, id: &str, default_region: Option<&str>) -> Result<Value, Diagnostics> {
    let (region, name) = match id.split_once('/') {
        Some((region, name)) => (Some(region), name),
        None => (default_region, id),
    };
    let Some(region) = region else {
        let mut diags = Diagnostics::new();
        diags.error(
            "No region to import from",
            format!("Import as <region>/<name>, like \"eu-west-1/{id}\", or set the provider's region."),
        );
        return Err(diags);
    };
    let mut state = empty;
    set(&mut state, "id", Value::string(name));
    set(&mut state, "name", Value::string(name));
    set(&mut state, "region", Value::string(region));
    Ok(state)
}

/// Whether a state still lacks the arguments only an import leaves out.
pub fn is_skeleton(state: &Value) -> bool {
    state.get("vpc_cidr").is_some_and(Value::is_null)
}

/// Fills the arguments of an imported state from AWS.
pub async fn arguments(run: &Run<'_>, mut state: Value) -> anyhow::Result<Value> {
    let name = text(&state, "name");
    let net: Network = run.network().await.context("finding the VPC by its tags")?;
    let vpc = net.vpc.as_ref().with_context(|| format!("no VPC tagged {OWNER_TAG} = {name} and {PART_TAG} = vpc"))?;
    let vpc_cidr = vpc.cidr_block().context("the VPC has no CIDR block")?.to_string();
    // Zones in the order their private subnets were carved (address order).
    let mut private: Vec<(Cidr, String)> = net
        .subnets
        .iter()
        .filter_map(|(part, s)| Some((s.cidr_block()?.parse().ok()?, part.strip_prefix("subnet/private/")?.to_string())))
        .collect();
    private.sort_by_key(|(cidr, _)| cidr.addr);
    let zones: Vec<String> = private.iter().map(|(_, z)| z.clone()).collect();
    let public: Vec<String> =
        zones.iter().filter_map(|z| net.subnets.get(&network::public_subnet(z))?.cidr_block().map(str::to_string)).collect();
    let list = |items: Vec<String>| Value::List(items.into_iter().map(Value::string).collect());
    set(&mut state, "vpc_cidr", Value::string(vpc_cidr));
    set(&mut state, "availability_zones", list(zones.clone()));
    set(&mut state, "private_subnet_cidrs", list(private.iter().map(|(c, _)| c.to_string()).collect()));
    set(&mut state, "public_subnet_cidrs", list(public));
    set(&mut state, "single_nat_gateway", Value::from(net.nats.len() == 1 && zones.len() > 1));
    let user_tags: BTreeMap<String, String> = network::tag_map(vpc.tags())
        .into_iter()
        .filter(|(k, _)| k != "Name" && k != OWNER_TAG && k != PART_TAG && !k.starts_with("kubernetes.io/") && !k.starts_with("aws:"))
        .collect();
    let tags =
        if user_tags.is_empty() { Value::Null } else { Value::Map(user_tags.into_iter().map(|(k, v)| (k, Value::string(v))).collect()) };
    set(&mut state, "tags", tags);

    let cluster = run.cluster().await?.with_context(|| format!("no EKS cluster named {name}"))?;
    set(&mut state, "kubernetes_version", Value::string(cluster.version().unwrap_or_default()));
    let groups = run.aws.eks.list_nodegroups().cluster_name(&name).send().await.map_err(crate::aws::AwsError::from)?;
    let prefix = format!("{name}-");
    let group_name =
        groups.nodegroups().iter().find(|g| g.starts_with(&prefix)).with_context(|| format!("no node group named {prefix}*"))?;
    let group = run.node_group(group_name).await?.with_context(|| format!("node group {group_name} vanished"))?;
    let scaling = group.scaling_config();
    set(&mut state, "node_instance_types", list(group.instance_types().to_vec()));
    set(&mut state, "node_capacity_type", Value::string(group.capacity_type().map(|c| c.as_str()).unwrap_or("ON_DEMAND")));
    for (attr, size) in [
        ("node_desired_size", scaling.and_then(|s| s.desired_size())),
        ("node_min_size", scaling.and_then(|s| s.min_size())),
        ("node_max_size", scaling.and_then(|s| s.max_size())),
    ] {
        set(&mut state, attr, Value::from(size.unwrap_or_default() as i64));
    }
    if let Some(template) = run.template().await? {
        let nodes = &run.spec.nodes;
        set(&mut state, "node_disk_size", Value::from(template.disk_size.unwrap_or(nodes.disk_size) as i64));
        set(&mut state, "node_max_pods", Value::from(template.max_pods.unwrap_or(nodes.max_pods) as i64));
    }
    let vpc_config = cluster.resources_vpc_config();
    set(&mut state, "endpoint_public_access", Value::from(vpc_config.is_some_and(|v| v.endpoint_public_access())));
    set(&mut state, "endpoint_private_access", Value::from(vpc_config.is_some_and(|v| v.endpoint_private_access())));
    let cidrs = vpc_config.map(|v| v.public_access_cidrs().to_vec()).filter(|c| !c.is_empty()).unwrap_or_else(|| vec!["0.0.0.0/0".into()]);
    set(&mut state, "public_access_cidrs", list(cidrs));

    // The ECR block stays out of the state while the repository has the defaults, as it
    // would be in a configuration that leaves the block out.
    if let Some(repository) = run.repository().await? {
        let scan = repository.repository.image_scanning_configuration().is_some_and(|c| c.scan_on_push());
        let kept =
            repository.policy.as_ref().and_then(|p| p.pointer("/rules/0/selection/countNumber")).and_then(|n| n.as_i64()).unwrap_or(30)
                as i32;
        let ecr = Ecr { force_delete: false, scan_on_push: scan, untagged_kept: kept };
        if ecr != Ecr::default() {
            let block = [
                ("force_delete", Value::from(false)),
                ("scan_on_push", Value::from(scan)),
                ("untagged_images_kept", Value::from(kept as i64)),
            ];
            set(&mut state, "ecr", Value::Object(block.into_iter().map(|(k, v)| (k.to_string(), v)).collect()));
        }
    }
    Spec::from_value(&state).context("the imported arguments are incomplete")?;
    Ok(state)
}
