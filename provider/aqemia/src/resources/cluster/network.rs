//! The VPC and everything in it: internet gateway, public and private subnets per zone,
//! Elastic IPs and NAT gateways, route tables, the ingress security group.
//!
//! One `Network` snapshot (seven Describe calls) serves refresh, apply and destroy alike.
//! Objects are matched to parts by their part tag, or by the id recorded in state when a
//! tag was removed by hand, so nothing is ever created twice.

use std::collections::BTreeMap;

use anyhow::Context as _;
use aws_sdk_ec2::types::{
    Address, AttributeBooleanValue, DomainType, Filter, InternetGateway, IpPermission, IpRange, NatGateway, NatGatewayState, ResourceType,
    RouteTable, SecurityGroup, Subnet, Tag, TagSpecification, Vpc,
};

use super::run::{join_drift, Run, TagFix};
use super::spec::{OWNER_TAG, PART_TAG};
use crate::aws::{found, AwsError};

pub const VPC: &str = "vpc";
pub const IGW: &str = "internet_gateway";
pub const SECURITY_GROUP: &str = "security_group";
pub const PUBLIC_ROUTES: &str = "route_table/public";
const ANYWHERE: &str = "0.0.0.0/0";
/// The ports the ingress security group opens to the internet.
pub const INGRESS_PORTS: [i32; 2] = [80, 443];

pub fn public_subnet(zone: &str) -> String {
    format!("subnet/public/{zone}")
}
pub fn private_subnet(zone: &str) -> String {
    format!("subnet/private/{zone}")
}
pub fn eip(zone: &str) -> String {
    format!("eip/{zone}")
}
pub fn nat(zone: &str) -> String {
    format!("nat_gateway/{zone}")
}
pub fn private_routes(zone: &str) -> String {
    format!("route_table/private/{zone}")
}

/// What exists in AWS now, keyed by part.
#[derive(Debug, Default)]
pub struct Network {
    pub vpc: Option<Vpc>,
    pub igw: Option<InternetGateway>,
    pub subnets: BTreeMap<String, Subnet>,
    pub addresses: BTreeMap<String, Address>,
    pub nats: BTreeMap<String, NatGateway>,
    pub route_tables: BTreeMap<String, RouteTable>,
    pub security_group: Option<SecurityGroup>,
}

pub fn ec2_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

pub fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or_default().to_string()))).collect()
}

fn filter(name: &str, value: impl Into<String>) -> Filter {
    Filter::builder().name(name).values(value).build()
}

impl Run<'_> {
    fn tag_spec(&self, kind: ResourceType, part: &str) -> TagSpecification {
        TagSpecification::builder().resource_type(kind).set_tags(Some(ec2_tags(&self.spec.tags_for(part)))).build()
    }

    /// The part an EC2 object stands for: its part tag if it is ours, else the part whose
    /// recorded id it has.
    fn part_of(&self, id: Option<&str>, tags: &[Tag]) -> Option<String> {
        let tags = tag_map(tags);
        if tags.get(OWNER_TAG) == Some(&self.spec.name) {
            if let Some(part) = tags.get(PART_TAG) {
                return Some(part.clone());
            }
        }
        self.parts.key_of(id?)
    }

    pub async fn network(&self) -> Result<Network, AwsError> {
        let ec2 = &self.aws.ec2;
        let mut net = Network::default();
        let by_id = match self.parts.id(VPC) {
            Some(id) => found(ec2.describe_vpcs().vpc_ids(id).send().await.map_err(AwsError::from))?.map(|o| o.vpcs().to_vec()),
            None => None,
        };
        let vpcs = match by_id {
            Some(vpcs) => vpcs,
            None => ec2
                .describe_vpcs()
                .filters(filter(&format!("tag:{OWNER_TAG}"), &self.spec.name))
                .filters(filter(&format!("tag:{PART_TAG}"), VPC))
                .send()
                .await?
                .vpcs()
                .to_vec(),
        };
        net.vpc = vpcs.into_iter().next();
        let addresses = ec2.describe_addresses().filters(filter(&format!("tag:{OWNER_TAG}"), &self.spec.name)).send().await?;
        for address in addresses.addresses() {
            if let Some(part) = self.part_of(address.allocation_id(), address.tags()) {
                net.addresses.insert(part, address.clone());
            }
        }
        let Some(vpc_id) = net.vpc.as_ref().and_then(|v| v.vpc_id()).map(str::to_string) else { return Ok(net) };
        let in_vpc = || filter("vpc-id", &vpc_id);
        let (igws, subnets, nats, tables, groups) = tokio::join!(
            ec2.describe_internet_gateways().filters(filter("attachment.vpc-id", &vpc_id)).send(),
            ec2.describe_subnets().filters(in_vpc()).send(),
            ec2.describe_nat_gateways()
                .filter(in_vpc())
                .filter(Filter::builder().name("state").values("pending").values("available").build())
                .send(),
            ec2.describe_route_tables().filters(in_vpc()).send(),
            ec2.describe_security_groups().filters(in_vpc()).send(),
        );
        net.igw =
            igws?.internet_gateways().iter().find(|g| self.part_of(g.internet_gateway_id(), g.tags()).as_deref() == Some(IGW)).cloned();
        for subnet in subnets?.subnets() {
            if let Some(part) = self.part_of(subnet.subnet_id(), subnet.tags()) {
                net.subnets.insert(part, subnet.clone());
            }
        }
        for gateway in nats?.nat_gateways() {
            if let Some(part) = self.part_of(gateway.nat_gateway_id(), gateway.tags()) {
                net.nats.insert(part, gateway.clone());
            }
        }
        for table in tables?.route_tables() {
            if let Some(part) = self.part_of(table.route_table_id(), table.tags()) {
                net.route_tables.insert(part, table.clone());
            }
        }
        net.security_group =
            groups?.security_groups().iter().find(|g| self.part_of(g.group_id(), g.tags()).as_deref() == Some(SECURITY_GROUP)).cloned();
        Ok(net)
    }

    /// Every network part the spec wants, with its current id and what drifted.
    pub fn network_drift(&self, net: &Network) -> Vec<(String, Option<(String, Option<String>)>)> {
        let spec = self.spec;
        let mut out = Vec::new();
        let mut check = |part: String, found: Option<(Option<&str>, &[Tag], Vec<String>)>| {
            let entry = found.map(|(id, tags, mut notes)| {
                if let Some(t) = self.tag_fix(&part, &tag_map(tags)).describe() {
                    notes.insert(0, t);
                }
                (id.unwrap_or_default().to_string(), join_drift(notes))
            });
            out.push((part, entry));
        };
        check(VPC.into(), net.vpc.as_ref().map(|v| (v.vpc_id(), v.tags(), vec![])));
        check(IGW.into(), net.igw.as_ref().map(|g| (g.internet_gateway_id(), g.tags(), vec![])));
        for (i, zone) in spec.zones.iter().enumerate() {
            for (part, cidr) in [(public_subnet(zone), spec.public_cidrs.get(i)), (private_subnet(zone), spec.private_cidrs.get(i))] {
                let subnet = net.subnets.get(&part);
                check(part, subnet.map(|s| (s.subnet_id(), s.tags(), subnet_notes(s, zone, cidr.map(ToString::to_string)))));
            }
        }
        for zone in spec.nat_zones() {
            check(eip(zone), net.addresses.get(&eip(zone)).map(|a| (a.allocation_id(), a.tags(), vec![])));
            check(nat(zone), net.nats.get(&nat(zone)).map(|n| (n.nat_gateway_id(), n.tags(), vec![])));
        }
        let igw_id = net.igw.as_ref().and_then(|g| g.internet_gateway_id());
        let public_subnets: Vec<&str> = spec.zones.iter().filter_map(|z| net.subnets.get(&public_subnet(z))?.subnet_id()).collect();
        check(
            PUBLIC_ROUTES.into(),
            net.route_tables.get(PUBLIC_ROUTES).map(|t| (t.route_table_id(), t.tags(), route_notes(t, igw_id, &public_subnets))),
        );
        for zone in &spec.zones {
            let nat_id = net.nats.get(&nat(spec.nat_zone_for(zone))).and_then(|n| n.nat_gateway_id());
            let subnet: Vec<&str> = net.subnets.get(&private_subnet(zone)).and_then(|s| s.subnet_id()).into_iter().collect();
            let part = private_routes(zone);
            check(part.clone(), net.route_tables.get(&part).map(|t| (t.route_table_id(), t.tags(), route_notes(t, nat_id, &subnet))));
        }
        check(SECURITY_GROUP.into(), net.security_group.as_ref().map(|g| (g.group_id(), g.tags(), ingress_notes(g))));
        out
    }

    /// Creates what is missing and repairs what drifted, in dependency order. Every id is
    /// recorded the moment it exists.
    pub async fn ensure_network(&self) -> anyhow::Result<()> {
        let ec2 = &self.aws.ec2;
        let spec = self.spec;
        let net = self.network().await.context("reading the VPC")?;

        let found = net.vpc.as_ref().and_then(|v| Some((v.vpc_id()?, v.tags())));
        let vpc_id = self
            .existing_or_create(VPC, found, || async {
                self.log(format!("creating VPC {}", spec.vpc_cidr));
                let out = ec2
                    .create_vpc()
                    .cidr_block(spec.vpc_cidr.to_string())
                    .tag_specifications(self.tag_spec(ResourceType::Vpc, VPC))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .context("creating VPC")?;
                let id = out.vpc().and_then(|v| v.vpc_id()).context("CreateVpc returned no id")?.to_string();
                self.parts.record(VPC, &id);
                // Nodes register by private DNS name; EKS needs both attributes on.
                let on = || AttributeBooleanValue::builder().value(true).build();
                ec2.modify_vpc_attribute()
                    .vpc_id(&id)
                    .enable_dns_support(on())
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .context("enabling DNS support")?;
                ec2.modify_vpc_attribute()
                    .vpc_id(&id)
                    .enable_dns_hostnames(on())
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .context("enabling DNS hostnames")?;
                Ok(id)
            })
            .await?;

        let found = net.igw.as_ref().and_then(|g| Some((g.internet_gateway_id()?, g.tags())));
        let igw_id = self
            .existing_or_create(IGW, found, || async {
                self.log("creating internet gateway");
                let out = ec2
                    .create_internet_gateway()
                    .tag_specifications(self.tag_spec(ResourceType::InternetGateway, IGW))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .context("creating internet gateway")?;
                let id = out.internet_gateway().and_then(|g| g.internet_gateway_id()).context("no internet gateway id")?.to_string();
                self.parts.record(IGW, &id);
                ec2.attach_internet_gateway()
                    .internet_gateway_id(&id)
                    .vpc_id(&vpc_id)
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .context("attaching internet gateway")?;
                Ok(id)
            })
            .await?;

        // Subnets of all zones side by side.
        let mut subnet_jobs = Vec::new();
        for (i, zone) in spec.zones.iter().enumerate() {
            subnet_jobs.push(self.ensure_subnet(&net, &vpc_id, public_subnet(zone), zone, spec.public_cidrs[i].to_string(), true));
            subnet_jobs.push(self.ensure_subnet(&net, &vpc_id, private_subnet(zone), zone, spec.private_cidrs[i].to_string(), false));
        }
        let subnet_ids: BTreeMap<String, String> = futures::future::try_join_all(subnet_jobs).await?.into_iter().collect();

        // NAT gateways (with their addresses) side by side; each takes a minute or two.
        let nat_jobs = spec.nat_zones().iter().map(|zone| self.ensure_nat(&net, zone, &subnet_ids[&public_subnet(zone)]));
        let nat_ids: BTreeMap<String, String> = futures::future::try_join_all(nat_jobs).await?.into_iter().collect();

        let public: Vec<String> = spec.zones.iter().map(|z| subnet_ids[&public_subnet(z)].clone()).collect();
        self.ensure_routes(&net, &vpc_id, PUBLIC_ROUTES.to_string(), Target::Gateway(igw_id), &public).await?;
        for zone in &spec.zones {
            let target = Target::Nat(nat_ids[&nat(spec.nat_zone_for(zone))].clone());
            self.ensure_routes(&net, &vpc_id, private_routes(zone), target, &[subnet_ids[&private_subnet(zone)].clone()]).await?;
        }
        self.ensure_security_group(&net, &vpc_id).await
    }

    /// The id of a part: the one found (its tags repaired), or the one `create` makes.
    /// Recorded either way, before anything else is done with it.
    async fn existing_or_create<F, Fut>(&self, part: &str, found: Option<(&str, &[Tag])>, create: F) -> anyhow::Result<String>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<String>>,
    {
        let id = match found {
            Some((id, tags)) => {
                self.parts.record(part, id);
                self.apply_ec2_tags(part, id, &self.tag_fix(part, &tag_map(tags))).await?;
                id.to_string()
            }
            None => create().await?,
        };
        self.parts.record(part, &id);
        Ok(id)
    }

    pub async fn apply_ec2_tags(&self, part: &str, id: &str, fix: &TagFix) -> anyhow::Result<()> {
        let ec2 = &self.aws.ec2;
        if !fix.set.is_empty() {
            self.log(format!("tagging {part} {id}"));
            ec2.create_tags()
                .resources(id)
                .set_tags(Some(ec2_tags(&fix.set)))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("tagging {part} {id}"))?;
        }
        if !fix.remove.is_empty() {
            let keys = fix.remove.iter().map(|k| Tag::builder().key(k).build()).collect();
            ec2.delete_tags()
                .resources(id)
                .set_tags(Some(keys))
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("untagging {part} {id}"))?;
        }
        Ok(())
    }

    async fn ensure_subnet(
        &self,
        net: &Network,
        vpc_id: &str,
        part: String,
        zone: &str,
        cidr: String,
        public: bool,
    ) -> anyhow::Result<(String, String)> {
        let ec2 = &self.aws.ec2;
        let found = net.subnets.get(&part).and_then(|s| Some((s.subnet_id()?, s.tags())));
        let id = self
            .existing_or_create(&part, found, || async {
                self.log(format!("creating {part} {cidr}"));
                let out = ec2
                    .create_subnet()
                    .vpc_id(vpc_id)
                    .cidr_block(&cidr)
                    .availability_zone(zone)
                    .tag_specifications(self.tag_spec(ResourceType::Subnet, &part))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(|| format!("creating {part} {cidr}"))?;
                Ok(out.subnet().and_then(|s| s.subnet_id()).context("CreateSubnet returned no id")?.to_string())
            })
            .await?;
        let maps_public_ip = net.subnets.get(&part).and_then(|s| s.map_public_ip_on_launch()).unwrap_or(false);
        if public && !maps_public_ip {
            ec2.modify_subnet_attribute()
                .subnet_id(&id)
                .map_public_ip_on_launch(AttributeBooleanValue::builder().value(true).build())
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("making {part} public"))?;
        }
        Ok((part, id))
    }

    async fn ensure_nat(&self, net: &Network, zone: &str, subnet_id: &str) -> anyhow::Result<(String, String)> {
        let ec2 = &self.aws.ec2;
        let eip_part = eip(zone);
        let found = net.addresses.get(&eip_part).and_then(|a| Some((a.allocation_id()?, a.tags())));
        let allocation = self
            .existing_or_create(&eip_part, found, || async {
                self.log(format!("allocating Elastic IP for the NAT gateway in {zone}"));
                let out = ec2
                    .allocate_address()
                    .domain(DomainType::Vpc)
                    .tag_specifications(self.tag_spec(ResourceType::ElasticIp, &eip_part))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .context("allocating Elastic IP")?;
                Ok(out.allocation_id().context("AllocateAddress returned no id")?.to_string())
            })
            .await?;
        let part = nat(zone);
        let found = net.nats.get(&part).and_then(|n| Some((n.nat_gateway_id()?, n.tags())));
        let id = self
            .existing_or_create(&part, found, || async {
                self.log(format!("creating NAT gateway in {zone}"));
                let out = ec2
                    .create_nat_gateway()
                    .subnet_id(subnet_id)
                    .allocation_id(&allocation)
                    .tag_specifications(self.tag_spec(ResourceType::Natgateway, &part))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(|| format!("creating NAT gateway in {zone}"))?;
                Ok(out.nat_gateway().and_then(|n| n.nat_gateway_id()).context("CreateNatGateway returned no id")?.to_string())
            })
            .await?;
        self.wait_for(&format!("NAT gateway {id} to become available"), || async {
            let out = ec2.describe_nat_gateways().nat_gateway_ids(&id).send().await.map_err(AwsError::from)?;
            match out.nat_gateways().first().and_then(|n| n.state()) {
                Some(NatGatewayState::Available) => Ok(Some(())),
                Some(NatGatewayState::Failed) => {
                    let why = out.nat_gateways()[0].failure_message().unwrap_or("no reason given").to_string();
                    anyhow::bail!("NAT gateway {id} failed: {why}")
                }
                _ => Ok(None),
            }
        })
        .await?;
        Ok((part, id))
    }

    async fn ensure_routes(&self, net: &Network, vpc_id: &str, part: String, target: Target, subnets: &[String]) -> anyhow::Result<()> {
        let ec2 = &self.aws.ec2;
        let existing = net.route_tables.get(&part);
        let found = existing.and_then(|t| Some((t.route_table_id()?, t.tags())));
        let id = self
            .existing_or_create(&part, found, || async {
                self.log(format!("creating {part}"));
                let out = ec2
                    .create_route_table()
                    .vpc_id(vpc_id)
                    .tag_specifications(self.tag_spec(ResourceType::RouteTable, &part))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .with_context(|| format!("creating {part}"))?;
                Ok(out.route_table().and_then(|t| t.route_table_id()).context("CreateRouteTable returned no id")?.to_string())
            })
            .await?;
        let current = existing.and_then(|t| t.routes().iter().find(|r| r.destination_cidr_block() == Some(ANYWHERE)));
        let current_target = current.and_then(|r| r.gateway_id().or(r.nat_gateway_id()));
        if current_target != Some(target.id()) {
            self.log(format!("routing {ANYWHERE} of {part} to {}", target.id()));
            let result = if current.is_some() {
                let call = ec2.replace_route().route_table_id(&id).destination_cidr_block(ANYWHERE);
                match &target {
                    Target::Gateway(g) => call.gateway_id(g),
                    Target::Nat(n) => call.nat_gateway_id(n),
                }
                .send()
                .await
                .map(|_| ())
                .map_err(AwsError::from)
            } else {
                let call = ec2.create_route().route_table_id(&id).destination_cidr_block(ANYWHERE);
                match &target {
                    Target::Gateway(g) => call.gateway_id(g),
                    Target::Nat(n) => call.nat_gateway_id(n),
                }
                .send()
                .await
                .map(|_| ())
                .map_err(AwsError::from)
            };
            result.with_context(|| format!("routing {part}"))?;
        }
        let associated: Vec<&str> = existing.map(|t| t.associations().iter().filter_map(|a| a.subnet_id()).collect()).unwrap_or_default();
        for subnet in subnets.iter().filter(|s| !associated.contains(&s.as_str())) {
            self.log(format!("associating {subnet} with {part}"));
            ec2.associate_route_table()
                .route_table_id(&id)
                .subnet_id(subnet)
                .send()
                .await
                .map_err(AwsError::from)
                .with_context(|| format!("associating {subnet} with {part}"))?;
        }
        Ok(())
    }

    async fn ensure_security_group(&self, net: &Network, vpc_id: &str) -> anyhow::Result<()> {
        let ec2 = &self.aws.ec2;
        let existing = net.security_group.as_ref();
        let found = existing.and_then(|g| Some((g.group_id()?, g.tags())));
        let id = self
            .existing_or_create(SECURITY_GROUP, found, || async {
                self.log("creating ingress security group");
                let out = ec2
                    .create_security_group()
                    .group_name(self.spec.security_group_name())
                    .description("HTTP and HTTPS from anywhere to the cluster's load balancers")
                    .vpc_id(vpc_id)
                    .tag_specifications(self.tag_spec(ResourceType::SecurityGroup, SECURITY_GROUP))
                    .send()
                    .await
                    .map_err(AwsError::from)
                    .context("creating security group")?;
                Ok(out.group_id().context("CreateSecurityGroup returned no id")?.to_string())
            })
            .await?;
        // One permission per call: never rely on a multi-permission response.
        for port in missing_ports(existing) {
            self.log(format!("opening {port}/tcp on {id}"));
            let permission = IpPermission::builder()
                .ip_protocol("tcp")
                .from_port(port)
                .to_port(port)
                .ip_ranges(IpRange::builder().cidr_ip(ANYWHERE).description(format!("port {port} from anywhere")).build())
                .build();
            let result =
                ec2.authorize_security_group_ingress().group_id(&id).ip_permissions(permission).send().await.map_err(AwsError::from);
            match result {
                Err(e) if e.is("InvalidPermission.Duplicate") => {}
                other => {
                    other.with_context(|| format!("opening port {port} on {id}"))?;
                }
            }
        }
        Ok(())
    }

    /// Deletes every network part in reverse order, tolerating parts already gone.
    pub async fn delete_network(&self) -> anyhow::Result<()> {
        let ec2 = &self.aws.ec2;
        let net = self.network().await.context("reading the VPC")?;
        let nat_ids: Vec<String> = net.nats.values().filter_map(|n| n.nat_gateway_id()).map(str::to_string).collect();
        for id in &nat_ids {
            self.log(format!("deleting NAT gateway {id}"));
            found(ec2.delete_nat_gateway().nat_gateway_id(id).send().await.map_err(AwsError::from))
                .with_context(|| format!("deleting NAT gateway {id}"))?;
        }
        if !nat_ids.is_empty() {
            self.wait_for("NAT gateways to be deleted", || async {
                let out = ec2.describe_nat_gateways().set_nat_gateway_ids(Some(nat_ids.clone())).send().await.map_err(AwsError::from)?;
                Ok(out.nat_gateways().iter().all(|n| n.state() == Some(&NatGatewayState::Deleted)).then_some(()))
            })
            .await?;
        }
        for key in net.nats.keys() {
            self.parts.forget(key);
        }
        for (part, address) in &net.addresses {
            if let Some(id) = address.allocation_id() {
                self.log(format!("releasing Elastic IP {id}"));
                found(ec2.release_address().allocation_id(id).send().await.map_err(AwsError::from))
                    .with_context(|| format!("releasing Elastic IP {id}"))?;
            }
            self.parts.forget(part);
        }
        for (part, table) in &net.route_tables {
            let Some(id) = table.route_table_id() else { continue };
            for association in table.associations().iter().filter(|a| a.main() != Some(true)) {
                if let Some(assoc) = association.route_table_association_id() {
                    found(ec2.disassociate_route_table().association_id(assoc).send().await.map_err(AwsError::from))
                        .with_context(|| format!("disassociating {part}"))?;
                }
            }
            self.log(format!("deleting {part} {id}"));
            found(ec2.delete_route_table().route_table_id(id).send().await.map_err(AwsError::from))
                .with_context(|| format!("deleting {part} {id}"))?;
            self.parts.forget(part);
        }
        if let (Some(igw), Some(vpc)) = (net.igw.as_ref().and_then(|g| g.internet_gateway_id()), net.vpc.as_ref().and_then(|v| v.vpc_id()))
        {
            self.log(format!("deleting internet gateway {igw}"));
            found(ec2.detach_internet_gateway().internet_gateway_id(igw).vpc_id(vpc).send().await.map_err(AwsError::from))
                .context("detaching internet gateway")?;
            found(ec2.delete_internet_gateway().internet_gateway_id(igw).send().await.map_err(AwsError::from))
                .context("deleting internet gateway")?;
        }
        self.parts.forget(IGW);
        for (part, subnet) in &net.subnets {
            if let Some(id) = subnet.subnet_id() {
                self.log(format!("deleting {part} {id}"));
                found(ec2.delete_subnet().subnet_id(id).send().await.map_err(AwsError::from))
                    .with_context(|| format!("deleting {part} {id}"))?;
            }
            self.parts.forget(part);
        }
        if let Some(id) = net.security_group.as_ref().and_then(|g| g.group_id()) {
            self.log(format!("deleting security group {id}"));
            found(ec2.delete_security_group().group_id(id).send().await.map_err(AwsError::from)).context("deleting security group")?;
        }
        self.parts.forget(SECURITY_GROUP);
        if let Some(id) = net.vpc.as_ref().and_then(|v| v.vpc_id()) {
            self.log(format!("deleting VPC {id}"));
            found(ec2.delete_vpc().vpc_id(id).send().await.map_err(AwsError::from)).with_context(|| format!("deleting VPC {id}"))?;
        }
        self.parts.forget(VPC);
        Ok(())
    }
}

enum Target {
    Gateway(String),
    Nat(String),
}

impl Target {
    fn id(&self) -> &str {
        match self {
            Target::Gateway(id) | Target::Nat(id) => id,
        }
    }
}

fn subnet_notes(subnet: &Subnet, zone: &str, cidr: Option<String>) -> Vec<String> {
    let mut notes = Vec::new();
    if subnet.availability_zone() != Some(zone) || subnet.cidr_block().map(str::to_string) != cidr {
        notes.push(format!("in {} as {}", subnet.availability_zone().unwrap_or("?"), subnet.cidr_block().unwrap_or("?")));
    }
    notes
}

/// Route table drift: the default route's target and the subnet associations.
fn route_notes(table: &RouteTable, target: Option<&str>, subnets: &[&str]) -> Vec<String> {
    let mut notes = Vec::new();
    let route = table.routes().iter().find(|r| r.destination_cidr_block() == Some(ANYWHERE));
    match route.and_then(|r| r.gateway_id().or(r.nat_gateway_id())) {
        None => notes.push(format!("route {ANYWHERE} missing")),
        Some(actual) if Some(actual) != target => notes.push(format!("route {ANYWHERE} goes to {actual}")),
        Some(_) => {}
    }
    let associated: Vec<&str> = table.associations().iter().filter_map(|a| a.subnet_id()).collect();
    for subnet in subnets.iter().filter(|s| !associated.contains(s)) {
        notes.push(format!("{subnet} not associated"));
    }
    notes
}

fn missing_ports(group: Option<&SecurityGroup>) -> Vec<i32> {
    let open = |port: i32| {
        group.is_some_and(|g| {
            g.ip_permissions().iter().any(|p| {
                p.ip_protocol() == Some("tcp")
                    && p.from_port() == Some(port)
                    && p.to_port() == Some(port)
                    && p.ip_ranges().iter().any(|r| r.cidr_ip() == Some(ANYWHERE))
            })
        })
    };
    INGRESS_PORTS.into_iter().filter(|p| !open(*p)).collect()
}

fn ingress_notes(group: &SecurityGroup) -> Vec<String> {
    missing_ports(Some(group)).into_iter().map(|p| format!("ingress {p}/tcp from {ANYWHERE} missing")).collect()
}
