"""Real runs (embedded mock on 127.0.0.1) through ``harness.cli.main``, then every view.

The synthetic builder shapes documents by hand; these check that what the harness really
writes for an open-loop and a streamed run reaches ``summary.md``, ``report.html`` and
the plots as what it is.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.cli import main
from reports import plots
from reports.load import load_results

QUICK = ["--latency", "0.05", "--calibration", "off", "--no-progress", "--no-report"]
CLOSED_ONLY = ("users", "makespan", "bound", "efficiency", "speed-up")


def _run_and_report(flags: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    run, out = tmp_path / "run", tmp_path / "report"
    assert main(["compare", *flags, *QUICK, "--out", str(run)]) == 0
    assert main(["report", str(run), "--out", str(out)]) == 0
    capsys.readouterr()
    return out


def _summary_headers(markdown: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith("| mode |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_a_real_open_loop_run_is_reported_as_open_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flags = ["--rate", "20", "--requests", "16", "--arrival", "constant", "--max-in-flight", "8"]
    out = _run_and_report(flags, tmp_path, capsys)
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    headers = _summary_headers(markdown)
    assert not [h for h in headers if any(word in h for word in CLOSED_ONLY)], headers
    assert {"offered rps", "achieved rps", "goodput rps"} <= set(headers)
    assert "from intended start p50 / p95 / p99 s" in headers
    assert "20 req/s (constant), ≤ 8 in flight" in markdown
    assert not [word for word in CLOSED_ONLY if word in markdown.lower()]
    assert re.search(r"^\| async \| ≤ 8 \| 1 \| 20 \| ", markdown, re.MULTILINE)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<th>offered rps</th>" in page and "<th>makespan s</th>" not in page
    assert "dashed: the offered rate" in page
    # the words a reader sees: not the raw configuration, not the images' base64
    shown = re.sub(r"<pre>.*?</pre>|data:image/png;base64,[^\"]*", "", page, flags=re.DOTALL)
    assert not [word for word in CLOSED_ONLY if word in shown.lower()]
    fig = plots.throughput_figure([load_results(tmp_path / "run")])
    offered = {
        y for line in fig.axes[0].lines if line.get_gid() == "offered" for y in line.get_ydata()
    }
    assert offered == {20.0}
    assert not [line for line in fig.axes[0].lines if line.get_gid() == "bound"]


def test_a_real_streamed_run_shows_ttft_itl_tpot_and_their_plots(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _run_and_report(["--users", "3", "--stream", "--tokens-per-s", "2000"], tmp_path, capsys)
    markdown = (out / "summary.md").read_text(encoding="utf-8")
    page = (out / "report.html").read_text(encoding="utf-8")
    for header in ("TTFT p50 / p95 / p99 ms", "ITL p50 / p95 / p99 ms", "TPOT p50 / p95 / p99 ms"):
        assert header in markdown
        assert f"<th>{header}</th>" in page
    assert "output tok/s" in markdown
    row = next(line for line in markdown.splitlines() if line.startswith("| async | 3 | 1 | "))
    ttft_p50 = float(row.split("|")[4].split("/")[0])
    assert 40 < ttft_p50 < 1000  # ms: at least the mock's 50 ms latency, never seconds
    assert (out / "ttft_cdf.png").stat().st_size > 5_000
    assert (out / "itl_cdf.png").stat().st_size > 5_000
    assert page.count('<img src="data:image/png;base64,') == len(list(out.glob("*.png")))
