"""Random charts (fuzz.py) rendered by helm and by the provider, compared like the corpus.

Knobs: HELM_FUZZ_ROUNDS (200) and HELM_FUZZ_SECONDS (60), whichever ends first;
HELM_FUZZ_SEED (random; printed, and named in any failure); HELM_FUZZ_ROUND (first round, 0),
to replay one round: HELM_FUZZ_SEED=S HELM_FUZZ_ROUND=R HELM_FUZZ_ROUNDS=1;
HELM_FUZZ_ERROR_MATCH: "location" (default: when both fail, our stderr has helm's error key)
or "exit" (both failing is enough).

A mismatch is shrunk (template files whose removal keeps a mismatch are dropped) and the
chart is kept under target/helm-fuzz-failures/ with both outputs.
"""

import importlib.util
import os
import random
import shutil
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
FAILURES = REPO / "target" / "helm-fuzz-failures"

# By path: a plain `import fuzz` could find the repository's Rust fuzz/ directory first.
_spec = importlib.util.spec_from_file_location("helm_fuzz_gen", HERE / "fuzz.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = fuzz
_spec.loader.exec_module(fuzz)

MAX_DROPS = 8  # templates dropped per round after helm fails on them
# Helm itself crashes (Go stack overflow in its map merging) when a template merges a map into
# a map that holds it, which builds a cycle. There is nothing to compare such a round with.
HELM_CRASH = "goroutine stack exceeds"


def _templates(chart):
    return sorted(p for p in (chart / "templates").iterdir() if p.name[0] in "td" and p.suffix == ".yaml")


def _shrink(differ, chart, args, release, error_match):
    """Drops template files one at a time while a mismatch remains; returns the last mismatch."""
    o = differ.render(chart, args, release)
    problem = differ.mismatch(o, error_match)
    for path in _templates(chart):
        keep = path.read_bytes()
        path.unlink()
        o2 = differ.render(chart, args, release)
        p2 = differ.mismatch(o2, error_match)
        if p2:
            o, problem = o2, p2
        else:
            path.write_bytes(keep)
    return o, problem


def _keep(chart, seed, round_no, o, problem, args, release):
    dest = FAILURES / f"seed-{seed}-round-{round_no}"
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    shutil.copytree(chart, dest / fuzz.CHART)
    (dest / "helm.stdout").write_bytes(o.helm.stdout)
    (dest / "helm.stderr").write_text(o.helm.stderr, encoding="utf-8")
    (dest / "aqemia.stdout").write_bytes(o.ours.stdout)
    (dest / "aqemia.stderr").write_text(o.ours.stderr, encoding="utf-8")
    (dest / "README.txt").write_text(
        f"HELM_FUZZ_SEED={seed} HELM_FUZZ_ROUND={round_no} HELM_FUZZ_ROUNDS=1 (shrunk chart below)\n"
        f"release: {release}\nflags: {' '.join(args)}\n"
        f"helm exit {o.helm.code}, aqemia exit {o.ours.code}\n\n{problem}\n",
        encoding="utf-8")
    return dest


def test_fuzz(differ, tmp_path):
    rounds = int(os.environ.get("HELM_FUZZ_ROUNDS", "200"))
    seconds = float(os.environ.get("HELM_FUZZ_SECONDS", "60"))
    seed = os.environ.get("HELM_FUZZ_SEED") or str(random.SystemRandom().randrange(1, 10**9))
    first = int(os.environ.get("HELM_FUZZ_ROUND", "0"))
    error_match = os.environ.get("HELM_FUZZ_ERROR_MATCH", "location")
    print(f"HELM_FUZZ_SEED={seed} (rounds {first}..{first + rounds - 1}, at most {seconds:g} s)")
    deadline = time.monotonic() + seconds
    stats = dict(rounds=0, renders=0, templates=0, dropped=0, agreed_errors=0, helm_crashed=0)
    for r in range(first, first + rounds):
        if time.monotonic() > deadline:
            break
        stats["rounds"] += 1
        chart = tmp_path / f"round-{r}" / fuzz.CHART
        args, release = fuzz.write_chart(chart, seed, r)
        for _ in range(MAX_DROPS + 1):
            o = differ.render(chart, args, release)
            stats["renders"] += 1
            if HELM_CRASH in o.helm.stderr:
                stats["helm_crashed"] += 1
                break
            problem = differ.mismatch(o, error_match)
            if problem:
                o, problem = _shrink(differ, chart, args, release, error_match)
                dest = _keep(chart, seed, r, o, problem, args, release)
                pytest.fail(
                    f"fuzz mismatch, HELM_FUZZ_SEED={seed} round {r} (replay: HELM_FUZZ_SEED={seed} "
                    f"HELM_FUZZ_ROUND={r} HELM_FUZZ_ROUNDS=1); shrunk chart kept in {dest}\n{problem}",
                    pytrace=False)
            if o.helm.code == 0:
                stats["templates"] += len(_templates(chart))
                break
            stats["agreed_errors"] += 1
            name = fuzz.failing_template(o.helm.stderr)
            if not name or not (chart / "templates" / name).exists():
                break
            (chart / "templates" / name).unlink()
            stats["dropped"] += 1
        shutil.rmtree(chart.parent)
    print("fuzz: " + ", ".join(f"{k} {v}" for k, v in stats.items()))
    assert stats["rounds"] > 0
