#!/usr/bin/env bash
# Fuzzes the cty decoders (fuzz/, see fuzz/README.md): each target in turn for
# ${FUZZ_SECONDS:-300} seconds, in one libFuzzer process (one core), starting from
# fuzz/corpus/<target> (kept between runs, git-ignored) and the checked-in fuzz/seeds/<target>.
#
#   scripts/fuzz.sh                          # both targets, 5 minutes each
#   FUZZ_SECONDS=30 scripts/fuzz.sh          # a quick pass
#   FUZZ_TARGETS=json_decode scripts/fuzz.sh # one target
#
# Installs what is missing: a nightly toolchain (cargo-fuzz needs -Zsanitizer) and
# cargo-fuzz. Cargo builds with CARGO_BUILD_JOBS (default 1: the machine is shared).
# Exits non-zero if any target crashed (the input is in fuzz/artifacts/<target>/) or could
# not run; the other targets still run first.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/fuzz"

seconds="${FUZZ_SECONDS:-300}"
targets="${FUZZ_TARGETS:-msgpack_decode json_decode}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"

log() { printf '[fuzz] %s\n' "$*"; }

for dir in "$HOME/.cargo/bin"; do
  [[ -d "$dir" && ":$PATH:" != *":$dir:"* ]] && PATH="$dir:$PATH"
done
export PATH

if ! rustup toolchain list | grep -q '^nightly'; then
  log "installing the nightly toolchain"
  rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

log "building the targets ($(cargo +nightly --version))"
cargo +nightly fuzz build -O

failed=()
for target in $targets; do
  mkdir -p "corpus/$target"
  seeds=()
  [[ -d "seeds/$target" ]] && seeds=("seeds/$target")
  out="$(mktemp)"
  log "$target: ${seconds}s"
  # No -jobs: one in-process fuzzer, output on stdout. -timeout flags any input that takes
  # seconds to decode (the decoders are linear; that would be a bug too).
  set +e +o pipefail
  cargo +nightly fuzz run -O "$target" "corpus/$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" -timeout=25 -print_final_stats=1 2>&1 | tee "$out" |
    grep -Ev '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)'
  status="${PIPESTATUS[0]}"
  set -e -o pipefail
  done_line="$(grep -E '^Done [0-9]+ runs' "$out" | tail -1 || true)"
  cov_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$out" | tail -1 || true)"
  log "$target: exit $status; ${done_line:-no summary}; ${cov_line:-}"
  if [[ "$status" -ne 0 ]] || grep -q 'SUMMARY: \|panicked at' "$out"; then
    failed+=("$target")
    log "$target: FAILED, see fuzz/artifacts/$target/"
  fi
  rm -f "$out"
done

if (( ${#failed[@]} )); then
  log "crashed: ${failed[*]}"
  exit 1
fi
log "no crash in: $targets"
