//! The EKS control plane, the nodes' launch template and the managed node group.
//!
//! Upgrades go control plane first, then nodes, one minor version at a time, waiting on
//! each EKS update. A change of instance types or capacity type makes a new node group
//! (its name carries a digest of both) that replaces the old one once it is active.

use std::collections::{BTreeMap, HashMap};

use anyhow::Context as _;
use aws_sdk_ec2::types::{
    LaunchTemplateBlockDeviceMappingRequest, LaunchTemplateEbsBlockDeviceRequest, LaunchTemplateHttpTokensState,
    LaunchTemplateInstanceMetadataEndpointState, LaunchTemplateInstanceMetadataOptionsRequest, LaunchTemplateTagSpecificationRequest,
    RequestLaunchTemplateData, ResourceType, VolumeType,
};
use aws_sdk_eks::types::{
    AuthenticationMode, CapacityTypes, Cluster, ClusterStatus, CreateAccessConfigRequest, LaunchTemplateSpecification, Nodegroup,
    NodegroupScalingConfig, NodegroupStatus, UpdateStatus, VpcConfigRequest,
};
use base64::Engine as _;

use super::network::{self, ec2_tags};
use super::run::{join_drift, Run};
use crate::aws::{found, AwsError};
use crate::connection;

pub const CLUSTER: &str = "eks_cluster";
pub const NODE_GROUP: &str = "node_group";
pub const LAUNCH_TEMPLATE: &str = "launch_template";
const ROOT_DEVICE: &str = "/dev/xvda";
/// How long after ACTIVE the API server may stay silent.
const API_SERVER_GRACE: std::time::Duration = std::time::Duration::from_secs(10 * 60);

/// What the launch template holds now.
pub struct Template {
    pub id: String,
    pub default_version: i64,
    pub tags: BTreeMap<String, String>,
    pub imds_v2_required: bool,
    pub disk_size: Option<i32>,
    pub max_pods: Option<i32>,
    /// Base64, as EC2 holds it.
    pub user_data: Option<String>,
}

impl Run<'_> {
    // ---- launch template ----

    /// AL2023 nodes read kubelet settings from a NodeConfig document in the user data.
    fn user_data(&self) -> String {
        let text = format!(
            "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"aqemia\"\n\n--aqemia\nContent-Type: application/node.eks.aws\n\n\
             ---\napiVersion: node.eks.aws/v1alpha1\nkind: NodeConfig\nspec:\n  kubelet:\n    config:\n      maxPods: {}\n\n--aqemia--\n",
            self.spec.nodes.max_pods
        );
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn template_data(&self) -> RequestLaunchTemplateData {
        let nodes = &self.spec.nodes;
        RequestLaunchTemplateData::builder()
            .metadata_options(
                LaunchTemplateInstanceMetadataOptionsRequest::builder()
                    .http_endpoint(LaunchTemplateInstanceMetadataEndpointState::Enabled)
                    .http_tokens(LaunchTemplateHttpTokensState::Required)
                    // Two hops: pods behind the node's network namespace still reach IMDS.
                    .http_put_response_hop_limit(2)
                    .build(),
            )
            .block_device_mappings(
                LaunchTemplateBlockDeviceMappingRequest::builder()
                    .device_name(ROOT_DEVICE)
                    .ebs(
                        LaunchTemplateEbsBlockDeviceRequest::builder()
                            .volume_size(nodes.disk_size)
                            .volume_type(VolumeType::Gp3)
                            .encrypted(true)
                            .delete_on_termination(true)
                            .build(),
                    )
                    .build(),
            )
            .user_data(self.user_data())
            .tag_specifications(
                LaunchTemplateTagSpecificationRequest::builder()
                    .resource_type(ResourceType::Instance)
                    .set_tags(Some(ec2_tags(&self.spec.tags_for("node"))))
                    .build(),
            )
            .build()
    }

    pub async fn template(&self) -> Result<Option<Template>, AwsError> {
        let ec2 = &self.aws.ec2;
        let name = self.spec.launch_template_name();
        let Some(listed) = found(ec2.describe_launch_templates().launch_template_names(name).send().await.map_err(AwsError::from))? else {
            return Ok(None);
        };
        let Some(template) = listed.launch_templates().first() else { return Ok(None) };
        let id = template.launch_template_id().unwrap_or_default().to_string();
        // Tags from DescribeTags, the EC2 tag store itself: DescribeLaunchTemplates may repeat
        // the tags given at creation (moto does).
        let resource = aws_sdk_ec2::types::Filter::builder().name("resource-id").values(&id).build();
        let (versions, tags) = tokio::join!(
            ec2.describe_launch_template_versions().launch_template_id(&id).versions("$Default").send(),
            ec2.describe_tags().filters(resource).send(),
        );
        let (versions, tags) = (versions?, tags?);
        let tags = tags.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect();
        let data = versions.launch_template_versions().first().and_then(|v| v.launch_template_data());
        let user_data = data.and_then(|d| d.user_data()).map(str::to_string);
        let max_pods = user_data
            .as_deref()
            .and_then(|u| base64::engine::general_purpose::STANDARD.decode(u).ok())
            .and_then(|b| String::from_utf8_lossy(&b).split("maxPods:").nth(1)?.split_whitespace().next()?.parse().ok());
        Ok(Some(Template {
            id,
            default_version: template.default_version_number().unwrap_or(1),
            tags,
            imds_v2_required: data.and_then(|d| d.metadata_options()).and_then(|m| m.http_tokens()).map(|t| t.as_str()) == Some("required"),
            disk_size: data
                .and_then(|d| d.block_device_mappings().iter().find(|b| b.device_name() == Some(ROOT_DEVICE)))
                .and_then(|b| b.ebs()?.volume_size()),
            max_pods,
            user_data,
        }))
    }

    /// What differs between the template's default version and the spec.
    fn template_changes(&self, template: &Template) -> Vec<String> {
        let mut changed = Vec::new();
        if !template.imds_v2_required {
            changed.push("IMDSv2 not required".into());
        }
        if template.disk_size != Some(self.spec.nodes.disk_size) {
            changed.push(format!("disk size {}", template.disk_size.map_or("unset".into(), |d| format!("{d} GiB"))));
        }
        if template.user_data.as_deref() != Some(self.user_data().as_str()) {
            changed.push(format!("user data differs (max pods {})", template.max_pods.map_or("unset".into(), |p| p.to_string())));
        }
        changed
    }

    pub fn template_drift(&self, template: &Template) -> (String, Option<String>) {
        let mut notes = self.template_changes(template);
        if let Some(t) = self.tag_fix(LAUNCH_TEMPLATE, &template.tags).describe() {
            notes.insert(0, t);
        }
        (template.id.clone(), join_drift(notes))
    }

    /// The template id and the version nodes must run.
    pub async fn ensure_template(&self) -> anyhow::Result<(String, i64)> {
        let ec2 = &self.aws.ec2;
        let name = self.spec.launch_template_name();
        match self.template().await.with_context(|| format!("reading launch template {name}"))? {
            None => {
                self.log(format!("creating launch template {name}"));
                let out = ec2
                    .create_launch_template()
                    .launch_template_name(&name)
                    .launch_template_data(self.template_data())
                    .tag_specifications(self.tag_spec_for_template())
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(|| format!("creating launch template {name}"))?;
                let template = out.launch_template().context("CreateLaunchTemplate returned nothing")?;
                let id = template.launch_template_id().context("no launch template id")?.to_string();
                self.parts.record(LAUNCH_TEMPLATE, &id);
                Ok((id, template.default_version_number().unwrap_or(1)))
            }
            Some(template) => {
                self.parts.record(LAUNCH_TEMPLATE, &template.id);
                let fix = self.tag_fix(LAUNCH_TEMPLATE, &template.tags);
                self.apply_ec2_tags(LAUNCH_TEMPLATE, &template.id, &fix).await?;
                let changes = self.template_changes(&template);
                if changes.is_empty() {
                    return Ok((template.id, template.default_version));
                }
                self.log(format!("new version of launch template {name}: {}", changes.join(", ")));
                let out = ec2
                    .create_launch_template_version()
                    .launch_template_id(&template.id)
                    .launch_template_data(self.template_data())
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(|| format!("versioning launch template {name}"))?;
                let version = out.launch_template_version().and_then(|v| v.version_number()).context("no version number")?;
                ec2.modify_launch_template()
                    .launch_template_id(&template.id)
                    .default_version(version.to_string())
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(|| format!("setting the default version of {name}"))?;
                Ok((template.id, version))
            }
        }
    }

    fn tag_spec_for_template(&self) -> aws_sdk_ec2::types::TagSpecification {
        aws_sdk_ec2::types::TagSpecification::builder()
            .resource_type(ResourceType::LaunchTemplate)
            .set_tags(Some(ec2_tags(&self.spec.tags_for(LAUNCH_TEMPLATE))))
            .build()
    }

    pub async fn delete_template(&self) -> anyhow::Result<()> {
        if let Some(template) = self.template().await.context("reading launch template")? {
            self.log(format!("deleting launch template {}", template.id));
            found(self.aws.ec2.delete_launch_template().launch_template_id(&template.id).send().await.map_err(AwsError::from))
                .context("deleting launch template")?;
        }
        self.parts.forget(LAUNCH_TEMPLATE);
        Ok(())
    }

    // ---- control plane ----

    pub async fn cluster(&self) -> Result<Option<Cluster>, AwsError> {
        let out = found(self.aws.eks.describe_cluster().name(&self.spec.name).send().await.map_err(AwsError::from))?;
        Ok(out.and_then(|o| o.cluster().cloned()))
    }

    /// Drift of the control plane that no argument shows (arguments are refreshed in place).
    pub fn cluster_drift(&self, cluster: &Cluster) -> (String, Option<String>) {
        let mut notes = Vec::new();
        if let Some(t) = self.tag_fix(CLUSTER, &hash_tags(cluster.tags())).describe() {
            notes.push(t);
        }
        (cluster.arn().unwrap_or_default().to_string(), join_drift(notes))
    }

    pub async fn ensure_cluster(&self, subnets: Vec<String>, security_group: String, role_arn: String) -> anyhow::Result<Cluster> {
        let eks = &self.aws.eks;
        let spec = self.spec;
        let name = &spec.name;
        let existing = self.cluster().await.with_context(|| format!("reading EKS cluster {name}"))?;
        if existing.is_none() {
            self.log(format!("creating EKS cluster {name} (Kubernetes {}); this takes about 10 minutes on AWS", spec.version));
            let out = eks
                .create_cluster()
                .name(name)
                .version(&spec.version)
                .role_arn(&role_arn)
                .resources_vpc_config(
                    self.endpoint_access(VpcConfigRequest::builder().set_subnet_ids(Some(subnets)).security_group_ids(security_group)),
                )
                .access_config(
                    CreateAccessConfigRequest::builder()
                        .authentication_mode(AuthenticationMode::ApiAndConfigMap)
                        .bootstrap_cluster_creator_admin_permissions(true)
                        .build(),
                )
                .set_tags(Some(spec.tags_for(CLUSTER).into_iter().collect()))
                .send()
                .await
                .map_err(AwsError::from);
            match out {
                Ok(out) => self.parts.record(CLUSTER, out.cluster().and_then(|c| c.arn()).unwrap_or(name)),
                // Created by an attempt whose answer was lost: adopt it.
                Err(e) if e.is("ResourceInUseException") => {}
                Err(e) => return Err(e).with_context(|| format!("creating EKS cluster {name}")),
            }
        }
        let cluster = self.wait_cluster_active().await?;
        self.parts.record(CLUSTER, cluster.arn().unwrap_or(name));
        let cluster = self.upgrade_cluster(cluster).await?;
        let arn = cluster.arn().unwrap_or_default().to_string();
        let fix = self.tag_fix(CLUSTER, &hash_tags(cluster.tags()));
        if !fix.set.is_empty() {
            eks.tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(fix.set.clone().into_iter().collect()))
                .send()
                .await
                .map_err(AwsError::from)
                .context("tagging the cluster")?;
        }
        if !fix.remove.is_empty() {
            eks.untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(fix.remove.clone()))
                .send()
                .await
                .map_err(AwsError::from)
                .context("untagging the cluster")?;
        }
        self.wait_api_server(&cluster).await?;
        Ok(cluster)
    }

    fn endpoint_access(&self, builder: aws_sdk_eks::types::builders::VpcConfigRequestBuilder) -> VpcConfigRequest {
        builder
            .endpoint_public_access(self.spec.endpoint_public)
            .endpoint_private_access(self.spec.endpoint_private)
            .set_public_access_cidrs(Some(self.spec.public_access_cidrs.clone()))
            .build()
    }

    async fn wait_cluster_active(&self) -> anyhow::Result<Cluster> {
        let name = &self.spec.name;
        self.wait_for(&format!("EKS cluster {name} to become ACTIVE"), || async {
            let cluster = self.cluster().await?.with_context(|| format!("EKS cluster {name} disappeared"))?;
            match cluster.status() {
                Some(ClusterStatus::Active) => Ok(Some(cluster)),
                Some(ClusterStatus::Failed) => anyhow::bail!("EKS cluster {name} failed: {:?}", cluster.health()),
                _ => Ok(None),
            }
        })
        .await
    }

    /// Version first, then endpoint access: EKS runs one update at a time.
    async fn upgrade_cluster(&self, mut cluster: Cluster) -> anyhow::Result<Cluster> {
        let eks = &self.aws.eks;
        let name = &self.spec.name;
        if cluster.version() != Some(self.spec.version.as_str()) {
            self.log(format!("upgrading the control plane of {name} from {} to {}", cluster.version().unwrap_or("?"), self.spec.version));
            let out = eks
                .update_cluster_version()
                .name(name)
                .version(&self.spec.version)
                .send()
                .await
                .map_err(AwsError::from)
                .context("upgrading the control plane")?;
            self.wait_update(out.update().and_then(|u| u.id()), None).await?;
            cluster = self.wait_cluster_active().await?;
        }
        let vpc = cluster.resources_vpc_config();
        let access_differs = vpc.map(|v| v.endpoint_public_access()) != Some(self.spec.endpoint_public)
            || vpc.map(|v| v.endpoint_private_access()) != Some(self.spec.endpoint_private)
            || (self.spec.endpoint_public
                && vpc.map(|v| v.public_access_cidrs().to_vec()).unwrap_or_default() != self.spec.public_access_cidrs);
        if access_differs {
            self.log(format!("changing the endpoint access of {name}"));
            let out = eks
                .update_cluster_config()
                .name(name)
                .resources_vpc_config(self.endpoint_access(VpcConfigRequest::builder()))
                .send()
                .await
                .map_err(AwsError::from)
                .context("changing endpoint access")?;
            self.wait_update(out.update().and_then(|u| u.id()), None).await?;
            cluster = self.wait_cluster_active().await?;
        }
        Ok(cluster)
    }

    async fn wait_update(&self, id: Option<&str>, node_group: Option<&str>) -> anyhow::Result<()> {
        let Some(id) = id else { return Ok(()) };
        let eks = &self.aws.eks;
        self.wait_for(&format!("EKS update {id}"), || async {
            let out = eks
                .describe_update()
                .name(&self.spec.name)
                .update_id(id)
                .set_nodegroup_name(node_group.map(str::to_string))
                .send()
                .await
                .map_err(AwsError::from)?;
            let update = out.update();
            match update.and_then(|u| u.status()) {
                Some(UpdateStatus::Successful) => Ok(Some(())),
                Some(UpdateStatus::Failed) | Some(UpdateStatus::Cancelled) => {
                    let errors: Vec<String> = update
                        .map(|u| u.errors().iter().filter_map(|e| e.error_message().map(str::to_string)).collect())
                        .unwrap_or_default();
                    anyhow::bail!("EKS update {id} failed: {}", errors.join("; "))
                }
                _ => Ok(None),
            }
        })
        .await
    }

    /// ACTIVE is not enough: the API server must answer over TLS with the cluster's CA
    /// (any HTTP status counts; authorisation is the add-ons' business). EKS endpoints answer
    /// within a minute or two of ACTIVE, so one that stays silent for ten is an error, with
    /// the last reason, not a wait until the create timeout.
    async fn wait_api_server(&self, cluster: &Cluster) -> anyhow::Result<()> {
        let endpoint = cluster.endpoint().context("the ACTIVE cluster reports no endpoint")?.to_string();
        let ca = decode_ca(cluster)?;
        let deadline = self.deadline.min(tokio::time::Instant::now() + API_SERVER_GRACE);
        let last = std::sync::Mutex::new(String::new());
        let what = format!("the API server of {} at {endpoint} to answer", self.spec.name);
        let answered = self
            .wait_until(&what, deadline, || async {
                match connection::answers(&endpoint, &ca).await {
                    Ok(()) => Ok(Some(())),
                    Err(why) => {
                        *last.lock().unwrap_or_else(|p| p.into_inner()) = why;
                        Ok(None)
                    }
                }
            })
            .await;
        answered.map_err(|e| e.context(format!("last attempt: {}", last.lock().unwrap_or_else(|p| p.into_inner()))))
    }

    pub async fn delete_cluster(&self) -> anyhow::Result<()> {
        let name = &self.spec.name;
        if self.cluster().await.context("reading the cluster")?.is_some() {
            self.log(format!("deleting EKS cluster {name}"));
            found(self.aws.eks.delete_cluster().name(name).send().await.map_err(AwsError::from))
                .with_context(|| format!("deleting EKS cluster {name}"))?;
            self.wait_for(&format!("EKS cluster {name} to be deleted"), || async { Ok(self.cluster().await?.is_none().then_some(())) })
                .await?;
        }
        self.parts.forget(CLUSTER);
        Ok(())
    }

    // ---- node group ----

    pub async fn node_group(&self, group: &str) -> Result<Option<Nodegroup>, AwsError> {
        let out =
            self.aws.eks.describe_nodegroup().cluster_name(&self.spec.name).nodegroup_name(group).send().await.map_err(AwsError::from);
        Ok(found(out)?.and_then(|o| o.nodegroup().cloned()))
    }

    /// Node-group drift: scaling done outside Terraform (also shown on the size arguments)
    /// and the launch template version it runs.
    pub fn node_group_drift(&self, group: &Nodegroup, template_version: Option<i64>) -> (String, Option<String>) {
        let mut notes = Vec::new();
        let nodes = &self.spec.nodes;
        if let Some(s) = group.scaling_config() {
            for (what, actual, wanted) in [
                ("desired size", s.desired_size(), nodes.desired),
                ("min size", s.min_size(), nodes.min),
                ("max size", s.max_size(), nodes.max),
            ] {
                if actual != Some(wanted) {
                    notes.push(format!("{what} {} instead of {wanted}", actual.map_or("unset".into(), |a| a.to_string())));
                }
            }
        }
        let running = group.launch_template().and_then(|t| t.version()).and_then(|v| v.parse::<i64>().ok());
        if let (Some(running), Some(wanted)) = (running, template_version) {
            if running != wanted {
                notes.push(format!("runs launch template version {running}, not {wanted}"));
            }
        }
        (group.nodegroup_arn().unwrap_or_default().to_string(), join_drift(notes))
    }

    pub async fn ensure_node_group(&self, subnets: Vec<String>, role_arn: String, template: (String, i64)) -> anyhow::Result<()> {
        let eks = &self.aws.eks;
        let spec = self.spec;
        let group = spec.node_group_name();
        let nodes = &spec.nodes;
        let scaling = NodegroupScalingConfig::builder().min_size(nodes.min).max_size(nodes.max).desired_size(nodes.desired).build();
        let template_spec = LaunchTemplateSpecification::builder().id(&template.0).version(template.1.to_string()).build();
        let previous = self.parts.id(NODE_GROUP).and_then(|arn| arn.rsplit('/').nth(1).map(str::to_string)).filter(|g| *g != group);
        let existing = self.node_group(&group).await.with_context(|| format!("reading node group {group}"))?;
        if existing.is_none() {
            self.log(format!("creating node group {group} ({} x {})", nodes.desired, nodes.instance_types.join(",")));
            let out = eks
                .create_nodegroup()
                .cluster_name(&spec.name)
                .nodegroup_name(&group)
                .version(&spec.version)
                .scaling_config(scaling.clone())
                .set_subnets(Some(subnets))
                .node_role(&role_arn)
                .set_instance_types(Some(nodes.instance_types.clone()))
                .capacity_type(CapacityTypes::from(nodes.capacity_type.as_str()))
                .launch_template(template_spec.clone())
                .set_tags(Some(spec.tags_for(NODE_GROUP).into_iter().collect::<HashMap<_, _>>()))
                .send()
                .await
                .map_err(AwsError::from);
            match out {
                Ok(out) => self.parts.record(NODE_GROUP, out.nodegroup().and_then(|g| g.nodegroup_arn()).unwrap_or(&group)),
                Err(e) if e.is("ResourceInUseException") => {}
                Err(e) => return Err(e).with_context(|| format!("creating node group {group}")),
            }
        }
        let mut current = self.wait_node_group_active(&group).await?;
        self.parts.record(NODE_GROUP, current.nodegroup_arn().unwrap_or(&group));
        let actual = current.scaling_config();
        if actual.map(|s| (s.min_size(), s.max_size(), s.desired_size())) != Some((Some(nodes.min), Some(nodes.max), Some(nodes.desired))) {
            self.log(format!("scaling node group {group} to {} (min {}, max {})", nodes.desired, nodes.min, nodes.max));
            let out = eks
                .update_nodegroup_config()
                .cluster_name(&spec.name)
                .nodegroup_name(&group)
                .scaling_config(scaling)
                .send()
                .await
                .map_err(AwsError::from)
                .context("scaling the node group")?;
            self.wait_update(out.update().and_then(|u| u.id()), Some(&group)).await?;
            current = self.wait_node_group_active(&group).await?;
        }
        let running_template = current.launch_template().and_then(|t| t.version()).map(str::to_string);
        if current.version() != Some(spec.version.as_str()) || running_template != Some(template.1.to_string()) {
            self.log(format!("rolling node group {group} to Kubernetes {} and launch template version {}", spec.version, template.1));
            let mut call = eks.update_nodegroup_version().cluster_name(&spec.name).nodegroup_name(&group).launch_template(template_spec);
            if current.version() != Some(spec.version.as_str()) {
                call = call.version(&spec.version);
            }
            let out = call.send().await.map_err(AwsError::from).context("updating the node group version")?;
            self.wait_update(out.update().and_then(|u| u.id()), Some(&group)).await?;
            self.wait_node_group_active(&group).await?;
        }
        if let Some(old) = previous {
            self.log(format!("node group {group} replaces {old}"));
            self.delete_node_group(&old).await?;
            self.parts.record(NODE_GROUP, current.nodegroup_arn().unwrap_or(&group));
        }
        Ok(())
    }

    async fn wait_node_group_active(&self, group: &str) -> anyhow::Result<Nodegroup> {
        self.wait_for(&format!("node group {group} to become ACTIVE"), || async {
            let current = self.node_group(group).await?.with_context(|| format!("node group {group} disappeared"))?;
            match current.status() {
                Some(NodegroupStatus::Active) => Ok(Some(current)),
                Some(NodegroupStatus::CreateFailed) | Some(NodegroupStatus::Degraded) => {
                    let issues: Vec<String> = current
                        .health()
                        .map(|h| h.issues().iter().filter_map(|i| i.message().map(str::to_string)).collect())
                        .unwrap_or_default();
                    anyhow::bail!("node group {group} is {:?}: {}", current.status(), issues.join("; "))
                }
                _ => Ok(None),
            }
        })
        .await
    }

    pub async fn delete_node_group(&self, group: &str) -> anyhow::Result<()> {
        if self.node_group(group).await.with_context(|| format!("reading node group {group}"))?.is_none() {
            return Ok(());
        }
        self.log(format!("deleting node group {group}"));
        found(self.aws.eks.delete_nodegroup().cluster_name(&self.spec.name).nodegroup_name(group).send().await.map_err(AwsError::from))
            .with_context(|| format!("deleting node group {group}"))?;
        self.wait_for(&format!("node group {group} to be deleted"), || async { Ok(self.node_group(group).await?.is_none().then_some(())) })
            .await
    }

    /// The node groups to delete before the cluster: the recorded one and the spec's.
    pub async fn delete_node_groups(&self) -> anyhow::Result<()> {
        let recorded = self.parts.id(NODE_GROUP).and_then(|arn| arn.rsplit('/').nth(1).map(str::to_string));
        let mut groups = vec![self.spec.node_group_name()];
        groups.extend(recorded.filter(|g| !groups.contains(g)));
        for group in groups {
            self.delete_node_group(&group).await?;
        }
        self.parts.forget(NODE_GROUP);
        Ok(())
    }

    /// The private subnets (nodes) and all subnets (control plane ENIs and load balancers).
    pub fn subnet_ids(&self) -> anyhow::Result<(Vec<String>, Vec<String>)> {
        let id = |part: String| self.parts.id(&part).with_context(|| format!("{part} is not recorded"));
        let private = self.spec.zones.iter().map(|z| id(network::private_subnet(z))).collect::<anyhow::Result<Vec<_>>>()?;
        let public = self.spec.zones.iter().map(|z| id(network::public_subnet(z))).collect::<anyhow::Result<Vec<_>>>()?;
        let all = private.iter().chain(&public).cloned().collect();
        Ok((private, all))
    }
}

pub fn hash_tags(tags: Option<&HashMap<String, String>>) -> BTreeMap<String, String> {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
}

/// The cluster's CA as PEM text.
pub fn decode_ca(cluster: &Cluster) -> anyhow::Result<String> {
    let data = cluster.certificate_authority().and_then(|c| c.data()).context("the cluster reports no certificate authority")?;
    let pem = base64::engine::general_purpose::STANDARD.decode(data).context("the cluster's CA is not base64")?;
    String::from_utf8(pem).context("the cluster's CA is not PEM text")
}
