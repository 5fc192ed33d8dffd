#!/usr/bin/env bash
# Brings up the local sandbox and runs the main job: `terraform apply` of the most complete
# example (examples/platform: an EKS cluster and an application installed into it) against the
# local stand-ins, moto for AWS (scripts/aws-standin.sh) and the Kubernetes test bed that the
# stand-in's EKS reports as the cluster, with the provider installed offline from a mirror.
# Both keep running afterwards so you can look (`eval "$(scripts/aws-standin.sh env)"; aws ec2
# describe-vpcs`, `eval "$(scripts/k8s-testbed.sh env)"; kubectl get all -n hello`).
# Usage: scripts/sandbox.sh [destroy]   (destroy also stops both stand-ins)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

scripts/install-tools.sh >/dev/null
terraform_bin="$root/.tools/bin/terraform-current"
# Assigned first: `eval "$(cmd)"` would carry on with nothing when cmd fails.
testbed_env="$(scripts/k8s-testbed.sh start)"
eval "$testbed_env"
standin_env="$(scripts/aws-standin.sh start)"
eval "$standin_env"
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
# Copied over what is there: the state of an earlier run stays beside the configuration.
mkdir -p "$sandbox/work/examples"
cp -r examples/. "$sandbox/work/examples/"

export TF_CLI_CONFIG_FILE="$sandbox/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
cd "$sandbox/work/examples/platform"
# The lock file pins the checksum of the previous build; a rebuilt provider must replace it.
rm -f .terraform.lock.hcl
"$terraform_bin" init -input=false -no-color
if [[ "${1:-}" == "destroy" ]]; then
  "$terraform_bin" destroy -auto-approve -input=false -no-color
  "$root/scripts/aws-standin.sh" stop
  "$root/scripts/k8s-testbed.sh" stop
else
  "$terraform_bin" apply -auto-approve -input=false -no-color
  "$terraform_bin" plan -detailed-exitcode -input=false -no-color >/dev/null && echo "Second plan: no changes."
fi
