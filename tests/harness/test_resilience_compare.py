"""``python -m harness compare --schedule outage:…``: every mode's breaker cycle in results.json.

Open-loop arrivals keep requests coming through the outage (closed-loop users would
drain their requests in microseconds once the breaker opens), and the runner resets the
embedded mock before each design, so every design meets the same outage.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from harness.generators import REGISTRY

OUTAGE_S = (0.8, 1.8)
OPEN_S = 0.4
MODES = ",".join(m for m in ("sequential", "threaded", "async", "sdk") if m in REGISTRY)
DEMO = [
    "compare", "--modes", MODES, "--rate", "25", "--arrival", "constant", "--duration", "3",
    "--latency", "0.02", "--schedule", f"outage:{OUTAGE_S[0]:g}-{OUTAGE_S[1]:g}:503",
    "--retries", "0", "--breaker-window", "10", "--breaker-min-calls", "5",
    "--breaker-open-s", str(OPEN_S), "--breaker-probes", "2",
    "--calibration", "off", "--no-report", "--no-progress",
]  # fmt: skip


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The demo, run once: results.json's runs by mode."""
    out = tmp_path_factory.mktemp("demo") / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", *DEMO, "--out", str(out)],
        capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    runs = json.loads((out / "results.json").read_text())["runs"]
    return {run["mode"]: run for run in runs}


def check_cycle(run: dict[str, Any]) -> None:
    """Opened inside the outage, failed fast, closed after it within one open period."""
    mode, moves = run["mode"], run["breaker_transitions"]
    assert moves, f"{mode}: the breaker never moved"
    opened, closed = moves[0], moves[-1]
    assert (opened["from"], opened["to"]) == ("closed", "open"), mode
    assert OUTAGE_S[0] <= opened["time_s"] < OUTAGE_S[1], mode
    assert run["summary"]["counts"]["fast_fail"] > 0, mode
    assert (closed["from"], closed["to"]) == ("half_open", "closed"), mode
    assert OUTAGE_S[1] <= closed["time_s"] <= OUTAGE_S[1] + OPEN_S + 0.5, mode
    states = [row["breaker_state"] for row in run["timeline"]]
    assert "open" in states and states[-1] == "closed", mode  # the per-second timeline


@pytest.mark.parametrize("mode", ["sequential", "threaded", "async"])
def test_compare_shows_open_fast_fail_probe_close(
    mode: str, demo_runs: dict[str, dict[str, Any]]
) -> None:
    check_cycle(demo_runs[mode])


@pytest.mark.skipif("sdk" not in REGISTRY, reason="google-genai is not installed")
def test_compare_sdk_leaves_on_time_and_shows_the_cycle(
    demo_runs: dict[str, dict[str, Any]],
) -> None:
    run = demo_runs["sdk"]
    first = min(run["records"], key=lambda r: r["intended_start_s"])
    assert first["start_s"] - first["intended_start_s"] < 0.2
    check_cycle(run)
