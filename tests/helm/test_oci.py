"""Charts from an OCI registry on loopback (oci.py): a real registry (`.tools/bin/registry`,
CNCF Distribution) holds charts pushed by the real `helm push`, and an auth front before it
speaks the registry token flow. Our CLI is run as

    $AQEMIA_PROVIDER_BIN template --plain-http [--username U --password P] --cache-dir DIR
        rel oci://HOST:PORT/charts/NAME --version V

and must print what `helm template rel oci://HOST:PORT/charts/NAME --version V --plain-http`
prints (helm is always asked the registry itself, without the front). V is an exact version
or a constraint: helm 4 accepts both for OCI.

The tests named test_helm_* check the harness with helm alone (they need no provider binary).
"""

import base64
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

# By path, under a name of its own: a plain `import oci` could find some other `oci` package.
_spec = importlib.util.spec_from_file_location("helm_oci_registry", HERE / "oci.py")
oci = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = oci
_spec.loader.exec_module(oci)

VERSIONS = ("1.0.0", "1.2.0", "1.10.1")
# A version with build metadata: helm pushes it under the tag 1.3.0_build.5.
PLUS = "1.3.0+build.5"
PUBLISHED = [("release_meta", v) for v in VERSIONS + (PLUS,)] + [("subcharts", v) for v in VERSIONS]
USER, PASSWORD = "alice", "s3cret-pw"
TIMEOUT = 120


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def registry_bin():
    path = oci.registry_binary()
    if path is None:
        pytest.fail("no registry at .tools/bin/registry: run scripts/install-tools.sh (it builds the CNCF "
                    "Distribution registry from the Go module proxy) or point AQEMIA_REGISTRY at one",
                    pytrace=False)
    return path


@pytest.fixture(scope="module")
def registry(registry_bin, helm, helm_env, tmp_path_factory):
    """The registry, started once for the module, with PUBLISHED pushed into charts/<name>."""
    reg = oci.Registry(registry_bin, tmp_path_factory.mktemp("registry")).start()
    try:
        oci.publish(helm, helm_env, reg, PUBLISHED, tmp_path_factory.mktemp("packaging"))
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def front(registry):
    """An auth front that gives anyone a token."""
    f = oci.AuthFront(registry).start()
    yield f
    f.stop()


@pytest.fixture
def locked_front(registry):
    """An auth front whose /token wants USER:PASSWORD."""
    f = oci.AuthFront(registry, USER, PASSWORD).start()
    yield f
    f.stop()


@pytest.fixture(scope="module")
def helm_direct(helm, helm_env, registry):
    """helm_direct(name, version) -> helm's stdout for the chart pulled from the registry
    itself (rendered once per module)."""
    seen = {}

    def render(name, version):
        if (name, version) not in seen:
            code, out, err = helm_oci(helm, helm_env, registry.host, name, version)
            assert code == 0, f"helm failed on {name} --version {version}:\n{err}"
            seen[(name, version)] = out
        return seen[(name, version)]

    return render


# ---------------------------------------------------------------------------------------------
# Running the two
# ---------------------------------------------------------------------------------------------


def run(argv, env=None, input=None):
    p = subprocess.run([str(a) for a in argv], capture_output=True, env=env, input=input, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def helm_oci(helm, helm_env, host, name, version, *extra):
    return run([helm, "template", "rel", f"oci://{host}/charts/{name}", "--version", version, "--plain-http", *extra],
               helm_env)


def ours_oci(aqemia, cache, host, name, version, *extra):
    return run([aqemia, "template", "--plain-http", *extra, "--cache-dir", cache,
                "rel", f"oci://{host}/charts/{name}", "--version", version])


def rendered_version(stdout):
    """The .Chart.Version release_meta printed (its `version=...` field)."""
    m = re.search(rb" version=(\S+)", stdout)
    return m.group(1).decode() if m else None


def cached_files(cache):
    return sorted(p for p in Path(cache).rglob("*") if p.is_file()) if Path(cache).exists() else []


# ---------------------------------------------------------------------------------------------
# The harness itself, with helm
# ---------------------------------------------------------------------------------------------


def test_front_speaks_the_token_flow(registry, locked_front):
    f = locked_front
    status, headers, _ = oci.http_get(f.host, "/v2/")
    assert status == 401
    assert headers["WWW-Authenticate"] == f'Bearer realm="http://{f.host}/token",service="aqemia-test"'
    status, headers, _ = oci.http_get(f.host, "/v2/charts/release_meta/tags/list")
    assert status == 401
    assert headers["WWW-Authenticate"] == (f'Bearer realm="http://{f.host}/token",service="aqemia-test",'
                                           'scope="repository:charts/release_meta:pull"')

    scope = "repository:charts/release_meta:pull"
    assert oci.http_get(f.host, f"/token?service=aqemia-test&scope={scope}")[0] == 401
    wrong = "Basic " + base64.b64encode(f"{USER}:nope".encode()).decode()
    assert oci.http_get(f.host, f"/token?service=aqemia-test&scope={scope}", {"Authorization": wrong})[0] == 401
    basic = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    status, _, body = oci.http_get(f.host, f"/token?service=aqemia-test&scope={scope}", {"Authorization": basic})
    assert status == 200
    answer = json.loads(body)
    assert answer["token"] == answer["access_token"] and answer["expires_in"] == 300

    bearer = {"Authorization": "Bearer " + answer["token"]}
    status, _, body = oci.http_get(f.host, "/v2/charts/release_meta/tags/list", bearer)
    assert status == 200 and json.loads(body)["tags"] == registry.tags("charts/release_meta")
    assert oci.http_get(f.host, "/v2/", bearer)[0] == 200
    # The token is for release_meta only.
    assert oci.http_get(f.host, "/v2/charts/subcharts/tags/list", bearer)[0] == 401
    assert oci.http_get(f.host, "/v2/charts/release_meta/tags/list", {"Authorization": "Bearer forged"})[0] == 401


def test_helm_pushes_a_plus_as_an_underscore(registry):
    assert registry.tags("charts/release_meta") == sorted(oci.tag_of(v) for v in VERSIONS + (PLUS,))
    assert "1.3.0_build.5" in registry.tags("charts/release_meta")


def test_helm_pulls_through_the_front_with_an_anonymous_token(helm, helm_env, front, helm_direct):
    code, out, err = helm_oci(helm, helm_env, front.host, "release_meta", "1.0.0")
    assert code == 0, err + front.describe()
    assert out == helm_direct("release_meta", "1.0.0")
    assert front.token_requests == [{"service": "aqemia-test", "scopes": ["repository:charts/release_meta:pull"],
                                     "basic": False}]


def test_helm_pulls_through_the_locked_front_only_with_credentials(helm, helm_env, locked_front, helm_direct, tmp_path):
    f = locked_front
    env = dict(helm_env, HELM_REGISTRY_CONFIG=str(tmp_path / "registry.json"))
    code, out, err = helm_oci(helm, env, f.host, "release_meta", "1.0.0")
    assert code != 0 and out == b"" and "401" in err, err

    f.reset()
    code, out, err = helm_oci(helm, env, f.host, "release_meta", "1.0.0", "--username", USER, "--password", PASSWORD)
    assert code == 0, err + f.describe()
    assert out == helm_direct("release_meta", "1.0.0")
    assert [r["basic"] for r in f.token_requests] == [True], f.token_requests

    code, _, err = run([helm, "registry", "login", f.host, "--plain-http", "--username", USER, "--password-stdin"],
                       env, input=PASSWORD.encode())
    assert code == 0, err + f.describe()
    f.reset()
    code, out, err = helm_oci(helm, env, f.host, "release_meta", "1.0.0")
    assert code == 0, err + f.describe()
    assert out == helm_direct("release_meta", "1.0.0")
    assert [r["basic"] for r in f.token_requests] == [True], f.token_requests


def test_helm_refuses_a_corrupted_blob(helm, helm_env, front):
    front.corrupt_blobs = True
    code, out, err = helm_oci(helm, helm_env, front.host, "release_meta", "1.2.0")
    assert code != 0 and out == b""
    assert "mismatched digest" in err, err


# ---------------------------------------------------------------------------------------------
# Our CLI
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,version", [("release_meta", "1.0.0"), ("subcharts", "1.10.1"), ("release_meta", PLUS)])
def test_registry_chart_renders_as_helm_renders_it(aqemia, registry, helm_direct, tmp_path, name, version):
    code, out, err = ours_oci(aqemia, tmp_path / "cache", registry.host, name, version)
    assert code == 0, err
    assert out == helm_direct(name, version), f"helm and aqemia differ for {name} --version {version}"


def test_through_the_front_with_an_anonymous_token(aqemia, front, helm_direct, tmp_path):
    code, out, err = ours_oci(aqemia, tmp_path / "cache", front.host, "subcharts", "1.2.0")
    assert code == 0, err + "\nfront saw:\n" + front.describe()
    assert out == helm_direct("subcharts", "1.2.0")
    assert front.count("/token") >= 1, front.describe()
    assert "repository:charts/subcharts:pull" in {s for r in front.token_requests for s in r["scopes"]}


def test_through_the_front_with_a_password(aqemia, locked_front, helm_direct, tmp_path):
    f = locked_front
    code, out, err = ours_oci(aqemia, tmp_path / "cache", f.host, "release_meta", "1.2.0",
                              "--username", USER, "--password", PASSWORD)
    assert code == 0, err + "\nfront saw:\n" + f.describe()
    assert out == helm_direct("release_meta", "1.2.0")
    assert any(r["basic"] for r in f.token_requests), f.describe()

    for creds in ([], ["--username", USER, "--password", "wrong"]):
        code, out, err = ours_oci(aqemia, tmp_path / "cache2", f.host, "release_meta", "1.2.0", *creds)
        assert code != 0 and out == b"", f"succeeded with {creds}"
        assert re.search("401|unauthorized", err, re.I), err
    assert cached_files(tmp_path / "cache2") == []


@pytest.mark.parametrize("constraint,picked", [("^1.0", "1.10.1"), ("~1.2.0", "1.2.0"), ("~1.3.0", PLUS)])
def test_a_constraint_picks_the_newest_matching_tag(helm, helm_env, aqemia, front, registry, tmp_path, constraint, picked):
    h = helm_oci(helm, helm_env, registry.host, "release_meta", constraint)
    assert h[0] == 0, h[2]
    assert rendered_version(h[1]) == picked
    code, out, err = ours_oci(aqemia, tmp_path / "cache", front.host, "release_meta", constraint)
    assert code == 0, err + "\nfront saw:\n" + front.describe()
    assert rendered_version(out) == picked
    assert out == h[1]
    assert front.count("/v2/charts/release_meta/tags/list") >= 1, front.describe()


def test_a_corrupted_blob_is_refused(aqemia, front, tmp_path):
    front.corrupt_blobs = True
    cache = tmp_path / "cache"
    code, out, err = ours_oci(aqemia, cache, front.host, "release_meta", "1.10.1")
    assert code != 0 and out == b""
    assert "digest mismatch" in err, err
    assert front.blob_counts("charts/release_meta"), "no blob was fetched:\n" + front.describe()
    assert cached_files(cache) == [], "a rejected blob must not enter the cache"


def test_the_cache_spares_a_second_fetch(aqemia, front, registry, helm_direct, tmp_path):
    cache = tmp_path / "cache"
    layer = registry.chart_layer_digest("charts/subcharts", "1.0.0")
    path = f"/v2/charts/subcharts/blobs/{layer}"
    first = ours_oci(aqemia, cache, front.host, "subcharts", "1.0.0")
    assert first[0] == 0, first[2]
    assert first[1] == helm_direct("subcharts", "1.0.0")
    assert front.count(path) == 1, front.describe()
    assert cached_files(cache), "nothing was cached"

    second = ours_oci(aqemia, cache, front.host, "subcharts", "1.0.0")
    assert second[0] == 0, second[2]
    assert second[1] == first[1]
    assert front.count(path) == 1, "the chart layer was fetched again:\n" + front.describe()
