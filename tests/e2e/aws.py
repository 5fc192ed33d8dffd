"""The AWS stand-in as the end-to-end tests use it: moto's server behind the project's
wrapper (../shared/standins/aws_standin.py, relative to the repository root), which adds
fault injection and fills moto's EKS gaps.

The stand-in reports the Kubernetes test bed's API server as every EKS cluster's endpoint,
with the test bed's CA as the cluster's certificate authority, so a check that "the cluster's
API server answers" is a real TLS request to a real kube-apiserver.
"""

import base64
import collections
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[2]
STANDIN = Path(os.environ.get("AQEMIA_AWS_STANDIN", ROOT.parent / "shared" / "standins" / "aws_standin.py"))
REGION = "eu-west-1"
ACCOUNT = "123456789012"

# One line per request served, in werkzeug's request log: "METHOD /path HTTP/1.1" STATUS
_REQUEST_LINE = re.compile(r'"([A-Z]+) (\S+) HTTP/[\d.]+" (\d{3}) ')
# The SigV4 credential scope names the service: Credential=AKID/20261130/eu-west-1/ec2/aws4_request
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# werkzeug colours the request line of 4xx and 5xx answers
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def venv_python():
    """The tools venv's Python (scripts/install-tools.sh), where moto[server] is installed."""
    tools = Path(os.environ.get("AQEMIA_TOOLS", ROOT / ".tools"))
    candidate = tools / "venv" / "bin" / "python"
    return str(candidate) if candidate.exists() else sys.executable


def kube_endpoint(kubeconfig):
    """The API server URL and CA (PEM bytes) of the kubeconfig's first cluster."""
    text = Path(kubeconfig).read_text()
    server = re.search(r"^\s*server:\s*(\S+)\s*$", text, re.M)
    ca = re.search(r"^\s*certificate-authority-data:\s*(\S+)\s*$", text, re.M)
    assert server and ca, f"{kubeconfig} names no server or no certificate-authority-data"
    return server.group(1), base64.b64decode(ca.group(1))


class AwsStandin:
    """Starts the stand-in on a free loopback port and stops it on `close`.

    workdir: where its log, its request recording and the CA file go.
    kube:    the Kubernetes test bed (kube.TestBed); without it clusters report moto's
             unreachable endpoint and a made-up CA.
    """

    def __init__(self, workdir, kube=None, eks_polls=2, python=None, timeout=60):
        assert STANDIN.is_file(), f"the AWS stand-in {STANDIN} is missing (expected at ../shared/standins from the repository root)"
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.log_path = self.dir / "aws-standin.log"
        # moto's request recorder: one JSON line per request that reached moto, with its
        # headers, so calls can be counted per service.
        self.recording = self.dir / "aws-requests.jsonl"
        self.kube = kube
        self._eks_polls = eks_polls
        self._python = python or venv_python()
        self._timeout = timeout
        self._start()

    def _start(self):
        self.recording.unlink(missing_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_", "STANDIN_"))}
        env.update({
            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
            "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
            "MOTO_ENABLE_RECORDING": "true",
            "MOTO_RECORDER_FILEPATH": str(self.recording),
            "STANDIN_EKS_POLLS": str(self._eks_polls),
            "PYTHONUNBUFFERED": "1",
        })
        self.kube_server = None
        self.kube_ca = None
        if self.kube is not None:
            self.kube_server, self.kube_ca = kube_endpoint(self.kube.kubeconfig)
            ca_file = self.dir / "eks-ca.crt"
            ca_file.write_bytes(self.kube_ca)
            env["STANDIN_EKS_ENDPOINT"] = self.kube_server
            env["STANDIN_EKS_CA_FILE"] = str(ca_file)
        self._log = open(self.log_path, "wb")
        # Port 0: the wrapper binds a free port and prints it, so no two sessions collide.
        self.proc = subprocess.Popen(
            [self._python, str(STANDIN), "--host", "127.0.0.1", "--port", "0"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=self.dir,
            env=env,
            start_new_session=True,
        )
        try:
            self.url = self._wait_ready(self._timeout)
        except BaseException:
            self.close()
            raise
        self.env = {
            "AWS_ENDPOINT_URL": self.url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
        }

    def follow_kube(self):
        """Restarts the stand-in (empty, on a new port) when the test bed's API server is no
        longer the one it reports as every cluster's endpoint: the test bed is shared, and
        another session may have restarted it on new ports. Returns whether it restarted."""
        if self.kube is None or kube_endpoint(self.kube.kubeconfig) == (self.kube_server, self.kube_ca):
            return False
        self.close()
        self._start()
        return True

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        url = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the AWS stand-in exited with {self.proc.returncode}\n{self.log_tail()}")
            if url is None:
                found = re.findall(r"listening on (http://127\.0\.0\.1:\d+)", self.log_path.read_text(errors="replace"))
                url = found[-1] if found else None
            if url is not None:
                try:
                    with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=5) as resp:
                        if resp.status == 200:
                            return url
                except (urllib.error.URLError, OSError):
                    pass
            time.sleep(0.2)
        raise AssertionError(f"the AWS stand-in did not answer within {timeout} s\n{self.log_tail()}")

    # ---- control --------------------------------------------------------------------------

    def _control(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw.strip().startswith((b"{", b"[")) else raw

    def fault(self, **rule):
        """Adds a fault rule, e.g. fault(service="ec2", action="CreateVpc", status=503, count=2).
        Keys: service, action, status, code, message, count (-1 = until cleared), delay_ms."""
        return self._control("POST", "/_fault/add", rule)

    def clear_faults(self):
        """Drops every rule and the record of hits."""
        self._control("POST", "/_fault/clear")

    def rules(self):
        return self._control("GET", "/_fault/list")["rules"]

    def hits(self):
        """Every request a fault was injected into, oldest first:
        {"service", "action", "route", "status", "code"}."""
        return self._control("GET", "/_fault/list")["hits"]

    def reset(self):
        """Forgets every AWS object (moto's reset; the wrapper's EKS phases go too)."""
        self._control("POST", "/moto-api/reset")

    # ---- clients ---------------------------------------------------------------------------

    def client(self, service):
        import boto3
        from botocore.config import Config

        config = Config(
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=10,
            read_timeout=60,
            s3={"addressing_style": "path"},
        )
        return boto3.client(
            service,
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=config,
        )

    # ---- accounting ------------------------------------------------------------------------

    def request_count(self):
        """Requests the stand-in served so far (AWS calls, injected faults included; its own
        /moto-api/ and /_fault/ control requests excluded)."""
        count = 0
        for method, path, _status in _REQUEST_LINE.findall(_ANSI.sub("", self.log_path.read_text(errors="replace"))):
            if not path.startswith(("/moto-api/", "/_fault/")):
                count += 1
        return count

    def requests_by_service(self):
        """Calls that reached moto so far, per signing service name (ec2, iam, eks, ...), from
        moto's request recorder. Injected faults never reach moto and are not in here."""
        counts = collections.Counter()
        if not self.recording.exists():
            return counts
        with open(self.recording, errors="replace") as f:
            for line in f:
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if urlparse(entry.get("url", "")).path.startswith("/moto-api/"):
                    continue
                headers = {k.lower(): v for k, v in (entry.get("headers") or {}).items()}
                m = _SCOPE.search(headers.get("authorization", ""))
                counts[m.group(1) if m else "unsigned"] += 1
        return counts

    def log_tail(self, lines=40):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    # ---- life ------------------------------------------------------------------------------

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()
