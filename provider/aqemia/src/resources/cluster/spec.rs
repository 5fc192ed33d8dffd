//! What the configuration asks for, as plain Rust: parsed once from the planned value, with
//! the network plan (subnet CIDRs per zone) derived here as pure functions.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::cty::Value;

/// Kubernetes version used when neither the configuration nor EKS names one: the newest
/// this provider release was tested with.
pub const NEWEST_KNOWN_VERSION: &str = "1.34";
/// The tag that marks every part as this cluster's, and the one naming the part.
pub const OWNER_TAG: &str = "aqemia.io/cluster";
pub const PART_TAG: &str = "aqemia.io/part";

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub name: String,
    pub region: String,
    pub version: String,
    pub vpc_cidr: Cidr,
    pub zones: Vec<String>,
    pub public_cidrs: Vec<Cidr>,
    pub private_cidrs: Vec<Cidr>,
    pub single_nat: bool,
    pub endpoint_public: bool,
    pub endpoint_private: bool,
    pub public_access_cidrs: Vec<String>,
    pub nodes: Nodes,
    pub ecr: Ecr,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Nodes {
    pub instance_types: Vec<String>,
    pub capacity_type: String,
    pub desired: i32,
    pub min: i32,
    pub max: i32,
    pub disk_size: i32,
    pub max_pods: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ecr {
    pub force_delete: bool,
    pub scan_on_push: bool,
    pub untagged_kept: i32,
}

impl Default for Ecr {
    fn default() -> Self {
        Ecr { force_delete: false, scan_on_push: true, untagged_kept: 30 }
    }
}

impl Spec {
    /// Reads a planned or prior value whose arguments are all known (apply time).
    pub fn from_value(value: &Value) -> anyhow::Result<Spec> {
        let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_string);
        let need = |name: &str| text(name).ok_or_else(|| anyhow::anyhow!("{name} is not known"));
        let int = |name: &str| value.get(name).and_then(Value::as_number).and_then(|n| n.to_i64()).map(|n| n as i32);
        let flag = |v: &Value, name: &str, default: bool| v.get(name).and_then(Value::as_bool).unwrap_or(default);
        let strings = |name: &str| -> Vec<String> {
            value.get(name).and_then(Value::as_seq).unwrap_or_default().iter().filter_map(|v| v.as_str().map(str::to_string)).collect()
        };
        let cidrs = |name: &str| -> anyhow::Result<Vec<Cidr>> { strings(name).iter().map(|c| c.parse()).collect() };
        let ecr = match value.get("ecr") {
            Some(block) if !block.is_null() => Ecr {
                force_delete: flag(block, "force_delete", false),
                scan_on_push: flag(block, "scan_on_push", true),
                untagged_kept: block.get("untagged_images_kept").and_then(Value::as_number).and_then(|n| n.to_i64()).unwrap_or(30) as i32,
            },
            _ => Ecr::default(),
        };
        let tags = value
            .get("tags")
            .and_then(Value::as_entries)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
            .unwrap_or_default();
        Ok(Spec {
            name: need("name")?,
            region: need("region")?,
            version: text("kubernetes_version").unwrap_or_else(|| NEWEST_KNOWN_VERSION.to_string()),
            vpc_cidr: need("vpc_cidr")?.parse()?,
            zones: strings("availability_zones"),
            public_cidrs: cidrs("public_subnet_cidrs")?,
            private_cidrs: cidrs("private_subnet_cidrs")?,
            single_nat: flag(value, "single_nat_gateway", false),
            endpoint_public: flag(value, "endpoint_public_access", true),
            endpoint_private: flag(value, "endpoint_private_access", true),
            public_access_cidrs: strings("public_access_cidrs"),
            nodes: Nodes {
                instance_types: strings("node_instance_types"),
                capacity_type: text("node_capacity_type").unwrap_or_else(|| "ON_DEMAND".into()),
                desired: int("node_desired_size").unwrap_or(2),
                min: int("node_min_size").unwrap_or(1),
                max: int("node_max_size").unwrap_or(4),
                disk_size: int("node_disk_size").unwrap_or(50),
                max_pods: int("node_max_pods").unwrap_or(35),
            },
            ecr,
            tags,
        })
    }

    /// The tags every part carries: the user's, then ours (ours win: they are how the
    /// provider finds its parts again).
    pub fn tags_for(&self, part: &str) -> BTreeMap<String, String> {
        let mut tags = self.tags.clone();
        tags.insert("Name".into(), format!("{}-{}", self.name, part.replace('/', "-")));
        tags.insert(OWNER_TAG.into(), self.name.clone());
        tags.insert(PART_TAG.into(), part.to_string());
        tags
    }

    /// Zones that get a NAT gateway: all of them, or the first.
    pub fn nat_zones(&self) -> &[String] {
        if self.single_nat {
            &self.zones[..1.min(self.zones.len())]
        } else {
            &self.zones
        }
    }

    /// The NAT gateway the private subnets of `zone` route through.
    pub fn nat_zone_for<'a>(&'a self, zone: &'a str) -> &'a str {
        if self.single_nat {
            &self.zones[0]
        } else {
            zone
        }
    }

    pub fn cluster_role_name(&self) -> String {
        format!("{}-cluster", self.name)
    }
    pub fn node_role_name(&self) -> String {
        format!("{}-node", self.name)
    }
    pub fn security_group_name(&self) -> String {
        format!("{}-ingress", self.name)
    }
    pub fn launch_template_name(&self) -> String {
        format!("{}-nodes", self.name)
    }
    pub fn repository_name(&self) -> String {
        self.name.clone()
    }

    /// Node groups cannot change instance types in place; the name carries a digest of what
    /// cannot change, so a change makes a new group that replaces the old one.
    pub fn node_group_name(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(self.nodes.instance_types.join(",").as_bytes());
        hash.update(b"/");
        hash.update(self.nodes.capacity_type.as_bytes());
        let digest = hash.finalize();
        format!("{}-{:02x}{:02x}{:02x}", self.name, digest[0], digest[1], digest[2])
    }

    /// The ECR lifecycle policy: expire untagged images beyond the newest N.
    pub fn lifecycle_policy(&self) -> serde_json::Value {
        serde_json::json!({
            "rules": [{
                "rulePriority": 1,
                "description": format!("keep the last {} untagged images", self.ecr.untagged_kept),
                "selection": { "tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": self.ecr.untagged_kept },
                "action": { "type": "expire" }
            }]
        })
    }
}

/// An IPv4 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: u32,
    pub prefix: u8,
}

impl Cidr {
    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }
    fn last(self) -> u32 {
        self.addr | !self.mask()
    }
    pub fn contains(self, other: Cidr) -> bool {
        other.prefix >= self.prefix && (other.addr & self.mask()) == self.addr
    }
    pub fn overlaps(self, other: Cidr) -> bool {
        self.addr <= other.last() && other.addr <= self.last()
    }
    /// The `index`-th block of `prefix + newbits`, like Terraform's cidrsubnet().
    pub fn subnet(self, newbits: u8, index: u32) -> Cidr {
        let prefix = self.prefix + newbits;
        Cidr { addr: self.addr | (index << (32 - prefix)), prefix }
    }
}

impl FromStr for Cidr {
    type Err = anyhow::Error;
    fn from_str(text: &str) -> anyhow::Result<Cidr> {
        let bad = || anyhow::anyhow!("{text:?} is not an IPv4 CIDR block like \"10.0.0.0/16\"");
        let (ip, prefix) = text.split_once('/').ok_or_else(bad)?;
        let ip: std::net::Ipv4Addr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32).ok_or_else(bad)?;
        let cidr = Cidr { addr: u32::from(ip), prefix };
        if cidr.addr & !cidr.mask() != 0 {
            let network = Cidr { addr: cidr.addr & cidr.mask(), prefix };
            anyhow::bail!("{text:?} has host bits set; the block starts at {network}");
        }
        Ok(cidr)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", std::net::Ipv4Addr::from(self.addr), self.prefix)
    }
}

/// Subnets derived from the VPC block: private subnets take the first eighths (one per
/// zone, at most six), public subnets share the last eighth. A /16 gives /19 private
/// subnets (8,190 addresses for pods) and /22 public ones (for load balancers and NAT).
pub fn derive_subnets(vpc: Cidr, zones: usize) -> (Vec<Cidr>, Vec<Cidr>) {
    let private = (0..zones as u32).map(|i| vpc.subnet(3, i)).collect();
    let public = (0..zones as u32).map(|i| vpc.subnet(3, 7).subnet(3, i)).collect();
    (private, public)
}

/// `1.NN` as a number pair.
pub fn parse_version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_parsing_and_arithmetic() {
        let vpc: Cidr = "10.0.0.0/16".parse().unwrap();
        assert_eq!(vpc.subnet(3, 1).to_string(), "10.0.32.0/19");
        assert!(vpc.contains("10.0.255.0/24".parse().unwrap()));
        assert!(!vpc.contains("10.1.0.0/24".parse().unwrap()));
        assert!("10.0.0.0/19".parse::<Cidr>().unwrap().overlaps("10.0.31.0/24".parse().unwrap()));
        assert!(!"10.0.0.0/19".parse::<Cidr>().unwrap().overlaps("10.0.32.0/24".parse().unwrap()));
        let err = "10.0.0.1/16".parse::<Cidr>().unwrap_err().to_string();
        assert!(err.contains("10.0.0.0/16"), "{err}");
        assert!("10.0.0.0".parse::<Cidr>().is_err());
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
    }

    #[test]
    fn derived_subnets_fit_and_do_not_overlap() {
        for (vpc, zones) in [("10.0.0.0/16", 3), ("172.16.0.0/20", 6), ("192.168.0.0/22", 2)] {
            let vpc: Cidr = vpc.parse().unwrap();
            let (private, public) = derive_subnets(vpc, zones);
            let all: Vec<Cidr> = private.iter().chain(&public).copied().collect();
            for (i, a) in all.iter().enumerate() {
                assert!(vpc.contains(*a), "{a} outside {vpc}");
                assert!(a.prefix <= 28, "{a} is smaller than AWS allows");
                for b in &all[i + 1..] {
                    assert!(!a.overlaps(*b), "{a} overlaps {b}");
                }
            }
        }
        let (private, public) = derive_subnets("10.0.0.0/16".parse().unwrap(), 3);
        let text = |v: &[Cidr]| v.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(text(&private), ["10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"]);
        assert_eq!(text(&public), ["10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"]);
    }

    #[test]
    fn node_group_name_follows_what_cannot_change_in_place() {
        let mut spec = Spec::from_value(&Value::object([
            ("name", Value::from("main")),
            ("region", Value::from("eu-west-1")),
            ("vpc_cidr", Value::from("10.0.0.0/16")),
            ("node_instance_types", Value::List(vec![Value::from("t3.large")])),
        ]))
        .unwrap();
        let first = spec.node_group_name();
        assert!(first.starts_with("main-") && first.len() == "main-".len() + 6, "{first}");
        spec.nodes.desired = 3;
        assert_eq!(spec.node_group_name(), first);
        spec.nodes.instance_types = vec!["m6i.large".into()];
        assert_ne!(spec.node_group_name(), first);
    }
}
