"""A large release, generated: what the scale test and the release benchmark apply. Four CRDs
over 1 MB each (Kyverno's and the Prometheus Operator's are that size), a custom resource of
each, and ConfigMaps up to the requested object count, in one namespace."""

import json

from conftest import PROVIDER_BLOCK

BIG_CRDS = 4
# Property count and description length that put each CRD just over 1 MB as JSON.
PROPERTIES = 2000
DESCRIPTION = 520


def big_crd(group, index):
    properties = {
        f"field{p:04d}": {"type": "string", "description": f"Field {p} of big{index}. " + "d" * DESCRIPTION}
        for p in range(PROPERTIES)
    }
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"big{index}s.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": f"Big{index}", "plural": f"big{index}s", "singular": f"big{index}"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object", "properties": properties}}}},
                }
            ],
        },
    }


def documents(ns, total=300):
    """(file name, YAML text) pairs; JSON is YAML, and keeps generation exact and fast."""
    group = f"{ns}.example.com"
    files = [("namespace.yaml", json.dumps({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))]
    for i in range(BIG_CRDS):
        files.append((f"crd{i}.yaml", json.dumps(big_crd(group, i))))
        cr = {"apiVersion": f"{group}/v1", "kind": f"Big{i}", "metadata": {"name": f"one-{i}"}, "spec": {"field0001": "x"}}
        files.append((f"cr{i}.yaml", json.dumps(cr)))
    configmaps = total - 1 - 2 * BIG_CRDS
    stream = "\n---\n".join(
        json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i:03d}"}, "data": {"index": str(i)}})
        for i in range(configmaps)
    )
    files.append(("configmaps.yaml", stream))
    return files, configmaps


def crd_sizes(ns):
    group = f"{ns}.example.com"
    return [len(json.dumps(big_crd(group, i))) for i in range(BIG_CRDS)]


def write_release(tf, kube, ns, files):
    """Writes the files and one aqemia_manifests.big that applies them all."""
    for name, text in files:
        (tf.dir / name).write_text(text)
    listed = ",\n    ".join(f'file("${{path.module}}/{name}")' for name, _ in files)
    tf.write(PROVIDER_BLOCK + f"""
resource "aqemia_manifests" "big" {{
  cluster              = {kube.cluster_hcl()}
  name                 = "big"
  namespace            = "{ns}"
  delete_crds_and_pvcs = true
  documents = [
    {listed},
  ]
}}
""")
