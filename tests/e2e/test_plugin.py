"""The binary itself: explains itself by hand, serves Terraform in debug mode."""

import json
import os
import re
import subprocess
import time

from conftest import PROVIDER_BLOCK


def test_started_by_hand_it_explains_itself(provider_bin):
    proc = subprocess.run([str(provider_bin)], capture_output=True, text=True, timeout=30, env={"PATH": os.environ["PATH"]})
    assert proc.returncode == 1
    assert "This binary is a plugin" in proc.stderr
    assert proc.stdout == ""


def test_version(provider_bin):
    proc = subprocess.run([str(provider_bin), "--version"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    assert re.match(r"terraform-provider-aqemia \d+\.\d+\.\d+ \(plugin protocol 5", proc.stdout)


def test_debug_mode_serves_reattached_terraform(tf, provider_bin):
    env = dict(tf.env)
    server = subprocess.Popen([str(provider_bin), "--debug"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        reattach = None
        deadline = time.time() + 30
        while time.time() < deadline and reattach is None:
            line = server.stdout.readline()
            m = re.search(r"TF_REATTACH_PROVIDERS='(.*)'", line)
            if m:
                reattach = m.group(1)
        assert reattach, "debug mode printed no TF_REATTACH_PROVIDERS"
        parsed = json.loads(reattach)
        assert parsed["registry.terraform.io/aqemia/aqemia"]["Pid"] == server.pid

        tf.write(PROVIDER_BLOCK + """
data "aqemia_conformance" "x" {
  input = "debug"
}
""")
        # Reattached providers need no init; two commands share the one process.
        run_env = {"TF_REATTACH_PROVIDERS": reattach}
        tf.run("plan", "-no-color", "-input=false", env=run_env)
        tf.run("apply", "-auto-approve", "-no-color", "-input=false", env=run_env)
        assert tf.attrs("data.aqemia_conformance.x", env=run_env)["upper"] == "DEBUG"
        assert server.poll() is None, "the debug provider must outlive Terraform's commands"
    finally:
        server.terminate()
        server.wait(timeout=10)
