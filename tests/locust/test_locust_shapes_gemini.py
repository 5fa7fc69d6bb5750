"""Load shapes and the Gemini-speaking locustfile, run by Locust in a subprocess."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LOCUST = [sys.executable, "-m", "locust"]


def run_locust(
    args: list[str], env: dict[str, str] | None = None, timeout_s: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*LOCUST, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        env={**os.environ, **(env or {})},
    )


def user_counts(prefix: Path) -> list[int]:
    """The "User Count" of each per-second row of ``PREFIX_stats_history.csv``."""
    with open(f"{prefix}_stats_history.csv", newline="") as file:
        return [int(row["User Count"]) for row in csv.DictReader(file)]


def stats_rows(prefix: Path) -> dict[str, dict[str, str]]:
    with open(f"{prefix}_stats.csv", newline="") as file:
        return {f"{row['Type']} {row['Name']}".strip(): row for row in csv.DictReader(file)}


SHAPES = [
    pytest.param(
        {"HARNESS_SHAPE": "step", "STEP_USERS": "2", "STEP_S": "1.5", "STEP_MAX_USERS": "4",
         "STEP_DURATION_S": "4.5", "STEP_SPAWN_RATE": "20"},
        [2, 4],
        id="step",
    ),
    pytest.param(
        {"HARNESS_SHAPE": "spike", "SPIKE_BASE_USERS": "1", "SPIKE_USERS": "4", "SPIKE_AT_S": "1.5",
         "SPIKE_S": "1.5", "SPIKE_DURATION_S": "4.5", "SPIKE_SPAWN_RATE": "20"},
        [1, 4, 1],
        id="spike",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("env", "levels"), SHAPES)
def test_a_shape_drives_the_user_count_and_ends_the_run(
    env: dict[str, str], levels: list[int], tmp_path: Path
) -> None:
    prefix = tmp_path / "shape"
    args = ["--config", "scenarios/locust.conf", "--headless", "--think-time", "0.2"]
    done = run_locust([*args, "--mock-latency", "0.02", "--csv", str(prefix)], env)  # no -t
    assert done.returncode == 0, done.stderr[-2000:]
    counts = [n for n in user_counts(prefix) if n > 0]
    steps = [n for i, n in enumerate(counts) if i == 0 or n != counts[i - 1]]
    assert steps == levels
    assert int(stats_rows(prefix)["Aggregated"]["Failure Count"]) == 0


def test_an_unknown_shape_name_is_refused() -> None:
    done = run_locust(["--config", "scenarios/locust.conf", "--headless", "-t", "1s"],
                      {"HARNESS_SHAPE": "ramp"}, timeout_s=30)  # fmt: skip
    assert done.returncode != 0
    assert "HARNESS_SHAPE must be 'step' or 'spike', got 'ramp'" in done.stderr


def test_gemini_users_stream_and_report_ttft_and_tokens(tmp_path: Path) -> None:
    prefix = tmp_path / "gemini"
    args = ["-f", "scenarios/gemini_locustfile.py", "--headless", "-u", "3", "-r", "3", "-t", "4s"]
    args += ["--mock-latency", "0.2", "--mock-tokens-per-s", "1000", "--csv", str(prefix)]
    done = run_locust(args)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = stats_rows(prefix)
    stream, ttft = rows["POST streamGenerateContent"], rows["TTFT streamGenerateContent"]
    assert int(stream["Request Count"]) > 0 and int(stream["Failure Count"]) == 0
    assert int(ttft["Request Count"]) >= int(stream["Request Count"])
    assert float(stream["Average Content Size"]) > 10  # output tokens per answer
    # The first token comes after the mock's latency, the last one later still.
    assert 200 <= float(ttft["Average Response Time"]) < float(stream["Average Response Time"])
