"""Charts from an HTTP chart repository on loopback: the archives are made by `helm package`,
the index by `helm repo index`, and a plain HTTP server serves them. Our `template` fetches
by `REPO_URL/NAME --version C`; helm by `NAME --repo REPO_URL --version C`; the output must
be the same. The archive's digest is checked against the index, archives are cached by
digest, and mirrors redirect a repository's address."""

import hashlib
import http.server
import shutil
import subprocess
import threading
from functools import partial
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
CHARTS = HERE / "charts"
# Each corpus chart is packaged under these versions (a pre-release among them).
VERSIONS = ("1.0.0", "1.2.0", "1.10.1", "2.0.0-rc.1")


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def repo(helm, helm_env, tmp_path_factory):
    """A chart repository directory served on 127.0.0.1; yields (url, dir)."""
    root = tmp_path_factory.mktemp("repo")
    work = tmp_path_factory.mktemp("packaging")
    for name in ("release_meta", "subcharts"):
        for version in VERSIONS:
            src = work / f"{name}-{version}" / name
            shutil.copytree(CHARTS / name, src)
            meta = yaml.safe_load((src / "Chart.yaml").read_text())
            meta["version"] = version
            (src / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
            subprocess.run([str(helm), "package", str(src), "-d", str(root)], env=helm_env, check=True, capture_output=True)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(root)))
    url = f"http://127.0.0.1:{server.server_address[1]}"
    subprocess.run([str(helm), "repo", "index", str(root), "--url", url], env=helm_env, check=True, capture_output=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url, root
    server.shutdown()


def run(argv, env=None):
    p = subprocess.run([str(a) for a in argv], capture_output=True, env=env, timeout=120)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def helm_repo_render(helm, helm_env, url, name, version):
    argv = [helm, "template", "rel", name, "--repo", url]
    if version:
        argv += ["--version", version]
    return run(argv, helm_env)


def ours_repo_render(aqemia, cache, url, name, version, *extra):
    argv = [aqemia, "template", "--cache-dir", cache, *extra, "rel", f"{url}/{name}"]
    if version:
        argv += ["--version", version]
    return run(argv)


@pytest.mark.parametrize(
    "name,version",
    [("release_meta", ""), ("release_meta", "^1.0"), ("release_meta", "~1.2.0"), ("release_meta", ">=2.0.0-0"), ("subcharts", "1.10.1")],
)
def test_repository_chart_renders_as_helm_renders_it(helm, helm_env, aqemia, repo, tmp_path, name, version):
    url, _ = repo
    h = helm_repo_render(helm, helm_env, url, name, version)
    assert h[0] == 0, h[2]
    o = ours_repo_render(aqemia, tmp_path / "cache", url, name, version)
    assert o[0] == 0, o[2]
    assert o[1] == h[1], f"helm and aqemia differ for {name} --version {version!r}"
    # The version the constraint picked is the one rendered.
    picked = {"": "1.10.1", "^1.0": "1.10.1", "~1.2.0": "1.2.0", ">=2.0.0-0": "2.0.0-rc.1"}.get(version, version)
    if name == "release_meta":
        assert f"version={picked}".encode() in o[1]


def test_archive_with_a_wrong_digest_is_refused(aqemia, repo, tmp_path):
    url, root = repo
    bad = tmp_path / "badrepo"
    shutil.copytree(root, bad)
    index = yaml.safe_load((bad / "index.yaml").read_text())
    for entry in index["entries"]["release_meta"]:
        entry["digest"] = hashlib.sha256(b"something else").hexdigest()
        entry["urls"] = [u.replace(url, "") .lstrip("/") for u in entry["urls"]]
    (bad / "index.yaml").write_text(yaml.safe_dump(index))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(QuietHandler, directory=str(bad)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        bad_url = f"http://127.0.0.1:{server.server_address[1]}"
        code, out, err = ours_repo_render(aqemia, tmp_path / "cache", bad_url, "release_meta", "1.0.0")
    finally:
        server.shutdown()
    assert code != 0 and out == b""
    assert "digest mismatch" in err and "release_meta-1.0.0" in err, err
    assert not list((tmp_path / "cache").rglob("*.tgz")), "a rejected archive must not enter the cache"


def test_a_cached_archive_is_used_when_the_repository_no_longer_serves_it(aqemia, repo, tmp_path):
    url, root = repo
    cache = tmp_path / "cache"
    first = ours_repo_render(aqemia, cache, url, "release_meta", "1.2.0")
    assert first[0] == 0, first[2]
    archive = root / "release_meta-1.2.0.tgz"
    cached = list(cache.rglob("*.tgz"))
    assert [p.name for p in cached] == [hashlib.sha256(archive.read_bytes()).hexdigest() + ".tgz"]
    moved = tmp_path / archive.name
    shutil.move(archive, moved)
    try:
        second = ours_repo_render(aqemia, cache, url, "release_meta", "1.2.0")
    finally:
        shutil.move(moved, archive)
    assert second[0] == 0, second[2]
    assert second[1] == first[1]


def test_a_mirror_replaces_the_repository_address(aqemia, repo, tmp_path):
    url, _ = repo
    upstream = "https://charts.example.invalid/stable"
    code, out, err = ours_repo_render(aqemia, tmp_path / "cache", upstream, "release_meta", "1.0.0", "--mirror", f"{upstream}={url}")
    assert code == 0, err
    assert b"version=1.0.0" in out


def test_a_missing_version_names_the_constraint(aqemia, repo, tmp_path):
    url, _ = repo
    code, out, err = ours_repo_render(aqemia, tmp_path / "cache", url, "release_meta", "^3")
    assert code != 0 and out == b""
    assert 'chart "release_meta" with version "^3" not found' in err, err
