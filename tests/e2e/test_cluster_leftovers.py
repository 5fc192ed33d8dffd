"""Destroying a cluster also removes what Kubernetes controllers made in its VPC and no
state knows: a load balancer the AWS Load Balancer Controller made for a Service, its
security group, and an interface it left behind. Without that the subnets and the VPC cannot
be deleted. Everything else in the account stays untouched."""

import uuid

from test_cluster import ADDRESS, PROVIDER, assert_nothing_left


def test_destroy_removes_load_balancers_and_groups_controllers_left(aws_tf):
    tf, aws = aws_tf, aws_tf.aws
    ec2, elb = aws.client("ec2"), aws.client("elbv2")
    name = f"l-{uuid.uuid4().hex[:8]}"
    tf.write(PROVIDER + f'\nresource "aqemia_cluster" "main" {{\n  name = "{name}"\n}}\n')
    tf.init()
    tf.apply()
    a = tf.attrs(ADDRESS)

    # What a controller makes for a Service of type LoadBalancer, tagged for the cluster.
    group = ec2.create_security_group(
        GroupName=f"k8s-{name}-web", Description="made by a controller", VpcId=a["vpc_id"],
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": f"kubernetes.io/cluster/{name}", "Value": "owned"}]}],
    )["GroupId"]
    balancer = elb.create_load_balancer(
        Name=f"k8s-{name}", Subnets=a["public_subnet_ids"], SecurityGroups=[group], Scheme="internet-facing", Type="application",
        Tags=[{"Key": "elbv2.k8s.aws/cluster", "Value": name}, {"Key": "service.k8s.aws/stack", "Value": "default/web"}],
    )["LoadBalancers"][0]["LoadBalancerArn"]
    # Someone else's load balancer in another VPC is not ours to delete.
    other_vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    other_subnets = [
        ec2.create_subnet(VpcId=other_vpc, CidrBlock=f"10.9.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(("eu-west-1a", "eu-west-1b"))
    ]
    other = elb.create_load_balancer(Name="someone-else", Subnets=other_subnets, Type="application")["LoadBalancers"][0]["LoadBalancerArn"]

    tf.destroy()

    remaining = [b["LoadBalancerArn"] for b in elb.describe_load_balancers()["LoadBalancers"]]
    assert balancer not in remaining and other in remaining, remaining
    groups = [g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]]
    assert group not in groups
    assert [v for v in ec2.describe_vpcs()["Vpcs"] if v["VpcId"] == a["vpc_id"]] == []
    assert_nothing_left(aws, name)
