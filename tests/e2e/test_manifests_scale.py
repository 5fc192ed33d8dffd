"""A 300-object release with four CRDs over 1 MB each, through the real Terraform CLI: nothing
on the way (gRPC, state, YAML parsing, the API server's request limit) may be too small."""

import json

from kube import unique_namespace
from scale import crd_sizes, documents, write_release


def test_three_hundred_objects_with_megabyte_crds(tf, kube):
    ns = unique_namespace("big")
    assert min(crd_sizes(ns)) > 1_000_000
    files, configmaps = documents(ns)
    write_release(tf, kube, ns, files)
    tf.init()
    tf.apply()
    objects = tf.attrs("aqemia_manifests.big")["objects"]
    assert len(objects) == 300
    listed = json.loads(kube.kubectl("get", "configmaps", "-n", ns, "-l", "app.kubernetes.io/managed-by=aqemia", "-o", "json").stdout)
    names = {item["metadata"]["name"] for item in listed["items"]}
    assert {f"cm-{i:03d}" for i in range(configmaps)} <= names
    for i in range(4):
        crd = kube.get("crd", f"big{i}s.{ns}.example.com")
        assert any(c["type"] == "Established" and c["status"] == "True" for c in crd["status"]["conditions"])
        assert kube.get(f"big{i}s.{ns}.example.com", f"one-{i}", ns) is not None
    tf.assert_no_changes()
    tf.destroy()
    assert kube.get("crd", f"big0s.{ns}.example.com") is None
