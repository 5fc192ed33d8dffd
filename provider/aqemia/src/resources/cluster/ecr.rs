//! The ECR repository for the application's images: mutable tags, scan on push, a
//! lifecycle policy that keeps the newest untagged images. Kept on destroy unless
//! `ecr.force_delete`, because images are not recreated by an apply.

use std::collections::BTreeMap;

use anyhow::Context as _;
use aws_sdk_ecr::types::{EncryptionConfiguration, EncryptionType, ImageScanningConfiguration, ImageTagMutability, Repository, Tag};

use super::run::{join_drift, Run};
use crate::aws::{found, AwsError};

pub const REPOSITORY: &str = "ecr_repository";

/// What a repository looks like now.
pub struct Observed {
    pub repository: Repository,
    pub policy: Option<serde_json::Value>,
    pub tags: BTreeMap<String, String>,
}

impl Run<'_> {
    pub async fn repository(&self) -> Result<Option<Observed>, AwsError> {
        let ecr = &self.aws.ecr;
        let name = self.spec.repository_name();
        let Some(out) = found(ecr.describe_repositories().repository_names(&name).send().await.map_err(AwsError::from))? else {
            return Ok(None);
        };
        let Some(repository) = out.repositories().first().cloned() else { return Ok(None) };
        let arn = repository.repository_arn().unwrap_or_default().to_string();
        let (policy, tags) =
            tokio::join!(ecr.get_lifecycle_policy().repository_name(&name).send(), ecr.list_tags_for_resource().resource_arn(&arn).send(),);
        let policy = match policy.map_err(AwsError::from) {
            Ok(out) => out.lifecycle_policy_text().and_then(|t| serde_json::from_str(t).ok()),
            Err(e) if e.is("LifecyclePolicyNotFoundException") => None,
            Err(e) => return Err(e),
        };
        let tags = tags?.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
        Ok(Some(Observed { repository, policy, tags }))
    }

    pub fn repository_drift(&self, observed: &Observed) -> (String, Option<String>) {
        let mut notes = Vec::new();
        if let Some(t) = self.tag_fix(REPOSITORY, &observed.tags).describe() {
            notes.push(t);
        }
        if observed.repository.image_tag_mutability() != Some(&ImageTagMutability::Mutable) {
            notes.push("image tags are not mutable".into());
        }
        let scanning = observed.repository.image_scanning_configuration().map(|c| c.scan_on_push()).unwrap_or(false);
        if scanning != self.spec.ecr.scan_on_push {
            notes.push(format!("scan on push is {}", if scanning { "on" } else { "off" }));
        }
        if observed.policy.as_ref() != Some(&self.spec.lifecycle_policy()) {
            notes.push(if observed.policy.is_some() { "lifecycle policy changed" } else { "lifecycle policy missing" }.into());
        }
        (observed.repository.repository_arn().unwrap_or_default().to_string(), join_drift(notes))
    }

    pub async fn ensure_repository(&self) -> anyhow::Result<()> {
        let ecr = &self.aws.ecr;
        let name = self.spec.repository_name();
        let context = || format!("ECR repository {name}");
        let observed = self.repository().await.with_context(context)?;
        let (arn, mutable, scanning, policy, tags) = match &observed {
            Some(o) => (
                o.repository.repository_arn().unwrap_or_default().to_string(),
                o.repository.image_tag_mutability() == Some(&ImageTagMutability::Mutable),
                o.repository.image_scanning_configuration().map(|c| c.scan_on_push()).unwrap_or(false),
                o.policy.clone(),
                o.tags.clone(),
            ),
            None => {
                self.log(format!("creating ECR repository {name}"));
                let out = ecr
                    .create_repository()
                    .repository_name(&name)
                    .image_tag_mutability(ImageTagMutability::Mutable)
                    .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(self.spec.ecr.scan_on_push).build())
                    .encryption_configuration(
                        EncryptionConfiguration::builder().encryption_type(EncryptionType::Aes256).build().context("encryption")?,
                    )
                    .set_tags(Some(ecr_tags(&self.spec.tags_for(REPOSITORY))))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(|| format!("creating ECR repository {name}"))?;
                let arn = out.repository().and_then(|r| r.repository_arn()).context("CreateRepository returned no ARN")?.to_string();
                (arn, true, self.spec.ecr.scan_on_push, None, self.spec.tags_for(REPOSITORY))
            }
        };
        self.parts.record(REPOSITORY, &arn);
        if !mutable {
            ecr.put_image_tag_mutability()
                .repository_name(&name)
                .image_tag_mutability(ImageTagMutability::Mutable)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(context)?;
        }
        if scanning != self.spec.ecr.scan_on_push {
            ecr.put_image_scanning_configuration()
                .repository_name(&name)
                .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(self.spec.ecr.scan_on_push).build())
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(context)?;
        }
        let wanted = self.spec.lifecycle_policy();
        if policy.as_ref() != Some(&wanted) {
            self.log(format!("setting the lifecycle policy of {name}"));
            ecr.put_lifecycle_policy()
                .repository_name(&name)
                .lifecycle_policy_text(wanted.to_string())
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("setting the lifecycle policy of {name}"))?;
        }
        let fix = self.tag_fix(REPOSITORY, &tags);
        if !fix.set.is_empty() {
            ecr.tag_resource()
                .resource_arn(&arn)
                .set_tags(Some(ecr_tags(&fix.set)))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(context)?;
        }
        if !fix.remove.is_empty() {
            ecr.untag_resource()
                .resource_arn(&arn)
                .set_tag_keys(Some(fix.remove.clone()))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(context)?;
        }
        Ok(())
    }

    /// Deletes the repository with its images when `force_delete`; otherwise keeps it and
    /// says so. Returns whether it was kept.
    pub async fn delete_repository(&self) -> anyhow::Result<bool> {
        let name = self.spec.repository_name();
        self.parts.forget(REPOSITORY);
        if !self.spec.ecr.force_delete {
            return Ok(true);
        }
        self.log(format!("deleting ECR repository {name} and its images"));
        found(self.aws.ecr.delete_repository().repository_name(&name).force(true).send().await.map_err(AwsError::from))
            .with_context(|| format!("deleting ECR repository {name}"))?;
        Ok(false)
    }
}

fn ecr_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}
