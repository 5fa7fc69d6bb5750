"""``python -m harness compare --schedule outage:…``: every mode's breaker cycle in results.json."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

OUTAGE_S = (1.0, 2.0)
DEMO = [
    "compare", "--modes", "sequential,threaded,async", "--users", "8",
    "--requests-per-user", "20", "--latency", "0.02",
    "--schedule", f"outage:{OUTAGE_S[0]:g}-{OUTAGE_S[1]:g}:503",
    "--retries", "0", "--breaker-open-s", "0.3", "--breaker-probes", "2",
    "--no-report", "--no-progress",
]  # fmt: skip


@pytest.mark.xfail(
    strict=True,
    reason="the embedded mock's schedule clock starts once per compare, not per mode "
    "(harness/runner.py _one_round never POSTs /_mock/reset), and closed-loop users drain "
    "their remaining requests in microseconds once the breaker opens, so no run lasts "
    "past the outage (compare has no pacing / open-loop flag yet)",
)
def test_compare_shows_open_fast_fail_probe_close_for_every_mode(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", *DEMO, "--out", str(out)],
        capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    runs = json.loads((out / "results.json").read_text())["runs"]
    for run in runs:
        moves = [(t["from"], t["to"], t["time_s"]) for t in run["breaker_transitions"]]
        assert moves, f"{run['mode']}: the breaker never moved"
        opened, closed = moves[0], moves[-1]
        assert opened[:2] == ("closed", "open") and OUTAGE_S[0] <= opened[2] < OUTAGE_S[1]
        assert run["summary"]["counts"]["fast_fail"] > 0
        assert closed[:2] == ("half_open", "closed") and closed[2] >= OUTAGE_S[1], run["mode"]
