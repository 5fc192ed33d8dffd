//! The two IAM roles: the EKS control plane's and the nodes', with their AWS-managed
//! policies. IAM is global; roles are found by name.

use std::collections::BTreeMap;

use anyhow::Context as _;
use aws_sdk_iam::types::{Role, Tag};

use super::run::{join_drift, Run};
use crate::aws::{found, AwsError};

pub const CLUSTER_ROLE: &str = "role/cluster";
pub const NODE_ROLE: &str = "role/node";
const POLICY_PREFIX: &str = "arn:aws:iam::aws:policy/";

/// A role the cluster needs: who may assume it and what it may do.
pub struct RoleSpec {
    pub part: &'static str,
    pub name: String,
    pub service: &'static str,
    pub policies: &'static [&'static str],
}

impl Run<'_> {
    pub fn roles(&self) -> [RoleSpec; 2] {
        [
            RoleSpec {
                part: CLUSTER_ROLE,
                name: self.spec.cluster_role_name(),
                service: "eks.amazonaws.com",
                policies: &["AmazonEKSClusterPolicy"],
            },
            RoleSpec {
                part: NODE_ROLE,
                name: self.spec.node_role_name(),
                service: "ec2.amazonaws.com",
                policies: &["AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy"],
            },
        ]
    }

    /// The role and the policies attached to it, or `None`.
    async fn role(&self, name: &str) -> Result<Option<(Role, Vec<String>)>, AwsError> {
        let iam = &self.aws.iam;
        let Some(out) = found(iam.get_role().role_name(name).send().await.map_err(AwsError::from))? else { return Ok(None) };
        let Some(role) = out.role().cloned() else { return Ok(None) };
        let attached = iam.list_attached_role_policies().role_name(name).send().await?;
        let arns = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).map(str::to_string).collect();
        Ok(Some((role, arns)))
    }

    /// Current ARN and drift of one role.
    pub async fn role_drift(&self, role: &RoleSpec) -> Result<Option<(String, Option<String>)>, AwsError> {
        let Some((found, attached)) = self.role(&role.name).await? else { return Ok(None) };
        let mut notes: Vec<String> = missing_policies(role, &attached).into_iter().map(|p| format!("policy {p} detached")).collect();
        if let Some(t) = self.tag_fix(role.part, &tag_map(found.tags())).describe() {
            notes.insert(0, t);
        }
        Ok(Some((found.arn().to_string(), join_drift(notes))))
    }

    pub async fn ensure_role(&self, role: &RoleSpec) -> anyhow::Result<String> {
        let iam = &self.aws.iam;
        let context = || format!("IAM role {}", role.name);
        let existing = self.role(&role.name).await.with_context(context)?;
        let (arn, tags, attached) = match existing {
            Some((found, attached)) => (found.arn().to_string(), tag_map(found.tags()), attached),
            None => {
                self.log(format!("creating IAM role {}", role.name));
                let trust = serde_json::json!({
                    "Version": "2012-10-17",
                    "Statement": [{ "Effect": "Allow", "Principal": { "Service": role.service }, "Action": "sts:AssumeRole" }]
                });
                let out = iam
                    .create_role()
                    .role_name(&role.name)
                    .assume_role_policy_document(trust.to_string())
                    .description(format!("aqemia cluster {}: {}", self.spec.name, role.part))
                    .set_tags(Some(iam_tags(&self.spec.tags_for(role.part))))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(|| format!("creating IAM role {}", role.name))?;
                let arn = out.role().map(|r| r.arn().to_string()).context("CreateRole returned no role")?;
                (arn, self.spec.tags_for(role.part), Vec::new())
            }
        };
        self.parts.record(role.part, &arn);
        for policy in missing_policies(role, &attached) {
            self.log(format!("attaching {policy} to {}", role.name));
            iam.attach_role_policy()
                .role_name(&role.name)
                .policy_arn(format!("{POLICY_PREFIX}{policy}"))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("attaching {policy} to {}", role.name))?;
        }
        let fix = self.tag_fix(role.part, &tags);
        if !fix.set.is_empty() {
            iam.tag_role()
                .role_name(&role.name)
                .set_tags(Some(iam_tags(&fix.set)))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(context)?;
        }
        if !fix.remove.is_empty() {
            iam.untag_role()
                .role_name(&role.name)
                .set_tag_keys(Some(fix.remove.clone()))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(context)?;
        }
        Ok(arn)
    }

    /// Detaches the policies, takes the role out of the instance profiles EKS made for the
    /// nodes, then deletes it.
    pub async fn delete_role(&self, role: &RoleSpec) -> anyhow::Result<()> {
        let iam = &self.aws.iam;
        let context = || format!("deleting IAM role {}", role.name);
        if let Some((_, attached)) = self.role(&role.name).await.with_context(context)? {
            self.log(format!("deleting IAM role {}", role.name));
            for arn in attached {
                iam.detach_role_policy()
                    .role_name(&role.name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(context)?;
            }
            let profiles =
                iam.list_instance_profiles_for_role().role_name(&role.name).send().await.map_err(AwsError::from).with_context(context)?;
            for profile in profiles.instance_profiles() {
                iam.remove_role_from_instance_profile()
                    .instance_profile_name(profile.instance_profile_name())
                    .role_name(&role.name)
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(context)?;
            }
            found(iam.delete_role().role_name(&role.name).send().await.map_err(AwsError::from)).with_context(context)?;
        }
        self.parts.forget(role.part);
        Ok(())
    }
}

fn missing_policies<'a>(role: &'a RoleSpec, attached: &[String]) -> Vec<&'a str> {
    role.policies.iter().copied().filter(|p| !attached.iter().any(|a| a == &format!("{POLICY_PREFIX}{p}"))).collect()
}

fn iam_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}
