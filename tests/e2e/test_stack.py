"""The add-on layer's stack through the real Terraform CLI against the test bed, by way of the
test-only aqemia_conformance_stack: add-ons in dependency waves, extra manifests applied after
their chart is in and its readiness probe is accepted, unchanged add-ons left alone, a failed
add-on stopping only what depends on it, and a destroy that leaves nothing."""

import json

from conftest import PROVIDER_BLOCK
from kube import unique_namespace
from test_chart import write_chart
from test_manifests import CRD

def configmap(name_template, data):
    lines = "".join(f"  {line}\n" for line in data.splitlines())
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name_template}\ndata:\n{lines}"


def stack_config(kube, addons, timeout="3m"):
    return PROVIDER_BLOCK + f"""
provider "aqemia" {{}}

resource "aqemia_conformance_stack" "s" {{
  cluster = {kube.cluster_hcl()}
  addons  = {json.dumps(json.dumps(addons))}
  timeouts {{
    create = "{timeout}"
    update = "{timeout}"
  }}
}}
"""


def releases(tf):
    return json.loads(tf.attrs("aqemia_conformance_stack.s")["releases"])


def test_a_stack_applies_in_waves_with_extras_after_readiness(tf, kube, tmp_path):
    ns = unique_namespace("stack")
    group = f"{ns}.aqemia.test"
    base = write_chart(tmp_path / "base", {
        "crd.yaml": CRD.format(group=group),
        "settings.yaml": configmap("{{ .Release.Name }}-settings", "revision: {{ .Release.Revision | quote }}"),
    })
    # The app reads the Widget that base's extras create: it finds it only if base's wave,
    # extras included, is complete before the app renders.
    app = write_chart(tmp_path / "app", {
        "settings.yaml": configmap(
            "{{ .Release.Name }}-settings",
            f'size: {{{{ (lookup "{group}/v1" "Widget" .Release.Namespace "first").spec.size | default "absent" | quote }}}}\n'
            "greeting: {{ .Values.greeting | quote }}",
        ),
    }, values="greeting: hello\n")
    side = write_chart(tmp_path / "side", {"settings.yaml": configmap("{{ .Release.Name }}-settings", "side: \"yes\"")})
    widget = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "first", "namespace": ns}, "spec": {"size": 3}}
    probe = {"apiVersion": f"{group}/v1", "kind": "Widget", "metadata": {"name": "probe", "namespace": ns}}
    addons = [
        {"name": "app", "namespace": ns, "chart": str(app), "depends_on": ["base"]},
        {"name": "base", "namespace": ns, "chart": str(base), "extra_manifests": [widget], "readiness": probe},
        {"name": "side", "namespace": ns, "chart": str(side)},
    ]
    tf.write(stack_config(kube, addons))
    tf.init()
    tf.apply()
    got = releases(tf)
    assert {name: r["change"] for name, r in got.items()} == {"app": "Installed", "base": "Installed", "side": "Installed"}
    assert all(r["revision"] == 1 for r in got.values()), got
    assert set(got["base"]["extras"]) == {f"Widget.{group}/{ns}/first"}
    assert f"CustomResourceDefinition.apiextensions.k8s.io//widgets.{group}" in got["base"]["objects"]
    assert kube.get("configmap", "app-settings", ns)["data"] == {"size": "3", "greeting": "hello"}
    # Each add-on is a release of its own, with its inventory and record; the extras too.
    for name in ("app", "base", "side", "base.extras"):
        assert kube.get("configmap", f"aqemia-release-{name}", ns) is not None, name
    record = kube.get("secret", "aqemia-release-base", ns)
    assert record["type"] == "aqemia.io/release.v1"
    assert kube.get(f"widgets.{group}", "first", ns)["metadata"]["annotations"]["aqemia.io/release"] == f"{ns}/base.extras"
    # The probe was a dry run: nothing of it was written.
    assert kube.get(f"widgets.{group}", "probe", ns) is None
    tf.assert_no_changes()

    # A change to one add-on installs that add-on only: the others keep their revision.
    addons[0]["values"] = ["greeting: bonjour"]
    tf.write(stack_config(kube, addons))
    tf.apply()
    got = releases(tf)
    assert {name: (r["change"], r["revision"]) for name, r in got.items()} == {
        "app": ("Installed", 2), "base": ("Unchanged", 1), "side": ("Unchanged", 1),
    }
    assert kube.get("configmap", "app-settings", ns)["data"]["greeting"] == "bonjour"
    tf.assert_no_changes()

    # Drift in an extra is found at refresh and repaired by the next apply.
    kube.kubectl("-n", ns, "patch", f"widgets.{group}", "first", "--type=merge", "-p", '{"spec":{"size":4}}')
    code, plan = tf.plan_exit()
    assert code == 2 and "drifted" in plan, plan
    tf.apply()
    assert kube.get(f"widgets.{group}", "first", ns)["spec"]["size"] == 3
    assert releases(tf)["base"]["change"] == "Installed"
    tf.assert_no_changes()

    tf.destroy()
    for name in ("app-settings", "base-settings", "side-settings", "aqemia-release-app", "aqemia-release-base.extras"):
        assert kube.get("configmap", name, ns) is None, name
    assert kube.get("secret", "aqemia-release-base", ns) is None
    assert kube.get("crd", f"widgets.{group}") is None


def test_an_add_on_that_never_serves_stops_only_what_depends_on_it(tf, kube, tmp_path):
    ns = unique_namespace("stack")
    plain = write_chart(tmp_path / "plain", {"settings.yaml": configmap("{{ .Release.Name }}-settings", "a: b")})
    gate_extra = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after-gate", "namespace": ns}, "data": {"a": "b"}}
    # Nothing serves this kind: the probe is asked again until the timeout runs out.
    probe = {"apiVersion": f"never.{ns}.aqemia.test/v1", "kind": "Gate", "metadata": {"name": "probe"}}
    free = {"name": "free", "namespace": ns, "chart": str(plain)}
    tf.write(stack_config(kube, [free]))
    tf.init()
    tf.apply()
    addons = [
        {"name": "gate", "namespace": ns, "chart": str(plain), "extra_manifests": [gate_extra], "readiness": probe},
        {"name": "late", "namespace": ns, "chart": str(plain), "depends_on": ["gate"]},
        free,
    ]
    tf.write(stack_config(kube, addons, timeout="15s"))
    proc = tf.apply(ok=False)
    err = " ".join(proc.stderr.split())
    assert "gate is installed but does not serve yet" in err, err
    assert "a dry-run create of Gate probe was still not accepted when the timeout ran out" in err, err
    assert f"serves no kind Gate in never.{ns}.aqemia.test/v1" in err, err
    assert "late not applied: it depends on gate, which failed" in err, err
    # The chart of gate is in and recorded; its extras and the add-on after it are not.
    assert kube.get("configmap", "gate-settings", ns) is not None
    assert kube.get("configmap", "after-gate", ns) is None
    assert kube.get("configmap", "late-settings", ns) is None
    assert kube.get("configmap", "free-settings", ns) is not None
    got = releases(tf)
    assert {name: r["change"] for name, r in got.items()} == {"gate": "Failed", "free": "Unchanged"}

    # Without the probe, the next apply converges: gate's extras and the add-on after it.
    del addons[0]["readiness"]
    tf.write(stack_config(kube, addons))
    tf.apply()
    got = releases(tf)
    assert {name: r["change"] for name, r in got.items()} == {"gate": "Installed", "late": "Installed", "free": "Unchanged"}
    assert kube.get("configmap", "after-gate", ns) is not None
    tf.assert_no_changes()
    tf.destroy()
    for name in ("gate-settings", "late-settings", "free-settings", "after-gate"):
        assert kube.get("configmap", name, ns) is None, name
