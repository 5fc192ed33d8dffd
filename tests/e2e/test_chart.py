"""aqemia_chart through the real Terraform CLI against the real API server of the test bed:
local charts written by each test, and the real upstream charts of ../shared/charts served on
loopback as the mirror of their upstream repositories. Every test works in a namespace of its own."""

import base64
import functools
import hashlib
import http.server
import json
import re
import shutil
import subprocess
import tarfile
import textwrap
import threading
from pathlib import Path

import pytest
import yaml

from conftest import PROVIDER_BLOCK
from kube import unique_namespace
from shared_charts import SHARED_CHARTS, UPSTREAM, chart_block

JETSTACK = UPSTREAM["cert-manager"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def shared_repo():
    """../shared/charts served on 127.0.0.1 (its index has relative archive URLs)."""
    assert (SHARED_CHARTS / "index.yaml").is_file(), f"{SHARED_CHARTS} is missing: it comes with ../shared"
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SHARED_CHARTS)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def write_chart(root: Path, templates: dict, values: str = "", version: str = "0.1.0") -> Path:
    chart = root / "demo"
    (chart / "templates").mkdir(parents=True, exist_ok=True)
    for old in (chart / "templates").iterdir():
        old.unlink()
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: demo\nversion: {version}\n")
    (chart / "values.yaml").write_text(textwrap.dedent(values))
    for name, text in templates.items():
        (chart / "templates" / name).write_text(textwrap.dedent(text).lstrip())
    return chart


DEMO_TEMPLATES = {
    "configmap.yaml": """
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-settings
        data:
          greeting: {{ .Values.greeting | quote }}
          revision: {{ .Release.Revision | quote }}
        """,
    "secret.yaml": """
        apiVersion: v1
        kind: Secret
        metadata:
          name: {{ .Release.Name }}-password
        stringData:
          password: {{ randAlphaNum 24 | quote }}
        """,
    "certificate.yaml": """
        {{- $ca := genCA "demo-ca" 365 }}
        apiVersion: v1
        kind: Secret
        type: kubernetes.io/tls
        metadata:
          name: {{ .Release.Name }}-ca
        data:
          tls.crt: {{ $ca.Cert | b64enc }}
          tls.key: {{ $ca.Key | b64enc }}
        """,
    "deployment.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: {{ .Release.Name }}
        spec:
          replicas: {{ .Values.replicas }}
          selector: {matchLabels: {app: {{ .Release.Name }}}}
          template:
            metadata: {labels: {app: {{ .Release.Name }}}}
            spec:
              containers:
              - name: app
                image: registry.example/demo:1.0
        """,
    "NOTES.txt": "Say {{ .Values.greeting }} to {{ .Release.Name }}.\n",
}
DEMO_VALUES = """
    greeting: hello
    replicas: 1
    """


def chart_config(kube, ns, source, extra="", provider=""):
    return PROVIDER_BLOCK + f"""
provider "aqemia" {{
{provider}
}}

resource "aqemia_chart" "demo" {{
  cluster          = {kube.cluster_hcl()}
  name             = "demo"
  namespace        = "{ns}"
  create_namespace = true
{textwrap.indent(source.strip(), "  ")}
{extra}
}}
"""


def secret_value(kube, name, ns, key):
    return base64.b64decode(kube.get("secret", name, ns)["data"][key]).decode()


def flat(out):
    return " ".join(out.split())  # Terraform wraps long lines


def test_local_chart_lifecycle_with_stable_random_values(tf, kube, tmp_path):
    ns = unique_namespace()
    chart = write_chart(tmp_path / "charts", DEMO_TEMPLATES, DEMO_VALUES)
    tf.write(chart_config(kube, ns, f'chart = "{chart}"', extra='  values = [yamlencode({ greeting = "hi" })]'))
    tf.init()
    out = tf.apply().stdout
    attrs = tf.attrs("aqemia_chart.demo")
    assert attrs["resolved_version"] == "0.1.0" and attrs["revision"] == 1
    assert attrs["notes"] == "Say hi to demo.\n"
    assert set(attrs["objects"]) == {
        f"ConfigMap/{ns}/demo-settings",
        f"Secret/{ns}/demo-password",
        f"Secret/{ns}/demo-ca",
        f"Deployment.apps/{ns}/demo",
    }
    # Secret digests are keyed; Secret data is nowhere in the state or the output.
    assert attrs["objects"][f"Secret/{ns}/demo-password"].startswith("hmac-sha256:")
    assert attrs["objects"][f"ConfigMap/{ns}/demo-settings"].startswith("sha256:")
    password = secret_value(kube, "demo-password", ns, "password")
    assert len(password) == 24
    assert password not in out and password not in tf.run("show", "-json").stdout
    assert kube.get("configmap", "demo-settings", ns)["data"] == {"greeting": "hi", "revision": "1"}
    assert kube.get("deployment", "demo", ns)["metadata"]["annotations"]["aqemia.io/release"] == f"{ns}/demo"
    ca = secret_value(kube, "demo-ca", ns, "tls.crt")

    # The seed kept with the release renders the same password and CA: nothing to change.
    tf.assert_no_changes()

    # A values change is a new revision; only what it changes is planned, and the random
    # values stay as they were.
    tf.write(chart_config(kube, ns, f'chart = "{chart}"', extra='  values = [yamlencode({ greeting = "hi" }), "replicas: 2"]'))
    code, plan = tf.plan_exit()
    assert code == 2
    assert f'"Deployment.apps/{ns}/demo"' in plan and f'"ConfigMap/{ns}/demo-settings"' in plan, plan
    assert f'"Secret/{ns}/demo-password"' not in plan, plan
    tf.apply()
    assert tf.attrs("aqemia_chart.demo")["revision"] == 2
    assert kube.get("deployment", "demo", ns)["spec"]["replicas"] == 2
    assert kube.get("configmap", "demo-settings", ns)["data"]["revision"] == "2"
    assert secret_value(kube, "demo-password", ns, "password") == password
    tf.assert_no_changes()

    # Rotation draws a new seed: new password, new CA.
    tf.write(chart_config(kube, ns, f'chart = "{chart}"',
                          extra='  values = [yamlencode({ greeting = "hi" }), "replicas: 2"]\n  rotation = "2026-12"'))
    tf.apply()
    assert secret_value(kube, "demo-password", ns, "password") != password
    assert secret_value(kube, "demo-ca", ns, "tls.crt") != ca
    tf.assert_no_changes()

    tf.destroy()
    assert kube.get("deployment", "demo", ns) is None
    assert kube.get("secret", "demo-password", ns) is None
    # The namespace was created for the release, as Helm creates it, and is kept.
    assert kube.get("namespace", ns) is not None


def test_drift_in_a_chart_object_is_planned_and_repaired(tf, kube, tmp_path):
    ns = unique_namespace()
    chart = write_chart(tmp_path / "charts", DEMO_TEMPLATES, DEMO_VALUES)
    tf.write(chart_config(kube, ns, f'chart = "{chart}"'))
    tf.init()
    tf.apply()
    kube.kubectl("-n", ns, "patch", "configmap", "demo-settings", "--type=merge", "-p", '{"data":{"greeting":"changed by hand"}}')
    code, plan = tf.plan_exit()
    assert code == 2 and f'"ConfigMap/{ns}/demo-settings"' in plan and "drifted" in plan, plan
    tf.apply()
    assert kube.get("configmap", "demo-settings", ns)["data"]["greeting"] == "hello"
    tf.assert_no_changes()
    tf.destroy()


def test_upstream_chart_through_a_mirror_with_a_version_constraint(tf, kube, shared_repo):
    ns = unique_namespace()
    archive = SHARED_CHARTS / "cert-manager-v1.21.1.tgz"
    digest = "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest()
    values = (SHARED_CHARTS / "values" / "cert-manager.values.yaml").read_text()
    (tf.dir / "cert-manager.values.yaml").write_text(values)
    source = f'''
repository = "{JETSTACK}"
chart      = "cert-manager"
version    = "~1.21"
values     = [file("${{path.module}}/cert-manager.values.yaml")]
# Its ServiceMonitor needs kube-prometheus-stack's CRDs, which this test does not install.
set        = {{ "prometheus.servicemonitor.enabled" = "false" }}
delete_crds_and_pvcs = true
'''
    tf.write(chart_config(kube, ns, source, provider=f'  chart_mirrors = {{ "{JETSTACK}" = "{shared_repo}" }}'))
    tf.init()
    tf.apply()
    attrs = tf.attrs("aqemia_chart.demo")
    assert attrs["resolved_version"] == "v1.21.1"
    assert attrs["digest"] == digest
    kinds = {key.split("/")[0] for key in attrs["objects"]}
    assert {"CustomResourceDefinition.apiextensions.k8s.io", "Deployment.apps", "ValidatingWebhookConfiguration.admissionregistration.k8s.io"} <= kinds
    deployment = kube.get("deployment", "demo-cert-manager", ns)
    assert deployment["status"].get("readyReplicas") == deployment["spec"]["replicas"]
    tf.assert_no_changes()
    tf.destroy()
    assert kube.get("crd", "certificates.cert-manager.io") is None


def bad_plan(tf, kube, ns, source, extra="", provider=""):
    tf.write(chart_config(kube, ns, source, extra=extra, provider=provider))
    proc = tf.run("plan", "-input=false", "-no-color", ok=False)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    return flat(proc.stderr)


def test_bad_input_is_diagnosed_at_plan_on_its_argument(tf, kube, tmp_path, shared_repo):
    ns = unique_namespace()
    chart = write_chart(tmp_path / "charts", DEMO_TEMPLATES, DEMO_VALUES)
    mirror = f'  chart_mirrors = {{ "{JETSTACK}" = "{shared_repo}" }}'
    tf.write(chart_config(kube, ns, f'chart = "{chart}"'))
    tf.init()

    err = bad_plan(tf, kube, ns, f'chart = "{chart}"', extra='  values = ["a: 1", "b: [unclosed\\nc: 2"]')
    assert 'with aqemia_chart.demo' in err and "values[1]" in err and "line" in err, err

    err = bad_plan(tf, kube, ns, f'repository = "{JETSTACK}"\nchart = "cert-manager"\nversion = ">= 9"', provider=mirror)
    assert re.search(r'chart "cert-manager" with version ">= 9" not found', err), err
    assert "on main.tf" in err, err

    err = bad_plan(tf, kube, ns, f'repository = "{JETSTACK}"\nchart = "cert-manager"\nversion = "v1.21.1"\ndigest = "sha256:{"0" * 64}"',
                   provider=mirror)
    assert "does not match its digest" in err and "digest pins sha256:000" in err, err

    err = bad_plan(tf, kube, ns, f'repository = "{JETSTACK}"\nchart = "nothing-here"', provider=mirror)
    assert 'chart "nothing-here" not found' in err, err

    err = bad_plan(tf, kube, ns, 'repository = "http://127.0.0.1:9"\nchart = "x"')
    assert "127.0.0.1:9" in err, err

    err = bad_plan(tf, kube, ns, 'repository = "charts.example.com"\nchart = "x"')
    assert "is not a chart repository" in err, err

    schema_bound = write_chart(tmp_path / "schema", DEMO_TEMPLATES, DEMO_VALUES)
    (schema_bound / "values.schema.json").write_text(
        '{"type": "object", "properties": {"replicas": {"type": "integer", "minimum": 1}}, "required": ["replicas"]}')
    err = bad_plan(tf, kube, ns, f'chart = "{schema_bound}"', extra='  values = ["replicas: 0"]')
    assert "Values refused by the chart's schema" in err and "values = [" in err, err
    assert "at '/replicas'" in err and "minimum of 1" in err, err

    broken = write_chart(tmp_path / "broken", {"cm.yaml": "a: {{ .Values.missing.deep }}\n"})
    err = bad_plan(tf, kube, ns, f'chart = "{broken}"')
    assert "Chart failed to render" in err and "templates/cm.yaml" in err and "nil pointer" in err, err

    # Nothing was written to the cluster: everything renders before the first object.
    assert kube.get("namespace", ns) is None


def hook_job(name, events, weight=0, policy="before-hook-creation", extra=""):
    return f"""
        apiVersion: batch/v1
        kind: Job
        metadata:
          name: {name}
          annotations:
            helm.sh/hook: {events}
            helm.sh/hook-weight: "{weight}"
            helm.sh/hook-delete-policy: {policy}
        spec:
          backoffLimit: 0
          {extra}template:
            spec:
              restartPolicy: Never
              containers:
              - name: run
                image: registry.example/{name}:1.0
        """


HOOK_TEMPLATES = {
    "deployment.yaml": DEMO_TEMPLATES["deployment.yaml"],
    "configmap.yaml": DEMO_TEMPLATES["configmap.yaml"],
    "migrate.yaml": hook_job("migrate", "pre-install,pre-upgrade", weight=-5),
    "cleanup.yaml": hook_job("cleanup", "pre-install", weight=5, policy="hook-succeeded"),
    "announce.yaml": hook_job("announce", "post-install,post-upgrade"),
    "farewell.yaml": hook_job("farewell", "pre-delete"),
    "smoke.yaml": hook_job("smoke", "test"),
}


def test_hooks_run_in_their_phases_with_their_delete_policies(tf, kube, tmp_path):
    ns = unique_namespace()
    chart = write_chart(tmp_path / "charts", HOOK_TEMPLATES, DEMO_VALUES)
    tf.write(chart_config(kube, ns, f'chart = "{chart}"'))
    tf.init()
    tf.apply()
    migrate, announce = kube.get("job", "migrate", ns), kube.get("job", "announce", ns)
    assert migrate["status"]["succeeded"] == 1 and announce["status"]["succeeded"] == 1
    # Pre-install hooks completed before the chart's objects went in, post-install ones after.
    deployment = kube.get("deployment", "demo", ns)
    assert migrate["status"]["completionTime"] <= deployment["metadata"]["creationTimestamp"] <= announce["metadata"]["creationTimestamp"]
    # hook-succeeded deleted `cleanup`; test hooks never run; delete hooks wait for the delete.
    assert kube.get("job", "cleanup", ns) is None
    assert kube.get("job", "smoke", ns) is None and kube.get("job", "farewell", ns) is None
    # Hooks are not objects of the release.
    assert not any("/migrate" in key for key in tf.attrs("aqemia_chart.demo")["objects"])
    tf.assert_no_changes()

    # An upgrade runs the upgrade hooks: before-hook-creation replaces the previous Job.
    first_uid = migrate["metadata"]["uid"]
    tf.write(chart_config(kube, ns, f'chart = "{chart}"', extra='  values = ["replicas: 2"]'))
    tf.apply()
    assert kube.get("job", "migrate", ns)["metadata"]["uid"] != first_uid

    tf.destroy()
    assert kube.get("job", "farewell", ns)["status"]["succeeded"] == 1
    assert kube.get("deployment", "demo", ns) is None


def package_chart(root: Path, templates: dict, values: str, version: str) -> Path:
    """The chart as `helm package` lays it out: demo-VERSION.tgz holding demo/."""
    chart = write_chart(root / version, templates, values, version=version)
    archive = root / f"demo-{version}.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(chart, arcname="demo")
    return archive


def labelled_with_chart_version(template):
    return template.replace("          annotations:", '          labels: {chart-version: "{{ .Chart.Version }}"}\n          annotations:', 1)


def test_a_version_change_upgrades_and_an_unhealthy_one_rolls_back_with_its_hooks(tf, kube, tmp_path):
    ns = unique_namespace()
    rollback_hooks = {
        "undo.yaml": labelled_with_chart_version(hook_job("undo", "pre-rollback")),
        "restored.yaml": labelled_with_chart_version(hook_job("restored", "post-rollback")),
    }
    base = {"deployment.yaml": DEMO_TEMPLATES["deployment.yaml"], "configmap.yaml": DEMO_TEMPLATES["configmap.yaml"], **rollback_hooks}
    def use(archive):
        tf.write(chart_config(kube, ns, f'chart = "{archive}"', extra='  timeouts {\n    update = "15s"\n  }'))

    use(package_chart(tmp_path, base, DEMO_VALUES, "0.1.0"))
    tf.init()
    tf.apply()
    assert tf.attrs("aqemia_chart.demo")["resolved_version"] == "0.1.0"
    deployment_uid = kube.get("deployment", "demo", ns)["metadata"]["uid"]

    # A new chart version is an upgrade, shown in the plan: the objects are updated in place
    # and the rollback hooks stay unrun.
    extra = {"extra.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata: {v: '2'}\n"}
    use(package_chart(tmp_path, {**base, **extra}, DEMO_VALUES, "0.2.0"))
    code, plan = tf.plan_exit()
    assert code == 2 and '"0.1.0" -> "0.2.0"' in flat(plan) and f'"ConfigMap/{ns}/extra"' in plan, plan
    tf.apply()
    assert tf.attrs("aqemia_chart.demo")["resolved_version"] == "0.2.0"
    assert kube.get("configmap", "extra", ns) is not None
    assert kube.get("deployment", "demo", ns)["metadata"]["uid"] == deployment_uid
    assert kube.get("job", "undo", ns) is None and kube.get("job", "restored", ns) is None

    # 0.3.0 cannot schedule its pods: the upgrade times out and goes back to 0.2.0, running
    # the rollback hooks of the release it returns to, as `helm upgrade --atomic` does.
    unschedulable = DEMO_TEMPLATES["deployment.yaml"].replace(
        "              containers:", '              nodeSelector: {nowhere: "true"}\n              containers:')
    added = {"added.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: added\ndata: {v: '3'}\n"}
    use(package_chart(tmp_path, {**base, **extra, **added, "deployment.yaml": unschedulable}, DEMO_VALUES, "0.3.0"))
    proc = tf.apply(ok=False)
    out = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 1, out
    assert f"Deployment.apps/{ns}/demo" in out and "rolled back to its previous objects" in out, out
    assert "not scheduled (Unschedulable)" in out, out
    assert "nodeSelector" not in kube.get("deployment", "demo", ns)["spec"]["template"]["spec"]
    assert kube.get("configmap", "added", ns) is None and kube.get("configmap", "extra", ns) is not None
    undo, restored = kube.get("job", "undo", ns), kube.get("job", "restored", ns)
    assert undo["metadata"]["labels"]["chart-version"] == "0.2.0" and undo["status"]["succeeded"] == 1
    assert restored["metadata"]["labels"]["chart-version"] == "0.2.0" and restored["status"]["succeeded"] == 1
    assert undo["status"]["completionTime"] <= restored["metadata"]["creationTimestamp"]
    # The state holds 0.2.0 again, and the next plan proposes the upgrade once more.
    assert tf.attrs("aqemia_chart.demo")["resolved_version"] == "0.2.0"
    code, plan = tf.plan_exit()
    assert code == 2 and '"0.2.0" -> "0.3.0"' in flat(plan) and f'"ConfigMap/{ns}/added"' in plan, plan

    # A chart directory edited in place keeps no copy of what was installed: the upgrade is
    # not rolled back to a render that is not the previous release, and says so.
    directory = write_chart(tmp_path / "dir", {**base, **extra}, DEMO_VALUES, version="0.2.0")
    use(directory)
    tf.apply()
    write_chart(tmp_path / "dir", {**base, **extra, "deployment.yaml": unschedulable}, DEMO_VALUES, version="0.2.0")
    proc = tf.apply(ok=False)
    out = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 1, out
    assert "Drift not checked" in out, out  # the refresh did not take the edits for drift
    assert f"not rolled back: {directory} changed since the release was installed, and keeps no copy" in out, out
    assert "rolled back to its previous objects" not in out, out
    assert kube.get("job", "undo", ns)["metadata"]["uid"] == undo["metadata"]["uid"]

    tf.destroy()
    assert kube.get("deployment", "demo", ns) is None and kube.get("configmap", "extra", ns) is None


def test_a_failed_hook_fails_the_apply_with_its_reason(tf, kube, tmp_path):
    ns = unique_namespace()
    # No node matches: the Job's deadline passes and the Job fails.
    stuck = "activeDeadlineSeconds: 2\n          "
    templates = {
        "configmap.yaml": DEMO_TEMPLATES["configmap.yaml"],
        "migrate.yaml": hook_job("migrate", "pre-install", policy="hook-failed", extra=stuck).replace(
            "restartPolicy: Never", "restartPolicy: Never\n              nodeSelector: {nowhere: \"true\"}"),
    }
    chart = write_chart(tmp_path / "charts", templates, DEMO_VALUES)
    tf.write(chart_config(kube, ns, f'chart = "{chart}"'))
    tf.init()
    proc = tf.apply(ok=False)
    assert proc.returncode == 1
    err = flat(proc.stderr)
    assert f"pre-install hook Job/{ns}/migrate (demo/templates/migrate.yaml) failed: the Job failed: DeadlineExceeded" in err, err
    # Nothing of the chart was installed, and the failed hook was deleted by its policy.
    assert kube.get("configmap", "demo-settings", ns) is None
    assert kube.get("job", "migrate", ns) is None


def test_lookup_reads_the_live_cluster(tf, kube, tmp_path):
    ns = unique_namespace()
    kube.kubectl("create", "namespace", ns)
    kube.kubectl("-n", ns, "create", "secret", "generic", "preexisting", "--from-literal=password=kept-by-lookup")
    # The common chart idiom: keep the password a Secret already has, else generate one.
    template = """
        {{- $existing := lookup "v1" "Secret" .Release.Namespace "preexisting" }}
        apiVersion: v1
        kind: Secret
        metadata:
          name: {{ .Release.Name }}-credentials
        data:
          password: {{ dig "data" "password" (randAlphaNum 16 | b64enc) $existing | quote }}
          absent: {{ lookup "v1" "Secret" .Release.Namespace "absent" | len | toString | b64enc | quote }}
        """
    # crowdsec's idiom: a token generated at install and read back from the release's own
    # Secret from then on, and a Deployment annotated with the checksum of that Secret's
    # template. The first render checksums another draw than the Secret holds; the install
    # renders again once the Secret exists, so the next plan is already empty.
    own = """
        apiVersion: v1
        kind: Secret
        metadata:
          name: {{ .Release.Name }}-token
        data:
          token: {{ dig "data" "token" (randAlphaNum 32 | b64enc) (lookup "v1" "Secret" .Release.Namespace (printf "%s-token" .Release.Name)) | quote }}
        """
    deployment = DEMO_TEMPLATES["deployment.yaml"].replace(
        "            metadata: {labels: {app: {{ .Release.Name }}}}",
        "            metadata:\n"
        "              labels: {app: {{ .Release.Name }}}\n"
        '              annotations: {checksum/token: {{ include (print $.Template.BasePath "/token.yaml") . | sha256sum }}}',
    )
    chart = write_chart(tmp_path / "charts", {"credentials.yaml": template, "token.yaml": own, "deployment.yaml": deployment},
                        values="replicas: 1\n")
    tf.write(chart_config(kube, ns, f'chart = "{chart}"'))
    tf.init()
    tf.apply()
    assert secret_value(kube, "demo-credentials", ns, "password") == "kept-by-lookup"
    assert secret_value(kube, "demo-credentials", ns, "absent") == "0"
    token = secret_value(kube, "demo-token", ns, "token")
    # The checksum is of the Secret that exists, not of the first render's other draw.
    encoded = kube.get("secret", "demo-token", ns)["data"]["token"]
    rendered = f'apiVersion: v1\nkind: Secret\nmetadata:\n  name: demo-token\ndata:\n  token: "{encoded}"\n'
    annotations = kube.get("deployment", "demo", ns)["spec"]["template"]["metadata"]["annotations"]
    assert len(token) == 32
    assert annotations["checksum/token"] == hashlib.sha256(rendered.encode()).hexdigest(), rendered
    tf.assert_no_changes()
    tf.destroy()
    assert kube.get("secret", "preexisting", ns) is not None


def helm(kube, *args):
    """The real helm binary (scripts/install-tools.sh builds it into .tools/bin) on the test bed."""
    binary = shutil.which("helm")
    assert binary, "helm is not on PATH: scripts/install-tools.sh builds it into .tools/bin"
    cmd = [binary, "--kubeconfig", kube.kubeconfig, "--kube-context", kube.context, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"helm {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def import_release(tf, kube, release_id, ok=True):
    return tf.run("import", "-input=false", "-no-color", "aqemia_chart.demo", release_id, ok=ok, env={"KUBECONFIG": kube.kubeconfig})


# Objects labelled as Helm's charts label them, so that taking over must force a field Helm's
# field manager owns (`managed-by` becomes aqemia's).
HELM_LABELLED = {
    name: DEMO_TEMPLATES[name].replace(
        "        metadata:\n", "        metadata:\n          labels: {app.kubernetes.io/managed-by: {{ .Release.Service }}}\n", 1
    )
    for name in ("configmap.yaml", "deployment.yaml")
}


def test_a_release_helm_installed_is_imported_and_taken_over_without_recreating(tf, kube, tmp_path):
    ns = unique_namespace()
    chart = write_chart(tmp_path / "charts", HELM_LABELLED, DEMO_VALUES)
    helm(kube, "install", "demo", str(chart), "-n", ns, "--create-namespace", "--set", "greeting=from-helm", "--wait")
    kinds = {"configmap": "demo-settings", "deployment": "demo"}
    uids = {kind: kube.get(kind, name, ns)["metadata"]["uid"] for kind, name in kinds.items()}
    assert kube.get("configmap", "demo-settings", ns)["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm"

    tf.write(chart_config(kube, ns, f'chart = "{chart}"', extra='  set = { greeting = "from-helm" }'))
    tf.init()
    bad = import_release(tf, kube, f"{ns}/absent@{kube.context}", ok=False)
    assert bad.returncode == 1 and "no release" in flat(bad.stderr) and "owner=helm, name=absent" in flat(bad.stderr), bad.stderr
    bad = import_release(tf, kube, "demo", ok=False)
    assert bad.returncode == 1 and "import as NAMESPACE/NAME" in flat(bad.stderr), bad.stderr

    import_release(tf, kube, f"{ns}/demo@{kube.context}")
    attrs = tf.attrs("aqemia_chart.demo")
    assert (attrs["chart"], attrs["version"], attrs["revision"]) == ("demo", "0.1.0", 1), attrs
    assert yaml.safe_load(attrs["values"][0]) == {"greeting": "from-helm"}
    assert attrs["objects"] == {f"ConfigMap/{ns}/demo-settings": "installed by Helm", f"Deployment.apps/{ns}/demo": "installed by Helm"}

    # The first plan names every object: each is taken over by the apply.
    code, plan = tf.plan_exit()
    assert code == 2 and plan.count('"installed by Helm" ->') == 2, plan
    tf.apply()
    for kind, name in kinds.items():
        live = kube.get(kind, name, ns)
        assert live["metadata"]["uid"] == uids[kind], f"{kind}/{name} was recreated"
        assert live["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "aqemia"
        assert live["metadata"]["annotations"]["aqemia.io/release"] == f"{ns}/demo"
        assert "aqemia" in {entry["manager"] for entry in live["metadata"]["managedFields"]}
    assert kube.get("configmap", "demo-settings", ns)["data"] == {"greeting": "from-helm", "revision": "2"}
    # Helm's records are gone: `helm list` no longer shows a release Helm does not manage.
    assert helm(kube, "list", "-n", ns, "-q").stdout.strip() == ""
    assert tf.attrs("aqemia_chart.demo")["revision"] == 2
    tf.assert_no_changes()
    tf.destroy()
    assert kube.get("deployment", "demo", ns) is None


def test_a_release_aqemia_installed_is_imported_with_its_seed(tf, kube, tmp_path):
    ns = unique_namespace()
    chart = write_chart(tmp_path / "charts", DEMO_TEMPLATES, DEMO_VALUES)
    tf.write(chart_config(kube, ns, f'chart = "{chart}"', extra='  values = [yamlencode({ greeting = "hi" })]'))
    tf.init()
    tf.apply()
    password = secret_value(kube, "demo-password", ns, "password")
    objects = tf.attrs("aqemia_chart.demo")["objects"]
    record = kube.get("secret", "aqemia-release-demo", ns)
    assert record["type"] == "aqemia.io/release.v1"
    recorded = {key: base64.b64decode(value).decode() for key, value in record["data"].items()}
    assert json.loads(recorded["release"])["revision"] == 1 and password not in json.dumps(recorded)

    # Another state (here: the same one, emptied) imports it: the same arguments, revision and
    # seed, so the same objects, and nothing to change.
    tf.run("state", "rm", "aqemia_chart.demo")
    import_release(tf, kube, f"{ns}/demo@{kube.context}")
    assert tf.attrs("aqemia_chart.demo")["objects"] == objects
    tf.assert_no_changes()
    tf.write(chart_config(kube, ns, f'chart = "{chart}"', extra='  values = [yamlencode({ greeting = "hello again" })]'))
    tf.apply()
    assert tf.attrs("aqemia_chart.demo")["revision"] == 2
    assert secret_value(kube, "demo-password", ns, "password") == password
    tf.destroy()
    assert kube.get("secret", "aqemia-release-demo", ns) is None
    assert kube.get("configmap", "aqemia-release-demo", ns) is None


def shared_chart_block(chart, ns, kube, extra=""):
    return chart_block(chart, ns, kube.cluster_hcl(), extra)


# The test bed has no storage provisioner: claims stay Pending, so these charts cannot become
# healthy on it, and the diagnostic must name what waits and why, down to the pods.
NEEDS_STORAGE = {
    "crowdsec": ["PersistentVolumeClaim/{ns}/crowdsec-db-pvc (in progress: claim is Pending, not Bound)"],
    "falco": ["StatefulSet.apps/{ns}/falco-falcosidekick-ui-redis (in progress: ready replicas: 0/1; "
              "pod falco-falcosidekick-ui-redis-0: not scheduled (Unschedulable): 0/",
              "pod has unbound immediate PersistentVolumeClaims"],
    "loki": ["StatefulSet.apps/{ns}/loki (in progress: ready replicas: 0/1; pod loki-0: not scheduled (Unschedulable): 0/"],
}


def test_every_shared_chart_installs_and_becomes_healthy(tf, kube, shared_repo):
    """The real upstream charts the composites pin, with the values beside them, in one apply
    (kyverno-policies' kinds come from kyverno's CRDs in the same apply). ServiceMonitors need
    kube-prometheus-stack's CRDs, so it goes first. Its Prometheus and Alertmanager become
    Available only when the operator runs them, which simulated nodes cannot: the diagnostic
    names both and why, and it is then installed without waiting on them. Charts that need
    storage are named with what waits; every other chart becomes healthy."""
    ns = unique_namespace("c")
    charts = sorted(UPSTREAM)
    assert charts == sorted(p.name.removesuffix(".values.yaml") for p in (SHARED_CHARTS / "values").iterdir()), \
        "every chart of ../shared/charts is tested"
    mirrors = ", ".join(f'"{url}" = "{shared_repo}"' for url in sorted(set(UPSTREAM.values())))
    head = PROVIDER_BLOCK + f'provider "aqemia" {{\n  chart_mirrors = {{ {mirrors} }}\n}}\n'
    prometheus = "kube-prometheus-stack"
    tf.write(head + shared_chart_block(prometheus, ns, kube, extra='  timeouts { create = "40s" }'))
    tf.init()
    try:
        proc = tf.apply(ok=False)
        out = flat(proc.stdout + proc.stderr)
        assert proc.returncode == 1, out
        for kind, name in (("Prometheus", "prometheus"), ("Alertmanager", "alertmanager")):
            assert (f"{kind}.monitoring.coreos.com/{ns}-{prometheus}/{prometheus}-{name} (in progress: no Available condition yet)"
                    in out), out
        extra = {chart: '  timeouts { create = "60s" }' for chart in NEEDS_STORAGE}
        extra[prometheus] = "  wait = false"
        # Reinstalled (it failed) before the others need its CRDs.
        tf.write(head + shared_chart_block(prometheus, ns, kube, extra=extra[prometheus]))
        tf.apply()
        tf.write(head + "".join(shared_chart_block(chart, ns, kube, extra=extra.get(chart, "")) for chart in charts))
        proc = tf.apply(ok=False)
        out = flat(proc.stdout + proc.stderr)
        errors = out.count("Error: creating release")
        assert errors == len(NEEDS_STORAGE), out
        for chart, waiting in NEEDS_STORAGE.items():
            assert f"Error: creating release {ns}-{chart}/{chart}" in out, out
            for what in waiting:
                assert what.format(ns=f"{ns}-{chart}") in out, out
        # The rest is healthy, pinned and stable.
        healthy = [chart for chart in charts if chart not in NEEDS_STORAGE]
        tf.write(head + "".join(shared_chart_block(chart, ns, kube, extra=extra.get(chart, "")) for chart in healthy))
        tf.apply()
        resources = tf.resources()
        index = yaml.safe_load((SHARED_CHARTS / "index.yaml").read_text())
        for chart in healthy:
            attrs = resources[f"aqemia_chart.{chart.replace('-', '_')}"]["values"]
            archive = SHARED_CHARTS / index["entries"][chart][0]["urls"][0]
            assert attrs["resolved_version"] == index["entries"][chart][0]["version"], chart
            assert attrs["digest"] == "sha256:" + hashlib.sha256(archive.read_bytes()).hexdigest(), chart
            assert attrs["objects"] and all(d.startswith(("sha256:", "hmac-sha256:")) for d in attrs["objects"].values()), chart
        tf.assert_no_changes()
    finally:
        tf.destroy()
