#!/usr/bin/env python3
"""`terraform plan` of N aqemia_conformance resources against the same plan of N built-in
terraform_data resources, and the provider's peak memory meanwhile. Prints medians and the
ratio; asserts nothing.

usage: plan_scale.py PROVIDER_BIN [--terraform BIN] [--count 200] [--runs 5]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "e2e"))
from harness import Terraform, install_into_mirror, write_cli_config  # noqa: E402

HEADER = 'terraform {\n  required_providers {\n    aqemia = { source = "aqemia/aqemia" }\n  }\n}\n'


def conformance(n):
    return HEADER + "".join(
        f'resource "aqemia_conformance" "r{i}" {{\n  name = "r{i}"\n  str = "value-{i}"\n  strings = ["a", "b"]\n'
        f'  item {{\n    key = "k{i}"\n  }}\n}}\n'
        for i in range(n)
    )


def builtin(n):
    return "".join(f'resource "terraform_data" "r{i}" {{\n  input = {{ name = "r{i}", str = "value-{i}", strings = ["a", "b"] }}\n}}\n' for i in range(n))


class PeakRss:
    """Polls /proc for provider processes and keeps the highest VmHWM seen (kB)."""

    def __init__(self, binary_name):
        self.name = binary_name
        self.peak_kb = 0
        self.processes = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                if f"Name:\t{self.name[:15]}" not in status:
                    continue
                self.processes.add(pid)
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            time.sleep(0.01)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def timed_plans(tf, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        tf.run("plan", "-input=false", "-no-color", "-refresh=true")
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("provider")
    parser.add_argument("--terraform", default=shutil.which("terraform"))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="aqemia-bench-") as tmp:
        tmp = Path(tmp)
        mirror = tmp / "mirror"
        installed = install_into_mirror(mirror, Path(args.provider))
        env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp),
            "TF_CLI_CONFIG_FILE": str(write_cli_config(tmp / "cli.tfrc", mirror)),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "AQEMIA_CONFORMANCE_STORE": str(tmp / "store"),
        }
        ours = Terraform(args.terraform, tmp / "aqemia", env)
        ours.write(conformance(args.count))
        ours.init()
        base = Terraform(args.terraform, tmp / "builtin", env)
        base.write(builtin(args.count))
        base.init()

        results = {}
        for label, tf in (("empty state", None), ("after apply", "apply")):
            if tf:
                ours.apply()
                base.apply()
            with PeakRss(installed.name) as rss:
                t_ours = timed_plans(ours, args.runs)
            t_base = timed_plans(base, args.runs)
            results[label] = (t_ours, t_base, rss.peak_kb, len(rss.processes))

        version = subprocess.run([args.terraform, "version"], capture_output=True, text=True).stdout.splitlines()[0]
        print(f"terraform plan, {args.count} resources, median of {args.runs} ({version}):")
        for label, (t_ours, t_base, peak, procs) in results.items():
            print(
                f"  {label:12s} aqemia_conformance {t_ours:6.2f} s | terraform_data {t_base:6.2f} s | "
                f"ratio {t_ours / t_base:4.2f} | provider peak RSS {peak / 1024:5.1f} MiB over {procs} processes"
            )


if __name__ == "__main__":
    main()
