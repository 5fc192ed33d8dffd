"""The Cloudflare stand-in as the end-to-end tests use it: our stateful fake of the zones and
DNS records API (tests/standins/cloudflare_fake.py) behind `prism proxy --errors`, which serves
Cloudflare's own OpenAPI description (the DNS subset with its overlay, in
../shared/api-specs/cloudflare relative to the repository root).

Prism checks both directions: a request that breaks the contract is refused with 422 before it
reaches the fake, and a fake response that breaks it becomes a 500 `#VIOLATIONS`. Both land in
Prism's log, which `violations()` reads, so a test fails on a contract violation even when the
client swallowed the error. Point the provider at `url` (Prism) with `token`; the control API
(`add_zone`, `fail`, ...) talks to the fake directly, since it is not part of the contract.

Prism is installed by scripts/install-tools.sh from tests/standins/package-lock.json.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FAKE = ROOT / "tests" / "standins" / "cloudflare_fake.py"
CONTRACT = ROOT.parent / "shared" / "api-specs" / "cloudflare" / "dns-subset-2024-08-06.overlaid.json"
NODE = "Node >= 18.20.1 and npm (on Debian: apt-get install nodejs npm)"

# Prism's log, one line per event:
#   [4:58:01 AM] › [HTTP SERVER] get /zones ✖  error     Request terminated with error: https://stoplight.io/prism/errors#UNPROCESSABLE_ENTITY: Invalid request
#   [4:58:01 AM] ›     [VALIDATOR] ⚠  warning   Violation: response Unable to match the returned status code ...
_TERMINATED = re.compile(r"\[HTTP SERVER\] (\w+) (\S+) \S+\s+error\s+Request terminated with error: \S*#(\w+): (.*)$")
_VIOLATION = re.compile(r"\[VALIDATOR\] \S+\s+(\w+)\s+Violation: (.*)$")
# The document lists no 5XX answer, so Prism flags every 5xx: fine for the ones we inject.
_UNDOCUMENTED_STATUS = "Unable to match the returned status code"
# A path outside the contract: Prism answers it itself and logs it, which marks the log's end.
_SYNC = "/__prism_log_sync__/"


def tools_dir():
    return Path(os.environ.get("AQEMIA_TOOLS", ROOT / ".tools"))


def _complete_lines(path, offset):
    """What `path` holds after byte `offset`, up to its last complete line."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read()
    return data[:data.rfind(b"\n") + 1]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class CloudflareStandin:
    """Starts the fake and Prism in front of it on free loopback ports; `close` stops both.

    workdir: where the fake's request log and Prism's log go.

    url:             Prism's base URL, what the provider is pointed at (paths at the root:
                     {url}/zones, not {url}/client/v4/zones)
    token:           a valid API token (a bearer token), new after every `reset`
    fake_url:        the fake itself, for its control API
    startup_seconds: how long Prism took to start listening
    """

    def __init__(self, workdir, timeout=60):
        node = shutil.which("node")
        assert node, f"node is not on PATH: Prism, in front of the Cloudflare fake, needs {NODE}, then scripts/install-tools.sh"
        prism = tools_dir() / "prism" / "node_modules" / ".bin" / "prism"
        assert prism.exists(), f"Prism is not installed at {prism}: run scripts/install-tools.sh (it needs {NODE})"
        assert CONTRACT.is_file(), f"Cloudflare's API description {CONTRACT} is missing (expected at ../shared/api-specs from the repository root)"
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.fake_log = self.dir / "cloudflare-fake.jsonl"
        self.fake_err = self.dir / "cloudflare-fake.err"
        self.prism_log = self.dir / "prism.log"
        self._files = []
        self._procs = []
        self._prism_seen = 0  # byte offsets up to which violations were acknowledged
        self._fake_seen = 0
        self._syncs = 0
        try:
            fake = self._spawn([sys.executable, str(FAKE), "--port", "0"], self.fake_log, self.fake_err)
            listening = self._wait_for("the Cloudflare fake", fake, self.fake_log, re.compile(r"^listening (\S+)$", re.M), timeout)
            self.fake_url = f"http://{listening}"
            port = free_port()
            started = time.monotonic()
            prism_proc = self._spawn(
                [node, str(prism), "proxy", str(CONTRACT), self.fake_url, "-h", "127.0.0.1", "-p", str(port), "--errors"],
                self.prism_log, None)
            self._wait_for("Prism", prism_proc, self.prism_log, re.compile(r"Prism is listening on (\S+)"), timeout)
            self.startup_seconds = time.monotonic() - started
            self.url = f"http://127.0.0.1:{port}"
            self.reset()
        except BaseException:
            self.close()
            raise

    def _spawn(self, argv, out, err):
        out_file = open(out, "wb")
        self._files.append(out_file)
        err_file = out_file
        if err is not None:
            err_file = open(err, "wb")
            self._files.append(err_file)
        proc = subprocess.Popen(argv, stdout=out_file, stderr=err_file, stdin=subprocess.DEVNULL,
                                cwd=self.dir, start_new_session=True)
        self._procs.append(proc)
        return proc

    def _wait_for(self, what, proc, log, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = pattern.search(log.read_text(errors="replace"))
            if found:
                return found.group(1)
            if proc.poll() is not None:
                raise AssertionError(f"{what} exited with {proc.returncode}\n{self.log_tail()}")
            time.sleep(0.1)
        raise AssertionError(f"{what} did not start within {timeout} s\n{self.log_tail()}")

    # ---- control (on the fake, not through Prism) ------------------------------------------

    def _control(self, method, path, body=None):
        data = json.dumps(body if body is not None else {}).encode()
        req = urllib.request.Request(f"{self.fake_url}/__control/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise AssertionError(f"control {method} {path}: {e.code} {e.read().decode(errors='replace')}") from None

    def add_zone(self, name, visible=True):
        """Adds an active zone; `visible`: whether `token` sees it. Returns its id."""
        return self._control("POST", "zones", {"name": name, "tokens": [self.token] if visible else []})["id"]

    def add_token(self, zones=()):
        """Another valid token, seeing only the zones with these ids. Returns the token."""
        return self._control("POST", "tokens", {"zones": list(zones)})["token"]

    def records(self, zone_id):
        """The zone's DNS records, as the API would show them."""
        return self._control("GET", f"zones/{zone_id}/records")

    def change_record(self, zone_id, record_id, **fields):
        """Changes a record behind the provider's back (content, proxied, ttl, comment, tags),
        under the API's own rules (proxied still means ttl 1). Returns the record."""
        return self._control("PATCH", f"zones/{zone_id}/records/{record_id}", fields)

    def fail(self, status, count=1, retry_after=None, method=None, path_contains=None, code=None, message=None):
        """The next `count` API requests matching `method` and `path_contains` (a substring of
        the path and query) are answered with `status` (429 or 5xx) and the failure envelope;
        a 429 with `retry_after` also carries Retry-After. The envelope's error is `code` and
        `message`, by default 10000 and a message fitting the status (Cloudflare's own 429
        code, 971, is below the contract's minimum of 1000: Prism refuses it on /zones)."""
        self._control("POST", "faults", {"status": status, "count": count, "retry_after": retry_after,
                                         "method": method, "path_contains": path_contains,
                                         "code": code, "message": message})

    def clear_faults(self):
        self._control("DELETE", "faults")

    def reset(self):
        """Forgets every zone, record, token, fault and logged request; `token` is valid again
        (a new value) and sees no zone yet."""
        self._control("POST", "reset")
        self.token = self._control("POST", "tokens", {})["token"]

    def requests(self):
        """API requests the fake answered since the last reset, oldest first:
        {"method", "path" (with the query), "status", "auth" (an Authorization header came),
        "fault" (the answer was an injected fault)}. Requests Prism refused are not in here."""
        return self._control("GET", "requests")

    # ---- contract --------------------------------------------------------------------------

    def _sync_prism_log(self, timeout=10):
        """Waits until Prism has logged everything it answered so far: it logs its refusal of
        a path outside the contract after every earlier answer."""
        self._syncs += 1
        marker = f"{_SYNC}{self._syncs}"
        try:
            urllib.request.urlopen(f"{self.url}{marker}", timeout=timeout).close()
        except urllib.error.HTTPError:
            pass  # 404, as expected
        logged = re.compile(rf"{re.escape(marker)} .*Request terminated")
        deadline = time.monotonic() + timeout
        while not logged.search(_complete_lines(self.prism_log, self._prism_seen).decode(errors="replace")):
            assert time.monotonic() < deadline, f"Prism did not log {marker} within {timeout} s\n{self.log_tail()}"
            time.sleep(0.05)

    def violations(self, clear=False):
        """Every contract violation Prism reported since the last `violations(clear=True)`:
        requests it refused before they reached the fake (422 invalid request, 401 no
        credentials, 404 path or 405 method outside the contract), fake answers it turned
        into 500 `#VIOLATIONS`, and its warnings (what it sends as `sl-violations`). The 5xx
        the fake was told to inject (`fail`) are not violations, though the contract lists
        no 5xx. Each is {"method", "path", "kind", "message"}; method and path are None for
        warnings, which Prism logs without them. `clear=True` acknowledges them: expected
        violations, so the `cloudflare_clean` fixture does not fail the test."""
        self._sync_prism_log()
        prism = _complete_lines(self.prism_log, self._prism_seen)
        fake = _complete_lines(self.fake_log, self._fake_seen)
        injected_5xx = 0
        for line in fake.decode(errors="replace").splitlines():
            if line.startswith("{"):
                entry = json.loads(line)
                injected_5xx += entry["fault"] and entry["status"] >= 500
        found = []
        for line in prism.decode(errors="replace").splitlines():
            m = _TERMINATED.search(line)
            if m and not m.group(2).startswith(_SYNC):
                found.append({"method": m.group(1).upper(), "path": m.group(2), "kind": m.group(3),
                              "message": m.group(4)})
                continue
            m = _VIOLATION.search(line)
            if m:
                if _UNDOCUMENTED_STATUS in m.group(2) and injected_5xx > 0:
                    injected_5xx -= 1
                    continue
                found.append({"method": None, "path": None, "kind": m.group(1), "message": m.group(2)})
        if clear:
            self._prism_seen += len(prism)
            self._fake_seen += len(fake)
        return found

    def log_tail(self, lines=30):
        parts = []
        for path in (self.prism_log, self.fake_err):
            try:
                text = path.read_text(errors="replace")
            except OSError:
                continue
            parts.append(f"--- {path.name}\n" + "\n".join(text.splitlines()[-lines:]))
        return "\n".join(parts)

    # ---- life ------------------------------------------------------------------------------

    def close(self):
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
        for f in self._files:
            f.close()
