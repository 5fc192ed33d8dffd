"""One apply creates an EKS cluster and installs into it: `aqemia_manifests` takes
`aqemia_cluster.main.connection`, and the provider reaches the new cluster with an EKS token it
mints from its AWS credentials (a presigned STS GetCallerIdentity). The stand-in reports the
Kubernetes test bed as the cluster's endpoint; the test bed's token webhook
(scripts/testbed/eks-authenticator) checks the token with STS on the stand-in, as EKS does."""

import json
import uuid
from pathlib import Path

from conftest import PROVIDER_BLOCK

CLUSTER = PROVIDER_BLOCK + """
provider "aqemia" {
  region = "eu-west-1"
}

resource "aqemia_cluster" "main" {
  name = "%(name)s"
}
"""

CONFIG = CLUSTER + """
resource "aqemia_manifests" "hello" {
  cluster   = aqemia_cluster.main.connection
  name      = "hello"
  namespace = "%(ns)s"
  documents = [<<-YAML
    apiVersion: v1
    kind: Namespace
    metadata:
      name: %(ns)s
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: greeting
      namespace: %(ns)s
    data:
      message: %(message)s
    YAML
  ]
}
"""


def test_one_apply_creates_the_cluster_and_installs_into_it(aws_tf, kube):
    tf = aws_tf
    name, ns = f"p-{uuid.uuid4().hex[:8]}", f"platform-{uuid.uuid4().hex[:6]}"
    tf.write(CONFIG % {"name": name, "ns": ns, "message": "hello"})
    tf.init()
    tf.apply()

    config_map = kube.get("configmap", "greeting", ns)
    assert config_map is not None and config_map["data"] == {"message": "hello"}, config_map
    # The connection carries no credential: the API server let the provider in on the token
    # it minted, which the webhook checked with STS and mapped to the stand-in's identity.
    reviews = (Path(kube.kubeconfig).parent / "eks-authenticator.log").read_text()
    assert "token review: arn:aws:sts::123456789012:user/moto" in reviews, reviews[-2000:]
    state = tf.run("state", "pull").stdout
    values = {r["type"]: r["instances"][0]["attributes"] for r in json.loads(state)["resources"]}
    assert set(values["aqemia_cluster"]["connection"]) == {"name", "endpoint", "ca_certificate", "region"}
    assert "k8s-aws-v1." not in state, "an EKS token was stored in the state"
    assert tf.plan_exit()[0] == 0

    # A change reaches the cluster the same way, then everything goes.
    tf.write(CONFIG % {"name": name, "ns": ns, "message": "again"})
    tf.apply()
    assert kube.get("configmap", "greeting", ns)["data"] == {"message": "again"}
    tf.destroy()
    assert kube.get("configmap", "greeting", ns) is None


LONG_RELEASE = CLUSTER + """
resource "aqemia_manifests" "slow" {
  cluster   = aqemia_cluster.main.connection
  name      = "slow"
  namespace = "%(ns)s"
  documents = [<<-YAML
    apiVersion: v1
    kind: Namespace
    metadata:
      name: %(ns)s
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata:
      name: %(deployment)s
      namespace: %(ns)s
    spec:
      replicas: 1
      # Available only %(wait)s s after its pod is ready: the apply waits that long.
      minReadySeconds: %(wait)s
      selector: {matchLabels: {app: slow}}
      template:
        metadata: {labels: {app: slow}}
        spec:
          containers:
          - name: app
            image: registry.example/slow:1.0
    YAML
  ]
}
"""


def test_a_release_that_outlives_its_eks_token_mints_new_ones(aws_tf, kube):
    """The test bed's authenticator refuses tokens older than 6 s (EKS: 15 min) and the API
    server caches reviews 2 s: a 20-second wait succeeds only because the provider mints new
    tokens (every 3 s here, every 5 min by default). With re-minting pushed past the wait,
    the same apply fails: the test can tell the two apart."""
    tf = aws_tf
    name, ns = f"p-{uuid.uuid4().hex[:8]}", f"slow-{uuid.uuid4().hex[:6]}"
    max_age = Path(kube.kubeconfig).parent / "eks-token-max-age"
    log = Path(kube.kubeconfig).parent / "eks-authenticator.log"
    tf.write(LONG_RELEASE % {"name": name, "ns": ns, "deployment": "first", "wait": 0})
    tf.init()
    tf.apply()
    max_age.write_text("6")
    try:
        seen = len(log.read_text().splitlines())
        tf.write(LONG_RELEASE % {"name": name, "ns": ns, "deployment": "second", "wait": 20})
        tf.apply(env={"AQEMIA_EKS_TOKEN_REMINT_SECONDS": "3"})
        assert kube.get("deployment", "second", ns)["status"]["availableReplicas"] == 1
        reviews = log.read_text().splitlines()[seen:]
        issued = {line.rsplit("issued ", 1)[1] for line in reviews if "token review: arn:" in line}
        assert len(issued) >= 4, reviews
        assert not any("token expired" in line for line in reviews), reviews

        tf.write(LONG_RELEASE % {"name": name, "ns": ns, "deployment": "third", "wait": 20})
        proc = tf.apply(ok=False, env={"AQEMIA_EKS_TOKEN_REMINT_SECONDS": "600"})
        assert proc.returncode == 1 and "Unauthorized" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    finally:
        max_age.unlink(missing_ok=True)
    tf.destroy()
