"""The Kubernetes test bed (scripts/k8s-testbed.sh) as the end-to-end tests use it: a real
kube-apiserver with etcd, the controller manager, the scheduler and kwok's fake nodes."""

import json
import re
import subprocess
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "k8s-testbed.sh"


class TestBed:
    """Uses a running test bed as it is and leaves it running; otherwise starts one (building
    it first if needed: about 15 minutes cold, seconds cached) and `close` stops it."""

    def __init__(self):
        self.started = subprocess.run([str(SCRIPT), "status"], capture_output=True).returncode != 0
        proc = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=3600)
        assert proc.returncode == 0, f"k8s-testbed.sh start failed\n{proc.stdout}\n{proc.stderr}"
        exports = dict(re.findall(r"^export (\w+)=(.*)$", proc.stdout, re.M))
        assert "KUBECONFIG" in exports, f"k8s-testbed.sh start printed no KUBECONFIG\n{proc.stdout}"
        self.kubeconfig = _unquote(exports["KUBECONFIG"])
        self.bin = Path(_unquote(exports["PATH"].split(":")[0]))
        self.context = "aqemia-testbed"

    def close(self):
        if self.started:
            subprocess.run([str(SCRIPT), "stop"], check=True, capture_output=True)

    def kubectl(self, *args, ok=True, input=None):
        proc = subprocess.run(
            [str(self.bin / "kubectl"), "--kubeconfig", self.kubeconfig, *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=180,
        )
        if ok:
            assert proc.returncode == 0, f"kubectl {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        return proc

    def get(self, kind, name, namespace=None):
        """The object as JSON, or None when it does not exist."""
        args = ["get", kind, name, "-o", "json", "--show-managed-fields"] + (["-n", namespace] if namespace else [])
        proc = self.kubectl(*args, ok=False)
        if proc.returncode != 0:
            # The object is gone, or its whole kind is (its CRD was deleted).
            gone = ("NotFound", "not found", "doesn't have a resource type")
            assert any(g in proc.stderr for g in gone), proc.stderr
            return None
        return json.loads(proc.stdout)

    def cluster_hcl(self):
        return f'{{ kubeconfig_path = "{self.kubeconfig}", context = "{self.context}" }}'


def _unquote(value):
    # `printf %q` output: quoted only when needed.
    return value.strip().strip("'").replace("\\ ", " ")


def unique_namespace(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
