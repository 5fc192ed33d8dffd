#!/usr/bin/env python3
"""The release engine on a 300-object release (four CRDs over 1 MB each, tests/e2e/scale.py)
against the Kubernetes test bed: `terraform apply` against `kubectl apply --server-side` of
the same files on the same API server (medians and the ratio), the no-op `terraform plan`
and refresh, and the API requests one refresh makes (the API server's own request counter).
Prints figures; asserts nothing.

usage: release_scale.py PROVIDER_BIN [--terraform BIN] [--runs 3] [--count 300]
"""

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from harness import Terraform, install_into_mirror, write_cli_config  # noqa: E402
from kube import TestBed, unique_namespace  # noqa: E402
from scale import documents, write_release  # noqa: E402


def timed(fn):
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def requests_served(kube):
    """Sum of apiserver_request_total: every request the API server answered so far."""
    metrics = kube.kubectl("get", "--raw", "/metrics").stdout
    return sum(float(m) for m in re.findall(r"^apiserver_request_total\{[^}]*\} (\S+)$", metrics, re.M))


def terraform_dir(tmp, provider, terraform, kube, ns, files):
    mirror = tmp / "mirror"
    install_into_mirror(mirror, provider)
    env = {"TF_CLI_CONFIG_FILE": str(write_cli_config(tmp / "cli.tfrc", mirror)), "TF_IN_AUTOMATION": "1",
           "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp)}
    tf = Terraform(terraform, tmp / f"work-{ns}", env)
    write_release(tf, kube, ns, files)
    tf.init()
    return tf


def kubectl_apply(kube, tmp, ns, files):
    folder = tmp / f"kubectl-{ns}"
    folder.mkdir()
    for name, text in files:
        (folder / name).write_text(text)
    # Namespace and CRDs first, as a person would: kubectl does not order or wait.
    first = [str(folder / n) for n, _ in files if n == "namespace.yaml" or n.startswith("crd")]
    rest = [str(folder / n) for n, _ in files if str(folder / n) not in first]

    def run():
        kube.kubectl("apply", "--server-side", "--field-manager=bench", *sum((["-f", f] for f in first), []))
        kube.kubectl("wait", "--for=condition=Established", "--timeout=120s",
                     *[f"crd/big{i}s.{ns}.example.com" for i in range(4)])
        kube.kubectl("apply", "--server-side", "--field-manager=bench", *sum((["-f", f] for f in rest), []))

    return run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("provider")
    parser.add_argument("--terraform", default="terraform")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=300)
    args = parser.parse_args()
    args.terraform = str(Path(args.terraform).resolve()) if "/" in args.terraform else args.terraform
    kube = TestBed()
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            applies, kubectls, plans, refreshes, per_refresh = [], [], [], [], []
            for run in range(args.runs):
                ns = unique_namespace("bench")
                files, _ = documents(ns, args.count)
                tf = terraform_dir(tmp, Path(args.provider), args.terraform, kube, ns, files)
                applies.append(timed(lambda: tf.apply()))
                plans.append(timed(lambda: tf.run("plan", "-input=false", "-no-color", "-detailed-exitcode")))
                before = requests_served(kube)
                refreshes.append(timed(lambda: tf.run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")))
                per_refresh.append(requests_served(kube) - before)
                tf.destroy()

                other = unique_namespace("bench")
                other_files, _ = documents(other, args.count)
                kubectls.append(timed(kubectl_apply(kube, tmp, other, other_files)))
                kube.kubectl("delete", "namespace", other, "--wait=false")
                kube.kubectl("delete", "crd", *[f"big{i}s.{other}.example.com" for i in range(4)], "--wait=false")
                print(f"run {run + 1}: apply {applies[-1]:.2f} s, kubectl {kubectls[-1]:.2f} s, "
                      f"no-op plan {plans[-1]:.2f} s, refresh {refreshes[-1]:.2f} s ({per_refresh[-1]:.0f} requests)", flush=True)
            med = statistics.median
            print(f"\n{args.count}-object release (4 CRDs > 1 MB), {args.runs} runs, medians:")
            print(f"  terraform apply (create, waited)        {med(applies):7.2f} s")
            print(f"  kubectl apply --server-side (2 steps)   {med(kubectls):7.2f} s")
            print(f"  ratio apply / kubectl                   {med(applies) / med(kubectls):7.2f}")
            print(f"  no-op terraform plan (with refresh)     {med(plans):7.2f} s")
            print(f"  terraform apply -refresh-only           {med(refreshes):7.2f} s")
            print(f"  API requests per refresh                {med(per_refresh):7.0f} ({med(per_refresh) / args.count:.2f} per object)")
    finally:
        kube.close()


if __name__ == "__main__":
    main()
