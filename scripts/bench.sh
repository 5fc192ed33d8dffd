#!/usr/bin/env bash
# Benchmarks: prints figures (medians and ratios), asserts nothing. `make bench`.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== protocol (handshake, GetSchema, msgpack throughput)"
cargo bench -p terraform-provider-aqemia --bench protocol

echo "== terraform plan at scale"
# The conformance resource is test-only, so this optimised build carries the feature.
cargo build --release -p terraform-provider-aqemia --features conformance
terraform_bin="${AQEMIA_BENCH_TERRAFORM:-$(command -v terraform || true)}"
if [[ -z "$terraform_bin" && -x .tools/bin/terraform-current ]]; then
  terraform_bin=.tools/bin/terraform-current
fi
python3 benches/plan_scale.py target/release/terraform-provider-aqemia --terraform "$terraform_bin" \
  --count "${AQEMIA_BENCH_COUNT:-200}" --runs "${AQEMIA_BENCH_RUNS:-5}"

echo "== release engine: 300 objects against kubectl apply --server-side (Kubernetes test bed)"
python3 benches/release_scale.py target/release/terraform-provider-aqemia --terraform "$terraform_bin" \
  --runs "${AQEMIA_BENCH_RELEASE_RUNS:-3}"

echo "== aqemia_chart: kube-prometheus-stack against helm install --wait, and a no-op plan of every shared chart"
python3 benches/chart_install.py target/release/terraform-provider-aqemia --helm .tools/bin/helm --terraform "$terraform_bin" \
  --runs "${AQEMIA_BENCH_CHART_RUNS:-3}"

echo "== Helm engine: render time and peak memory against helm template (a 600-object chart)"
python3 benches/helm_render.py target/release/terraform-provider-aqemia --helm .tools/bin/helm \
  --components "${AQEMIA_BENCH_HELM_COMPONENTS:-150}" --runs "${AQEMIA_BENCH_HELM_RUNS:-5}"

echo "== aqemia_cluster: no-op plan and refresh against the AWS stand-in (AWS calls per run)"
# The stand-in (moto behind ../shared/standins/aws_standin.py) runs in the tools venv
# (scripts/install-tools.sh); the Kubernetes test bed answers as the cluster's API server.
python3 benches/cluster_refresh.py target/release/terraform-provider-aqemia --terraform "$terraform_bin" \
  --runs "${AQEMIA_BENCH_CLUSTER_RUNS:-3}"
