#!/usr/bin/env bash
# The local AWS for the sandbox: moto's server behind ../shared/standins/aws_standin.py (fault
# injection, EKS lifecycle phases), with every EKS cluster reporting the Kubernetes test bed
# (scripts/k8s-testbed.sh) as its endpoint and CA, so what the provider installs into a
# "new EKS cluster" lands in a real kube-apiserver. The tests start their own (tests/e2e/aws.py).
#
#   scripts/aws-standin.sh start   starts it on a free loopback port (the test bed must be
#                                  running) and prints `env`; if it runs, only prints `env`
#   scripts/aws-standin.sh stop    stops it; moto keeps everything in memory, so it is gone
#   scripts/aws-standin.sh env     `export AWS_ENDPOINT_URL=...` and credentials, for eval
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${AQEMIA_TOOLS:-$root/.tools}"
run="$tools/aws-standin"
standin="${AQEMIA_AWS_STANDIN:-$root/../shared/standins/aws_standin.py}"
python="$tools/venv/bin/python"
# shellcheck source=lib/ports.sh
source "$root/scripts/lib/ports.sh"

say() { printf '[aws-standin] %s\n' "$*" >&2; }
die() { printf '[aws-standin] ERROR: %s\n' "$*" >&2; exit 1; }

alive() { [[ -f "$run/pid" ]] && kill -0 "$(cat "$run/pid")" 2>/dev/null && curl -sf "$(cat "$run/url")/moto-api/data.json" >/dev/null; }

cmd_env() {
  alive || die "not running; start it with $0 start"
  cat <<ENV
export AWS_ENDPOINT_URL=$(cat "$run/url")
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=eu-west-1 AWS_DEFAULT_REGION=eu-west-1
export AWS_EC2_METADATA_DISABLED=true
ENV
}

cmd_start() {
  local server port testbed_env
  "$root/scripts/k8s-testbed.sh" status >/dev/null 2>&1 || die "the Kubernetes test bed is not running; start it first (scripts/k8s-testbed.sh start)"
  testbed_env="$("$root/scripts/k8s-testbed.sh" env)"
  eval "$testbed_env"
  server="$(sed -n 's/^ *server: *//p' "$KUBECONFIG" | head -1)"
  # A stand-in started for an earlier test bed reports a dead endpoint: replace it.
  if alive && [[ "$(cat "$run/endpoint" 2>/dev/null)" == "$server" ]]; then
    cmd_env
    return
  fi
  cmd_stop
  [[ -f "$standin" ]] || die "the stand-in $standin is missing (expected at ../shared/standins beside the repository)"
  [[ -x "$python" ]] || die "no tools venv; run scripts/install-tools.sh first"
  mkdir -p "$run"
  sed -n 's/^ *certificate-authority-data: *//p' "$KUBECONFIG" | head -1 | base64 -d >"$run/ca.crt"
  port="$(free_ports 1)"
  MOTO_IAM_LOAD_MANAGED_POLICIES=true MOTO_EC2_LOAD_DEFAULT_AMIS=false STANDIN_EKS_POLLS=2 \
    STANDIN_EKS_ENDPOINT="$server" STANDIN_EKS_CA_FILE="$run/ca.crt" \
    setsid "$python" "$standin" --host 127.0.0.1 --port "$port" </dev/null >"$run/standin.log" 2>&1 &
  echo "$!" >"$run/pid"
  echo "http://127.0.0.1:$port" >"$run/url"
  echo "$server" >"$run/endpoint"
  for _ in $(seq 150); do
    alive && break
    kill -0 "$(cat "$run/pid")" 2>/dev/null || die "it exited; see $run/standin.log"
    sleep 0.2
  done
  alive || die "no answer after 30 s; see $run/standin.log"
  say "listening on http://127.0.0.1:$port (log: $run/standin.log)"
  cmd_env
}

cmd_stop() {
  if [[ -f "$run/pid" ]]; then
    kill "$(cat "$run/pid")" 2>/dev/null || true
    rm -f "$run/pid" "$run/url" "$run/endpoint"
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  *) die "usage: $0 start|stop|env" ;;
esac
