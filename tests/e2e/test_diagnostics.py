"""Bad input becomes a diagnostic that points at the attribute and says what would be right."""

from conftest import PROVIDER_BLOCK


def failing_validate(tf, body):
    tf.write(PROVIDER_BLOCK + body)
    tf.init()
    proc = tf.run("validate", "-no-color", ok=False)
    assert proc.returncode != 0, proc.stdout
    return flat(proc.stdout + proc.stderr)


def flat(text):
    """Terraform wraps long diagnostics; compare with single spaces."""
    return " ".join(text.split())


def test_invalid_name_points_at_the_attribute(tf):
    out = failing_validate(tf, """
resource "aqemia_conformance" "a" {
  name = "Bad_Name"
}
""")
    assert "Invalid value for name" in out
    assert 'name = "Bad_Name"' in out  # the source line Terraform underlines
    assert "lowercase letters, digits or hyphens" in out


def test_cross_attribute_rule(tf):
    out = failing_validate(tf, """
resource "aqemia_conformance" "a" {
  name = "ok"
  flag = true
}
""")
    assert "Missing str" in out and "str must be set when flag is true" in out


def test_nested_attribute_path(tf):
    out = failing_validate(tf, """
resource "aqemia_conformance" "a" {
  name = "ok"
  timeouts {
    create = "5 minutes"
  }
}
""")
    assert "Invalid value for create" in out
    assert 'create = "5 minutes"' in out
    assert "30m" in out


def test_negative_number(tf):
    out = failing_validate(tf, """
resource "aqemia_conformance" "a" {
  name = "ok"
  num  = -1
}
""")
    assert "Invalid value for num" in out and "num = -1" in out


def test_provider_configuration_is_checked(tf):
    tf.write(PROVIDER_BLOCK + """
provider "aqemia" {
  endpoints {
    eks = "localhost:5000"
  }
}

data "aqemia_conformance" "x" {
  input = "x"
}
""")
    tf.init()
    proc = tf.run("plan", "-no-color", "-input=false", ok=False)
    out = flat(proc.stdout + proc.stderr)
    assert proc.returncode != 0
    assert "Invalid value for eks" in out and "http://127.0.0.1:5000" in out


def test_deprecated_attribute_warns(tf):
    tf.write(PROVIDER_BLOCK + """
resource "aqemia_conformance" "a" {
  name   = "ok"
  legacy = "x"
}
""")
    tf.init()
    proc = tf.run("validate", "-no-color")
    assert "Argument legacy is deprecated" in flat(proc.stdout + proc.stderr)
