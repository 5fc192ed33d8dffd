"""The Kubernetes test bed is a real cluster: workloads roll out on kwok's nodes, Jobs complete.
What every cluster-facing end-to-end test stands on, checked with kubectl alone."""

import json
import uuid

import pytest

TIMEOUT = "120s"


@pytest.fixture
def ns(kube):
    name = f"testbed-{uuid.uuid4().hex[:8]}"
    kube.kubectl("create", "namespace", name)
    yield name
    # Not waited for: the namespace controller takes about 10 s to empty one, which is not
    # what these tests are about.
    kube.kubectl("delete", "namespace", name, "--wait=false")


def kubectl(kube, *args, stdin=None):
    return kube.kubectl(*args, input=stdin).stdout


def workload(kind, name, spec_extra, template_extra=""):
    return json.dumps({
        "apiVersion": "batch/v1" if kind == "Job" else "apps/v1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": {
            **spec_extra,
            **({} if kind == "Job" else {"selector": {"matchLabels": {"app": name}}}),
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [{"name": "main", "image": "registry.invalid/aqemia/testbed:1"}],
                    **({"restartPolicy": "Never"} if kind == "Job" else {}),
                },
            },
        },
    })


def kwok_nodes(kube):
    return set(kubectl(kube, "get", "nodes", "-l", "type=kwok", "-o", "jsonpath={.items[*].metadata.name}").split())


def test_deployment_becomes_available(kube, ns):
    kubectl(kube, "-n", ns, "apply", "-f", "-", stdin=workload("Deployment", "web", {"replicas": 2}))
    kubectl(kube, "-n", ns, "rollout", "status", "deployment/web", f"--timeout={TIMEOUT}")
    status = json.loads(kubectl(kube, "-n", ns, "get", "deployment/web", "-o", "json"))["status"]
    assert status.get("availableReplicas") == 2, status
    pods = json.loads(kubectl(kube, "-n", ns, "get", "pods", "-l", "app=web", "-o", "json"))["items"]
    assert len(pods) == 2
    assert {p["status"]["phase"] for p in pods} == {"Running"}
    assert {p["spec"]["nodeName"] for p in pods} <= kwok_nodes(kube)


def test_daemonset_runs_on_every_node(kube, ns):
    kubectl(kube, "-n", ns, "apply", "-f", "-", stdin=workload("DaemonSet", "agent", {}))
    kubectl(kube, "-n", ns, "rollout", "status", "daemonset/agent", f"--timeout={TIMEOUT}")
    status = json.loads(kubectl(kube, "-n", ns, "get", "daemonset/agent", "-o", "json"))["status"]
    assert status["numberReady"] == status["desiredNumberScheduled"] == len(kwok_nodes(kube)) == 2, status


def test_job_completes(kube, ns):
    kubectl(kube, "-n", ns, "apply", "-f", "-", stdin=workload("Job", "once", {"backoffLimit": 0}))
    kubectl(kube, "-n", ns, "wait", "--for=condition=complete", "job/once", f"--timeout={TIMEOUT}")
    status = json.loads(kubectl(kube, "-n", ns, "get", "job/once", "-o", "json"))["status"]
    assert status.get("succeeded") == 1, status
