"""aqemia_cluster (VPC, IAM, EKS, ECR) through the real Terraform CLI against the AWS stand-in
(tests/e2e/aws.py: moto behind ../shared/standins/aws_standin.py). Every part the resource
creates is checked in AWS with boto3, not only in Terraform's state. The stand-in reports the
Kubernetes test bed's API server as each cluster's endpoint, so "the API server answers" is a
real TLS request. Every test starts on an empty stand-in (the `aws_tf` fixture)."""

import base64
import email
import ipaddress
import json
import os
import re
import signal
import ssl
import subprocess
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml  # PyYAML comes with moto[server]
from botocore.exceptions import ClientError

from conftest import PROVIDER_BLOCK

OWNER = "aqemia.io/cluster"
ADDRESS = "aqemia_cluster.main"
REGION = "eu-west-1"
ZONES = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
PROVIDER = PROVIDER_BLOCK + f'\nprovider "aqemia" {{\n  region = "{REGION}"\n}}\n'
OUTPUTS = """
output "connection" {
  value     = aqemia_cluster.main.connection
  sensitive = true
}

output "kubeconfig" {
  value     = aqemia_cluster.main.kubeconfig
  sensitive = true
}

output "ecr_repository_url" {
  value = aqemia_cluster.main.ecr_repository_url
}
"""
NODE_POLICIES = {"AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy"}


def unique_name():
    return f"e2e-{uuid.uuid4().hex[:8]}"


def cluster_config(name, body="", outputs=False, backend=""):
    """The provider block and one `aqemia_cluster.main`; `body` holds extra argument lines."""
    lines = "".join(f"  {line}\n" for line in body.strip("\n").splitlines()) if body.strip() else ""
    hcl = backend + PROVIDER + f'\nresource "aqemia_cluster" "main" {{\n  name = "{name}"\n{lines}}}\n'
    return hcl + (OUTPUTS if outputs else "")


def flat(text):
    """Terraform wraps long diagnostics; compare with single spaces."""
    return " ".join(text.split())


def tags_of(obj):
    return {t["Key"]: t["Value"] for t in obj.get("Tags") or obj.get("tags") or []}


def owned_by(obj, name):
    return tags_of(obj).get(OWNER) == name


def error_code(exc):
    return exc.response.get("Error", {}).get("Code")


# ---- what is in AWS --------------------------------------------------------------------------


def inventory(aws, name):
    """Everything in the stand-in that belongs to cluster `name`: by the owner tag (filtered
    here, not by the API: moto ignores tag filters on some calls, e.g. DescribeNatGateways) or
    by the names the resource gives its parts. NAT gateways in state `deleted` are left out."""
    ec2, iam, eks, ecr = (aws.client(s) for s in ("ec2", "iam", "eks", "ecr"))
    found = {
        "vpcs": [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if owned_by(v, name)],
        "subnets": [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if owned_by(s, name)],
        "internet_gateways": [g["InternetGatewayId"] for g in ec2.describe_internet_gateways()["InternetGateways"] if owned_by(g, name)],
        "nat_gateways": [
            n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if owned_by(n, name) and n["State"] != "deleted"
        ],
        "addresses": [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"] if owned_by(a, name)],
        "route_tables": [r["RouteTableId"] for r in ec2.describe_route_tables()["RouteTables"] if owned_by(r, name)],
        "security_groups": [
            g["GroupId"]
            for g in ec2.describe_security_groups()["SecurityGroups"]
            if owned_by(g, name) or g["GroupName"] == f"{name}-ingress"
        ],
        "launch_templates": [
            t["LaunchTemplateId"]
            for t in ec2.describe_launch_templates()["LaunchTemplates"]
            if owned_by(t, name) or t["LaunchTemplateName"] == f"{name}-nodes"
        ],
    }
    roles = []
    for role in iam.list_roles()["Roles"]:
        role_tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role["RoleName"])["Tags"]}
        if role_tags.get(OWNER) == name or role["RoleName"] in (f"{name}-cluster", f"{name}-node"):
            roles.append(role["RoleName"])
    found["roles"] = roles
    clusters = []
    for cluster_name in eks.list_clusters()["clusters"]:
        cluster = eks.describe_cluster(name=cluster_name)["cluster"]
        if cluster_name == name or (cluster.get("tags") or {}).get(OWNER) == name:
            clusters.append(cluster_name)
    found["clusters"] = clusters
    found["node_groups"] = [f"{c}/{ng}" for c in clusters for ng in eks.list_nodegroups(clusterName=c)["nodegroups"]]
    repos = []
    for repo in ecr.describe_repositories()["repositories"]:
        repo_tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]}
        if repo["repositoryName"] == name or repo_tags.get(OWNER) == name:
            repos.append(repo["repositoryName"])
    found["ecr_repositories"] = repos
    return found


def assert_single_set(aws, name, zones=3):
    """One of each part, one NAT gateway and one address per zone: nothing was made twice."""
    found = inventory(aws, name)
    expected = {
        "vpcs": 1, "subnets": 2 * zones, "internet_gateways": 1, "nat_gateways": zones, "addresses": zones,
        "security_groups": 1, "launch_templates": 1, "roles": 2, "clusters": 1, "node_groups": 1, "ecr_repositories": 1,
    }
    counts = {kind: len(found[kind]) for kind in expected}
    assert counts == expected, f"parts of {name} in AWS:\n{json.dumps(found, indent=1)}"


def assert_nothing_left(aws, name, ecr_kept=True):
    found = inventory(aws, name)
    left = {kind: ids for kind, ids in found.items() if ids and kind != "ecr_repositories"}
    assert left == {}, f"left behind in AWS after destroy: {json.dumps(left, indent=1)}"
    assert found["ecr_repositories"] == ([name] if ecr_kept else []), found["ecr_repositories"]


def api_server_version(endpoint, ca_pem):
    """GET /version on the cluster's endpoint, trusting only the cluster's CA."""
    ctx = ssl.create_default_context(cadata=ca_pem)
    with urllib.request.urlopen(endpoint.rstrip("/") + "/version", context=ctx, timeout=30) as resp:
        return json.loads(resp.read())


def user_data_text(encoded):
    """A launch template's user data as text, MIME parts decoded."""
    raw = base64.b64decode(encoded)
    texts = [raw.decode(errors="replace")]
    msg = email.message_from_bytes(raw)
    if msg.is_multipart():
        for part in msg.walk():
            if not part.is_multipart():
                payload = part.get_payload(decode=True) or b""
                texts.append(payload.decode(errors="replace"))
    return "\n".join(texts)


def trusted_services(document):
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    services = set()
    for statement in document["Statement"]:
        principal = statement.get("Principal", {}).get("Service", [])
        services.update([principal] if isinstance(principal, str) else principal)
    return services


def default_route(route_table):
    routes = [r for r in route_table["Routes"] if r.get("DestinationCidrBlock") == "0.0.0.0/0"]
    assert len(routes) == 1, route_table["Routes"]
    return routes[0]


def route_table_of(ec2, subnet_id):
    tables = ec2.describe_route_tables(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])["RouteTables"]
    assert len(tables) == 1, f"subnet {subnet_id} is associated with {len(tables)} route tables"
    return tables[0]


def ingress_rules(group):
    """(protocol, from, to, cidr) of every IPv4 ingress rule."""
    return {
        (p["IpProtocol"], p.get("FromPort"), p.get("ToPort"), r["CidrIp"])
        for p in group["IpPermissions"]
        for r in p.get("IpRanges", [])
    }


def untagged_expiry(policy_text):
    """The countNumber of the rule expiring untagged images beyond a count, or None."""
    for rule in json.loads(policy_text)["rules"]:
        sel = rule["selection"]
        if sel.get("tagStatus") == "untagged" and sel.get("countType") == "imageCountMoreThan" and rule["action"]["type"] == "expire":
            return sel["countNumber"]
    return None


def check_cluster_in_aws(aws, name, a, tags=None):
    """Every part of cluster `name` in AWS against the resource's attributes `a`. Each part is
    checked on its own and every failing part is reported, not only the first."""
    ec2, iam, eks, ecr = (aws.client(s) for s in ("ec2", "iam", "eks", "ecr"))
    expected_tags = {OWNER: name, **(tags or {})}

    def ec2_tagged(obj, what):
        """The owner tag, the user's tags and a Name tag."""
        found = tags_of(obj)
        assert expected_tags.items() <= found.items() and found.get("Name"), (what, found)

    def vpc():
        vpcs = [v for v in ec2.describe_vpcs()["Vpcs"] if owned_by(v, name)]
        assert [v["VpcId"] for v in vpcs] == [a["vpc_id"]]
        assert vpcs[0]["CidrBlock"] == "10.0.0.0/16" == a["vpc_cidr"]
        ec2_tagged(vpcs[0], "vpc")
        # EKS needs DNS resolution and hostnames in the VPC for its private endpoint.
        assert a["endpoint_private_access"] is True
        for attribute, key in (("enableDnsSupport", "EnableDnsSupport"), ("enableDnsHostnames", "EnableDnsHostnames")):
            assert ec2.describe_vpc_attribute(VpcId=a["vpc_id"], Attribute=attribute)[key]["Value"] is True, attribute

    def subnets_by_id():
        return {s["SubnetId"]: s for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [a["vpc_id"]]}])["Subnets"]}

    def subnets():
        # One public and one private per zone, in zone order, inside the VPC, no overlap.
        assert a["availability_zones"] == ZONES
        network = ipaddress.ip_network(a["vpc_cidr"])
        found = subnets_by_id()
        assert set(found) == set(a["public_subnet_ids"]) | set(a["private_subnet_ids"])
        assert len(found) == 6
        cidrs = []
        for kind in ("public", "private"):
            ids, kind_cidrs = a[f"{kind}_subnet_ids"], a[f"{kind}_subnet_cidrs"]
            assert len(ids) == len(kind_cidrs) == 3, (ids, kind_cidrs)
            for subnet_id, zone, cidr in zip(ids, ZONES, kind_cidrs):
                subnet = found[subnet_id]
                assert subnet["AvailabilityZone"] == zone, (kind, subnet_id)
                assert subnet["CidrBlock"] == cidr, (kind, subnet_id)
                assert ipaddress.ip_network(cidr).subnet_of(network), cidr
                ec2_tagged(subnet, subnet_id)
                cidrs.append(ipaddress.ip_network(cidr))
        assert not any(x.overlaps(y) for i, x in enumerate(cidrs) for y in cidrs[i + 1:]), cidrs

    def gateways_and_routes():
        found = subnets_by_id()
        igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [a["vpc_id"]]}])["InternetGateways"]
        assert len(igws) == 1, igws
        igw = igws[0]
        assert igw["Attachments"] == [{"State": "available", "VpcId": a["vpc_id"]}]
        ec2_tagged(igw, "internet gateway")

        # One NAT gateway per zone, in that zone's public subnet, each with its own address.
        nats = [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["VpcId"] == a["vpc_id"] and n["State"] != "deleted"]
        assert sorted(n["NatGatewayId"] for n in nats) == sorted(a["nat_gateway_ids"])
        assert len(nats) == 3 and all(n["State"] == "available" for n in nats), nats
        nat_by_zone = {}
        for nat in nats:
            assert nat["SubnetId"] in a["public_subnet_ids"], nat
            ec2_tagged(nat, nat["NatGatewayId"])
            nat_by_zone[found[nat["SubnetId"]]["AvailabilityZone"]] = nat["NatGatewayId"]
        assert set(nat_by_zone) == set(ZONES)
        addresses = {x["AllocationId"]: x for x in ec2.describe_addresses()["Addresses"]}
        nat_allocations = [g["AllocationId"] for n in nats for g in n["NatGatewayAddresses"]]
        assert len(set(nat_allocations)) == 3
        for alloc in nat_allocations:
            ec2_tagged(addresses[alloc], alloc)

        # Public subnets route to the internet gateway, private ones to their zone's NAT gateway.
        for subnet_id in a["public_subnet_ids"]:
            assert default_route(route_table_of(ec2, subnet_id)).get("GatewayId") == igw["InternetGatewayId"], subnet_id
        for subnet_id in a["private_subnet_ids"]:
            zone = found[subnet_id]["AvailabilityZone"]
            assert default_route(route_table_of(ec2, subnet_id)).get("NatGatewayId") == nat_by_zone[zone], subnet_id

    def security_group():
        # <name>-ingress: 80 and 443 from anywhere.
        groups = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": [f"{name}-ingress"]}])["SecurityGroups"]
        assert [g["GroupId"] for g in groups] == [a["security_group_id"]]
        assert groups[0]["VpcId"] == a["vpc_id"]
        assert {("tcp", 80, 80, "0.0.0.0/0"), ("tcp", 443, 443, "0.0.0.0/0")} <= ingress_rules(groups[0]), groups[0]["IpPermissions"]
        ec2_tagged(groups[0], "security group")

    def roles():
        cluster_role = iam.get_role(RoleName=f"{name}-cluster")["Role"]
        node_role = iam.get_role(RoleName=f"{name}-node")["Role"]
        assert cluster_role["Arn"] == a["cluster_role_arn"]
        assert node_role["Arn"] == a["node_role_arn"]
        assert "eks.amazonaws.com" in trusted_services(cluster_role["AssumeRolePolicyDocument"])
        assert "ec2.amazonaws.com" in trusted_services(node_role["AssumeRolePolicyDocument"])

        def attached(role):
            return {p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]}

        assert attached(f"{name}-cluster") == {"AmazonEKSClusterPolicy"}
        assert attached(f"{name}-node") == NODE_POLICIES
        for role in (f"{name}-cluster", f"{name}-node"):
            role_tags = {t["Key"]: t["Value"] for t in iam.list_role_tags(RoleName=role)["Tags"]}
            assert expected_tags.items() <= role_tags.items(), (role, role_tags)

    def eks_cluster():
        # ACTIVE, its role, its subnets, endpoint access, CA, OIDC issuer.
        cluster = eks.describe_cluster(name=name)["cluster"]
        assert cluster["status"] == "ACTIVE"
        assert cluster["arn"] == a["arn"]
        assert cluster["roleArn"] == a["cluster_role_arn"]
        assert re.fullmatch(r"1\.\d+", a["kubernetes_version"]) and cluster["version"] == a["kubernetes_version"]
        vpc_config = cluster["resourcesVpcConfig"]
        assert set(a["private_subnet_ids"]) <= set(vpc_config["subnetIds"]), vpc_config
        assert vpc_config["endpointPublicAccess"] is True and vpc_config["endpointPrivateAccess"] is True, vpc_config
        assert vpc_config["publicAccessCidrs"] == ["0.0.0.0/0"], vpc_config
        assert expected_tags.items() <= (cluster.get("tags") or {}).items(), cluster.get("tags")
        assert a["endpoint"] == cluster["endpoint"] == aws.kube_server
        assert a["ca_certificate"].startswith("-----BEGIN CERTIFICATE-----")
        assert a["ca_certificate"].strip() == base64.b64decode(cluster["certificateAuthority"]["data"]).decode().strip()
        assert a["oidc_issuer_url"] == cluster["identity"]["oidc"]["issuer"]
        # The cluster's API server answers, over TLS checked against the cluster's CA.
        assert "gitVersion" in api_server_version(a["endpoint"], a["ca_certificate"])

    def node_group():
        # On the private subnets, with the launch template.
        group = eks.describe_nodegroup(clusterName=name, nodegroupName=a["node_group_name"])["nodegroup"]
        assert group["status"] == "ACTIVE"
        assert group["scalingConfig"] == {"desiredSize": 2, "minSize": 1, "maxSize": 4}, group["scalingConfig"]
        assert group["nodeRole"] == a["node_role_arn"]
        assert sorted(group["subnets"]) == sorted(a["private_subnet_ids"])
        assert group["launchTemplate"]["id"] == a["launch_template_id"], group["launchTemplate"]
        assert group["instanceTypes"] == ["t3.large"]
        assert group["capacityType"] == "ON_DEMAND"
        # <name>-<digest of instance types and capacity type>: a change of either makes a new group.
        assert re.fullmatch(rf"{name}-[0-9a-f]{{6}}", a["node_group_name"]), a["node_group_name"]

    def launch_template():
        # <name>-nodes: IMDSv2 only, the disk size, the max pods.
        templates = ec2.describe_launch_templates(LaunchTemplateNames=[f"{name}-nodes"])["LaunchTemplates"]
        assert [t["LaunchTemplateId"] for t in templates] == [a["launch_template_id"]]
        ec2_tagged(templates[0], "launch template")
        group = eks.describe_nodegroup(clusterName=name, nodegroupName=a["node_group_name"])["nodegroup"]
        used = str(group["launchTemplate"].get("version", "$Default"))
        versions = ec2.describe_launch_template_versions(LaunchTemplateId=a["launch_template_id"], Versions=[used])
        data = versions["LaunchTemplateVersions"][0]["LaunchTemplateData"]
        assert data["MetadataOptions"]["HttpTokens"] == "required", data.get("MetadataOptions")
        sizes = [m["Ebs"]["VolumeSize"] for m in data.get("BlockDeviceMappings", []) if "Ebs" in m]
        assert sizes == [50], data.get("BlockDeviceMappings")
        assert re.search(r"max[-_ ]?pods\W{0,4}35\b", user_data_text(data.get("UserData", "")), re.I), "max pods 35 is not in the user data"

    def ecr_repository():
        # <name>: mutable tags, scan on push, untagged images beyond 30 expire.
        repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        assert repo["repositoryUri"] == a["ecr_repository_url"]
        assert repo["repositoryArn"] == a["ecr_repository_arn"]
        assert repo["imageTagMutability"] == "MUTABLE"
        assert repo["imageScanningConfiguration"]["scanOnPush"] is True
        assert untagged_expiry(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]) == 30
        repo_tags = {t["Key"]: t["Value"] for t in ecr.list_tags_for_resource(resourceArn=repo["repositoryArn"])["tags"]}
        assert expected_tags.items() <= repo_tags.items(), repo_tags

    failures = []
    for check in (vpc, subnets, gateways_and_routes, security_group, roles, eks_cluster, node_group, launch_template, ecr_repository):
        try:
            check()
        except (AssertionError, ClientError, KeyError, IndexError) as exc:
            failures.append(f"--- {check.__name__}: {type(exc).__name__}: {exc}")
    assert not failures, f"cluster {name} in AWS:\n" + "\n".join(failures)


def check_parts_clean(a):
    parts = a["parts"]
    assert parts, "parts is empty"
    for part, value in parts.items():
        assert "drifted" not in value and value != "missing", (part, value)
    for attribute in ("vpc_id", "security_group_id", "launch_template_id"):
        assert a[attribute] in parts.values(), (attribute, parts)


# ---- e. bad input ------------------------------------------------------------------------------

BAD_INPUT = {
    "name": ('name = "Bad_Name"', ['name = "Bad_Name"'], ["name"]),
    "vpc_cidr": ('vpc_cidr = "10.0.0.0/8"', ['vpc_cidr = "10.0.0.0/8"'], ["vpc_cidr"]),
    "node_min_size": (
        "node_min_size = 3\nnode_desired_size = 2",
        ["node_min_size = 3", "node_desired_size = 2"],
        ["node_min_size", "node_desired_size"],
    ),
    "availability_zones": ('availability_zones = ["eu-west-1a"]', ['availability_zones = ["eu-west-1a"]'], ["availability_zones"]),
    "private_subnet_cidrs": (
        'availability_zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]\n'
        'private_subnet_cidrs = ["10.0.0.0/20", "10.0.16.0/20", "10.1.0.0/20"]',
        ['private_subnet_cidrs = ["10.0.0.0/20", "10.0.16.0/20", "10.1.0.0/20"]'],
        ["private_subnet_cidrs", "10.1.0.0/20"],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_is_a_diagnostic_at_plan_time(aws_tf, case):
    tf = aws_tf
    body, source_lines, mentioned = BAD_INPUT[case]
    if case == "name":
        hcl = PROVIDER + f'\nresource "aqemia_cluster" "main" {{\n  {body}\n}}\n'
    else:
        hcl = cluster_config(unique_name(), body)
    tf.write(hcl)
    tf.init()
    proc = tf.run("plan", "-input=false", "-no-color", ok=False)
    out = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 1, out
    assert "Error:" in out, out
    # The diagnostic has the attribute's path: Terraform quotes the configuration line.
    assert any(flat(line) in out for line in source_lines), out
    for word in mentioned:
        assert word in out, (word, out)
    # Nothing was made (moto's default VPC aside).
    assert [v for v in tf.aws.client("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")] == []


# ---- a. lifecycle -------------------------------------------------------------------------------


def test_full_lifecycle(aws_tf):
    tf, aws = aws_tf, aws_tf.aws
    name = unique_name()
    tf.write(cluster_config(name, outputs=True))
    tf.init()
    tf.apply()

    a = tf.attrs(ADDRESS)
    assert a["id"] == name and a["name"] == name
    assert a["region"] == REGION
    check_cluster_in_aws(aws, name, a)
    check_parts_clean(a)
    assert_single_set(aws, name)

    # Defaults as the schema states them.
    assert a["single_nat_gateway"] is False and a["endpoint_public_access"] is True
    assert a["public_access_cidrs"] == ["0.0.0.0/0"] and a["node_instance_types"] == ["t3.large"]
    assert (a["node_desired_size"], a["node_min_size"], a["node_max_size"]) == (2, 1, 4)
    assert (a["node_disk_size"], a["node_max_pods"], a["node_capacity_type"]) == (50, 35, "ON_DEMAND")

    # Connection details for other providers and for kubectl.
    assert a["connection"] == {"name": name, "endpoint": a["endpoint"], "ca_certificate": a["ca_certificate"], "region": REGION}
    kubeconfig = yaml.safe_load(a["kubeconfig"])
    (cluster_entry,) = kubeconfig["clusters"]
    assert cluster_entry["cluster"]["server"] == a["endpoint"]
    assert base64.b64decode(cluster_entry["cluster"]["certificate-authority-data"]).decode().strip() == a["ca_certificate"].strip()
    (user_entry,) = kubeconfig["users"]
    exec_ = user_entry["user"]["exec"]
    assert exec_["command"] == "aws"
    assert exec_["args"][:2] == ["eks", "get-token"] and name in exec_["args"], exec_["args"]

    outputs = json.loads(tf.run("output", "-json").stdout)
    assert set(outputs["connection"]["value"]) == {"name", "endpoint", "ca_certificate", "region"}
    assert outputs["ecr_repository_url"]["value"] == f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{name}"
    assert "get-token" in outputs["kubeconfig"]["value"]

    tf.assert_no_changes()

    tf.destroy()
    assert tf.resources() == {}
    # The repository outlives the cluster unless ecr.force_delete is set: images are data.
    assert_nothing_left(aws, name, ecr_kept=True)


def test_destroy_with_ecr_force_delete_removes_the_repository_and_its_images(aws_tf):
    tf, aws = aws_tf, aws_tf.aws
    name = unique_name()
    tf.write(cluster_config(name, "ecr {\n  force_delete = true\n}"))
    tf.init()
    tf.apply()
    ecr = aws.client("ecr")
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                           "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 2,
                                      "digest": "sha256:" + "0" * 64}, "layers": []})
    ecr.put_image(repositoryName=name, imageManifest=manifest, imageTag="v1")
    assert tf.attrs(ADDRESS)["ecr"]["force_delete"] is True
    tf.assert_no_changes()
    tf.destroy()
    assert_nothing_left(aws, name, ecr_kept=False)


# ---- b. drift -----------------------------------------------------------------------------------


def drift_node_group(aws, name, a):
    aws.client("eks").update_nodegroup_config(clusterName=name, nodegroupName=a["node_group_name"], scalingConfig={"desiredSize": 3})
    # The attribute itself may show it: node_desired_size = 3 -> 2.
    return [a["node_group_name"]], r"desired|scaling|size", r"~ node_desired_size\s*= 3 -> 2"


def drift_ingress_rule(aws, name, a):
    aws.client("ec2").revoke_security_group_ingress(
        GroupId=a["security_group_id"],
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    return [a["security_group_id"]], r"443|ingress", None


def drift_lifecycle_policy(aws, name, a):
    policy = {"rules": [{"rulePriority": 1, "description": "changed by hand",
                         "selection": {"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 5},
                         "action": {"type": "expire"}}]}
    aws.client("ecr").put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(policy))
    # The attribute itself may show it: ecr.untagged_images_kept = 5 -> 30.
    return [name], r"lifecycle", r"~ untagged_images_kept\s*= 5 -> 30"


def drift_vpc_tag(aws, name, a):
    aws.client("ec2").delete_tags(Resources=[a["vpc_id"]], Tags=[{"Key": "team"}])
    return [a["vpc_id"]], r"team|tag", None


def repaired_node_group(aws, name, a):
    group = aws.client("eks").describe_nodegroup(clusterName=name, nodegroupName=a["node_group_name"])["nodegroup"]
    assert group["scalingConfig"] == {"desiredSize": 2, "minSize": 1, "maxSize": 4}, group["scalingConfig"]


def repaired_ingress_rule(aws, name, a):
    group = aws.client("ec2").describe_security_groups(GroupIds=[a["security_group_id"]])["SecurityGroups"][0]
    assert ("tcp", 443, 443, "0.0.0.0/0") in ingress_rules(group), group["IpPermissions"]


def repaired_lifecycle_policy(aws, name, a):
    text = aws.client("ecr").get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"]
    assert untagged_expiry(text) == 30, text


def repaired_vpc_tag(aws, name, a):
    vpc = aws.client("ec2").describe_vpcs(VpcIds=[a["vpc_id"]])["Vpcs"][0]
    assert tags_of(vpc).get("team") == "platform", tags_of(vpc)


DRIFTS = {
    "node_group_scaled": (drift_node_group, repaired_node_group),
    "ingress_443_revoked": (drift_ingress_rule, repaired_ingress_rule),
    "ecr_lifecycle_replaced": (drift_lifecycle_policy, repaired_lifecycle_policy),
    "vpc_tag_removed": (drift_vpc_tag, repaired_vpc_tag),
}


@pytest.mark.parametrize("drift", list(DRIFTS))
def test_drift_is_planned_and_repaired(aws_tf, drift):
    tf, aws = aws_tf, aws_tf.aws
    name = unique_name()
    tf.write(cluster_config(name, 'tags = {\n  team = "platform"\n}'))
    tf.init()
    tf.apply()
    before = tf.attrs(ADDRESS)
    check_cluster_in_aws(aws, name, before, tags={"team": "platform"})
    check_parts_clean(before)

    make, repaired = DRIFTS[drift]
    ids, what, attribute_change = make(aws, name, before)

    code, out = tf.plan_exit()
    assert code == 2, f"the plan did not see the drift ({drift}):\n{out}"
    # The plan names the drift: in `parts` ("<id> (drifted: <what>)"), or as the change of the
    # attribute that holds the drifted setting.
    drifted = [line for line in out.splitlines() if "drifted" in line]
    named = any(any(i in line for i in ids) and re.search(what, line, re.I) for line in drifted)
    assert named or (attribute_change and re.search(attribute_change, out)), (
        f"no line of the plan says that {ids} drifted ({what}):\n{out}"
    )
    # Drift is repaired in place: nothing is replaced.
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in out, out

    tf.apply()
    after = tf.attrs(ADDRESS)
    repaired(aws, name, after)
    check_parts_clean(after)
    assert after["vpc_id"] == before["vpc_id"] and after["arn"] == before["arn"]
    tf.assert_no_changes()
    assert_single_set(aws, name)


# ---- c. faults ------------------------------------------------------------------------------------

NODE_GROUP_CREATE = r"POST /clusters/[^/]+/node-groups$"
TRANSIENT_FAULTS = [
    {"service": "ec2", "action": "CreateVpc", "status": 503, "code": "Unavailable"},
    {"service": "ec2", "action": "CreateNatGateway", "status": 400, "code": "RequestLimitExceeded"},
    {"service": "iam", "action": "CreateRole", "status": 400, "code": "Throttling"},
    {"service": "eks", "action": r"POST /clusters$", "status": 429, "code": "ThrottlingException"},
    {"service": "eks", "action": NODE_GROUP_CREATE, "status": 500, "code": "ServerException"},
    {"service": "ecr", "action": "CreateRepository", "status": 400, "code": "ThrottlingException"},
]


def rule_matches(rule, hit):
    if hit["service"] != rule["service"]:
        return False
    want = rule["action"]
    return bool(re.search(want, hit["route"])) if (" " in want or "/" in want) else hit["action"] == want


def test_throttling_and_5xx_at_every_step_are_retried(aws_tf):
    tf, aws = aws_tf, aws_tf.aws
    name = unique_name()
    for rule in TRANSIENT_FAULTS:
        aws.fault(count=2, **rule)
    tf.write(cluster_config(name))
    tf.init()
    tf.apply()

    hits = aws.hits()
    for rule in TRANSIENT_FAULTS:
        n = sum(rule_matches(rule, h) for h in hits)
        assert n == 2, f"{rule['service']} {rule['action']}: {n} faults injected, 2 expected (the step was not reached or not retried)"
    assert all(r["count"] == 0 for r in aws.rules()), aws.rules()
    aws.clear_faults()

    check_cluster_in_aws(aws, name, tf.attrs(ADDRESS))
    assert_single_set(aws, name)
    tf.assert_no_changes()
    tf.destroy()
    assert_nothing_left(aws, name)


def test_persistent_fault_fails_the_apply_and_the_next_apply_converges(aws_tf):
    tf, aws = aws_tf, aws_tf.aws
    name = unique_name()
    # CreateCluster: after the network and the roles, before the node group.
    aws.fault(service="eks", action=r"POST /clusters$", status=503, code="ServiceUnavailable", count=-1)
    tf.write(cluster_config(name, 'timeouts {\n  create = "3m"\n}'))
    tf.init()
    proc = tf.apply(ok=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    assert "ServiceUnavailable" in out or "injected fault" in out, f"the error does not say what AWS answered:\n{out}"
    assert any(h["route"] == "POST /clusters" for h in aws.hits())
    # What was made before the failure is in AWS (the network, the roles) and no cluster.
    assert inventory(aws, name)["clusters"] == []

    aws.clear_faults()
    tf.apply()
    check_cluster_in_aws(aws, name, tf.attrs(ADDRESS))
    assert_single_set(aws, name)
    tf.assert_no_changes()
    tf.destroy()
    assert_nothing_left(aws, name)


# ---- d. the provider killed mid-create --------------------------------------------------------------


def provider_processes(root_pid):
    """Pids of the terraform-provider-aqemia processes under `root_pid` (children or deeper)."""
    parents, names = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            exe = os.readlink(entry / "exe")
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])
        names[pid] = Path(exe).name

    def under_root(pid):
        while pid in parents and pid != root_pid:
            pid = parents[pid]
        return pid == root_pid

    return [pid for pid, name in names.items() if name.startswith("terraform-provider-aqemia") and pid != root_pid and under_root(pid)]


def test_provider_killed_during_create_then_apply_again(aws_tf):
    tf, aws = aws_tf, aws_tf.aws
    name = unique_name()
    # The node group create hangs for a minute: the provider is waiting on it when it dies.
    aws.fault(service="eks", action=NODE_GROUP_CREATE, delay_ms=60000, status=503, code="ServiceUnavailable", count=1)
    tf.write(cluster_config(name))
    tf.init()
    log = open(tf.dir.parent / "killed-apply.log", "w+")
    proc = subprocess.Popen(
        [tf.binary, "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=tf.dir, env=tf.env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 600
        while not aws.hits():
            assert proc.poll() is None, f"terraform apply ended before the node group create:\n{open(log.name).read()}"
            assert time.monotonic() < deadline, "the provider never reached the node group create"
            time.sleep(0.5)
        providers = provider_processes(proc.pid)
        assert len(providers) == 1, f"terraform-provider-aqemia processes under terraform: {providers}"
        os.kill(providers[0], signal.SIGKILL)
        rc = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log.seek(0)
    output = log.read()
    log.close()
    assert rc != 0, output
    aws.clear_faults()

    # What the dead provider made is in AWS, and Terraform's state knows nothing of it.
    orphaned = inventory(aws, name)
    assert orphaned["vpcs"] and orphaned["clusters"] == [name], orphaned

    tf.apply()
    a = tf.attrs(ADDRESS)
    check_cluster_in_aws(aws, name, a)
    assert_single_set(aws, name)
    tf.assert_no_changes()
    tf.destroy()
    assert_nothing_left(aws, name)


# ---- f. import ---------------------------------------------------------------------------------------


def test_import_after_state_rm_plans_no_changes(aws_tf):
    tf, aws = aws_tf, aws_tf.aws
    name = unique_name()
    tf.write(cluster_config(name))
    tf.init()
    tf.apply()
    before = tf.attrs(ADDRESS)

    tf.run("state", "rm", "-no-color", ADDRESS)
    assert tf.resources() == {}
    tf.run("import", "-no-color", "-input=false", ADDRESS, name)
    after = tf.attrs(ADDRESS)
    differing = {k: (before[k], after.get(k)) for k in before if k != "timeouts" and before[k] != after.get(k)}
    assert differing == {}, f"imported attributes differ from the created ones: {differing}"
    tf.assert_no_changes()
    assert_single_set(aws, name)
    tf.destroy()
    assert_nothing_left(aws, name)


# ---- g. S3 backend with locking -------------------------------------------------------------------------

BUCKET = "aqemia-tfstate"
LOCK_TABLE = "aqemia-tf-locks"


def terraform_version(tf):
    version = json.loads(tf.version)["terraform_version"]
    return tuple(int(x) for x in re.findall(r"\d+", version)[:2])


def s3_backend(tf, url, key):
    """The backend block for this Terraform: S3-native locking from 1.10, DynamoDB before."""
    version = terraform_version(tf)
    common = [
        f'bucket = "{BUCKET}"', f'key = "{key}"', f'region = "{REGION}"', 'access_key = "testing"', 'secret_key = "testing"',
        "skip_credentials_validation = true", "skip_metadata_api_check = true", "skip_region_validation = true",
    ]
    if version >= (1, 10):
        extra = [f'endpoints = {{ s3 = "{url}" }}', "use_path_style = true", "skip_requesting_account_id = true", "use_lockfile = true"]
    elif version >= (1, 6):
        extra = [f'endpoints = {{ s3 = "{url}", dynamodb = "{url}" }}', "use_path_style = true",
                 "skip_requesting_account_id = true", f'dynamodb_table = "{LOCK_TABLE}"']
    else:  # 1.0.3's backend: aws-sdk-go v1 settings
        extra = [f'endpoint = "{url}"', f'dynamodb_endpoint = "{url}"', f'sts_endpoint = "{url}"',
                 "force_path_style = true", f'dynamodb_table = "{LOCK_TABLE}"']
    body = "".join(f"    {line}\n" for line in common + extra)
    return 'terraform {\n  backend "s3" {\n' + body + "  }\n}\n", version >= (1, 10)


def lock_held(aws, key, lockfile):
    if lockfile:
        try:
            aws.client("s3").head_object(Bucket=BUCKET, Key=f"{key}.tflock")
            return True
        except ClientError as exc:
            assert error_code(exc) in ("404", "NoSuchKey"), exc
            return False
    item = aws.client("dynamodb").get_item(TableName=LOCK_TABLE, Key={"LockID": {"S": f"{BUCKET}/{key}"}})
    return "Item" in item


def test_state_in_s3_backend_with_locking(aws_tf):
    tf, aws = aws_tf, aws_tf.aws
    name = unique_name()
    key = f"clusters/{name}/terraform.tfstate"
    backend, lockfile = s3_backend(tf, aws.url, key)
    s3 = aws.client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    if not lockfile:
        aws.client("dynamodb").create_table(
            TableName=LOCK_TABLE, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
        )
    tf.write(cluster_config(name, backend=backend))
    tf.init()
    tf.apply()
    assert not (tf.dir / "terraform.tfstate").exists(), "the state was written locally"
    state = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    (resource,) = state["resources"]
    assert resource["type"] == "aqemia_cluster" and resource["instances"][0]["attributes"]["id"] == name
    assert not lock_held(aws, key, lockfile)

    # One plan holds the lock while a slow DescribeCluster answers; a second one cannot get it.
    aws.fault(service="eks", action=rf"GET /clusters/{name}$", delay_ms=15000, status=503, code="ServiceUnavailable", count=1)
    log = open(tf.dir.parent / "holding-plan.log", "w+")
    holder = subprocess.Popen([tf.binary, "plan", "-input=false", "-no-color", "-detailed-exitcode"],
                              cwd=tf.dir, env=tf.env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while not (aws.hits() and lock_held(aws, key, lockfile)):
            assert holder.poll() is None, f"the first plan ended early:\n{open(log.name).read()}"
            assert time.monotonic() < deadline, "the first plan neither took the lock nor reached DescribeCluster"
            time.sleep(0.2)
        second = tf.run("plan", "-input=false", "-no-color", "-lock-timeout=2s", ok=False)
        out = flat(second.stdout + second.stderr)
        assert second.returncode == 1, out
        assert "Error acquiring the state lock" in out, out
        holder_rc = holder.wait(timeout=180)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    log.seek(0)
    output = log.read()
    log.close()
    assert holder_rc == 0, output
    assert not lock_held(aws, key, lockfile)
    aws.clear_faults()

    tf.assert_no_changes()
    tf.destroy()
    state = json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert state["resources"] == []
    assert_nothing_left(aws, name)
