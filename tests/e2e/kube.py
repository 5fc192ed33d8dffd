"""The Kubernetes test bed (scripts/k8s-testbed.sh) as the end-to-end tests use it: a real
kube-apiserver with etcd, the controller manager, the scheduler and kwok's fake nodes, and a
stand-in for the AWS Load Balancer Controller (scripts/testbed/lb-standin)."""

import contextlib
import fcntl
import json
import os
import re
import subprocess
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "k8s-testbed.sh"
# Where k8s-testbed.sh keeps its pid files and logs.
RUN = Path(os.environ.get("AQEMIA_TOOLS", ROOT / ".tools")).resolve() / "k8s" / "run"
# The kube-system ConfigMap that points scripts/testbed/lb-standin at an AWS stand-in.
LB_STANDIN_CONFIG = "aqemia-lb-standin"


class TestBed:
    """Uses a running test bed as it is and leaves it running; otherwise starts one (building
    it first if needed: about 15 minutes cold, seconds cached) and `close` stops it.

    Several processes (test sessions, benchmarks) may use the one test bed at once. Each
    registers in run/users/ while it does, and one that started the test bed does not stop it
    under another: the last to leave stops it instead."""

    def __init__(self):
        self._users = RUN / "users"
        self._users.mkdir(parents=True, exist_ok=True)
        # Registered before starting, so a session that is closing meanwhile sees a user.
        self._me = self._users / str(os.getpid())
        self._me.touch()
        self.started = subprocess.run([str(SCRIPT), "status"], capture_output=True).returncode != 0
        proc = subprocess.run([str(SCRIPT), "start"], capture_output=True, text=True, timeout=3600)
        assert proc.returncode == 0, f"k8s-testbed.sh start failed\n{proc.stdout}\n{proc.stderr}"
        exports = dict(re.findall(r"^export (\w+)=(.*)$", proc.stdout, re.M))
        assert "KUBECONFIG" in exports, f"k8s-testbed.sh start printed no KUBECONFIG\n{proc.stdout}"
        self.kubeconfig = _unquote(exports["KUBECONFIG"])
        self.bin = Path(_unquote(exports["PATH"].split(":")[0]))
        self.context = "aqemia-testbed"
        if self.started:
            with self._locked():
                # Names the instance this session started: a marker left for another instance
                # (a later start by hand) must not stop that one.
                (self._users / "stop-when-unused").write_text(_instance())

    def close(self):
        with self._locked():
            self._me.unlink(missing_ok=True)
            marker = self._users / "stop-when-unused"
            ours = marker.exists() and marker.read_text() == _instance()
            if not (self.started or ours):
                return
            if self._others():
                marker.write_text(_instance())  # the last user stops it
                return
            marker.unlink(missing_ok=True)
            subprocess.run([str(SCRIPT), "stop"], check=True, capture_output=True)

    @contextlib.contextmanager
    def _locked(self):
        with open(self._users / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _others(self):
        """Whether another live process uses the test bed (stale registrations are dropped)."""
        others = False
        for entry in self._users.iterdir():
            if not entry.name.isdigit() or entry == self._me:
                continue
            try:
                os.kill(int(entry.name), 0)
                others = True
            except ProcessLookupError:
                entry.unlink(missing_ok=True)
            except PermissionError:
                others = True
        return others

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

    def lb_hostname(self, namespace, name, timeout=30):
        """The hostname Service `name` was given (scripts/testbed/lb-standin does it for type
        LoadBalancer), waiting up to `timeout` seconds for one; None if it has none by then."""
        jsonpath = "{.status.loadBalancer.ingress[0].hostname}"
        proc = self.kubectl("-n", namespace, "wait", f"--for=jsonpath={jsonpath}", f"--timeout={timeout}s", f"service/{name}", ok=False)
        if proc.returncode != 0:
            # "timed out waiting", or "condition not met" when timeout is 0
            assert "timed out" in proc.stderr or "not met" in proc.stderr, proc.stderr
            return None
        return self.kubectl("-n", namespace, "get", "service", name, "-o", f"jsonpath={jsonpath}").stdout

    @contextlib.contextmanager
    def lb_standin_in_aws(self, aws, cluster):
        """Within it, each Service of type LoadBalancer that scripts/testbed/lb-standin gives a
        hostname gets a network load balancer in the AWS stand-in `aws` (aws.AwsStandin), in the
        subnets of EKS cluster `cluster` there, and the hostname is its DNS name. A load balancer
        goes with its Service, after the context too. The test bed has one such setting at a
        time: entering fails while another context holds it."""
        configmap = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": LB_STANDIN_CONFIG, "namespace": "kube-system"},
            "data": {"aws_endpoint": aws.env["AWS_ENDPOINT_URL"], "region": aws.env["AWS_REGION"], "cluster": cluster},
        }
        self.kubectl("create", "-f", "-", input=json.dumps(configmap))
        try:
            yield
        finally:
            self.kubectl("-n", "kube-system", "delete", "configmap", LB_STANDIN_CONFIG, "--ignore-not-found")

    def cluster_hcl(self):
        return f'{{ kubeconfig_path = "{self.kubeconfig}", context = "{self.context}" }}'


def _instance():
    """The running test bed's identity: its kube-apiserver's pid ("" when none is recorded)."""
    try:
        return (RUN / "kube-apiserver.pid").read_text().strip()
    except OSError:
        return ""


def _unquote(value):
    # `printf %q` output: quoted only when needed.
    return value.strip().strip("'").replace("\\ ", " ")


def unique_namespace(prefix="t"):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
