#!/usr/bin/env bash
# Brings up the local sandbox and runs the main job: `terraform apply` of the most complete
# example (examples/platform: an EKS cluster, Traefik, the application in its dev and prod
# stages with their Cloudflare records, and a set of manifests) against the local stand-ins:
# moto for AWS (scripts/aws-standin.sh), the Kubernetes test bed that the stand-in's EKS reports
# as the cluster (with its load balancer stand-in), the Cloudflare stand-in
# (scripts/cloudflare-standin.sh), and ../shared/charts served on loopback as the mirror of
# Traefik's chart repository; the provider is installed offline from a mirror. The stand-ins
# keep running afterwards so you can look (`eval "$(scripts/aws-standin.sh env)"; aws ec2
# describe-vpcs`, `eval "$(scripts/k8s-testbed.sh env)"; kubectl get all -n prod`,
# `scripts/cloudflare-standin.sh records`).
# Usage: scripts/sandbox.sh [destroy]   (destroy also stops the stand-ins)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# shellcheck source=lib/ports.sh
source "$root/scripts/lib/ports.sh"

scripts/install-tools.sh >/dev/null
terraform_bin="$root/.tools/bin/terraform-current"
# Assigned first: `eval "$(cmd)"` would carry on with nothing when cmd fails.
testbed_env="$(scripts/k8s-testbed.sh start)"
eval "$testbed_env"
standin_env="$(scripts/aws-standin.sh start)"
eval "$standin_env"
cloudflare_env="$(scripts/cloudflare-standin.sh start)"
eval "$cloudflare_env"
# Traefik's load balancer is made in the AWS stand-in, tagged for the example's cluster, as
# AWS's controller would (scripts/testbed/lb-standin).
kubectl -n kube-system create configmap aqemia-lb-standin --from-literal=aws_endpoint="$AWS_ENDPOINT_URL" \
  --from-literal=region="$AWS_REGION" --from-literal=cluster=aqemia-dev --dry-run=client -o yaml | kubectl apply -f - >/dev/null
# Traefik's chart comes from ../shared/charts, served for as long as Terraform runs (a destroy
# renders the release again for its delete hooks).
charts_port="$(free_ports 1)"
python3 -m http.server --bind 127.0.0.1 --directory "$root/../shared/charts" "$charts_port" >/dev/null 2>&1 &
charts_pid=$!
trap 'kill "$charts_pid" 2>/dev/null || true' EXIT
chart_mirrors="{ \"https://traefik.github.io/charts\" = \"http://127.0.0.1:$charts_port\" }"
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
export TF_VAR_chart_mirrors="$chart_mirrors"
if [[ "${1:-}" == "destroy" ]]; then
  "$terraform_bin" destroy -auto-approve -input=false -no-color
  "$root/scripts/cloudflare-standin.sh" stop
  "$root/scripts/aws-standin.sh" stop
  "$root/scripts/k8s-testbed.sh" stop
else
  "$terraform_bin" apply -auto-approve -input=false -no-color
  "$terraform_bin" plan -detailed-exitcode -input=false -no-color >/dev/null && echo "Second plan: no changes."
fi
