"""The binary itself: explains itself by hand, serves Terraform in debug mode."""

import json
import os
import re
import signal
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


def test_interrupt_is_left_to_terraform(provider_bin, tmp_path):
    """SIGINT reaches the whole process group; the provider must survive it mid-apply."""
    env = {
        "PATH": os.environ["PATH"],
        "TMPDIR": str(tmp_path),
        "TF_PLUGIN_MAGIC_COOKIE": "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        "PLUGIN_PROTOCOL_VERSIONS": "5,6",
        "PLUGIN_CLIENT_CERT": "-----BEGIN CERTIFICATE-----\n",
    }
    proc = subprocess.Popen([str(provider_bin)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline().strip()
        core, app, network, address, protocol, cert = line.split("|")
        assert (core, app, network, protocol) == ("1", "5", "unix", "grpc")
        assert os.path.exists(address)
        assert len(cert) > 50 and "=" not in cert  # base64 DER without padding
        proc.send_signal(signal.SIGINT)
        time.sleep(0.5)
        assert proc.poll() is None, "the provider died on SIGINT"
        # SIGTERM stops it cleanly: the socket and its private directory are gone.
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        assert not os.path.exists(os.path.dirname(address))
    finally:
        if proc.poll() is None:
            proc.kill()


def test_terraform_shuts_the_provider_down_gracefully(tf):
    tf.write(PROVIDER_BLOCK + """
data "aqemia_conformance" "x" {
  input = "graceful"
}
""")
    tf.init()
    proc = tf.run("plan", "-no-color", "-input=false", env={"TF_LOG": "debug"})
    log = proc.stderr
    assert "plugin exited" in log or "plugin process exited" in log, log[-3000:]
    assert "failed to exit gracefully" not in log
    assert "stdio service not available" not in log


def test_provider_logs_reach_terraform_at_the_level_asked(tf):
    """The provider logs through `tracing`, written as hclog JSON lines that Terraform re-logs.
    TF_LOG_PROVIDER sets the level; TF_LOG_PROVIDER_AQEMIA, which only the provider reads,
    overrides it, so its "off" proves the filter is the provider's own."""
    tf.write(PROVIDER_BLOCK + """
data "aqemia_conformance" "x" {
  input = "logged"
}
""")
    tf.init()
    served = re.compile(r"served ReadDataSource.*tf_resource_type=aqemia_conformance")

    debug = tf.run("plan", "-no-color", "-input=false", env={"TF_LOG_PROVIDER": "debug"}).stderr
    lines = [line for line in debug.splitlines() if served.search(line)]
    assert lines, debug[-3000:]
    assert "[DEBUG]" in lines[0] and "@module=provider.aqemia" in lines[0], lines[0]
    assert "received ReadDataSource" not in debug, "trace lines must stay out at debug level"

    trace = tf.run("plan", "-no-color", "-input=false", env={"TF_LOG_PROVIDER": "trace"}).stderr
    assert "received ReadDataSource" in trace, trace[-3000:]

    off = tf.run("plan", "-no-color", "-input=false", env={"TF_LOG": "debug", "TF_LOG_PROVIDER_AQEMIA": "off"}).stderr
    assert "plugin" in off, "TF_LOG=debug must still show Terraform's own lines"
    assert not served.search(off), off[-3000:]
