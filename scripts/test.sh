#!/usr/bin/env bash
# Every test, one command (`make test`):
#   1. scripts/install-tools.sh and scripts/k8s-testbed.sh build (seconds once cached)
#   2. cargo test for the workspace, with the test-only `conformance` feature (the fuzz crate's
#      replay of its seeds included)
#   3. the engine crates as libraries: `cargo doc` with warnings as errors, and `cargo publish
#      --dry-run` of the Helm engine (packaged and built on its own, nothing published)
#   4. pytest tests/layers (the crates' dependency directions, from `cargo metadata`), then
#      tests/e2e and tests/helm against the provider binary that step 2 built: the e2e
#      tests once per Terraform binary in AQEMIA_TERRAFORMS: .tools/bin/terraform-1.0.3,
#      .tools/bin/terraform-current and .tools/bin/tofu when it was built
#      tests/helm compares `template` with the real `helm template` (.tools/bin/helm) on the
#      chart corpus and on a bounded fuzz round: HELM_FUZZ_SEED (fixed here, so that CI is
#      repeatable; unset it or pick another to explore), HELM_FUZZ_ROUNDS, HELM_FUZZ_SECONDS.
# Exits non-zero on any failure. JUnit XML reports are written to <target>/e2e-junit.xml and
# <target>/helm-junit.xml (and <target>/layers-junit.xml). Extra arguments are passed to pytest (e.g. `-k lifecycle`).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="${AQEMIA_TOOLS:-$root/.tools}"
start=$SECONDS

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'test.sh: ERROR: %s\n' "$*" >&2; exit 1; }

step "tools"
scripts/install-tools.sh
tools="$(cd "$tools" && pwd)"
# The tools and the venv (pytest, moto_server, ...) come first on PATH for every step.
export PATH="$tools/bin:$tools/venv/bin:$PATH" VIRTUAL_ENV="$tools/venv"

[[ -d tests/e2e ]] || die "tests/e2e does not exist: the end-to-end suite is missing"

# A real kube-apiserver, etcd, controller manager, scheduler and kwok for the cluster tests;
# built once from the Go module proxy (about 15 minutes cold), started by the tests.
step "k8s test bed (scripts/k8s-testbed.sh build)"
scripts/k8s-testbed.sh build

step "cargo fmt --check (rustfmt.toml)"
if cargo fmt --version >/dev/null 2>&1; then
  cargo fmt --all --check
else
  echo "rustfmt is not installed (rustup component add rustfmt): formatting not checked"
fi

# The provider's integration tests make cargo build its binary here too, with the same features:
# the e2e suite takes that one. A separate `cargo build` would resolve features without the
# dev-dependencies and compile much of the dependency tree a second time.
step "cargo test --workspace --features terraform-provider-aqemia/conformance"
cargo test --workspace --features terraform-provider-aqemia/conformance

# The engines are libraries others can use: their docs build cleanly, and the Helm engine
# packages and builds from its published files alone.
step "cargo doc -p aqemia-tfplugin -p aqemia-helm -p aqemia-release -p aqemia-addon -p aqemia-cloudflare (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p aqemia-tfplugin -p aqemia-helm -p aqemia-release -p aqemia-addon -p aqemia-cloudflare
step "cargo publish --dry-run -p aqemia-helm"
cargo publish --dry-run --allow-dirty -p aqemia-helm

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
provider_bin="$target_dir/debug/terraform-provider-aqemia"
[[ -x "$provider_bin" ]] || die "cargo built no $provider_bin"

if [[ -z "${AQEMIA_TERRAFORMS:-}" ]]; then
  terraforms=("$tools/bin/terraform-1.0.3" "$tools/bin/terraform-current")
  if [[ -x "$tools/bin/tofu" ]]; then
    terraforms+=("$tools/bin/tofu")
    tofu_note="OpenTofu: tested ($tools/bin/tofu)"
  else
    tofu_note="OpenTofu: NOT TESTED, it was not built (AQEMIA_BUILD_TOFU=1 scripts/install-tools.sh builds it)"
  fi
  AQEMIA_TERRAFORMS="$(IFS=,; echo "${terraforms[*]}")"
else
  tofu_note="Terraform binaries from AQEMIA_TERRAFORMS as given"
fi
# Comma-separated; ":" is accepted too, as tests/e2e/conftest.py does.
IFS=,: read -r -a listed <<<"$AQEMIA_TERRAFORMS"
for tf in "${listed[@]}"; do
  [[ -x "$tf" ]] || die "Terraform binary $tf is listed but missing"
done
export AQEMIA_PROVIDER_BIN="$provider_bin" AQEMIA_TERRAFORMS
export AQEMIA_HELM="${AQEMIA_HELM:-$tools/bin/helm}"
export HELM_FUZZ_SEED="${HELM_FUZZ_SEED:-20261130}" HELM_FUZZ_ROUNDS="${HELM_FUZZ_ROUNDS:-300}" HELM_FUZZ_SECONDS="${HELM_FUZZ_SECONDS:-120}"

echo "AQEMIA_PROVIDER_BIN=$AQEMIA_PROVIDER_BIN"
echo "AQEMIA_TERRAFORMS=$AQEMIA_TERRAFORMS"
echo "$tofu_note"
echo "AQEMIA_HELM=$AQEMIA_HELM HELM_FUZZ_SEED=$HELM_FUZZ_SEED HELM_FUZZ_ROUNDS=$HELM_FUZZ_ROUNDS HELM_FUZZ_SECONDS=$HELM_FUZZ_SECONDS"

# The two suites run apart: each has its own conftest.py, and the e2e tests import theirs by
# module name. With extra arguments (-k ...), a suite in which they select nothing (exit 5)
# does not fail the run.
status=0
for suite in layers e2e helm; do
  step "pytest tests/$suite"
  suite_status=0
  # Temporary directories of passed tests are removed: the e2e suite's (providers, state,
  # test bed data) reached tens of gigabytes over three kept runs and filled the disk.
  "$tools/venv/bin/python" -m pytest "tests/$suite" -v -rfEs -p no:cacheprovider \
    -o tmp_path_retention_policy=failed \
    --junitxml="$target_dir/$suite-junit.xml" -o junit_family=xunit2 "$@" || suite_status=$?
  if [[ "$suite_status" == 5 && $# -gt 0 ]]; then
    suite_status=0
  fi
  [[ "$status" == 0 ]] && status="$suite_status"
done

# A short JUnit-style account, one line per Terraform binary, from the reports pytest wrote.
"$tools/venv/bin/python" - "$target_dir/layers-junit.xml" "$target_dir/e2e-junit.xml" "$target_dir/helm-junit.xml" <<'PY'
import collections, re, sys
import xml.etree.ElementTree as ET

counts = collections.defaultdict(collections.Counter)
for path in sys.argv[1:]:
    try:
        cases = list(ET.parse(path).getroot().iter("testcase"))
    except (OSError, ET.ParseError) as e:
        print(f"no JUnit report at {path}: {e}")
        continue
    for case in cases:
        m = re.search(r"\[([^\]]*)\]$", case.get("name", ""))
        binary = re.match(r"terraform-current|terraform-[0-9.]+|tofu", m.group(1)) if m else None
        key = binary.group(0) if binary else "(not per binary)"
        kinds = {child.tag for child in case}
        outcome = ("failed" if kinds & {"failure", "error"} else "skipped" if "skipped" in kinds else "passed")
        counts[key][outcome] += 1
print("\nJUnit summary:")
for key in sorted(counts):
    c = counts[key]
    print(f"  {key:<40} {c['passed']} passed, {c['failed']} failed, {c['skipped']} skipped")
PY
echo "$tofu_note"
if [[ "$status" != 0 ]]; then
  [[ "$status" == 5 ]] && echo "test.sh: pytest collected no tests in a suite" >&2
  echo "test.sh: FAILED (pytest exit $status) after $((SECONDS - start)) s" >&2
  exit "$status"
fi
echo "test.sh: all tests passed in $((SECONDS - start)) s"
