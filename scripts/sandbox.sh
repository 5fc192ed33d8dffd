#!/usr/bin/env bash
# Brings up the local sandbox and runs the main job: `terraform apply` of the most complete
# example (examples/manifests) against the local stand-ins, here the Kubernetes test bed,
# with the provider installed offline from a mirror. The test bed keeps running afterwards so
# you can look (`eval "$(scripts/k8s-testbed.sh env)"; kubectl get all -n hello`).
# Usage: scripts/sandbox.sh [destroy]   (destroy also stops the test bed)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/install-tools.sh >/dev/null
terraform_bin="$root/.tools/bin/terraform-current"
eval "$(scripts/k8s-testbed.sh start)"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"

cargo build -p terraform-provider-aqemia
sandbox="$root/.tools/sandbox"
mirror="$sandbox/mirror"
target_dir="$mirror/registry.terraform.io/aqemia/aqemia/$version/linux_amd64"
mkdir -p "$target_dir" "$sandbox/work"
install -m 755 target/debug/terraform-provider-aqemia "$target_dir/terraform-provider-aqemia_v$version"
cat > "$sandbox/cli.tfrc" <<CFG
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/aqemia/*"]
  }
  direct {
    exclude = ["registry.terraform.io/aqemia/*"]
  }
}
CFG
rm -rf "$sandbox/work/manifests"
cp -r examples/manifests/. "$sandbox/work/"

export TF_CLI_CONFIG_FILE="$sandbox/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export TF_VAR_kubeconfig_path="$KUBECONFIG" TF_VAR_context=aqemia-testbed
cd "$sandbox/work"
# The lock file pins the checksum of the previous build; a rebuilt provider must replace it.
rm -f .terraform.lock.hcl
"$terraform_bin" init -input=false -no-color
if [[ "${1:-}" == "destroy" ]]; then
  "$terraform_bin" destroy -auto-approve -input=false -no-color
  "$root/scripts/k8s-testbed.sh" stop
else
  "$terraform_bin" apply -auto-approve -input=false -no-color
  "$terraform_bin" plan -detailed-exitcode -input=false -no-color >/dev/null && echo "Second plan: no changes."
fi
