#!/usr/bin/env python3
"""aqemia_chart on the real charts of ../shared/charts, served on loopback as the mirror of
their upstream repositories, against the Kubernetes test bed:

- `terraform apply` of one chart against `helm install` of the same archive and values on
  the same API server: medians, their ratio, and the peak memory (VmHWM) of the provider
  process against Helm's. kube-prometheus-stack without waiting on either side (its
  Prometheus and Alertmanager wait for an operator that simulated nodes do not run), and
  cert-manager waited on both sides (`wait = true`, `helm install --wait`);
- every chart installed together, then a no-op `terraform plan`: its time, and the API
  requests one refresh makes (the API server's own request counter).

Prints figures; asserts nothing.

usage: chart_install.py PROVIDER_BIN --helm BIN [--terraform BIN] [--runs 3]
"""

import argparse
import functools
import http.server
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from harness import Terraform, install_into_mirror, write_cli_config  # noqa: E402
from kube import TestBed, unique_namespace  # noqa: E402
from release_scale import requests_served, timed  # noqa: E402
from plan_scale import PeakRss  # noqa: E402
from shared_charts import SHARED_CHARTS, UPSTREAM, chart_block  # noqa: E402

PROVIDER_BLOCK = 'terraform {\n  required_providers {\n    aqemia = { source = "aqemia/aqemia" }\n  }\n}\n'


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def block(chart, ns, kube, wait):
    return chart_block(chart, ns, kube.cluster_hcl(), extra="" if wait else "  wait = false")


def terraform(tmp, provider, binary, repo, name):
    mirror = tmp / "mirror"
    if not mirror.exists():
        install_into_mirror(mirror, provider)
    env = {"TF_CLI_CONFIG_FILE": str(write_cli_config(tmp / "cli.tfrc", mirror)), "TF_IN_AUTOMATION": "1",
           "CHECKPOINT_DISABLE": "1", "PATH": "/usr/bin:/bin", "HOME": str(tmp / "home"),
           "AQEMIA_CHART_MIRRORS": ",".join(f"{url}={repo}" for url in sorted(set(UPSTREAM.values())))}
    return Terraform(binary, tmp / name, env)


def compare(args, tmp, provider, repo, kube, chart, wait):
    values = SHARED_CHARTS / "values" / f"{chart}.values.yaml"
    archive = next(SHARED_CHARTS.glob(f"{chart}-*.tgz"))
    applies, helms, provider_peaks, helm_peaks = [], [], [], []
    for run in range(args.runs):
        ns = unique_namespace("bench")
        tf = terraform(tmp, provider, args.terraform, repo, f"work-{ns}")
        tf.write(PROVIDER_BLOCK + block(chart, ns, kube, wait))
        tf.init()
        with PeakRss("terraform-provider-aqemia") as peak:
            applies.append(timed(lambda: tf.apply()))
        provider_peaks.append(peak.peak_kb)
        tf.destroy()

        other = unique_namespace("bench")
        helm = [args.helm, "install", "bench", str(archive), "-n", other, "--create-namespace", "-f", str(values),
                "--timeout", "10m", "--kubeconfig", str(kube.kubeconfig)] + (["--wait"] if wait else [])
        with PeakRss("helm") as peak:
            helms.append(timed(lambda: subprocess.run(helm, check=True, capture_output=True)))
        helm_peaks.append(peak.peak_kb)
        subprocess.run([args.helm, "uninstall", "bench", "-n", other, "--kubeconfig", str(kube.kubeconfig)],
                       check=True, capture_output=True)
        # CRDs a chart keeps past uninstall (cert-manager's crds.keep) stay Helm's: gone, as
        # the provider's destroy (delete_crds_and_pvcs) leaves them, for the next run.
        kube.kubectl("delete", "crd", "-l", "app.kubernetes.io/instance=bench", "--ignore-not-found")
        kube.kubectl("delete", "namespace", other, "--wait=false")
        print(f"{chart} run {run + 1}: terraform apply {applies[-1]:.2f} s ({provider_peaks[-1] / 1024:.0f} MiB), "
              f"helm install {helms[-1]:.2f} s ({helm_peaks[-1] / 1024:.0f} MiB)", flush=True)
    med = statistics.median
    how = "waited (wait = true, helm --wait)" if wait else "not waited (wait = false, helm without --wait)"
    print(f"\n{chart} ({archive.name}, its values), {how}, {args.runs} runs, medians:")
    print(f"  terraform apply                         {med(applies):7.2f} s")
    print(f"  helm install                            {med(helms):7.2f} s")
    print(f"  ratio apply / helm                      {med(applies) / med(helms):7.2f}")
    print(f"  peak memory, provider / helm            {med(provider_peaks) / 1024:7.0f} / {med(helm_peaks) / 1024:.0f} MiB\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("provider")
    parser.add_argument("--helm", required=True)
    parser.add_argument("--terraform", default="terraform")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    args.terraform = str(Path(args.terraform).resolve()) if "/" in args.terraform else args.terraform
    provider = Path(args.provider).resolve()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SHARED_CHARTS)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    repo = f"http://127.0.0.1:{server.server_address[1]}"
    kube = TestBed()
    med = statistics.median
    try:
        with tempfile.TemporaryDirectory() as tmpdir:
            tmp = Path(tmpdir)
            for chart, wait in (("kube-prometheus-stack", False), ("cert-manager", True)):
                compare(args, tmp, provider, repo, kube, chart, wait)

            ns = unique_namespace("bench")
            tf = terraform(tmp, provider, args.terraform, repo, f"all-{ns}")
            # ServiceMonitors of the other charts need its CRDs; charts that need storage never
            # become ready on the test bed, so nothing waits.
            tf.write(PROVIDER_BLOCK + block("kube-prometheus-stack", ns, kube, wait=False))
            tf.init()
            try:
                tf.apply()
                charts = sorted(UPSTREAM)
                tf.write(PROVIDER_BLOCK + "".join(block(c, ns, kube, wait=False) for c in charts))
                all_apply = timed(lambda: tf.apply())
                plans, per_plan = [], []
                for _ in range(args.runs):
                    before = requests_served(kube)
                    plans.append(timed(lambda: tf.run("plan", "-input=false", "-no-color", "-detailed-exitcode")))
                    per_plan.append(requests_served(kube) - before)
            finally:
                # A failed run leaves nothing for the next one to meet (or for the tests).
                tf.destroy()
            print(f"\nall {len(charts)} charts of ../shared/charts together (wait = false):")
            print(f"  terraform apply (the others after kube-prometheus-stack)  {all_apply:7.2f} s")
            print(f"  no-op terraform plan (median of {args.runs})                 {med(plans):7.2f} s")
            print(f"  API requests per no-op plan (refresh and plan)           {med(per_plan):7.0f}")
    finally:
        kube.close()
        server.shutdown()


if __name__ == "__main__":
    main()
