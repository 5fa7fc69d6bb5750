"""``load`` tells a service's concurrency design from the outside, and counts 200-with-error
bodies as failures. The test app (apps/recipe_apps.py) is served by uvicorn on 127.0.0.1 and
calls the embedded mock through GOOGLE_GEMINI_BASE_URL, unchanged, as a real app would."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main

APPS = Path(__file__).resolve().parent / "apps"
COMMAND = (f"{shlex.quote(sys.executable)} -m uvicorn --app-dir {shlex.quote(str(APPS))} "
           "recipe_apps:app --host 127.0.0.1 --port {port} --log-level warning")  # fmt: skip
USERS = 8


def _load(tmp_path: Path, *flags: str) -> dict[str, Any]:
    out = tmp_path / "run"
    argv = ["load", "--service-cmd", COMMAND, "--upstream-env", "GOOGLE_GEMINI_BASE_URL",
            "--ready", "/health", "--body", '{"ingredients": "{ingredients}"}',
            "--users", str(USERS), "--requests-per-user", "2", "--latency", "0.3",
            "--no-report", "--no-progress", "--out", str(out), *flags]  # fmt: skip
    assert main(argv) == 0
    document: dict[str, Any] = json.loads((out / "results.json").read_text())
    return document


@pytest.mark.parametrize(
    ("path", "design", "upstream_peak"),
    [
        pytest.param("/sync-in-async", "serialised", 1, id="sync-client-in-async-def"),
        pytest.param("/sync-in-def", "follows-load", USERS, id="sync-client-in-def"),
        pytest.param("/async", "follows-load", USERS, id="async-client"),
        pytest.param("/semaphore", "capped", 3, id="semaphore-of-3"),
        pytest.param("/executor", "capped", 5, id="run-in-executor-5-workers"),
    ],
)
def test_each_way_of_writing_the_app_is_diagnosed(
    path: str, design: str, upstream_peak: int, tmp_path: Path
) -> None:
    document = _load(tmp_path, "--path", path, "--ok", "status=200", "--ok", "has=$.answer")
    diagnosis = document["diagnosis"]
    assert diagnosis["design"] == design, diagnosis["evidence"]
    assert diagnosis["upstream_peak_in_flight"] == upstream_peak
    assert diagnosis["service_peak_in_flight"] == USERS
    assert document["runs"][0]["summary"]["counts"]["ok"] == USERS * 2


def test_a_200_carrying_an_error_is_a_failure(tmp_path: Path) -> None:
    failing = ("--path", "/async", "--fault", "503=1.0")  # the app answers 200 {"error": …}
    judged = _load(tmp_path / "judged", *failing, "--ok", "absent=$.error")
    counts = judged["runs"][0]["summary"]["counts"]
    assert counts["ok"] == 0 and counts["failed"] == USERS * 2
    errors = {r["error"] for r in judged["runs"][0]["records"]}
    assert errors == {"$.error present"}
    status_only = _load(tmp_path / "status-only", *failing, "--ok", "status=200")
    assert status_only["runs"][0]["summary"]["counts"]["ok"] == USERS * 2  # what it hides


def test_the_report_draws_service_and_upstream_concurrency(tmp_path: Path) -> None:
    from reports.load import load_results
    from reports.plot_concurrency import concurrency_figure, in_flight_steps

    document = _load(tmp_path, "--path", "/sync-in-async")
    results = load_results(tmp_path / "run")
    steps = in_flight_steps(list(results.runs[0].records))
    assert max(n for _, n in steps) == USERS and steps[-1][1] == 0
    fig = concurrency_figure(results)
    assert fig is not None
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    upstream = lines["upstream calls in flight (the mock)"]
    assert max(upstream.get_ydata()) == document["diagnosis"]["upstream_peak_in_flight"] == 1
    assert "serialised" in fig.axes[0].get_title()


def test_load_takes_slos_and_thresholds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "checked"
    argv = ["load", "--users", "2", "--requests-per-user", "2", "--latency", "0.05",
            "--slo", "latency<=10s", "--threshold", "latency_p99<=1ms",
            "--threshold", "ok_share>=99%", "--no-report", "--no-progress",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 1  # one threshold failed; the results were written all the same
    printed = capsys.readouterr().out
    assert "✗ latency_p99<=1ms" in printed and "✓ ok_share>=99%" in printed
    summary = json.loads((out / "results.json").read_text())["runs"][0]["summary"]
    assert summary["slo_good"] == 4
