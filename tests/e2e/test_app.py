"""aqemia_app through the real Terraform CLI: its objects in the test bed's real API server, its
record in the Cloudflare stand-in (our fake behind Prism, which checks every request and answer
against Cloudflare's OpenAPI description), and the ingress controller's load balancer from the
test bed's load balancer stand-in (scripts/testbed/lb-standin), which makes a real load balancer
in the AWS stand-in when the test says which cluster it belongs to."""

import json
import re
import urllib.request
import uuid

from conftest import PROVIDER_BLOCK
from kube import unique_namespace
from shared_charts import SHARED_CHARTS, UPSTREAM
from test_chart import shared_repo  # noqa: F401 (a fixture)

IMAGE = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web"


def cloudflare_env(cf):
    """The token and base URL reach the provider as a user's would: from the environment."""
    return {"CLOUDFLARE_API_TOKEN": cf.token, "CLOUDFLARE_API_BASE_URL": cf.url}


def app_block(label, stage, replicas, tag, cluster, target, host=None, extra=""):
    host = host or f"{stage}.example.com"
    return f"""
resource "aqemia_app" "{label}" {{
  cluster        = {cluster}
  name           = "web"
  stage          = "{stage}"
  image          = "{IMAGE}:{tag}"
  replicas       = {replicas}
  host           = "{host}"
  ingress_class  = "traefik"
  cluster_issuer = "letsencrypt"
  env            = {{ LOG_LEVEL = "info" }}
  secret_env     = {{ DATABASE_PASSWORD = "pw-{stage}-marker" }}
  dns {{
    zone = "example.com"
    {target}
  }}
  timeouts {{
    create = "2m"
    update = "2m"
  }}
{extra}
}}
"""


def platform_config(name, ns, stages, tag, repo):
    """A cluster, Traefik from its upstream chart (served from ../shared/charts) and the app in
    each stage, in one configuration."""
    values = SHARED_CHARTS / "values" / "traefik.values.yaml"
    cluster = "aqemia_cluster.main.connection"
    apps = "".join(
        app_block(stage, stage, replicas, tag, cluster, f'load_balancer_service = "{ns}/traefik"', extra="  depends_on = [aqemia_chart.traefik]")
        for stage, replicas in stages
    )
    return PROVIDER_BLOCK + f"""
provider "aqemia" {{
  region        = "eu-west-1"
  chart_mirrors = {{ "{UPSTREAM['traefik']}" = "{repo}" }}
}}

resource "aqemia_cluster" "main" {{
  name = "{name}"
}}

resource "aqemia_chart" "traefik" {{
  cluster          = {cluster}
  name             = "traefik"
  namespace        = "{ns}"
  create_namespace = true
  repository       = "{UPSTREAM['traefik']}"
  chart            = "traefik"
  values           = [file("{values}")]
}}
""" + apps


def api(cf, method, path, body):
    """One call of Cloudflare's API through Prism, as another tool would make it."""
    request = urllib.request.Request(cf.url + path, data=json.dumps(body).encode(), method=method,
                                     headers={"Authorization": f"Bearer {cf.token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["result"]


def records_by_name(cf, zone):
    return {r["name"]: r for r in cf.records(zone)}


def test_the_app_in_two_stages_behind_the_real_load_balancer(aws_tf, kube, cloudflare_clean, shared_repo):  # noqa: F811
    tf, cf = aws_tf, cloudflare_clean
    name, ns = f"a-{uuid.uuid4().hex[:8]}", unique_namespace("ingress")
    dev, prod = unique_namespace("dev"), unique_namespace("prod")
    zone = cf.add_zone("example.com")
    tf.env.update(cloudflare_env(cf))
    with kube.lb_standin_in_aws(tf.aws, name):
        tf.write(platform_config(name, ns, [(dev, 1), (prod, 2)], "1.4.2", shared_repo))
        tf.init()
        tf.apply()

        hostname = kube.lb_hostname(ns, "traefik", timeout=0)
        balancers = tf.aws.client("elbv2").describe_load_balancers()["LoadBalancers"]
        assert [b["DNSName"] for b in balancers] == [hostname], (balancers, hostname)
        tags = tf.aws.client("elbv2").describe_tags(ResourceArns=[balancers[0]["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
        assert {"Key": "elbv2.k8s.aws/cluster", "Value": name} in tags, tags

        records = records_by_name(cf, zone)
        assert set(records) == {f"{dev}.example.com", f"{prod}.example.com"}, records
        for stage in (dev, prod):
            record = records[f"{stage}.example.com"]
            assert (record["type"], record["content"], record["proxied"], record["ttl"]) == ("CNAME", hostname, True, 1), record
            assert record["comment"] == f"managed by aqemia: aqemia_app {stage}/web in {name}; edits are reverted", record
            deployment = kube.get("deployment", "web", stage)
            assert deployment["status"]["updatedReplicas"] == deployment["spec"]["replicas"]
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            assert container["image"] == f"{IMAGE}:1.4.2"
            assert container["readinessProbe"]["initialDelaySeconds"] == 15 and container["readinessProbe"]["periodSeconds"] == 10
            assert container["envFrom"] == [{"secretRef": {"name": "web-env"}}]
            ingress = kube.get("ingress", "web", stage)
            assert ingress["spec"]["tls"] == [{"hosts": [f"{stage}.example.com"], "secretName": f"web-{stage}-tls"}]
            assert ingress["metadata"]["annotations"]["cert-manager.io/cluster-issuer"] == "letsencrypt"
            assert kube.get("service", "web", stage)["spec"]["type"] == "ClusterIP"
        assert kube.get("deployment", "web", prod)["spec"]["replicas"] == 2
        assert kube.get("poddisruptionbudget", "web", prod) is not None
        assert kube.get("poddisruptionbudget", "web", dev) is None
        app = tf.attrs("aqemia_app." + prod)
        assert app["url"] == f"https://{prod}.example.com" and app["dns"]["content"] == hostname
        assert tf.plan_exit()[0] == 0

        # A new image rolls out; the record is untouched.
        record_before = records_by_name(cf, zone)[f"{prod}.example.com"]
        tf.write(platform_config(name, ns, [(dev, 1), (prod, 2)], "1.4.3", shared_repo))
        tf.apply()
        assert kube.get("deployment", "web", prod)["spec"]["template"]["spec"]["containers"][0]["image"] == f"{IMAGE}:1.4.3"
        assert records_by_name(cf, zone)[f"{prod}.example.com"] == record_before

        # Someone turns the proxy off and points the name elsewhere in the dashboard: the plan
        # shows it and the apply puts it back.
        cf.change_record(zone, record_before["id"], proxied=False, content="elsewhere.example.net", ttl=300)
        code, out = tf.plan_exit()
        assert code == 2 and f"aqemia_app.{prod} will be updated in-place" in out, out
        assert "elsewhere.example.net" in out, out
        tf.apply()
        repaired = records_by_name(cf, zone)[f"{prod}.example.com"]
        assert (repaired["id"], repaired["content"], repaired["proxied"], repaired["ttl"]) == (record_before["id"], hostname, True, 1)
        assert tf.plan_exit()[0] == 0

        # Destroy takes the app, its records and the load balancer; the stages' namespaces and
        # anything else in the zone stay.
        mail = api(cf, "POST", f"/zones/{zone}/dns_records", {"type": "CNAME", "name": "mail.example.com", "content": "mx.example.net", "ttl": 300})
        tf.destroy()
        assert [r["id"] for r in cf.records(zone)] == [mail["id"]]
        for stage in (dev, prod):
            assert kube.get("deployment", "web", stage) is None
            assert kube.get("namespace", stage) is not None
        assert tf.aws.client("elbv2").describe_load_balancers()["LoadBalancers"] == []


def lb_service(ns, annotation):
    """A stand-in for an ingress controller's Service, with the load balancer stand-in's knob."""
    return f"""
resource "aqemia_manifests" "lb" {{
  cluster   = CLUSTER
  name      = "lb"
  namespace = "{ns}"
  documents = [<<-YAML
    apiVersion: v1
    kind: Namespace
    metadata:
      name: {ns}
    ---
    apiVersion: v1
    kind: Service
    metadata:
      name: edge
      namespace: {ns}
      annotations: {{ {annotation} }}
    spec:
      type: LoadBalancer
      selector: {{ app: edge }}
      ports: [{{ port: 443, targetPort: 8443 }}]
    YAML
  ]
  wait = false
}}
"""


def small_config(kube, ns, stage, annotation, timeout="2m", dns_extra="", extra=""):
    cluster = kube.cluster_hcl()
    return PROVIDER_BLOCK + 'provider "aqemia" {}\n' + lb_service(ns, annotation).replace("CLUSTER", cluster) + f"""
resource "aqemia_app" "web" {{
  cluster  = {cluster}
  name     = "web"
  stage    = "{stage}"
  image    = "{IMAGE}:1.0.0"
  host     = "{stage}.example.com"
{extra}
  dns {{
    zone                  = "example.com"
    load_balancer_service = "{ns}/edge"
    {dns_extra}
  }}
  timeouts {{
    create = "{timeout}"
  }}
  depends_on = [aqemia_manifests.lb]
}}
"""


def test_the_record_waits_for_a_real_hostname(tf, kube, cloudflare_clean):
    cf = cloudflare_clean
    zone = cf.add_zone("example.com")
    tf.env.update(cloudflare_env(cf))
    ns, stage = unique_namespace("edge"), unique_namespace("stage")
    # The load balancer gets its hostname 20 s after the Service exists: the record is written
    # then, from that hostname, and never before.
    tf.write(small_config(kube, ns, stage, '"aqemia.test/lb-standin-delay": "20"'))
    tf.init()
    tf.apply()
    hostname = kube.lb_hostname(ns, "edge", timeout=0)
    assert hostname, "the load balancer stand-in gave no hostname"
    [record] = cf.records(zone)
    assert record["content"] == hostname and record["name"] == f"{stage}.example.com"
    writes = [r for r in cf.requests() if r["method"] in ("POST", "PUT", "PATCH")]
    assert len(writes) == 1, writes
    tf.destroy()
    assert cf.records(zone) == []


def test_no_hostname_in_time_is_a_diagnostic_and_no_record(tf, kube, cloudflare_clean):
    cf = cloudflare_clean
    zone = cf.add_zone("example.com")
    tf.env.update(cloudflare_env(cf))
    ns, stage = unique_namespace("edge"), unique_namespace("stage")
    tf.write(small_config(kube, ns, stage, '"aqemia.test/lb-standin": "hold"', timeout="25s"))
    tf.init()
    proc = tf.apply(ok=False)
    out = proc.stdout + proc.stderr
    flat = " ".join(out.split())  # Terraform wraps long diagnostics
    assert proc.returncode == 1, out
    assert f"Service {ns}/edge has no load balancer hostname" in flat and "No DNS record was written" in flat, out
    # On the attribute: Terraform quotes its line.
    assert re.search(rf'with aqemia_app.web, on main.tf line (\d+), in resource "aqemia_app" "web": \1: load_balancer_service = "{ns}/edge"', flat), out
    assert cf.records(zone) == []
    # The app itself is in state: the next apply, once the hostname comes, only adds the record.
    assert kube.get("deployment", "web", stage) is not None
    kube.kubectl("-n", ns, "annotate", "service", "edge", "aqemia.test/lb-standin-")
    tf.apply()
    [record] = cf.records(zone)
    assert record["content"] == kube.lb_hostname(ns, "edge")
    tf.destroy()


def test_a_record_someone_else_made_is_refused_at_plan_or_adopted_on_request(tf, kube, cloudflare_clean):
    cf = cloudflare_clean
    zone = cf.add_zone("example.com")
    tf.env.update(cloudflare_env(cf))
    ns, stage = unique_namespace("edge"), unique_namespace("stage")
    # Made by hand in the dashboard: through the API, with no aqemia comment.
    theirs = api(cf, "POST", f"/zones/{zone}/dns_records",
                 {"type": "CNAME", "name": f"{stage}.example.com", "content": "old-lb.example.net", "proxied": False, "ttl": 300})
    tf.write(small_config(kube, ns, stage, ""))
    tf.init()
    proc = tf.run("plan", "-no-color", "-input=false", ok=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1, out
    assert "DNS record already exists" in out and "old-lb.example.net" in out and "adopt_existing = true" in out, out
    assert "81053" in out, out
    tf.write(small_config(kube, ns, stage, "", dns_extra="adopt_existing = true"))
    tf.apply()
    [record] = cf.records(zone)
    assert record["id"] == theirs["id"] and record["content"] == kube.lb_hostname(ns, "edge") and record["proxied"] is True
    assert tf.plan_exit()[0] == 0
    tf.destroy()
    assert cf.records(zone) == []


def test_cloudflare_faults_converge_and_the_token_never_shows(tf, kube, cloudflare_clean, tmp_path):
    cf = cloudflare_clean
    zone = cf.add_zone("example.com")
    tf.env.update(cloudflare_env(cf))
    ns, stage = unique_namespace("edge"), unique_namespace("stage")
    marker = f"secret-{uuid.uuid4().hex}"
    tf.write(small_config(kube, ns, stage, "", extra=f'  secret_env = {{ API_KEY = "{marker}" }}'))
    tf.init()
    # Throttled twice with Retry-After, then a bad gateway twice, across lookups and writes.
    cf.fail(429, count=2, retry_after=1)
    cf.fail(502, count=2, path_contains="dns_records")
    log = tmp_path / "trace.log"
    proc = tf.apply(env={"TF_LOG": "trace", "TF_LOG_PATH": str(log)})
    assert len(cf.records(zone)) == 1
    statuses = [r["status"] for r in cf.requests()]
    assert statuses.count(429) == 2 and statuses.count(502) == 2, statuses
    # The token is nowhere: Terraform's trace log (the provider's own logs included), the
    # output, the plan, the state.
    plan = tf.run("plan", "-out=tfplan", "-no-color")
    shown = [tf.run("show", "-json", "tfplan").stdout, tf.run("show", "-json").stdout, tf.run("state", "pull").stdout]
    for place, text in zip(("plan file", "show", "state"), shown):
        assert cf.token not in text, f"the Cloudflare token is in the {place}"
    # A secret variable is kept with the state (Terraform needs it to plan; the JSON views of
    # a plan file and of the state print it, marked sensitive), and shown nowhere else.
    assert any(marker in text for text in shown)
    for place, text in [("trace log", log.read_text()), ("apply output", proc.stdout + proc.stderr), ("plan output", plan.stdout)]:
        assert cf.token not in text, f"the Cloudflare token is in the {place}"
        assert marker not in text, f"secret_env's value is in the {place}"
    assert kube.get("secret", "web-env", stage)["data"]["API_KEY"]
    tf.destroy()


def test_a_rollout_that_cannot_finish_names_its_pods_and_why(tf, kube):
    stage = unique_namespace("stage")
    # Asks for more CPU than any node has: the pod stays Pending, unschedulable.
    tf.write(PROVIDER_BLOCK + f"""
provider "aqemia" {{}}

resource "aqemia_app" "web" {{
  cluster   = {kube.cluster_hcl()}
  name      = "web"
  stage     = "{stage}"
  image     = "{IMAGE}:1.0.0"
  resources = {{ requests = {{ cpu = "900", memory = "256Mi" }}, limits = {{ cpu = "900", memory = "512Mi" }} }}
  timeouts {{
    create = "20s"
  }}
}}
""")
    tf.init()
    proc = tf.apply(ok=False)
    flat = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode == 1, flat
    named = re.search(rf"Deployment\.apps/{stage}/web \(in progress: ready replicas: 0/1; pod web-[a-z0-9]+-[a-z0-9]+: not scheduled \(Unschedulable\): [^)]*Insufficient cpu", flat)
    assert named, flat
    # What exists is in state: a destroy removes it.
    assert kube.get("deployment", "web", stage) is not None
    tf.destroy()
    assert kube.get("deployment", "web", stage) is None


# Each line, put in a valid configuration, and what its diagnostic says.
BAD_INPUT = [
    ('image = "web:latest"', "uses the tag latest"),
    ('image = "web"', "names no tag"),
    ('host = "Not A Host"', "is not a host name"),
    ("port = 70000", "70000 is out of range; use a whole number from 1 to 65535"),
    ("replicas = -1", "-1 is out of range; use a whole number from 0 to 1000"),
    ('health_path = "health"', "start it with a slash"),
]


def test_bad_input_is_a_diagnostic_on_its_attribute_at_plan(tf, kube, cloudflare_clean):
    cf = cloudflare_clean
    cf.add_zone("example.com")
    cf.add_zone("hidden.example", visible=False)
    tf.env.update(cloudflare_env(cf))
    base = {"image": f'"{IMAGE}:1.0.0"'}

    def config(line="", zone="example.com"):
        key = line.split(" = ")[0] if line else None
        args = {**base, "host": f'"app.{zone}"', **({key: line.split(" = ", 1)[1]} if key else {})}
        body = "\n".join(f"  {k} = {v}" for k, v in args.items())
        return PROVIDER_BLOCK + f"""
provider "aqemia" {{}}

resource "aqemia_app" "web" {{
  cluster = {kube.cluster_hcl()}
  name    = "web"
  stage   = "bad-input"
{body}
  dns {{
    zone   = "{zone}"
    target = "lb.example.net"
  }}
}}
"""

    tf.write(config())
    tf.init()
    cases = [(config(line), line, message) for line, message in BAD_INPUT]
    cases.append((config(zone="hidden.example"), 'zone   = "hidden.example"', "cannot see a zone named hidden.example"))
    for text, line, message in cases:
        tf.write(text)
        proc = tf.run("plan", "-no-color", "-input=false", ok=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode == 1 and message in out, (line, out)
        # Terraform quotes the source line of the attribute the diagnostic names.
        assert f"with aqemia_app.web," in out and line in out, (line, out)
    assert kube.get("namespace", "bad-input") is None, "a plan created something"
    assert cf.requests() and all(r["method"] == "GET" for r in cf.requests())
