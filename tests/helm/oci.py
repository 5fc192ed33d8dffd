"""An OCI registry on loopback for tests/helm/test_oci.py, and an auth front before it.

    Registry    the CNCF Distribution registry (`.tools/bin/registry`, built by
                scripts/install-tools.sh) on 127.0.0.1, storage in a temp dir, no auth
    AuthFront   a Python HTTP server on 127.0.0.1 that speaks the registry token flow and
                forwards authorized requests to a Registry; it counts what it was asked for
                and can corrupt blob bodies
    publish     packages corpus charts at given versions (`helm package`) and pushes them with
                the real `helm push ... --plain-http`, straight to the registry

Token flow as the front implements it (the Docker / OCI distribution token scheme):

    GET /v2/...                    no `Authorization: Bearer <token>` granting the request:
                                   401, WWW-Authenticate: Bearer realm="http://HOST/token",
                                   service="aqemia-test",scope="repository:<repo>:pull"
                                   (`pull,push` for other methods than GET/HEAD; no scope for
                                   /v2/ itself)
    GET /token?service=S&scope=X   200 {"token": T, "access_token": T, "expires_in": 300}
                                   (scope may repeat or be space-separated); with a username
                                   and password configured, only with that HTTP Basic auth,
                                   else 401 with WWW-Authenticate: Basic realm="aqemia-test"

A token grants the scopes it was asked for, nothing else: any valid token opens /v2/, a
request for a repository needs a token with that repository's scope (so a client must
answer each new challenge rather than reuse the token it got for /v2/).

Everything here is plain functions and classes; the pytest fixtures live in test_oci.py.
"""

import base64
import collections
import hashlib
import http.client
import http.server
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CHARTS = HERE / "charts"
SERVICE = "aqemia-test"
CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


def registry_binary():
    """$AQEMIA_REGISTRY, else <repo>/.tools/bin/registry; None when neither is executable."""
    path = os.environ.get("AQEMIA_REGISTRY") or str(REPO / ".tools" / "bin" / "registry")
    return Path(path) if os.path.isfile(path) and os.access(path, os.X_OK) else None


def free_port():
    """A port that was free a moment ago (the caller retries if someone takes it meanwhile)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(host, path, headers=None, timeout=10):
    """(status, headers, body) of a plain GET to host ("127.0.0.1:PORT")."""
    conn = http.client.HTTPConnection(host, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------


def _die_with_parent():
    """In the child before exec: SIGTERM when the test process dies without stopping it."""
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass

REGISTRY_CONFIG = """\
version: 0.1
log:
  level: info
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: {root}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:{port}
  secret: aqemia-test-not-a-secret
"""


class Registry:
    """`registry serve` on 127.0.0.1 with a free port, storage and log under workdir.

    start() returns once /v2/ answers 200 from this very process; stop() ends it."""

    def __init__(self, binary, workdir, start_timeout=30):
        self.binary = Path(binary)
        self.workdir = Path(workdir)
        self.start_timeout = start_timeout
        self.proc = None
        self.port = None
        self.log = self.workdir / "registry.log"

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    def start(self, attempts=3):
        self.workdir.mkdir(parents=True, exist_ok=True)
        errors = []
        for _ in range(attempts):
            port = free_port()
            config = self.workdir / "config.yml"
            config.write_text(REGISTRY_CONFIG.format(root=self.workdir / "storage", port=port))
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen([str(self.binary), "serve", str(config)], stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=log, preexec_fn=_die_with_parent)
            self.port = port
            why = self._wait_ready()
            if why is None:
                return self
            errors.append(f"port {port}: {why}")
            self.stop()
        tail = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        raise RuntimeError("the registry did not start: " + "; ".join(errors) + "\nlog tail:\n" + tail)

    def _wait_ready(self):
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return f"exited with {self.proc.returncode}"
            try:
                status, headers, _ = http_get(self.host, "/v2/", timeout=2)
            except OSError:
                time.sleep(0.05)
                continue
            # Another server on a port taken meanwhile would not say this.
            if status == 200 and headers.get("Docker-Distribution-Api-Version") == "registry/2.0":
                return None if self.proc.poll() is None else f"exited with {self.proc.returncode}"
            return f"/v2/ answered {status} {dict(headers)}"
        return f"/v2/ did not answer within {self.start_timeout} s"

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def manifest(self, repository, reference):
        """The OCI image manifest of repository:reference, as a dict."""
        status, _, body = http_get(self.host, f"/v2/{repository}/manifests/{reference}", {"Accept": MANIFEST})
        if status != 200:
            raise RuntimeError(f"manifest {repository}:{reference}: HTTP {status}: {body[:200]!r}")
        return json.loads(body)

    def chart_layer_digest(self, repository, reference):
        """Digest (`sha256:...`) of the chart archive layer of repository:reference."""
        layers = [l for l in self.manifest(repository, reference)["layers"] if l["mediaType"] == CHART_LAYER]
        if len(layers) != 1:
            raise RuntimeError(f"{repository}:{reference} has {len(layers)} chart layers")
        return layers[0]["digest"]

    def tags(self, repository):
        status, _, body = http_get(self.host, f"/v2/{repository}/tags/list")
        if status != 200:
            raise RuntimeError(f"tags of {repository}: HTTP {status}: {body[:200]!r}")
        return json.loads(body)["tags"]


# ---------------------------------------------------------------------------------------------
# Charts into the registry
# ---------------------------------------------------------------------------------------------


def package(helm, helm_env, name, version, workdir):
    """`helm package` of corpus chart `name` with its Chart.yaml version set to `version`;
    returns the archive's path."""
    workdir = Path(workdir)
    src = workdir / f"{name}-{version}" / name
    shutil.rmtree(src.parent, ignore_errors=True)
    shutil.copytree(CHARTS / name, src)
    meta = yaml.safe_load((src / "Chart.yaml").read_text())
    meta["version"] = version
    (src / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    out = workdir / "archives"
    out.mkdir(exist_ok=True)
    subprocess.run([str(helm), "package", str(src), "-d", str(out)], env=helm_env, check=True,
                   capture_output=True, timeout=120)
    return out / f"{name}-{version}.tgz"


def push(helm, helm_env, archive, registry_host, namespace="charts"):
    """`helm push ARCHIVE oci://HOST/NAMESPACE --plain-http`; returns the manifest digest helm
    reports."""
    p = subprocess.run([str(helm), "push", str(archive), f"oci://{registry_host}/{namespace}", "--plain-http"],
                       env=helm_env, capture_output=True, timeout=120)
    text = (p.stdout + p.stderr).decode("utf-8", "replace")
    if p.returncode != 0:
        raise RuntimeError(f"helm push {archive.name} failed (exit {p.returncode}):\n{text}")
    m = re.search(r"^Digest: (sha256:[0-9a-f]{64})$", text, re.M)
    return m.group(1) if m else None


def publish(helm, helm_env, registry, charts, workdir, namespace="charts"):
    """Packages and pushes every (name, version) of `charts`; returns {(name, version): tgz}."""
    archives = {}
    for name, version in charts:
        archive = package(helm, helm_env, name, version, workdir)
        push(helm, helm_env, archive, registry.host, namespace)
        archives[(name, version)] = archive
    return archives


def tag_of(version):
    """The tag Helm pushes a chart version under: OCI tags cannot hold `+`, so `_`."""
    return version.replace("+", "_")


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------------------------
# The auth front
# ---------------------------------------------------------------------------------------------

# Headers that belong to one connection and are not forwarded (RFC 9110 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "proxy-connection"}
# /v2/<repository>/<kind>/...: the repository is everything before the last of these.
_REPO_PATH = re.compile(r"^/v2/(.+?)/(manifests|blobs|tags|referrers)(/.*)?$")
_BLOB_PATH = re.compile(r"^/v2/.+/blobs/(sha256:[0-9a-f]{64})$")


class AuthFront:
    """Token-flow auth before a Registry, on 127.0.0.1 with a free port.

    username/password: when set, /token wants that HTTP Basic auth; else tokens are given to
    anyone (anonymous pull, as public registries do).

    Observations (all guarded by a lock, read them with the methods):
      counts      collections.Counter of request paths (query left out), /token included
      log         (method, path-with-query, status) of every request, in order
      token_requests  dicts with the query (service, scopes) and whether Basic auth came

    corrupt_blobs: False (default), True (every blob GET answered 200 gets one byte of its
    body flipped) or a set of digests (only those blobs)."""

    def __init__(self, registry, username=None, password=None, service=SERVICE):
        self.registry = registry
        self.username = username
        self.password = password
        self.service = service
        self.corrupt_blobs = False
        self.tokens = {}  # token -> frozenset of granted scope strings
        self.counts = collections.Counter()
        self.log = []
        self.token_requests = []
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self):
        front = self

        class Handler(_FrontHandler):
            pass

        Handler.front = front
        self.server = _QuietServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, name="auth-front", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(timeout=10)
            self.server = None

    @property
    def port(self):
        return self.server.server_address[1]

    @property
    def host(self):
        return f"127.0.0.1:{self.port}"

    @property
    def realm(self):
        return f"http://{self.host}/token"

    # -- observations ----------------------------------------------------------------------

    def count(self, path):
        with self.lock:
            return self.counts[path]

    def blob_counts(self, repository=None):
        """{digest: number of GETs and HEADs} of blob paths (of one repository if given)."""
        out = collections.Counter()
        with self.lock:
            for path, n in self.counts.items():
                m = _BLOB_PATH.match(path)
                if m and (repository is None or path.startswith(f"/v2/{repository}/blobs/")):
                    out[m.group(1)] += n
        return out

    def requests(self, method=None):
        with self.lock:
            return [r for r in self.log if method is None or r[0] == method]

    def reset(self):
        with self.lock:
            self.counts.clear()
            self.log.clear()
            self.token_requests.clear()

    def describe(self):
        """The request log, one per line, for assertion messages."""
        with self.lock:
            return "\n".join(f"  {m} {p} -> {s}" for m, p, s in self.log) or "  (no request)"

    # -- decisions (called by the handler) -------------------------------------------------

    def _record(self, method, target, status):
        with self.lock:
            self.counts[urllib.parse.urlsplit(target).path] += 1
            self.log.append((method, target, status))

    def _basic_ok(self, header):
        if self.username is None:
            return True
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.username) and secrets.compare_digest(password, self.password or "")

    def _issue(self, scopes):
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.tokens[token] = frozenset(scopes)
        return token

    def _granted(self, header, needed):
        """Whether `Authorization: header` carries a token granting scope `needed` (None: any
        valid token)."""
        if not header or not header.startswith("Bearer "):
            return False
        with self.lock:
            scopes = self.tokens.get(header[7:].strip())
        if scopes is None:
            return False
        if needed is None:
            return True
        _, repo, actions = needed.split(":", 2)
        have = set()
        for s in scopes:
            parts = s.split(":")
            if len(parts) >= 3 and parts[0] == "repository" and ":".join(parts[1:-1]) == repo:
                have |= set(parts[-1].split(","))
        return set(actions.split(",")) <= have or "*" in have

    @staticmethod
    def scope_for(method, path):
        """The scope a request needs: None for /v2/, else repository:<repo>:pull (pull,push
        when it writes)."""
        m = _REPO_PATH.match(path)
        if not m:
            return None
        actions = "pull" if method in ("GET", "HEAD") else "pull,push"
        return f"repository:{m.group(1)}:{actions}"

    def challenge(self, scope):
        value = f'Bearer realm="{self.realm}",service="{self.service}"'
        if scope:
            value += f',scope="{scope}"'
        return value

    def _corrupts(self, method, path, status):
        if method != "GET" or status != 200 or not self.corrupt_blobs:
            return False
        m = _BLOB_PATH.match(path)
        if not m:
            return False
        return self.corrupt_blobs is True or m.group(1) in self.corrupt_blobs


class _QuietServer(http.server.ThreadingHTTPServer):
    """Clients close idle keep-alive connections with a reset: not worth a traceback."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            super().handle_error(request, client_address)


class _FrontHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    front: AuthFront = None

    def log_message(self, *args):
        pass

    def do_GET(self):
        self._handle()

    do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    # -- plumbing --------------------------------------------------------------------------

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(body)
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status, body=b"", headers=()):
        target = self.path
        self.front._record(self.command, target, status)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status, obj, headers=()):
        self._reply(status, json.dumps(obj).encode(), [("Content-Type", "application/json"), *headers])

    # -- routes ----------------------------------------------------------------------------

    def _handle(self):
        front = self.front
        url = urllib.parse.urlsplit(self.path)
        body = self._read_body()
        if url.path == "/token":
            return self._token(url)
        if url.path == "/v2" or url.path.startswith("/v2/"):
            scope = front.scope_for(self.command, url.path)
            if not front._granted(self.headers.get("Authorization"), scope):
                return self._json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "authentication required",
                                                    "detail": scope}]},
                                  [("WWW-Authenticate", front.challenge(scope)),
                                   ("Docker-Distribution-Api-Version", "registry/2.0")])
            return self._forward(url, body)
        return self._json(404, {"errors": [{"code": "NOT_FOUND", "message": f"no route {url.path}"}]})

    def _token(self, url):
        front = self.front
        query = urllib.parse.parse_qs(url.query)
        scopes = [s for value in query.get("scope", []) for s in value.split()]
        basic = self.headers.get("Authorization", "")
        with front.lock:
            front.token_requests.append({"service": query.get("service", [None])[0], "scopes": scopes,
                                         "basic": basic.startswith("Basic ")})
        if self.command not in ("GET", "HEAD"):
            return self._json(405, {"errors": [{"code": "UNSUPPORTED", "message": "GET /token only"}]})
        if not front._basic_ok(basic):
            return self._json(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                              [("WWW-Authenticate", f'Basic realm="{front.service}"')])
        token = front._issue(scopes)
        self._json(200, {"token": token, "access_token": token, "expires_in": 300})

    def _forward(self, url, body):
        front = self.front
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP_BY_HOP and k.lower() not in ("authorization", "content-length", "expect")}
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(front.registry.host, timeout=60)
        try:
            # The Host header goes as received, so the Locations the registry builds (upload
            # URLs) name the front.
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v)
            conn.endheaders(body or None)
            resp = conn.getresponse()
            corrupt = front._corrupts(self.command, url.path, resp.status)
            front._record(self.command, self.path, resp.status)
            self.send_response(resp.status)
            length = resp.getheader("Content-Length")
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            if self.command == "HEAD" or length is not None:
                # Stream it: the length is known (or there is no body).
                if length is not None:
                    self.send_header("Content-Length", length)
                self.end_headers()
                if self.command != "HEAD":
                    self._copy(resp, int(length), corrupt)
            else:
                data = resp.read()
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(_flip(data) if corrupt else data)
        finally:
            conn.close()

    def _copy(self, resp, length, corrupt):
        """Copies `length` bytes of resp to the client; with `corrupt`, the byte in the middle
        is flipped on the way."""
        middle = length // 2
        done = 0
        while done < length:
            chunk = resp.read(min(65536, length - done))
            if not chunk:
                break
            if corrupt and done <= middle < done + len(chunk):
                i = middle - done
                chunk = chunk[:i] + bytes([chunk[i] ^ 0xFF]) + chunk[i + 1:]
            self.wfile.write(chunk)
            done += len(chunk)


def _flip(data):
    if not data:
        return data
    i = len(data) // 2
    return data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
