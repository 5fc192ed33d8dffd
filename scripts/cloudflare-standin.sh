#!/usr/bin/env bash
# The local Cloudflare for the sandbox: our fake of the zones and DNS records API
# (tests/standins/cloudflare_fake.py) behind `prism proxy --errors` with Cloudflare's OpenAPI
# description (../shared/api-specs), so every request the provider makes is checked against
# Cloudflare's contract. It holds one zone, example.com, and one token that sees it. The tests
# start their own (tests/e2e/cloudflare.py).
#
#   scripts/cloudflare-standin.sh start     starts both on free loopback ports and prints `env`;
#                                           if they run, only prints `env`
#   scripts/cloudflare-standin.sh stop      stops both; the fake keeps everything in memory
#   scripts/cloudflare-standin.sh env       `export CLOUDFLARE_API_BASE_URL=... CLOUDFLARE_API_TOKEN=...`
#   scripts/cloudflare-standin.sh records   the zone's records, as JSON
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${AQEMIA_TOOLS:-$root/.tools}"
run="$tools/cloudflare-standin"
contract="$root/../shared/api-specs/cloudflare/dns-subset-2024-08-06.overlaid.json"
prism="$tools/prism/node_modules/.bin/prism"
zone=example.com
# shellcheck source=lib/ports.sh
source "$root/scripts/lib/ports.sh"

say() { printf '[cloudflare-standin] %s\n' "$*" >&2; }
die() { printf '[cloudflare-standin] ERROR: %s\n' "$*" >&2; exit 1; }

alive() {
  [[ -f "$run/fake.pid" && -f "$run/prism.pid" ]] &&
    kill -0 "$(cat "$run/fake.pid")" 2>/dev/null && kill -0 "$(cat "$run/prism.pid")" 2>/dev/null &&
    curl -sf "$(cat "$run/fake-url")/__control/zones" >/dev/null
}

control() { curl -sf -X "$1" -H 'Content-Type: application/json' -d "${3:-{\}}" "$(cat "$run/fake-url")/__control/$2"; }

cmd_env() {
  alive || die "not running; start it with $0 start"
  cat <<ENV
export CLOUDFLARE_API_BASE_URL=$(cat "$run/url")
export CLOUDFLARE_API_TOKEN=$(cat "$run/token")
ENV
}


wait_for() { # what, pid, log, pattern
  for _ in $(seq 300); do
    grep -q "$4" "$3" 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || die "$1 exited; see $3"
    sleep 0.2
  done
  die "$1 did not start within 60 s; see $3"
}

cmd_start() {
  if alive; then
    cmd_env
    return
  fi
  cmd_stop
  [[ -x "$prism" ]] || die "Prism is not installed at $prism; run scripts/install-tools.sh"
  [[ -f "$contract" ]] || die "Cloudflare's API description $contract is missing (expected at ../shared/api-specs)"
  mkdir -p "$run"
  setsid python3 "$root/tests/standins/cloudflare_fake.py" --port 0 </dev/null >"$run/fake.log" 2>&1 &
  echo "$!" >"$run/fake.pid"
  wait_for "the fake" "$(cat "$run/fake.pid")" "$run/fake.log" '^listening '
  echo "http://$(sed -n 's/^listening //p' "$run/fake.log" | head -1)" >"$run/fake-url"
  local port
  port="$(free_ports 1)"
  setsid node "$prism" proxy "$contract" "$(cat "$run/fake-url")" -h 127.0.0.1 -p "$port" --errors </dev/null >"$run/prism.log" 2>&1 &
  echo "$!" >"$run/prism.pid"
  wait_for "Prism" "$(cat "$run/prism.pid")" "$run/prism.log" 'Prism is listening'
  echo "http://127.0.0.1:$port" >"$run/url"
  control POST tokens | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])' >"$run/token"
  control POST zones "{\"name\": \"$zone\", \"tokens\": [\"$(cat "$run/token")\"]}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' >"$run/zone-id"
  say "listening on $(cat "$run/url"), zone $zone (logs: $run)"
  cmd_env
}

cmd_stop() {
  local pid
  for pid in "$run/prism.pid" "$run/fake.pid"; do
    if [[ -f "$pid" ]]; then
      kill -- "-$(cat "$pid")" 2>/dev/null || kill "$(cat "$pid")" 2>/dev/null || true
      rm -f "$pid"
    fi
  done
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  env) cmd_env ;;
  records) alive || die "not running"; control GET "zones/$(cat "$run/zone-id")/records" ;;
  *) die "usage: $0 start|stop|env|records" ;;
esac
