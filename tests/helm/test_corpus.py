"""Every chart of charts/ (once without values, once per cases/*.yaml) and every chart of
errors/, rendered by helm and by the provider; see conftest.py for what must agree.

A case file is a values file (passed as --values) whose `# args:` comment lines add flags
(--namespace, --set, --values) and whose `# release:` line names the release (default rel).
An error chart may have an `args` file with the same comment lines.
"""

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CHARTS = HERE / "charts"
ERRORS = HERE / "errors"


def _charts(root):
    return sorted(p for p in root.iterdir() if (p / "Chart.yaml").is_file()) if root.is_dir() else []


def _corpus():
    out = []
    for chart in _charts(CHARTS):
        out.append(pytest.param(chart, None, id=chart.name))
        for case in sorted((chart / "cases").glob("*.yaml")):
            out.append(pytest.param(chart, case, id=f"{chart.name}/{case.stem}"))
    return out


def _errors():
    return [pytest.param(chart, id=chart.name) for chart in _charts(ERRORS)]


def test_corpus_is_there():
    assert len(_corpus()) >= 9 and len(_errors()) >= 6


@pytest.mark.parametrize("chart,case", _corpus())
def test_chart(differ, chart, case):
    args, release = ([], "rel")
    if case is not None:
        args, release = differ.read_args(case)
        args = args + ["--values", str(case)]
    h = differ.run_helm(chart, args, release)
    if h.code != 0:
        pytest.fail(f"the corpus case itself fails in helm (exit {h.code}); fix the chart:\n{h.stderr}", pytrace=False)
    problem = differ.mismatch(differ.render(chart, args, release, helm_run=h))
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.mark.parametrize("chart", _errors())
def test_error(differ, chart):
    args, release = ([], "rel")
    if (chart / "args").is_file():
        args, release = differ.read_args(chart / "args")
    h = differ.run_helm(chart, args, release)
    if h.code == 0:
        pytest.fail(f"this error chart renders fine in helm; it must fail:\n{h.stdout.decode()[:2000]}", pytrace=False)
    problem = differ.mismatch(differ.render(chart, args, release, helm_run=h))
    if problem:
        pytest.fail(problem, pytrace=False)
