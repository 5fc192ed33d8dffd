#!/usr/bin/env python3
"""Render time and peak memory of `terraform-provider-aqemia template` against `helm template`
on the same large chart, from a directory and from an HTTP chart repository on loopback with a
cold and a warm cache. Prints medians and ratios; asserts nothing but that both outputs agree.

    python3 benches/helm_render.py PROVIDER_BIN --helm .tools/bin/helm [--components 150] [--runs 5]

The chart is generated: COMPONENTS components, each a Deployment, a Service, a ConfigMap and
a ServiceAccount, written the way upstream charts are (helpers with `include`, `toYaml` of
values blocks, `nindent`, `tpl`, `range`, `sha256sum` checksum annotations)."""

import argparse
import http.server
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from functools import partial
from pathlib import Path

HELPERS = """{{- define "big.name" -}}{{ default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "big.fullname" -}}{{ printf "%s-%s" .Release.Name (include "big.name" .) | trunc 63 | trimSuffix "-" }}{{- end }}
{{- define "big.labels" -}}
app.kubernetes.io/name: {{ include "big.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}
"""

COMPONENT = """{{- $c := index .Values.components "NAME" }}
{{- if $c.enabled }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "big.fullname" . }}-NAME
  labels:
    {{- include "big.labels" . | nindent 4 }}
data:
  config.yaml: |
    {{- toYaml $c.config | nindent 4 }}
  greeting: {{ tpl $c.greeting . | quote }}
---
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "big.fullname" . }}-NAME
  labels:
    {{- include "big.labels" . | nindent 4 }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "big.fullname" . }}-NAME
spec:
  selector:
    app: NAME
  ports:
  {{- range $i, $p := $c.ports }}
    - name: {{ $p.name }}
      port: {{ $p.port | int }}
      targetPort: {{ add 8000 $i }}
  {{- end }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "big.fullname" . }}-NAME
  labels:
    {{- include "big.labels" . | nindent 4 }}
spec:
  replicas: {{ $c.replicas | int }}
  template:
    metadata:
      annotations:
        checksum/config: {{ toYaml $c.config | sha256sum }}
    spec:
      serviceAccountName: {{ include "big.fullname" . }}-NAME
      containers:
        - name: NAME
          image: "{{ $c.image.repository }}:{{ $c.image.tag | default .Chart.AppVersion }}"
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          env:
          {{- range $k, $v := $c.env }}
            - name: {{ $k | upper }}
              value: {{ $v | quote }}
          {{- end }}
{{- end }}
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def make_chart(root: Path, components: int, version: str = "1.0.0") -> Path:
    chart = root / "big"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: big\nversion: {version}\nappVersion: 2.3.4\n")
    (chart / "templates" / "_helpers.tpl").write_text(HELPERS)
    lines = ["commonLabels:", "  team: platform", "components:"]
    for i in range(components):
        name = f"c{i:03d}"
        (chart / "templates" / f"{name}.yaml").write_text(COMPONENT.replace("NAME", name))
        lines += [
            f"  {name}:",
            "    enabled: true",
            f"    replicas: {1 + i % 3}",
            f"    greeting: \"hello from {{{{ .Release.Name }}}} {name}\"",
            f"    image: {{repository: registry.example/{name}, tag: \"v{i}.0\"}}",
            "    resources: {limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m, memory: 128Mi}}",
            "    ports: [{name: http, port: 80}, {name: metrics, port: 9090}]",
            f"    env: {{LOG_LEVEL: info, REGION: eu-west-1, INDEX: \"{i}\"}}",
            "    config:",
            "      server: {port: 8080, timeout: 30s, tls: false}",
            f"      features: [a, b, c, \"{name}\"]",
            "      limits: {rps: 1000, burst: 2000}",
        ]
    (chart / "values.yaml").write_text("\n".join(lines) + "\n")
    return chart


def run_series(argv_fn, runs, env_fn=None):
    """Median wall seconds and median peak RSS (MiB, from wait4) of `runs` runs, and the
    last output."""
    times, peaks, out = [], [], None
    for i in range(runs):
        env = env_fn(i) if env_fn else None
        start = time.perf_counter()
        proc = subprocess.Popen([str(a) for a in argv_fn(i)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        # Read the pipes, then reap the child with wait4 for its own resource usage.
        stdout = proc.stdout.read()
        stderr = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = status
        times.append(time.perf_counter() - start)
        if status != 0:
            sys.exit(f"{argv_fn(i)[0]} failed: {stderr.decode()}")
        peaks.append(usage.ru_maxrss / 1024)
        out = stdout
    return statistics.median(times), statistics.median(peaks), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("provider")
    ap.add_argument("--helm", default=".tools/bin/helm")
    ap.add_argument("--components", type=int, default=150)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="helm-bench-"))
    try:
        chart = make_chart(work / "src", args.components)
        helm_home = work / "helm-home"

        def helm_env(_i, cache=None):
            env = dict(os.environ)
            for name in ("CACHE", "CONFIG", "DATA"):
                d = helm_home / f"{name.lower()}-{cache or 'fixed'}"
                d.mkdir(parents=True, exist_ok=True)
                env[f"HELM_{name}_HOME"] = str(d)
            return env

        templates = sum(1 for _ in (chart / "templates").iterdir())
        print(f"chart: {templates} template files, {args.components * 4} objects; {args.runs} runs each, medians")
        rows = []
        h = run_series(lambda i: [args.helm, "template", "rel", chart], args.runs, helm_env)
        o = run_series(lambda i: [args.provider, "template", "rel", chart], args.runs)
        if h[2] != o[2]:
            sys.exit("the two outputs differ: the benchmark compares nothing")
        rows.append(("directory", h, o))

        # An HTTP repository on loopback, cold (empty cache every run) and warm.
        repo = work / "repo"
        repo.mkdir()
        subprocess.run([args.helm, "package", str(chart), "-d", str(repo)], env=helm_env(0), check=True, capture_output=True)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(repo)))
        url = f"http://127.0.0.1:{server.server_address[1]}"
        subprocess.run([args.helm, "repo", "index", str(repo), "--url", url], env=helm_env(0), check=True, capture_output=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            h = run_series(lambda i: [args.helm, "template", "rel", "big", "--repo", url, "--version", "1.0.0"], args.runs, lambda i: helm_env(i, cache=f"cold{i}"))
            o = run_series(lambda i: [args.provider, "template", "--cache-dir", work / f"cold{i}", "rel", f"{url}/big", "--version", "1.0.0"], args.runs)
            rows.append(("repository, cold cache", h, o))
            h = run_series(lambda i: [args.helm, "template", "rel", "big", "--repo", url, "--version", "1.0.0"], args.runs, lambda i: helm_env(i, cache="warm"))
            o = run_series(lambda i: [args.provider, "template", "--cache-dir", work / "warm", "rel", f"{url}/big", "--version", "1.0.0"], args.runs)
            rows.append(("repository, warm cache", h, o))
        finally:
            server.shutdown()

        print(f"{'source':<24} {'helm s':>8} {'aqemia s':>9} {'ratio':>6}   {'helm MiB':>9} {'aqemia MiB':>11} {'ratio':>6}")
        for label, h, o in rows:
            print(f"{label:<24} {h[0]:>8.3f} {o[0]:>9.3f} {o[0] / h[0]:>6.2f}   {h[1]:>9.1f} {o[1]:>11.1f} {o[1] / h[1]:>6.2f}")
        print("ratio = aqemia / helm (below 1: aqemia is faster or smaller)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
