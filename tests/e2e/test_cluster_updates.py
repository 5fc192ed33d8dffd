"""aqemia_cluster changes in place where AWS allows them, and the plan says when it must
replace: Kubernetes upgrades (control plane first, then nodes, one minor at a time), node
group scaling and instance types (a new group replaces the old one), tags on every part,
ECR settings. Checked in AWS with boto3 after each apply, and each apply ends with a plan
that shows no changes."""

import collections
import json
import uuid

from test_cluster import ADDRESS, OWNER, PROVIDER


def config(name, body=""):
    lines = "".join(f"  {line}\n" for line in body.strip("\n").splitlines())
    return PROVIDER + f'\nresource "aqemia_cluster" "main" {{\n  name = "{name}"\n{lines}}}\n'


def unique_name():
    return f"u-{uuid.uuid4().hex[:8]}"


def test_version_upgrade_goes_control_plane_then_nodes_one_minor_at_a_time(aws_tf):
    tf, eks = aws_tf, aws_tf.aws.client("eks")
    name = unique_name()
    tf.write(config(name, 'kubernetes_version = "1.33"'))
    tf.init()
    tf.apply()
    group = tf.attrs(ADDRESS)["node_group_name"]
    assert eks.describe_cluster(name=name)["cluster"]["version"] == "1.33"
    assert eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]["version"] == "1.33"

    # Two minors at once is refused at plan time, on the attribute.
    tf.write(config(name, 'kubernetes_version = "1.35"'))
    proc = tf.run("plan", "-input=false", "-no-color", ok=False)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1 and "set 1.34 first" in out and 'kubernetes_version = "1.35"' in out, out

    tf.write(config(name, 'kubernetes_version = "1.34"'))
    plan = tf.run("plan", "-input=false", "-no-color").stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan, plan
    assert '~ kubernetes_version' in plan and '"1.33" -> "1.34"' in plan, plan
    tf.apply()
    cluster = eks.describe_cluster(name=name)["cluster"]
    assert cluster["version"] == "1.34"
    assert eks.describe_nodegroup(clusterName=name, nodegroupName=group)["nodegroup"]["version"] == "1.34"
    # The control plane's update came before the node group's.
    cluster_updates = eks.list_updates(name=name)["updateIds"]
    node_updates = eks.list_updates(name=name, nodegroupName=group)["updateIds"]
    described = [eks.describe_update(name=name, updateId=u)["update"] for u in cluster_updates] + [
        eks.describe_update(name=name, updateId=u, nodegroupName=group)["update"] for u in node_updates
    ]
    versions = sorted((u["createdAt"], u["type"], [p["value"] for p in u["params"] if p["type"] == "Version"]) for u in described)
    kinds = [(kind, value) for _, kind, value in versions if kind == "VersionUpdate"]
    assert kinds[-2:] == [("VersionUpdate", ["1.34"]), ("VersionUpdate", ["1.34"])], versions
    assert all(u["status"] == "Successful" for u in described), described
    tf.assert_no_changes()


def test_scaling_instance_types_tags_and_ecr_change_in_place(aws_tf):
    tf, aws = aws_tf, aws_tf.aws
    eks, ecr = aws.client("eks"), aws.client("ecr")
    name = unique_name()
    # Scanning goes from off to on: the AWS SDK leaves `scanOnPush: false` out of requests (false
    # is the API's default), which moto reads as "unchanged", so only this direction can be
    # checked against the stand-in.
    tf.write(config(name, 'single_nat_gateway = true\ntags = {\n  team = "platform"\n  cost = "dev"\n}\necr {\n  scan_on_push = false\n}'))
    tf.init()
    tf.apply()
    before = tf.attrs(ADDRESS)
    assert ecr.describe_repositories(repositoryNames=[name])["repositories"][0]["imageScanningConfiguration"]["scanOnPush"] is False
    old_group = before["node_group_name"]

    tf.write(config(
        name,
        'single_nat_gateway = true\n'
        'node_desired_size = 3\nnode_max_size = 6\n'
        'node_instance_types = ["m6i.large"]\n'
        'tags = {\n  team = "payments"\n}\n'
        'ecr {\n  untagged_images_kept = 10\n  scan_on_push = true\n}',
    ))
    plan = tf.run("plan", "-input=false", "-no-color").stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan, plan
    tf.apply()
    after = tf.attrs(ADDRESS)

    # Same network and control plane: nothing was replaced.
    for kept in ("vpc_id", "arn", "security_group_id", "launch_template_id", "ecr_repository_arn"):
        assert after[kept] == before[kept], kept
    # A new node group with the new instance type replaced the old one.
    new_group = after["node_group_name"]
    assert new_group != old_group
    groups = eks.list_nodegroups(clusterName=name)["nodegroups"]
    assert groups == [new_group], groups
    group = eks.describe_nodegroup(clusterName=name, nodegroupName=new_group)["nodegroup"]
    assert group["instanceTypes"] == ["m6i.large"]
    assert group["scalingConfig"] == {"desiredSize": 3, "minSize": 1, "maxSize": 6}, group["scalingConfig"]
    # Tags: changed on every EC2 part, the dropped one removed, ours kept.
    ids = [after["vpc_id"], after["security_group_id"], after["launch_template_id"], *after["public_subnet_ids"], *after["private_subnet_ids"], *after["nat_gateway_ids"]]
    tags = collections.defaultdict(dict)
    for tag in aws.client("ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": ids}])["Tags"]:
        tags[tag["ResourceId"]][tag["Key"]] = tag["Value"]
    for part in ids:
        assert tags[part].get("team") == "payments" and "cost" not in tags[part] and tags[part].get(OWNER) == name, (part, tags[part])
    cluster_tags = eks.describe_cluster(name=name)["cluster"]["tags"]
    assert cluster_tags.get("team") == "payments" and "cost" not in cluster_tags, cluster_tags
    # ECR settings changed in place.
    repo = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
    assert repo["imageScanningConfiguration"]["scanOnPush"] is True
    policy = json.loads(ecr.get_lifecycle_policy(repositoryName=name)["lifecyclePolicyText"])
    assert policy["rules"][0]["selection"]["countNumber"] == 10, policy
    tf.assert_no_changes()


def test_plan_says_which_changes_replace(aws_tf):
    tf = aws_tf
    name = unique_name()
    tf.write(config(name))
    tf.init()
    tf.apply()
    tf.write(config(name, 'vpc_cidr = "10.1.0.0/16"'))
    plan = tf.run("plan", "-input=false", "-no-color").stdout
    assert "Plan: 1 to add, 0 to change, 1 to destroy." in plan, plan
    assert "# forces replacement" in plan and "vpc_cidr" in plan, plan
