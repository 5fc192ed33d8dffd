"""Planning rules: unknowns, refinements, defaults, partial failure, upgrades, data sources."""

from conftest import PROVIDER_BLOCK


def test_unknown_values_flow_between_resources(tf):
    tf.write(PROVIDER_BLOCK + """
resource "aqemia_conformance" "a" {
  name = "first"
}

resource "aqemia_conformance" "b" {
  name    = "second"
  str     = "pre-${aqemia_conformance.a.id}"
  strings = [aqemia_conformance.a.id, "fixed"]
  dyn     = { from = aqemia_conformance.a.id }
  item {
    key = aqemia_conformance.a.id
  }
}

data "aqemia_conformance" "echo" {
  input = "pre-${aqemia_conformance.a.id}"
  echo  = { id = aqemia_conformance.a.id, n = 1 }
}

output "upper" {
  value = data.aqemia_conformance.echo.upper
}
""")
    tf.init()
    tf.run("validate", "-no-color")
    code, out = tf.plan_exit()
    assert code == 2
    # Known at plan time because its inputs are; computed ids are not.
    assert '"second/standard"' in out
    tf.apply()
    a = tf.attrs("aqemia_conformance.a")
    b = tf.attrs("aqemia_conformance.b")
    assert b["str"] == "pre-" + a["id"]
    assert b["item"][0]["key"] == a["id"]
    assert b["dyn"] == {"from": a["id"]}
    echo = tf.attrs("data.aqemia_conformance.echo")
    assert echo["upper"] == ("PRE-" + a["id"]).upper()
    assert echo["echo_type"] == "object({id=string,n=number})"
    tf.assert_no_changes()
    tf.destroy()


def test_data_source_prints_numbers_exactly(tf):
    tf.write(PROVIDER_BLOCK + """
data "aqemia_conformance" "n" {
  input   = "héllo"
  numbers = [0.1, 1180591620717411303424, -3.5, 1e-7]
  echo    = ["a", 1]
}
""")
    tf.init()
    tf.apply()
    n = tf.attrs("data.aqemia_conformance.n")
    assert n["length"] == 5
    assert n["numbers_text"] == ["0.1", "1180591620717411303424", "-3.5", "0.0000001"]
    assert n["echo_type"] == "tuple([string,number])"


def test_partial_failure_keeps_what_was_created(tf):
    tf.write(PROVIDER_BLOCK + """
resource "aqemia_conformance" "a" {
  name    = "flaky"
  fail_on = "create"
}
""")
    tf.init()
    proc = tf.apply(ok=False)
    assert proc.returncode != 0
    assert "Simulated failure after create" in proc.stderr
    # The object exists and Terraform knows it (tainted), so nothing is orphaned.
    assert [p.stem for p in tf.store.glob("*.json")] == ["obj-1"]
    state = tf.resources()["aqemia_conformance.a"]
    assert state["values"]["id"] == "obj-1"
    assert state.get("tainted") is True

    tf.write(PROVIDER_BLOCK + """
resource "aqemia_conformance" "a" {
  name = "flaky"
}
""")
    tf.apply()
    # The tainted object was replaced by a new one.
    assert [p.stem for p in tf.store.glob("*.json")] == ["obj-2"]
    assert tf.resources()["aqemia_conformance.a"].get("tainted") is not True
    tf.assert_no_changes()
    tf.destroy()
    assert list(tf.store.glob("*.json")) == []


def test_state_written_by_schema_v0_is_upgraded(tf):
    v0 = {"AQEMIA_CONFORMANCE_SCHEMA_VERSION": "0"}
    tf.write(PROVIDER_BLOCK + """
resource "aqemia_conformance" "a" {
  name  = "old"
  label = "kept"
}
""")
    tf.init()
    tf.apply(env=v0)
    tf.assert_no_changes(env=v0)
    assert tf.attrs("aqemia_conformance.a", env=v0)["label"] == "kept"

    tf.write(PROVIDER_BLOCK + """
resource "aqemia_conformance" "a" {
  name = "old"
  str  = "kept"
}
""")
    tf.assert_no_changes()
    tf.apply()
    raw = (tf.dir / "terraform.tfstate").read_text()
    assert '"schema_version": 1' in raw
    assert tf.attrs("aqemia_conformance.a")["str"] == "kept"
    tf.destroy()


def test_timeouts_and_defaults(tf):
    tf.write(PROVIDER_BLOCK + """
resource "aqemia_conformance" "a" {
  name = "timed"
  tier = "premium"
  timeouts {
    create = "1h30m"
    delete = "45s"
  }
}
""")
    tf.init()
    tf.apply()
    a = tf.attrs("aqemia_conformance.a")
    assert a["tier"] == "premium" and a["summary"] == "timed/premium"
    tf.assert_no_changes()


def test_destroy_plan_reaches_the_provider(tf):
    tf.write(PROVIDER_BLOCK + """
resource "aqemia_conformance" "a" {
  name = "keep-me"
  tier = "protected"
}
""")
    tf.init()
    tf.apply()
    proc = tf.run("plan", "-destroy", "-no-color", "-input=false")
    out = " ".join((proc.stdout + proc.stderr).split())
    assert "will be destroyed" in out
    if '"terraform_version":"1.0.' in tf.version.replace(" ", ""):
        # Terraform 1.0 plans destroys without asking the provider.
        assert "Protected object will be deleted" not in out
    else:
        assert "Protected object will be deleted" in out
    tf.destroy()
    assert list(tf.store.glob("*.json")) == []
