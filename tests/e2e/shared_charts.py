"""The real upstream charts of ../shared/charts (beside the repository) and the upstream
repositories they come from: the tests and benchmarks serve that folder on loopback as the
mirror of these URLs, so they install exactly the charts users get, offline."""

from pathlib import Path

SHARED_CHARTS = Path(__file__).resolve().parents[3] / "shared" / "charts"

UPSTREAM = {
    "cert-manager": "https://charts.jetstack.io",
    "crowdsec": "https://crowdsecurity.github.io/helm-charts",
    "falco": "https://falcosecurity.github.io/charts",
    "ingress-nginx": "https://kubernetes.github.io/ingress-nginx",
    "kube-prometheus-stack": "https://prometheus-community.github.io/helm-charts",
    "kyverno": "https://kyverno.github.io/kyverno",
    "kyverno-policies": "https://kyverno.github.io/kyverno",
    "loki": "https://grafana-community.github.io/helm-charts",
    "tailscale-operator": "https://pkgs.tailscale.com/helmcharts",
    "tempo": "https://grafana-community.github.io/helm-charts",
    "traefik": "https://traefik.github.io/charts",
}


def chart_block(chart, ns, cluster_hcl, extra=""):
    """An `aqemia_chart` installing `chart` from its upstream repository with the values beside
    it, in a namespace of its own (`NS-CHART`); kyverno-policies after kyverno, whose CRDs its
    objects need."""
    values = SHARED_CHARTS / "values" / f"{chart}.values.yaml"
    assert values.is_file(), f"no values for {chart} in {values.parent}"
    depends = "\n  depends_on = [aqemia_chart.kyverno]" if chart == "kyverno-policies" else ""
    return f"""
resource "aqemia_chart" "{chart.replace('-', '_')}" {{
  cluster              = {cluster_hcl}
  name                 = "{chart}"
  namespace            = "{f"{ns}-{chart}"[:63]}"
  create_namespace     = true
  repository           = "{UPSTREAM[chart]}"
  chart                = "{chart}"
  values               = [file("{values}")]
  delete_crds_and_pvcs = true{depends}
{extra}
}}
"""
