"""The Gemini locustfile: cut streams are failures, TTFT stays out of the Aggregated row,
and the stats CSV is right whatever output options are combined.

Locust runs in a subprocess (it patches the process with gevent); the mock with stream
cuts is a real ``python -m mock_gemini`` on 127.0.0.1, port 0.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCUSTFILE = "scenarios/gemini_locustfile.py"
STREAM_ROW, TTFT_ROW = "POST streamGenerateContent", "TTFT streamGenerateContent"
READY_LINES = 50


@pytest.fixture
def cutting_mock() -> Iterator[str]:
    """A mock Gemini that cuts half of its streams mid-body; yields its URL."""
    mock = subprocess.Popen(
        [sys.executable, "-m", "mock_gemini", "--port", "0", "--latency", "0.05",
         "--tokens-per-s", "400", "--fault", "stream_cut=0.5", "--seed", "7"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert mock.stdout is not None
        lines = (mock.stdout.readline() for _ in range(READY_LINES))
        ready = next((line for line in lines if "listening on" in line or not line), "")
        assert "listening on" in ready, "the mock did not start"
        yield ready.split("listening on", 1)[1].strip()
    finally:
        mock.terminate()
        mock.wait(timeout=10)


def _locust(args: list[str], timeout_s: float = 90) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "locust", "-f", LOCUSTFILE, "--headless", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout_s, env=dict(os.environ),
    )  # fmt: skip


def _rows(prefix: Path, suffix: str = "stats") -> dict[str, dict[str, str]]:
    with open(f"{prefix}_{suffix}.csv", newline="") as file:
        return {f"{row['Type']} {row['Name']}".strip(): row for row in csv.DictReader(file)}


def _count(row: dict[str, str], column: str = "Request Count") -> int:
    return int(row[column])


def _mock_cuts(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_mock/stats", timeout=10) as answer:
        stats = json.load(answer)
    return int(stats["by_status"].get("cut", 0))


def test_cut_streams_are_failures_and_ttft_stays_out_of_the_total(
    cutting_mock: str, tmp_path: Path
) -> None:
    prefix, report = tmp_path / "cut", tmp_path / "cut-json"
    done = _locust(["--host", cutting_mock, "-u", "3", "-r", "3", "-t", "4s",
                    "--csv", str(prefix), "--json-file", str(report)])  # fmt: skip
    assert done.returncode == 1, done.stderr[-2000:]  # Locust's status when requests failed
    rows = _rows(prefix)
    stream, ttft, total = rows[STREAM_ROW], rows[TTFT_ROW], rows["Aggregated"]
    cuts = _mock_cuts(cutting_mock)
    assert cuts > 0 and _count(stream, "Failure Count") >= 1
    # every cut the mock made is a failure of its request (a request still running at the
    # end of -t is cancelled, not cut), and nothing escaped as a Python exception
    assert _count(stream, "Failure Count") == cuts
    assert len(_rows(prefix, "exceptions")) == 0
    with open(f"{prefix}_failures.csv", newline="") as file:
        errors = [row["Error"] for row in csv.DictReader(file)]
    assert any("Incomplete response" in error for error in errors), errors
    # the Aggregated row counts each request once: TTFT is a row of its own, not in it
    assert _count(ttft) > 0
    assert _count(total) == _count(stream)
    assert _count(total, "Failure Count") == _count(stream, "Failure Count")


@pytest.mark.parametrize(
    "outputs",
    [
        pytest.param(["--json-file", "{dir}/run"], id="csv-and-json-file"),
        pytest.param(["--json"], id="csv-and-json"),
        pytest.param([], id="csv-only"),
    ],
)
def test_the_stats_csv_is_right_with_any_output_options(outputs: list[str], tmp_path: Path) -> None:
    """The embedded mock (stopped at quit, which yields to Locust's CSV writer) and a JSON
    output that used to reset every entry before that writer's last pass."""
    prefix = tmp_path / "stats"
    extra = [arg.format(dir=tmp_path) for arg in outputs]
    done = _locust(["-u", "2", "-r", "2", "-t", "3s", "--mock-latency", "0.05",
                    "--mock-tokens-per-s", "2000", "--csv", str(prefix), *extra])  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _rows(prefix)
    stream, total = rows[STREAM_ROW], rows["Aggregated"]
    assert _count(stream) > 0 and _count(rows[TTFT_ROW]) > 0
    assert _count(total) == _count(stream)
    assert float(stream["Average Response Time"]) > 0
    if "--json-file" in outputs:
        entries = json.loads((tmp_path / "run.json").read_text())
        counts = {e["name"]: e["num_requests"] for e in entries if e["method"] == "POST"}
        assert counts == {"streamGenerateContent": _count(stream)}
