//! The schema of `aqemia_cluster` and its checks: defaults that make `name` alone a
//! production-shaped cluster, and validation with diagnostics that name the attribute.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::cty::{Path, Type, Value};
use crate::framework::timeouts;
use crate::framework::{Attribute, Block, Diagnostics, NestedBlock, Nesting, Schema};

use super::spec::{parse_version, Cidr};
use crate::resources::checks::range;

pub const TIMEOUTS: timeouts::Defaults = timeouts::Defaults {
    create: Duration::from_secs(60 * 60),
    read: Duration::from_secs(5 * 60),
    update: Duration::from_secs(90 * 60),
    delete: Duration::from_secs(45 * 60),
};

/// Computed attributes that carry AWS ids and addresses (kept across plans while every
/// part still exists).
pub const OUTPUTS: &[&str] = &[
    "arn",
    "endpoint",
    "ca_certificate",
    "oidc_issuer_url",
    "vpc_id",
    "public_subnet_ids",
    "private_subnet_ids",
    "nat_gateway_ids",
    "security_group_id",
    "cluster_role_arn",
    "node_role_arn",
    "launch_template_id",
    "node_group_name",
    "ecr_repository_url",
    "ecr_repository_arn",
    "connection",
    "kubeconfig",
];

const DEFAULT_VPC_CIDR: &str = "10.0.0.0/16";

pub fn schema() -> Schema {
    let strings = || Type::list(Type::String);
    let mut block = Block::new()
        .description(
            "A complete EKS platform from one resource: VPC with public and private subnets across availability \
             zones, internet and NAT gateways, routes, an ingress security group (80 and 443), IAM roles for the \
             control plane and the nodes, a launch template (IMDSv2, disk, max pods), the EKS cluster, a managed \
             node group and an ECR repository. Every part is tagged `aqemia.io/cluster = <name>`, recorded in state \
             as soon as it exists, refreshed for drift, and repaired by the next apply.",
        )
        .attribute(Attribute::string("id").computed().use_state_for_unknown().description("The cluster name."))
        .attribute(
            Attribute::string("name")
                .required()
                .requires_replace()
                .description("Cluster name, also the prefix of every part's name: 2 to 38 lowercase letters, digits or hyphens, starting with a letter.")
                .validate("a name such as \"aqemia\"", validate_name),
        )
        .attribute(
            Attribute::string("region")
                .optional_computed()
                .requires_replace()
                .use_state_for_unknown()
                .description("AWS region. Default: the provider's region."),
        )
        .attribute(
            Attribute::string("kubernetes_version")
                .optional_computed()
                .use_state_for_unknown()
                .description(
                    "Kubernetes minor version, like `1.34`. Default: the newest this provider knows at creation, then kept. \
                     Upgrades go one minor version per apply, control plane first, then the nodes.",
                )
                .validate("a minor version such as \"1.34\"", |v| match parse_version(v.as_str().unwrap_or_default()) {
                    Some((1, _)) => Ok(()),
                    _ => Err(format!("{:?} is not a Kubernetes minor version; write it like \"1.34\"", v.as_str().unwrap_or_default())),
                }),
        )
        .attribute(
            Attribute::string("vpc_cidr")
                .default(DEFAULT_VPC_CIDR)
                .requires_replace()
                .description("The VPC's IPv4 block, /16 to /22. Default `10.0.0.0/16`.")
                .validate("a CIDR block from /16 to /22, like \"10.0.0.0/16\"", validate_vpc_cidr),
        )
        .attribute(
            Attribute::new("availability_zones", strings())
                .optional_computed()
                .requires_replace()
                .use_state_for_unknown()
                .description("Zones to spread subnets over, 2 to 6. Default: the region's first three available zones."),
        )
        .attribute(
            Attribute::new("private_subnet_cidrs", strings())
                .optional_computed()
                .requires_replace()
                .use_state_for_unknown()
                .description("One block per zone for the nodes and pods. Default: the first eighths of `vpc_cidr` (/19 each in a /16)."),
        )
        .attribute(
            Attribute::new("public_subnet_cidrs", strings())
                .optional_computed()
                .requires_replace()
                .use_state_for_unknown()
                .description("One block per zone for load balancers and NAT gateways. Default: carved from the last eighth of `vpc_cidr` (/22 each in a /16)."),
        )
        .attribute(Attribute::bool("single_nat_gateway").default(false).description(
            "One NAT gateway for all zones (cheaper, but a zone outage cuts egress for all). Default `false`: one per zone.",
        ))
        .attribute(Attribute::bool("endpoint_public_access").default(true).description("Whether the API server is reachable from the internet. Default `true`."))
        .attribute(Attribute::bool("endpoint_private_access").default(true).description("Whether the API server is reachable from inside the VPC. Default `true`."))
        .attribute(
            Attribute::new("public_access_cidrs", strings())
                .default(Value::List(vec![Value::from("0.0.0.0/0")]))
                .description("Who may reach the public endpoint. Default `[\"0.0.0.0/0\"]`."),
        )
        .attribute(
            Attribute::new("node_instance_types", strings())
                .default(Value::List(vec![Value::from("t3.large")]))
                .description("EC2 instance types of the nodes. Default `[\"t3.large\"]`. A change replaces the node group, new before old."),
        )
        .attribute(
            Attribute::string("node_capacity_type")
                .default("ON_DEMAND")
                .description("`ON_DEMAND` or `SPOT`. Default `ON_DEMAND`. A change replaces the node group, new before old.")
                .validate("ON_DEMAND or SPOT", |v| match v.as_str() {
                    Some("ON_DEMAND" | "SPOT") => Ok(()),
                    other => Err(format!("{:?} is not a capacity type; use \"ON_DEMAND\" or \"SPOT\"", other.unwrap_or_default())),
                }),
        )
        .attribute(Attribute::number("node_desired_size").default(2i64).description("Nodes to run. Default 2.").validate("0 to 450", range(0, 450)))
        .attribute(Attribute::number("node_min_size").default(1i64).description("Fewest nodes. Default 1.").validate("0 to 450", range(0, 450)))
        .attribute(Attribute::number("node_max_size").default(4i64).description("Most nodes. Default 4.").validate("1 to 450", range(1, 450)))
        .attribute(Attribute::number("node_disk_size").default(50i64).description("Root volume of each node in GiB (gp3, encrypted). Default 50.").validate("20 to 16384", range(20, 16384)))
        .attribute(Attribute::number("node_max_pods").default(35i64).description("Pods per node (kubelet maxPods). Default 35, what a t3.large's network interfaces hold.").validate("1 to 250", range(1, 250)))
        .attribute(Attribute::new("tags", Type::map(Type::String)).optional().description("Tags for every part, beside `aqemia.io/cluster` and `Name`."));
    for (name, ty, description) in [
        ("arn", Type::String, "The EKS cluster's ARN."),
        ("endpoint", Type::String, "The API server URL."),
        ("ca_certificate", Type::String, "The cluster's certificate authority, PEM."),
        ("oidc_issuer_url", Type::String, "The OIDC issuer, for IAM roles for service accounts."),
        ("vpc_id", Type::String, "The VPC."),
        ("public_subnet_ids", strings(), "Public subnets, in zone order."),
        ("private_subnet_ids", strings(), "Private subnets, in zone order."),
        ("nat_gateway_ids", strings(), "NAT gateways, in zone order."),
        ("security_group_id", Type::String, "The ingress security group (80 and 443 in)."),
        ("cluster_role_arn", Type::String, "The control plane's IAM role."),
        ("node_role_arn", Type::String, "The nodes' IAM role."),
        ("launch_template_id", Type::String, "The nodes' launch template."),
        ("node_group_name", Type::String, "The managed node group."),
        ("ecr_repository_url", Type::String, "Where to push images: `<account>.dkr.ecr.<region>.amazonaws.com/<name>`."),
        ("ecr_repository_arn", Type::String, "The ECR repository's ARN."),
        (
            "connection",
            Type::map(Type::String),
            "What other aqemia resources take as `cluster`: name, endpoint, ca_certificate and region. The provider mints a short-lived token from it for each operation; no token is ever stored.",
        ),
        ("kubeconfig", Type::String, "A kubeconfig for humans, authenticating with `aws eks get-token`."),
        (
            "parts",
            Type::map(Type::String),
            "Every AWS object of the cluster by part name, with its id. After a refresh, a part changed outside Terraform reads `<id> (drifted: what)` and a deleted one `missing`; the next apply repairs both.",
        ),
    ] {
        block = block.attribute(Attribute::new(name, ty).computed().description(description));
    }
    let ecr = Block::new()
        .description("The ECR repository's settings.")
        .attribute(
            Attribute::bool("force_delete")
                .default(false)
                .description("Delete the repository and its images on destroy. Default `false`: it is kept."),
        )
        .attribute(
            Attribute::bool("scan_on_push").default(true).description("Scan images for vulnerabilities when pushed. Default `true`."),
        )
        .attribute(
            Attribute::number("untagged_images_kept")
                .default(30i64)
                .description("Untagged images kept; older ones expire. Default 30.")
                .validate("1 to 10000", range(1, 10000)),
        );
    block = block.block(NestedBlock::new("ecr", Nesting::Single, ecr)).block(timeouts::block(&TIMEOUTS));
    Schema::new(0, block)
}

fn validate_name(v: &Value) -> Result<(), String> {
    let name = v.as_str().unwrap_or_default();
    let ok = (2..=38).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a valid cluster name: use 2 to 38 lowercase letters, digits or hyphens, starting with a letter, like \"aqemia\" \
             (it prefixes IAM role, ECR and EC2 names, which have their own limits)"
        ))
    }
}

fn validate_vpc_cidr(v: &Value) -> Result<(), String> {
    let cidr: Cidr = v.as_str().unwrap_or_default().parse().map_err(|e: anyhow::Error| e.to_string())?;
    if !(16..=22).contains(&cidr.prefix) {
        return Err(format!(
            "{cidr} is a /{}; use a block from /16 (AWS's largest) to /22 (the smallest that still fits a /28 public subnet per zone)",
            cidr.prefix
        ));
    }
    Ok(())
}

/// Checks across attributes, on what is known.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let root = Path::root();
    let known_strings = |name: &str| -> Option<Vec<String>> {
        let v = config.get(name)?;
        if !v.is_wholly_known() || v.is_null() {
            return None;
        }
        Some(v.as_seq()?.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
    };
    let zones = known_strings("availability_zones");
    if let Some(zones) = &zones {
        let distinct: BTreeSet<&String> = zones.iter().collect();
        if !(2..=6).contains(&zones.len()) || distinct.len() != zones.len() {
            diags.attribute_error(
                &root.attr("availability_zones"),
                "Invalid availability zones",
                format!("{} zones given ({} distinct); EKS needs subnets in at least 2 distinct zones, and this resource takes at most 6, like [\"eu-west-1a\", \"eu-west-1b\", \"eu-west-1c\"]", zones.len(), distinct.len()),
            );
        }
    }
    let vpc: Option<Cidr> = match config.get("vpc_cidr") {
        Some(Value::Null) | None => DEFAULT_VPC_CIDR.parse().ok(),
        Some(v) => v.as_str().and_then(|c| c.parse().ok()),
    };
    let mut all_subnets: Vec<(String, usize, Cidr)> = Vec::new();
    for name in ["private_subnet_cidrs", "public_subnet_cidrs"] {
        let Some(blocks) = known_strings(name) else { continue };
        if let Some(zones) = &zones {
            if blocks.len() != zones.len() {
                diags.attribute_error(
                    &root.attr(name),
                    "Subnet count does not match the zones",
                    format!(
                        "{} blocks for {} availability zones; give exactly one block per zone, in the same order",
                        blocks.len(),
                        zones.len()
                    ),
                );
            }
        }
        for (i, text) in blocks.iter().enumerate() {
            let path = root.attr(name).index(i as i64);
            match text.parse::<Cidr>() {
                Err(e) => diags.attribute_error(&path, "Invalid CIDR block", e.to_string()),
                Ok(cidr) if cidr.prefix > 28 || cidr.prefix < 16 => diags.attribute_error(
                    &path,
                    "Subnet size out of range",
                    format!("{cidr} is a /{}; AWS subnets are /16 to /28", cidr.prefix),
                ),
                Ok(cidr) => match vpc {
                    Some(vpc) if !vpc.contains(cidr) => diags.attribute_error(
                        &path,
                        "Subnet outside the VPC",
                        format!("{cidr} does not fit in vpc_cidr {vpc}; choose a block inside it"),
                    ),
                    _ => all_subnets.push((name.to_string(), i, cidr)),
                },
            }
        }
    }
    for (i, (name, index, cidr)) in all_subnets.iter().enumerate() {
        if let Some((other_name, other_index, other)) = all_subnets[..i].iter().find(|(_, _, o)| o.overlaps(*cidr)) {
            diags.attribute_error(
                &root.attr(name).index(*index as i64),
                "Overlapping subnets",
                format!("{cidr} overlaps {other} ({other_name}[{other_index}]); subnets of one VPC must not overlap"),
            );
        }
    }
    let size = |name: &str| config.get(name).and_then(Value::as_number).and_then(|n| n.to_i64());
    let (min, desired, max) = (size("node_min_size"), size("node_desired_size"), size("node_max_size"));
    if let (Some(min), Some(max)) = (min, max) {
        if min > max {
            diags.attribute_error(
                &root.attr("node_min_size"),
                "Invalid node group size",
                format!("node_min_size {min} exceeds node_max_size {max}; need min <= desired <= max"),
            );
        }
    }
    let min = min.or(config.get("node_min_size").filter(|v| v.is_null()).map(|_| 1));
    let max = max.or(config.get("node_max_size").filter(|v| v.is_null()).map(|_| 4));
    let desired = desired.or(config.get("node_desired_size").filter(|v| v.is_null()).map(|_| 2));
    if let (Some(min), Some(desired), Some(max)) = (min, desired, max) {
        if desired < min || desired > max {
            diags.attribute_error(
                &root.attr("node_desired_size"),
                "Invalid node group size",
                format!("node_desired_size {desired} is outside node_min_size {min} .. node_max_size {max}; need min <= desired <= max"),
            );
        }
    }
    if let Some(types) = known_strings("node_instance_types") {
        if types.is_empty() {
            diags.attribute_error(
                &root.attr("node_instance_types"),
                "No instance types",
                "give at least one instance type, like [\"t3.large\"]",
            );
        }
    }
}

/// Version changes EKS can make: one minor step up, never down.
pub fn check_upgrade(prior: &str, planned: &str) -> Result<(), String> {
    let (Some(from), Some(to)) = (parse_version(prior), parse_version(planned)) else { return Ok(()) };
    if to < from {
        return Err(format!("EKS cannot downgrade from {prior} to {planned}; keep {prior} or replace the cluster"));
    }
    if to.0 != from.0 || to.1 > from.1 + 1 {
        return Err(format!("EKS upgrades one minor version at a time: set {}.{} first, apply, then {planned}", from.0, from.1 + 1));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_every_derived_name() {
        assert!(validate_name(&Value::from("aqemia")).is_ok());
        // One letter is too short for ECR, 39 too long for the IAM role names.
        for bad in ["", "a", "Bad_Name", "1abc", "abc-", &"a".repeat(39)] {
            assert!(validate_name(&Value::from(bad)).unwrap_err().contains("\"aqemia\""), "{bad}");
        }
    }

    #[test]
    fn vpc_blocks_must_fit_the_subnet_plan() {
        assert!(validate_vpc_cidr(&Value::from("10.0.0.0/16")).is_ok());
        assert!(validate_vpc_cidr(&Value::from("10.0.0.0/8")).unwrap_err().contains("/16"));
        assert!(validate_vpc_cidr(&Value::from("10.0.0.0/24")).is_err());
        assert!(validate_vpc_cidr(&Value::from("10.0.0.1/16")).unwrap_err().contains("10.0.0.0/16"));
    }

    #[test]
    fn upgrades_go_one_minor_step_up() {
        assert!(check_upgrade("1.33", "1.34").is_ok());
        assert!(check_upgrade("1.33", "1.33").is_ok());
        assert!(check_upgrade("1.33", "1.35").unwrap_err().contains("set 1.34 first"));
        assert!(check_upgrade("1.34", "1.33").unwrap_err().contains("downgrade"));
    }

    #[test]
    fn cross_checks_name_the_attribute() {
        let config = Value::object([
            ("vpc_cidr", Value::from("10.0.0.0/16")),
            ("availability_zones", Value::List(vec![Value::from("eu-west-1a")])),
            ("private_subnet_cidrs", Value::List(vec![Value::from("10.1.0.0/20")])),
            ("node_min_size", Value::from(3i64)),
            ("node_desired_size", Value::from(2i64)),
            ("node_max_size", Value::from(4i64)),
        ]);
        let mut diags = Diagnostics::new();
        validate(&config, &mut diags);
        let paths: Vec<String> = diags.iter().filter_map(|d| d.path.as_ref().map(ToString::to_string)).collect();
        assert!(paths.contains(&"availability_zones".to_string()), "{paths:?}");
        assert!(paths.contains(&"private_subnet_cidrs[0]".to_string()), "{paths:?}");
        assert!(paths.contains(&"node_desired_size".to_string()), "{paths:?}");
    }
}
