//! What Kubernetes controllers leave in the VPC: load balancers made for Services and
//! Ingresses, their security groups and network interfaces. They are not in any state,
//! and they hold the subnets, so VPC deletion waits on them forever unless they go first.

use anyhow::Context as _;
use aws_sdk_ec2::types::{Filter, NetworkInterfaceStatus};

use super::run::Run;
use crate::aws::{found, AwsError};

impl Run<'_> {
    fn cluster_tag(&self) -> String {
        format!("kubernetes.io/cluster/{}", self.spec.name)
    }

    /// Whether a controller tagged an object as made for this cluster.
    fn made_for_cluster<'t>(&self, mut tags: impl Iterator<Item = (&'t str, &'t str)>) -> bool {
        let legacy = self.cluster_tag();
        tags.any(|(k, v)| k == legacy || (k == "elbv2.k8s.aws/cluster" && v == self.spec.name))
    }

    pub async fn delete_leftovers(&self, vpc_id: &str) -> anyhow::Result<()> {
        let elb = &self.aws.elb;
        let ec2 = &self.aws.ec2;
        let balancers = elb.describe_load_balancers().send().await.map_err(AwsError::from).context("listing load balancers")?;
        let in_vpc: Vec<String> = balancers
            .load_balancers()
            .iter()
            .filter(|b| b.vpc_id() == Some(vpc_id))
            .filter_map(|b| b.load_balancer_arn())
            .map(str::to_string)
            .collect();
        let mut doomed = Vec::new();
        for chunk in in_vpc.chunks(20) {
            let tags = elb
                .describe_tags()
                .set_resource_arns(Some(chunk.to_vec()))
                .send()
                .await
                .map_err(AwsError::from)
                .context("reading load balancer tags")?;
            for description in tags.tag_descriptions() {
                if self.made_for_cluster(description.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))) {
                    doomed.extend(description.resource_arn().map(str::to_string));
                }
            }
        }
        for arn in &doomed {
            self.log(format!("deleting load balancer {arn}, left by a Kubernetes controller"));
            elb.delete_load_balancer()
                .load_balancer_arn(arn)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("deleting load balancer {arn}"))?;
        }
        // Interfaces of deleted load balancers become available a little later.
        let interfaces = ec2
            .describe_network_interfaces()
            .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
            .send()
            .await
            .map_err(AwsError::from)
            .context("listing network interfaces")?;
        for interface in interfaces.network_interfaces() {
            let tagged =
                self.made_for_cluster(interface.tag_set().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())));
            let from_balancer = interface.description().is_some_and(|d| d.starts_with("ELB "));
            if interface.status() == Some(&NetworkInterfaceStatus::Available) && (tagged || from_balancer) {
                if let Some(id) = interface.network_interface_id() {
                    self.log(format!("deleting network interface {id}, left by a load balancer"));
                    found(ec2.delete_network_interface().network_interface_id(id).send().await.map_err(AwsError::from))
                        .with_context(|| format!("deleting network interface {id}"))?;
                }
            }
        }
        let groups = ec2
            .describe_security_groups()
            .filters(Filter::builder().name("vpc-id").values(vpc_id).build())
            .send()
            .await
            .map_err(AwsError::from)
            .context("listing security groups")?;
        for group in groups.security_groups() {
            let tagged = self.made_for_cluster(group.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())));
            let Some(id) = group.group_id().filter(|_| tagged) else { continue };
            self.log(format!("deleting security group {id}, left by a Kubernetes controller"));
            self.wait_for(&format!("security group {id} to be released"), || async {
                match ec2.delete_security_group().group_id(id).send().await.map_err(AwsError::from) {
                    Ok(_) => Ok(Some(())),
                    Err(e) if e.is_not_found() => Ok(Some(())),
                    Err(e) if e.is("DependencyViolation") => Ok(None),
                    Err(e) => Err(e.into()),
                }
            })
            .await?;
        }
        Ok(())
    }
}
