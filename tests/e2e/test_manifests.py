"""aqemia_manifests and the release engine behind it, through the real Terraform CLI against
a real API server (scripts/k8s-testbed.sh). Every test works in a namespace of its own."""

import base64
import json
import re
import textwrap

from conftest import PROVIDER_BLOCK
from kube import unique_namespace

CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.{group}
spec:
  group: {group}
  scope: Namespaced
  names: {{kind: Widget, plural: widgets, singular: widget}}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {{type: integer}}
"""

WIDGET = """
apiVersion: {group}/v1
kind: Widget
metadata: {{name: {name}}}
spec: {{size: {size}}}
"""

NAMESPACE = """
apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
"""

CONFIGMAP = """
apiVersion: v1
kind: ConfigMap
metadata: {{name: {name}}}
data: {{value: "{value}"}}
"""

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      {extra}containers:
      - name: app
        image: registry.example/{name}:1.0
"""

DAEMONSET = """
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: agent
        image: registry.example/{name}:1.0
"""


def release(tf, kube, ns, documents, name="demo", extra=""):
    """Writes each document to a file of its own and a configuration that applies them."""
    for old in tf.dir.glob("doc*.yaml"):
        old.unlink()
    files = []
    for i, doc in enumerate(documents):
        (tf.dir / f"doc{i}.yaml").write_text(textwrap.dedent(doc).strip() + "\n")
        files.append(f'file("${{path.module}}/doc{i}.yaml")')
    listed = ",\n    ".join(files)
    tf.write(PROVIDER_BLOCK + f"""
resource "aqemia_manifests" "demo" {{
  cluster   = {kube.cluster_hcl()}
  name      = "{name}"
  namespace = "{ns}"
  documents = [
    {listed},
  ]
{extra}
}}
""")


def objects(tf):
    return tf.attrs("aqemia_manifests.demo")["objects"]


def test_crd_and_its_resources_in_one_apply(tf, kube):
    ns = unique_namespace()
    group = f"{ns}.example.com"
    docs = [NAMESPACE.format(ns=ns), CRD.format(group=group), WIDGET.format(group=group, name="w1", size=3)]
    release(tf, kube, ns, docs, extra="  delete_crds_and_pvcs = true")
    tf.init()
    tf.apply()
    widget = kube.get(f"widgets.{group}", "w1", ns)
    assert widget is not None and widget["spec"]["size"] == 3
    assert widget["metadata"]["annotations"]["aqemia.io/release"] == f"{ns}/demo"
    assert set(objects(tf)) == {
        f"Namespace//{ns}",
        f"CustomResourceDefinition.apiextensions.k8s.io//widgets.{group}",
        f"Widget.{group}/{ns}/w1",
    }
    assert all(d.startswith("sha256:") for d in objects(tf).values())
    # Every object is field-managed by aqemia with server-side apply.
    managers = {m["manager"] for m in widget["metadata"]["managedFields"]}
    assert "aqemia" in managers
    tf.assert_no_changes()

    tf.destroy()
    assert kube.get(f"widgets.{group}", "w1", ns) is None
    assert kube.get("crd", f"widgets.{group}") is None


def test_workloads_are_waited_for_on_simulated_nodes(tf, kube):
    ns = unique_namespace()
    docs = [
        NAMESPACE.format(ns=ns),
        DEPLOYMENT.format(name="web", replicas=2, extra=""),
        DAEMONSET.format(name="agent"),
    ]
    release(tf, kube, ns, docs)
    tf.init()
    tf.apply()
    # The apply returned only once both were ready: no polling needed here.
    deploy = kube.get("deployment", "web", ns)
    assert deploy["status"].get("readyReplicas") == 2, deploy["status"]
    ds = kube.get("daemonset", "agent", ns)
    assert ds["status"]["desiredNumberScheduled"] >= 1
    assert ds["status"].get("numberReady") == ds["status"]["desiredNumberScheduled"], ds["status"]
    tf.assert_no_changes()
    tf.destroy()
    assert kube.get("namespace", ns) is None


def test_health_timeout_names_the_object_and_why(tf, kube):
    ns = unique_namespace()
    stuck = DEPLOYMENT.format(name="stuck", replicas=1, extra="nodeSelector: {pool: does-not-exist}\n      ")
    release(tf, kube, ns, [NAMESPACE.format(ns=ns), stuck], extra='  timeouts {\n    create = "15s"\n  }')
    tf.init()
    proc = tf.apply(ok=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "timed out waiting" in out, out
    assert f"Deployment.apps/{ns}/stuck" in out, out
    assert "ready replicas: 0/1" in out or "replicas: 0/1" in out, out
    # and its pod, with the scheduler's reason.
    flat_out = " ".join(out.split())
    assert re.search(r"; pod stuck-[a-z0-9]+-[a-z0-9]+: not scheduled \(Unschedulable\): 0/\d+ nodes are available: "
                     r"\d+ node\(s\) didn't match Pod's node affinity/selector", flat_out), out
    # What was applied is in the state, so a destroy cleans it up.
    state = tf.state()["values"]["root_module"]["resources"][0]["values"]
    assert f"Deployment.apps/{ns}/stuck" in state["objects"]
    tf.destroy()
    assert kube.get("deployment", "stuck", ns) is None


def test_removed_documents_are_pruned(tf, kube):
    ns = unique_namespace()
    first = [NAMESPACE.format(ns=ns), CONFIGMAP.format(name="keep", value="1"), CONFIGMAP.format(name="drop", value="2")]
    release(tf, kube, ns, first)
    tf.init()
    tf.apply()
    assert kube.get("configmap", "drop", ns) is not None
    release(tf, kube, ns, first[:2])
    code, out = tf.plan_exit()
    assert code == 2 and f"ConfigMap/{ns}/drop" in out, out
    tf.apply()
    assert kube.get("configmap", "drop", ns) is None
    assert kube.get("configmap", "keep", ns) is not None
    # The in-cluster inventory follows.
    inventory = kube.get("configmap", "aqemia-release-demo", ns)
    assert set(json.loads(inventory["data"]["objects"])) == {f"Namespace//{ns}", f"ConfigMap/{ns}/keep"}
    tf.assert_no_changes()
    tf.destroy()


SECRET = """
apiVersion: v1
kind: Secret
metadata: {{name: {name}}}
stringData: {{token: "{value}"}}
"""


def test_secret_data_never_shows_in_a_plan(tf, kube):
    ns = unique_namespace()
    first, second = "first-marker-5a1e", "second-marker-7c2d"
    release(tf, kube, ns, [NAMESPACE.format(ns=ns), SECRET.format(name="token", value=first)])
    tf.init()
    applied = tf.apply()
    assert objects(tf)[f"Secret/{ns}/token"].startswith("hmac-sha256:")
    release(tf, kube, ns, [NAMESPACE.format(ns=ns), SECRET.format(name="token", value=second)])
    code, plan = tf.plan_exit()
    # The plan names the Secret that changes, never its data.
    assert code == 2 and f'"Secret/{ns}/token"' in plan, plan
    shown = applied.stdout + applied.stderr + plan + tf.apply().stdout
    assert first not in shown and second not in shown, shown
    assert base64.b64decode(kube.get("secret", "token", ns)["data"]["token"]).decode() == second
    tf.destroy()


def test_drift_is_shown_and_repaired(tf, kube):
    ns = unique_namespace()
    release(tf, kube, ns, [NAMESPACE.format(ns=ns), DEPLOYMENT.format(name="web", replicas=2, extra="")])
    tf.init()
    tf.apply()
    kube.kubectl("scale", "deployment/web", "-n", ns, "--replicas=4")
    code, out = tf.plan_exit()
    assert code == 2, out
    assert "drifted: changed by kubectl" in out and ".spec.replicas" in out, out
    # Recorded by a refresh, then undone by hand: in sync again, nothing to do.
    tf.run("apply", "-refresh-only", "-auto-approve", "-input=false", "-no-color")
    assert objects(tf)[f"Deployment.apps/{ns}/web"].startswith("drifted:")
    kube.kubectl("scale", "deployment/web", "-n", ns, "--replicas=2")
    tf.assert_no_changes()
    kube.kubectl("scale", "deployment/web", "-n", ns, "--replicas=4")
    tf.apply()
    assert kube.get("deployment", "web", ns)["spec"]["replicas"] == 2
    tf.assert_no_changes()
    # Deleted behind Terraform's back: the plan puts it back.
    kube.kubectl("delete", "deployment/web", "-n", ns)
    code, out = tf.plan_exit()
    assert code == 2 and f"Deployment.apps/{ns}/web" in out, out
    tf.apply()
    assert kube.get("deployment", "web", ns) is not None
    tf.destroy()


def test_conflict_with_another_field_manager_is_reported(tf, kube):
    ns = unique_namespace()
    kube.kubectl("create", "namespace", ns)
    other = CONFIGMAP.format(name="shared", value="theirs")
    kube.kubectl("apply", "--server-side", "--field-manager=team-b", "-n", ns, "-f", "-", input=other)
    release(tf, kube, ns, [CONFIGMAP.format(name="shared", value="ours")])
    tf.init()
    proc = tf.apply(ok=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"ConfigMap/{ns}/shared conflicts with other field managers" in out, out
    assert ".data.value" in out and "team-b" in out, out
    assert kube.get("configmap", "shared", ns)["data"]["value"] == "theirs"
    # Asked to, the release takes the field over.
    release(tf, kube, ns, [CONFIGMAP.format(name="shared", value="ours")], extra="  force_conflicts = true")
    tf.apply()
    assert kube.get("configmap", "shared", ns)["data"]["value"] == "ours"
    tf.destroy()
    kube.kubectl("delete", "namespace", ns, "--wait=false")


def test_rejected_object_keeps_what_was_applied(tf, kube):
    ns = unique_namespace()
    bad = "apiVersion: v1\nkind: Service\nmetadata: {name: broken}\nspec:\n  ports: [{port: 99999}]\n"
    release(tf, kube, ns, [NAMESPACE.format(ns=ns), CONFIGMAP.format(name="first", value="1"), bad])
    tf.init()
    proc = tf.apply(ok=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert f"the API server rejected Service/{ns}/broken" in out, out
    applied = set(tf.state()["values"]["root_module"]["resources"][0]["values"]["objects"])
    assert {f"Namespace//{ns}", f"ConfigMap/{ns}/first"} <= applied
    assert f"Service/{ns}/broken" not in applied
    tf.destroy()
    assert kube.get("configmap", "first", ns) is None


def test_bad_documents_are_diagnosed_at_plan_time(tf, kube):
    ns = unique_namespace()
    release(tf, kube, ns, [CONFIGMAP.format(name="ok", value="1"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n"])
    tf.init()
    proc = tf.run("plan", "-no-color", "-input=false", ok=False)
    out = " ".join((proc.stdout + proc.stderr).split())  # Terraform wraps long lines
    assert proc.returncode != 0
    assert "Invalid document" in out and "metadata.name is missing" in out, out
    # Terraform points at the element itself.
    assert "doc1.yaml" in out and "documents[1]: metadata.name is missing" in out, out


def test_failed_upgrade_rolls_back_to_the_previous_objects(tf, kube):
    ns = unique_namespace()
    good = [NAMESPACE.format(ns=ns), DEPLOYMENT.format(name="web", replicas=1, extra="")]
    release(tf, kube, ns, good)
    tf.init()
    tf.apply()
    stuck = DEPLOYMENT.format(name="web", replicas=1, extra="nodeSelector: {pool: does-not-exist}\n      ")
    upgrade = [NAMESPACE.format(ns=ns), stuck, CONFIGMAP.format(name="added", value="1")]
    release(tf, kube, ns, upgrade, extra='  timeouts {\n    update = "15s"\n  }')
    proc = tf.apply(ok=False)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0
    assert f"Deployment.apps/{ns}/web" in out and "rolled back to its previous objects" in out, out
    # The cluster and the state hold the previous release again: no node selector, no new
    # ConfigMap, and the next plan proposes the upgrade once more.
    assert "nodeSelector" not in kube.get("deployment", "web", ns)["spec"]["template"]["spec"]
    assert kube.get("configmap", "added", ns) is None
    assert set(objects(tf)) == {f"Namespace//{ns}", f"Deployment.apps/{ns}/web"}
    code, plan = tf.plan_exit()
    assert code == 2 and f"ConfigMap/{ns}/added" in plan, plan
    release(tf, kube, ns, good)
    tf.assert_no_changes()
    tf.destroy()


WEBHOOK = """
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {{name: {ns}-guard}}
webhooks:
- name: guard.{ns}.example.com
  clientConfig:
    service: {{namespace: {ns}, name: {service}, path: /validate}}
  rules:
  - {{apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [configmaps]}}
  # Only objects nobody makes: the webhook must not stand in the way of other tests.
  objectSelector: {{matchLabels: {{guarded-by: {ns}}}}}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
"""

SERVICE = """
apiVersion: v1
kind: Service
metadata: {{name: {name}}}
spec:
  selector: {{app: {name}}}
  ports: [{{port: 443, targetPort: 8443}}]
"""


def test_webhooks_go_last_and_wait_for_their_service(tf, kube):
    ns = unique_namespace()
    docs = [
        WEBHOOK.format(ns=ns, service="hook"),
        NAMESPACE.format(ns=ns),
        DEPLOYMENT.format(name="hook", replicas=1, extra=""),
        SERVICE.format(name="hook"),
    ]
    release(tf, kube, ns, docs)
    tf.init()
    tf.apply()
    # Applied last, after its Service had a ready endpoint.
    webhook = kube.get("validatingwebhookconfiguration", f"{ns}-guard")
    service_created = kube.get("service", "hook", ns)["metadata"]["creationTimestamp"]
    assert webhook["metadata"]["creationTimestamp"] >= service_created
    slices = json.loads(kube.kubectl("get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name=hook", "-o", "json").stdout)
    assert any(e.get("conditions", {}).get("ready") for s in slices["items"] for e in s.get("endpoints") or [])
    tf.assert_no_changes()
    tf.destroy()
    assert kube.get("validatingwebhookconfiguration", f"{ns}-guard") is None


def test_webhook_without_endpoints_times_out_naming_its_service(tf, kube):
    ns = unique_namespace()
    docs = [NAMESPACE.format(ns=ns), SERVICE.format(name="nobody"), WEBHOOK.format(ns=ns, service="nobody")]
    release(tf, kube, ns, docs, extra='  timeouts {\n    create = "10s"\n  }')
    tf.init()
    proc = tf.apply(ok=False)
    out = " ".join((proc.stdout + proc.stderr).split())
    assert proc.returncode != 0
    assert f"timed out waiting for webhook services to have ready endpoints: Service/{ns}/nobody (no ready endpoints)" in out, out
    tf.destroy()
    assert kube.get("validatingwebhookconfiguration", f"{ns}-guard") is None
