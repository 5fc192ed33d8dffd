"""The test bed's stand-in for the AWS Load Balancer Controller (scripts/testbed/lb-standin):
a Service of type LoadBalancer gets a hostname as on EKS, made up in AWS's format, or the DNS
name of a network load balancer it makes in the AWS stand-in for the cluster. Annotations hold
the hostname back, for tests of what waits for one."""

import hashlib
import json
import time
import uuid

import pytest

from aws import ACCOUNT
from kube import unique_namespace

HOLD = "aqemia.test/lb-standin"
DELAY = "aqemia.test/lb-standin-delay"


@pytest.fixture
def ns(kube):
    name = unique_namespace("lb")
    kube.kubectl("create", "namespace", name)
    yield name
    # Not waited for; the stand-in deletes the Services' load balancers as they go.
    kube.kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture
def eks_cluster(aws):
    """An EKS cluster in the AWS stand-in, in two subnets of its own VPC: (name, VPC, subnets).
    Whatever is left in the VPC goes with it."""
    aws.follow_kube()
    aws.clear_faults()
    ec2, eks, elb = aws.client("ec2"), aws.client("eks"), aws.client("elbv2")
    name = f"lb-{uuid.uuid4().hex[:8]}"
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.42.{i}.0/24", AvailabilityZone=zone)["Subnet"]["SubnetId"]
        for i, zone in enumerate(("eu-west-1a", "eu-west-1b"))
    ]
    eks.create_cluster(name=name, roleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}", resourcesVpcConfig={"subnetIds": subnets})
    yield name, vpc, subnets
    for balancer in elb.describe_load_balancers()["LoadBalancers"]:
        if balancer["VpcId"] == vpc:
            elb.delete_load_balancer(LoadBalancerArn=balancer["LoadBalancerArn"])
    eks.delete_cluster(name=name)
    for subnet in subnets:
        ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)


def service(kube, ns, name, kind="LoadBalancer", annotations=None):
    """Creates the Service and returns its uid."""
    manifest = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "annotations": annotations or {}},
        "spec": {"type": kind, "selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    kube.kubectl("-n", ns, "create", "-f", "-", input=json.dumps(manifest))
    return kube.get("service", name, ns)["metadata"]["uid"]


def balancer_name(ns, name, uid):
    return f"k8s-{ns[:8]}-{name[:8]}-{hashlib.sha256(uid.encode()).hexdigest()[:10]}"


def test_a_load_balancer_service_gets_a_hostname_within_seconds(kube, ns):
    start = time.monotonic()
    uid = service(kube, ns, "web")
    hostname = kube.lb_hostname(ns, "web", timeout=10)
    assert time.monotonic() - start < 5
    assert hostname == f"{balancer_name(ns, 'web', uid)}.elb.eu-west-1.amazonaws.com"


def test_a_cluster_ip_service_gets_none(kube, ns):
    service(kube, ns, "internal", kind="ClusterIP")
    # Created after it, so the stand-in has seen the first when the second has its hostname.
    service(kube, ns, "web")
    assert kube.lb_hostname(ns, "web", timeout=10)
    assert kube.lb_hostname(ns, "internal", timeout=1) is None


def test_hold_keeps_the_hostname_back_until_it_is_removed(kube, ns):
    service(kube, ns, "web", annotations={HOLD: "hold"})
    assert kube.lb_hostname(ns, "web", timeout=3) is None
    kube.kubectl("-n", ns, "annotate", "service", "web", f"{HOLD}-")
    assert kube.lb_hostname(ns, "web", timeout=5)


def test_delay_assigns_the_hostname_that_long_after_creation(kube, ns):
    start = time.monotonic()
    service(kube, ns, "web", annotations={DELAY: "5"})
    assert kube.lb_hostname(ns, "web", timeout=2) is None
    assert kube.lb_hostname(ns, "web", timeout=10)
    # creationTimestamp has whole seconds: the delay may count from up to 1 s earlier.
    assert 4 <= time.monotonic() - start < 9


def test_load_balancers_in_the_aws_standin_follow_their_services(kube, aws, ns, eks_cluster):
    name, vpc, subnets = eks_cluster
    elb = aws.client("elbv2")

    def balancers():
        return {b["DNSName"]: b for b in elb.describe_load_balancers()["LoadBalancers"] if b["VpcId"] == vpc}

    with kube.lb_standin_in_aws(aws, name):
        web = service(kube, ns, "web")
        api = service(kube, ns, "api", annotations={"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"})
        hostnames = {svc: kube.lb_hostname(ns, svc, timeout=10) for svc in ("web", "api")}

    made = balancers()
    assert set(made) == set(hostnames.values()), (made, hostnames)
    for svc, uid, scheme in (("web", web, "internal"), ("api", api, "internet-facing")):
        balancer = made[hostnames[svc]]
        assert balancer["LoadBalancerName"] == balancer_name(ns, svc, uid)
        assert (balancer["Type"], balancer["Scheme"]) == ("network", scheme)
        assert sorted(zone["SubnetId"] for zone in balancer["AvailabilityZones"]) == sorted(subnets)
        tags = elb.describe_tags(ResourceArns=[balancer["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
        assert {t["Key"]: t["Value"] for t in tags} == {
            "elbv2.k8s.aws/cluster": name,
            "service.k8s.aws/stack": f"{ns}/{svc}",
            "service.k8s.aws/resource": "LoadBalancer",
        }

    # Gone with their Services, or as a Service stops being a LoadBalancer, even now that the
    # stand-in is no longer told about the AWS stand-in.
    kube.kubectl("-n", ns, "delete", "service", "web")
    kube.kubectl("-n", ns, "patch", "service", "api", "--type=merge", "-p", '{"spec": {"type": "ClusterIP"}}')
    deadline = time.monotonic() + 10
    while balancers() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert balancers() == {}
    assert kube.lb_hostname(ns, "api", timeout=0) is None
