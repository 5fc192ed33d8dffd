"""Differential harness: the provider's chart renderer against the real `helm template`.

Both binaries get the same chart and the same flags; stdout must be byte-identical and both
must agree on success. On an error both must exit non-zero with nothing on stdout, and our
stderr must contain helm's error key (see `error_key`).

Fixtures:
  helm     the Helm binary: $AQEMIA_HELM, else <repo>/.tools/bin/helm (scripts/install-tools.sh)
  aqemia   the provider binary: $AQEMIA_PROVIDER_BIN (required, no default)
  differ   a Differ that renders a chart with both and explains any difference
"""

import difflib
import os
import re
import shlex
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DIFF_LINES = 80
TIMEOUT = 120


@pytest.fixture(scope="session")
def helm():
    path = os.environ.get("AQEMIA_HELM") or str(REPO / ".tools" / "bin" / "helm")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(
            f"helm not found at {path}: run scripts/install-tools.sh (it builds Helm from the Go "
            "module proxy into .tools/bin/helm) or point AQEMIA_HELM at a helm v4 binary",
            pytrace=False,
        )
    return Path(path)


@pytest.fixture(scope="session")
def aqemia():
    path = os.environ.get("AQEMIA_PROVIDER_BIN")
    if not path:
        pytest.fail(
            "AQEMIA_PROVIDER_BIN is not set: it must name the provider binary, whose "
            "`template [--namespace NS] [--values FILE]... [--set K=V]... RELEASE CHART` "
            "is compared with `helm template`",
            pytrace=False,
        )
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"AQEMIA_PROVIDER_BIN={path} is missing or not executable", pytrace=False)
    return Path(path).resolve()


@pytest.fixture(scope="session")
def helm_env(tmp_path_factory):
    """Environment for helm: throwaway HELM_*_HOME dirs, so no user config, repo or plugin
    is seen and nothing is written outside the test's temp dir."""
    home = tmp_path_factory.mktemp("helm-home")
    env = dict(os.environ)
    for name in ("CACHE", "CONFIG", "DATA"):
        d = home / name.lower()
        d.mkdir()
        env[f"HELM_{name}_HOME"] = str(d)
    for name in ("HELM_DEBUG", "HELM_NAMESPACE", "HELM_KUBECONTEXT", "KUBECONFIG"):
        env.pop(name, None)
    env["KUBECONFIG"] = str(home / "no-kubeconfig")
    return env


@pytest.fixture(scope="session")
def differ(helm, aqemia, helm_env, tmp_path_factory):
    return Differ(helm, aqemia, helm_env, tmp_path_factory.mktemp("cwd"))


# ---------------------------------------------------------------------------------------------
# Rendering with both binaries
# ---------------------------------------------------------------------------------------------


@dataclass
class Run:
    argv: list
    code: int
    stdout: bytes
    stderr: str


@dataclass
class Outcome:
    helm: Run
    ours: Run
    args: list = field(default_factory=list)


SUPPORTED_FLAGS = ("--namespace", "--values", "--set")


def check_args(args):
    """Flags a case may pass: only what our CLI takes (each flag followed by its value)."""
    if len(args) % 2:
        raise ValueError(f"flags must come in pairs (flag value): {args}")
    for flag in args[::2]:
        if flag not in SUPPORTED_FLAGS:
            raise ValueError(f"unsupported flag {flag!r} (supported: {', '.join(SUPPORTED_FLAGS)})")


def helm_argv(helm, release, chart, args):
    out = [str(helm), "template", release, str(chart)]
    for flag, value in zip(args[::2], args[1::2]):
        out += ["-f" if flag == "--values" else flag, value]
    return out


def ours_argv(aqemia, release, chart, args):
    return [str(aqemia), "template", *args, release, str(chart)]


class Differ:
    def __init__(self, helm, aqemia, helm_env, cwd):
        self.helm = helm
        self.aqemia = aqemia
        self.helm_env = helm_env
        self.cwd = cwd

    def _run(self, argv, env):
        try:
            p = subprocess.run(argv, cwd=self.cwd, env=env, capture_output=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired as e:
            return Run(argv, -1, e.stdout or b"", f"TIMEOUT after {TIMEOUT} s\n" + (e.stderr or b"").decode("utf-8", "replace"))
        return Run(argv, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"))

    def run_helm(self, chart, args=(), release="rel"):
        args = list(args)
        check_args(args)
        return self._run(helm_argv(self.helm, release, chart, args), self.helm_env)

    def run_ours(self, chart, args=(), release="rel"):
        args = list(args)
        check_args(args)
        return self._run(ours_argv(self.aqemia, release, chart, args), None)

    def render(self, chart, args=(), release="rel", helm_run=None):
        """Both renders; helm's in a thread beside ours unless given."""
        if helm_run is not None:
            return Outcome(helm_run, self.run_ours(chart, args, release), list(args))
        box = {}
        t = threading.Thread(target=lambda: box.setdefault("h", self.run_helm(chart, args, release)))
        t.start()
        ours = self.run_ours(chart, args, release)
        t.join()
        return Outcome(box["h"], ours, list(args))

    # The helpers below, as methods, so that test modules reach them through the fixture.
    @staticmethod
    def mismatch(outcome, error_match="location"):
        return mismatch(outcome, error_match)

    @staticmethod
    def error_key(helm_stderr):
        return error_key(helm_stderr)

    @staticmethod
    def read_args(path):
        return read_args(path)

    @staticmethod
    def unified(helm_out, ours_out, limit=DIFF_LINES):
        return unified(helm_out, ours_out, limit)


# ---------------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------------

# A location in a chart as helm prints it: <chart>/<path>:<line>[:<col>] (parse errors have a
# line only, execution errors a line and a column).
_LOCATION = re.compile(r"[^\s():]+/[^\s():]+:\d+(?::\d+)?\)?")


def error_key(helm_stderr):
    """What our stderr must contain when helm fails: helm's first `Error:` line, cut right
    after the first template location in it, e.g.

        Error: parse error at (chart/templates/x.yaml:6)
        Error: execution error at (chart/templates/x.yaml:7:8)
        Error: template: chart/templates/x.yaml:4:11
        Error: chart/templates/x.yaml:4:11                 (first line of the multi-line form)

    or, with no location in it, cut before the first ': ' after `Error: `, e.g.

        Error: failed parsing --set data
        Error: YAML parse error on chart/templates/x.yaml
    """
    lines = [l for l in helm_stderr.splitlines() if l.startswith("Error: ")]
    if not lines:
        return None
    line = lines[0]
    m = _LOCATION.search(line)
    if m:
        return line[: m.end()]
    cut = line.find(": ", len("Error: "))
    return line if cut < 0 else line[:cut]


def visible(line):
    """A line for a diff, cat -A style: ^I tab, ^M carriage return, ^X other controls, `$`
    where the line ended with a newline (non-ASCII text is kept as is)."""
    ended = line.endswith("\n")
    if ended:
        line = line[:-1]
    out = []
    for ch in line:
        o = ord(ch)
        if o < 0x20:
            out.append("^" + chr(o + 64))
        elif o == 0x7F:
            out.append("^?")
        else:
            out.append(ch)
    return "".join(out) + ("$" if ended else "  (no newline at end)")


def unified(helm_out, ours_out, limit=DIFF_LINES):
    a = helm_out.decode("utf-8", "backslashreplace").splitlines(keepends=True)
    b = ours_out.decode("utf-8", "backslashreplace").splitlines(keepends=True)
    lines = []
    for i, d in enumerate(difflib.unified_diff(a, b, fromfile="helm", tofile="aqemia", n=3)):
        if i < 2 or d.startswith("@@"):  # file headers, hunk headers (content starts with " -+")
            lines.append(d.rstrip("\n"))
        else:
            lines.append(d[0] + visible(d[1:]))
    if len(lines) > limit:
        more = len(lines) - limit
        lines = lines[:limit] + [f"... ({more} more diff lines)"]
    return "\n".join(lines)


def _tail(text, n=15):
    lines = text.rstrip("\n").splitlines()
    if len(lines) > n:
        lines = [f"... ({len(lines) - n} lines before)"] + lines[-n:]
    return "\n".join("    " + l for l in lines) or "    (empty)"


def mismatch(o: Outcome, error_match="location"):
    """None when the two agree, else a readable explanation. error_match: "location" (the
    default: on a failure our stderr must contain `error_key` of helm's) or "exit" (only both
    failing is required)."""
    h, u = o.helm, o.ours
    head = f"helm:   {' '.join(h.argv)}\naqemia: {' '.join(u.argv)}\n"
    if h.code == 0 and u.code == 0:
        if h.stdout == u.stdout:
            return None
        return head + "stdout differs (diff helm -> aqemia; cat -A style: ^I tab, ^M CR, $ end of line):\n" + unified(h.stdout, u.stdout)
    if h.code == 0:
        return head + f"helm succeeded but aqemia exited {u.code}; aqemia stderr:\n{_tail(u.stderr)}"
    if u.code == 0:
        return head + f"helm failed (exit {h.code}) but aqemia succeeded; helm stderr:\n{_tail(h.stderr)}"
    if u.stdout != h.stdout:
        return head + "both failed, but stdout differs (helm prints nothing on an error):\n" + unified(h.stdout, u.stdout)
    if error_match == "exit":
        return None
    key = error_key(h.stderr)
    if key is None:
        return head + f"helm failed without an `Error:` line (exit {h.code}); helm stderr:\n{_tail(h.stderr)}"
    if key not in u.stderr:
        return (head + f"both failed, but aqemia's stderr lacks helm's error key\n    {key}\n"
                f"helm stderr:\n{_tail(h.stderr)}\naqemia stderr:\n{_tail(u.stderr)}")
    return None


def read_args(path):
    """Flags and release name of a case: every `# args: ...` line of the file, split like a
    shell would (so a literal backslash goes inside '...'), and `# release: NAME` (default
    `rel`). A relative --values path is taken from the file's directory."""
    path = Path(path)
    args = []
    release = "rel"
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# args:"):
            args += shlex.split(line[len("# args:"):])
        elif line.startswith("# release:"):
            release = line[len("# release:"):].strip()
    check_args(args)
    # A relative --values file is relative to the file that names it.
    for i in range(0, len(args), 2):
        if args[i] == "--values" and not os.path.isabs(args[i + 1]):
            args[i + 1] = str((path.parent / args[i + 1]).resolve())
    return args, release
