"""The workspace's layering, enforced: the engines and the provider SDK never depend on the
provider, on AWS, or on each other beyond what is drawn in README's architecture section.

The dependency graph comes from `cargo metadata` with every feature on, so an optional or
feature-gated dependency counts too. From each library crate the walk follows its normal,
build and dev dependencies (its tests must build without what it may not use), then the
normal and build dependencies of everything reached.
"""

import fnmatch
import functools
import json
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]

# What each layer may never reach, as package name patterns.
PROVIDER_AND_CLOUD = ["terraform-provider-aqemia", "aws-*", "aws-sdk-*", "aws-smithy-*", "aws-config"]
FORBIDDEN = {
    # The Terraform SDK knows no cloud, no cluster and no chart.
    "aqemia-tfplugin": PROVIDER_AND_CLOUD + ["aqemia-helm", "aqemia-release", "aqemia-addon", "kube", "kube-*", "k8s-openapi"],
    # The Helm engine renders offline: no Terraform, no Kubernetes client, no release engine.
    "aqemia-helm": PROVIDER_AND_CLOUD + ["aqemia-tfplugin", "aqemia-release", "kube", "kube-*", "k8s-openapi", "tonic", "tonic-*"],
    # The release engine talks to Kubernetes through a kube client it is given; no Terraform, no charts.
    "aqemia-release": PROVIDER_AND_CLOUD + ["aqemia-tfplugin", "aqemia-helm", "aqemia-addon", "tonic", "tonic-*"],
    # The add-on layer joins the two engines and stays a library: no Terraform, no cloud.
    "aqemia-addon": PROVIDER_AND_CLOUD + ["aqemia-tfplugin", "tonic", "tonic-*"],
    # The Cloudflare client speaks HTTP to one API: no Terraform, no Kubernetes, no charts.
    "aqemia-cloudflare": PROVIDER_AND_CLOUD + ["aqemia-tfplugin", "aqemia-helm", "aqemia-release", "aqemia-addon", "kube", "kube-*", "k8s-openapi", "tonic", "tonic-*"],
}


def violations(metadata, forbidden):
    """For each library crate of `forbidden`, the forbidden packages it reaches, each with the
    path of package names that leads there."""
    packages = {p["id"]: p["name"] for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    by_name = {name: pid for pid, name in packages.items() if pid in nodes}
    found = []
    for crate, patterns in forbidden.items():
        start = by_name.get(crate)
        assert start is not None, f"{crate} is not in the workspace any more: update FORBIDDEN"
        paths = {start: [crate]}
        queue = [start]
        while queue:
            current = queue.pop(0)
            for dep in nodes[current]["deps"]:
                kinds = {k["kind"] for k in dep["dep_kinds"]}
                allowed = {None, "build"} | ({"dev"} if current == start else set())
                if not kinds & allowed or dep["pkg"] in paths:
                    continue
                paths[dep["pkg"]] = paths[current] + [packages[dep["pkg"]]]
                queue.append(dep["pkg"])
        for pid, path in paths.items():
            if any(fnmatch.fnmatchcase(packages[pid], pattern) for pattern in patterns):
                found.append(f"{crate} depends on {packages[pid]}: {' -> '.join(path)}")
    return sorted(found)


@functools.cache
def cargo_metadata():
    """Read once: both tests walk the same graph."""
    out = subprocess.run(["cargo", "metadata", "--format-version", "1", "--all-features", "--locked"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_no_layer_depends_on_what_is_above_it():
    assert violations(cargo_metadata(), FORBIDDEN) == []


def test_the_provider_stands_on_every_layer():
    """The other direction exists: the provider uses the SDK, both engines, the add-on layer
    and the Cloudflare client directly."""
    metadata = cargo_metadata()
    names = {p["id"]: p["name"] for p in metadata["packages"]}
    provider = next(n for n in metadata["resolve"]["nodes"] if names[n["id"]] == "terraform-provider-aqemia")
    direct = {names[d["pkg"]] for d in provider["deps"]}
    assert {"aqemia-tfplugin", "aqemia-helm", "aqemia-release", "aqemia-addon", "aqemia-cloudflare"} <= direct


def test_the_check_finds_a_forbidden_edge():
    """The walk itself, on a graph where the Helm engine reaches the AWS SDK through another
    crate (and with it the add-on layer above it), and the release engine has the provider
    only as a dev-dependency of a dependency (which does not count: dev-dependencies are not
    built for dependents)."""
    def pkg(name):
        return {"id": f"{name} 0.1.0", "name": name}

    def edge(name, kind=None):
        return {"pkg": f"{name} 0.1.0", "dep_kinds": [{"kind": kind}]}

    metadata = {
        "packages": [pkg(n) for n in ["aqemia-helm", "aqemia-release", "aqemia-tfplugin", "aqemia-addon", "aqemia-cloudflare", "middle",
                                      "aws-sdk-ec2", "terraform-provider-aqemia"]],
        "resolve": {"nodes": [
            {"id": "aqemia-helm 0.1.0", "deps": [edge("middle")]},
            {"id": "middle 0.1.0", "deps": [edge("aws-sdk-ec2"), edge("terraform-provider-aqemia", "dev")]},
            {"id": "aqemia-release 0.1.0", "deps": [edge("middle", "dev")]},
            {"id": "aqemia-tfplugin 0.1.0", "deps": []},
            {"id": "aqemia-cloudflare 0.1.0", "deps": []},
            {"id": "aqemia-addon 0.1.0", "deps": [edge("aqemia-helm"), edge("aqemia-release")]},
            {"id": "aws-sdk-ec2 0.1.0", "deps": []},
            {"id": "terraform-provider-aqemia 0.1.0", "deps": []},
        ]},
    }
    assert violations(metadata, FORBIDDEN) == [
        "aqemia-addon depends on aws-sdk-ec2: aqemia-addon -> aqemia-helm -> middle -> aws-sdk-ec2",
        "aqemia-helm depends on aws-sdk-ec2: aqemia-helm -> middle -> aws-sdk-ec2",
        "aqemia-release depends on aws-sdk-ec2: aqemia-release -> middle -> aws-sdk-ec2",
    ]
