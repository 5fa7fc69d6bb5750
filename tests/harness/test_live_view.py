"""The live view shows what the run is doing, and its last figures are the summary's."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from harness.resilience.policy import Waiting
from harness.run import progress as live
from harness.run.progress import LiveStats, ModeProgress, PlainDisplay


def test_the_last_live_figures_equal_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    seen: dict[str, ModeProgress] = {}
    original = live.ModeProgress.__init__

    def keep(self: ModeProgress, display: object, label: str, total: int) -> None:
        original(self, display, label, total)  # type: ignore[arg-type]
        seen[label.split()[1]] = self

    monkeypatch.setattr(live.ModeProgress, "__init__", keep)
    out = tmp_path / "run"
    argv = ["compare", "--users", "4", "--requests-per-user", "3", "--latency", "0.05",
            "--fault", "500=0.2", "--retries", "0", "--calibration", "off", "--no-report",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    err = capsys.readouterr().err
    document = json.loads((out / "results.json").read_text())
    for run in document["runs"]:
        stats = seen[run["mode"]].stats
        summary = run["summary"]
        for outcome in ("ok", "fallback", "failed"):
            assert stats.outcomes[outcome] == summary["counts"][outcome], (run["mode"], outcome)
        p50, p99 = stats.percentiles()
        assert p50 == pytest.approx(summary["latency_s"]["p50"])
        assert p99 == pytest.approx(summary["latency_s"]["p99"])
    # not a terminal: one plain line per design start and end, with "n of m"
    assert "1/3 sequential ×4: started (12 requests)" in err
    assert "3/3 async ×4: 12/12 ok" in err


def test_the_line_says_what_the_design_waits_for() -> None:
    class Breaker:
        state = "open"

    class Policy:
        breaker = Breaker()
        waiting = Waiting()

    stats = LiveStats(10)
    stats.policy = Policy()
    Policy.waiting.enter(26.0)
    text = stats.describe()
    assert "breaker open" in text and "the breaker is open" in text
    assert "1 sleeping out a retry delay (latest 26 s)" in text


def test_plain_lines_come_at_milestones_only() -> None:
    stream = io.StringIO()
    display = PlainDisplay(stream)
    task = display.add_task("1/1 async ×2", total=2)
    display.update(task, completed=1, total=2, milestone=False, stats="x")
    display.update(task, completed=2, total=2, milestone=True, stats="ok 2")
    assert stream.getvalue().splitlines() == [
        "1/1 async ×2: started (2 requests)",
        "1/1 async ×2: 2/2 ok 2",
    ]
