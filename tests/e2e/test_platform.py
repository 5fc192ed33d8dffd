"""One apply creates an EKS cluster and installs into it: `aqemia_manifests` takes
`aqemia_cluster.main.connection`, and the provider reaches the new cluster with an EKS token it
mints from its AWS credentials (a presigned STS GetCallerIdentity). The stand-in reports the
Kubernetes test bed as the cluster's endpoint; the test bed's token webhook
(scripts/testbed/eks-authenticator) checks the token with STS on the stand-in, as EKS does."""

import json
import uuid
from pathlib import Path

from conftest import PROVIDER_BLOCK

CONFIG = PROVIDER_BLOCK + """
provider "aqemia" {
  region = "eu-west-1"
}

resource "aqemia_cluster" "main" {
  name = "%(name)s"
}

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
