#!/usr/bin/env python3
"""aqemia_cluster's steady state against the AWS stand-in (tests/e2e/aws.py, with the
Kubernetes test bed as every cluster's API server): one minimal cluster is applied, then a
no-op `terraform plan` and `terraform apply -refresh-only` are timed N times each. Prints the
median wall time and the AWS API calls one run makes, counted at the stand-in, in total and
per service. Asserts nothing.

usage: cluster_refresh.py PROVIDER_BIN [--terraform BIN] [--runs 3]
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from aws import REGION, AwsStandin  # noqa: E402
from harness import Terraform, install_into_mirror, write_cli_config  # noqa: E402
from kube import TestBed  # noqa: E402

CONFIG = f"""terraform {{
  required_providers {{
    aqemia = {{ source = "aqemia/aqemia" }}
  }}
}}

provider "aqemia" {{
  region = "{REGION}"
}}

resource "aqemia_cluster" "main" {{
  name = "bench"
}}
"""


def measure(tf, aws, args):
    """Wall time, calls served (all) and calls per service of one Terraform command."""
    served, by_service = aws.request_count(), aws.requests_by_service()
    start = time.monotonic()
    tf.run(*args)
    elapsed = time.monotonic() - start
    return elapsed, aws.request_count() - served, aws.requests_by_service() - by_service


def report(label, samples):
    times = [s[0] for s in samples]
    calls = [s[1] for s in samples]
    services = sorted(set().union(*(s[2] for s in samples)))
    per_service = ", ".join(f"{svc} {statistics.median([s[2][svc] for s in samples]):g}" for svc in services)
    print(f"  {label:34s} {statistics.median(times):7.2f} s   {statistics.median(calls):5g} AWS calls ({per_service or 'none'})")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("provider")
    parser.add_argument("--terraform", default=shutil.which("terraform") or "terraform")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    args.terraform = str(Path(args.terraform).resolve()) if "/" in args.terraform else args.terraform

    kube = TestBed()
    try:
        with tempfile.TemporaryDirectory(prefix="aqemia-bench-cluster-") as tmpdir:
            tmp = Path(tmpdir)
            aws = AwsStandin(tmp / "aws-standin", kube=kube)
            try:
                mirror = tmp / "mirror"
                install_into_mirror(mirror, Path(args.provider))
                env = {
                    "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                    "HOME": str(tmp),
                    "TF_CLI_CONFIG_FILE": str(write_cli_config(tmp / "cli.tfrc", mirror)),
                    "TF_IN_AUTOMATION": "1",
                    "CHECKPOINT_DISABLE": "1",
                    **aws.env,
                }
                tf = Terraform(args.terraform, tmp / "work", env)
                tf.write(CONFIG)
                tf.init()
                created = measure(tf, aws, ("apply", "-auto-approve", "-input=false", "-no-color"))
                print(f"create: {created[0]:.2f} s, {created[1]} AWS calls", flush=True)

                plans, refreshes = [], []
                for run in range(args.runs):
                    plans.append(measure(tf, aws, ("plan", "-input=false", "-no-color", "-detailed-exitcode")))
                    refreshes.append(measure(tf, aws, ("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")))
                    print(f"run {run + 1}: no-op plan {plans[-1][0]:.2f} s ({plans[-1][1]} calls), "
                          f"refresh {refreshes[-1][0]:.2f} s ({refreshes[-1][1]} calls)", flush=True)

                version = tf.run("version").stdout.splitlines()[0]
                print(f"\naqemia_cluster (VPC, 3 zones, EKS, node group, ECR), median of {args.runs} ({version}):")
                report("no-op terraform plan", plans)
                report("terraform apply -refresh-only", refreshes)
                print("  (calls per service are those that reached moto; the total also counts any the stand-in answered itself)")
                tf.destroy()
            finally:
                aws.close()
    finally:
        kube.close()


if __name__ == "__main__":
    main()
