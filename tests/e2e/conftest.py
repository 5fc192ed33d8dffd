"""Harness for driving the real Terraform CLI against the real provider binary, offline.

The provider is installed into a per-test filesystem mirror (unpacked layout), so
`terraform init` works with no network, exactly as a user's offline install would.
Every test runs once per Terraform binary in AQEMIA_TERRAFORMS; a binary that is listed
but missing fails the run instead of being skipped.
"""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from aws import AwsStandin
from cloudflare import CloudflareStandin
from harness import Terraform, install_into_mirror, write_cli_config
from kube import TestBed


def _terraforms():
    listed = [p for p in re.split(r"[:,]", os.environ.get("AQEMIA_TERRAFORMS", "")) if p]
    if not listed:
        on_path = shutil.which("terraform")
        listed = [on_path] if on_path else []
    return listed


def pytest_generate_tests(metafunc):
    if "tf" in metafunc.fixturenames:
        binaries = _terraforms()
        ids = [Path(b).name for b in binaries]
        metafunc.parametrize("terraform_bin", binaries or ["<no terraform listed>"], ids=ids or ["none"], scope="session")


@pytest.fixture(scope="session")
def provider_bin():
    path = os.environ.get("AQEMIA_PROVIDER_BIN")
    assert path, "AQEMIA_PROVIDER_BIN must name the provider binary built with --features conformance"
    assert os.access(path, os.X_OK), f"provider binary {path} is missing or not executable"
    return Path(path).resolve()


@pytest.fixture(scope="session")
def kube():
    """The Kubernetes test bed (scripts/k8s-testbed.sh), started once per session."""
    bed = TestBed()
    yield bed
    bed.close()


@pytest.fixture(scope="session")
def aws(kube, tmp_path_factory):
    """The AWS stand-in (tests/e2e/aws.py), started once per session. Its EKS clusters report
    the test bed's API server as their endpoint, with the test bed's CA."""
    standin = AwsStandin(tmp_path_factory.mktemp("aws-standin"), kube=kube)
    yield standin
    standin.close()


@pytest.fixture(scope="session")
def cloudflare(tmp_path_factory):
    """The Cloudflare stand-in (tests/e2e/cloudflare.py), started once per session: our fake of
    the zones and DNS records API behind Prism, which checks every request and answer against
    Cloudflare's OpenAPI description. Point the provider at `url` with `token`."""
    standin = CloudflareStandin(tmp_path_factory.mktemp("cloudflare-standin"))
    yield standin
    standin.close()


@pytest.fixture
def cloudflare_clean(cloudflare):
    """`cloudflare` empty: no zone, record or fault an earlier test left, and a new `token`.
    A contract violation Prism reports during the test fails it, unless the test acknowledged
    it with `cloudflare.violations(clear=True)`."""
    cloudflare.reset()
    cloudflare.violations(clear=True)
    yield cloudflare
    violations = cloudflare.violations(clear=True)
    # Prism logs only the kind of a refusal; the client got the details (problem+json `validation`).
    assert not violations, f"Prism reported contract violations (log: {cloudflare.prism_log}):\n" + "\n".join(
        f"  {v['method'] or '-'} {v['path'] or '-'}: {v['kind']}: {v['message']}" for v in violations)


@pytest.fixture
def tf(tmp_path, provider_bin, terraform_bin):
    assert os.access(terraform_bin, os.X_OK), f"Terraform binary {terraform_bin} is listed but missing"
    mirror = tmp_path / "mirror"
    install_into_mirror(mirror, provider_bin)
    cli_config = write_cli_config(tmp_path / "cli.tfrc", mirror)
    store = tmp_path / "store"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path / "home"),
        "TMPDIR": os.environ.get("TMPDIR", "/tmp"),
        "TF_CLI_CONFIG_FILE": str(cli_config),
        "TF_IN_AUTOMATION": "1",
        "CHECKPOINT_DISABLE": "1",
        "AQEMIA_CONFORMANCE_STORE": str(store),
    }
    t = Terraform(terraform_bin, tmp_path / "work", env)
    t.store = store
    t.mirror = mirror
    t.version = subprocess.run([terraform_bin, "version", "-json"], capture_output=True, text=True, env=env).stdout
    return t


@pytest.fixture
def aws_tf(tf, aws):
    """`tf` with the AWS stand-in's endpoint, credentials and region in its environment, on an
    empty stand-in: every AWS object and fault rule an earlier test left is gone."""
    aws.follow_kube()
    aws.clear_faults()
    aws.reset()
    tf.env.update(aws.env)
    tf.aws = aws
    return tf


PROVIDER_BLOCK = """
terraform {
  required_providers {
    aqemia = { source = "aqemia/aqemia" }
  }
}
"""
