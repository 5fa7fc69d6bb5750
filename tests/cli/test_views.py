"""Every view of a run comes from its results document, and says the same thing.

A real run (embedded mock on 127.0.0.1) prints its console summary; ``report RUN_DIR``
prints it again from the saved ``results.json``, byte for byte. Its verdict is the same
text in the console, ``--json``, ``summary.md``, ``report.html`` and the document itself,
for closed-loop, open-loop, repeated and streamed runs.
"""

from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import reports.console
import reports.render
import reports.verdict
from harness.cli import main
from reports.load import load_results

QUICK = ["--latency", "0.05", "--calibration", "off", "--no-progress"]
RUNS = [
    pytest.param(["--users", "3"], id="closed-loop"),
    pytest.param(["--rate", "40", "--requests", "12", "--arrival", "constant"], id="open-loop"),
    pytest.param(["--users", "2", "--repetitions", "2"], id="repetitions"),
    pytest.param(["--users", "2", "--stream", "--tokens-per-s", "2000"], id="streaming"),
    pytest.param(["--users", "2", "--modes", "threaded,async"], id="no-sequential"),
]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(argv) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("flags", RUNS)
def test_report_reprints_what_the_run_printed(
    flags: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    printed = _run(["compare", *flags, *QUICK, "--out", str(out), "--no-report"], capsys)
    again = _run(["report", str(out)], capsys)
    assert again == printed
    assert "verdict: " in printed
    assert sorted(p.name for p in out.iterdir()) == ["results.json"]  # report wrote nothing


def _verdict_texts(out: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, list[str]]:
    console = _run(["report", str(out)], capsys)
    as_json = json.loads(_run(["report", str(out), "--json"], capsys))
    document = json.loads((out / "results.json").read_text())
    results = load_results(out)
    markdown = reports.render.render_markdown([results])
    page = reports.render.render_html([results], {})
    verdict_list = re.search(r'<ul class="verdict">(.*?)</ul>', page)
    assert verdict_list is not None
    return {
        "console": [line[len("verdict: ") :] for line in console.splitlines()
                    if line.startswith("verdict: ")],
        "json": [v["text"] for v in as_json["verdicts"]],
        "document": [v["text"] for v in document["verdicts"]],
        "markdown": [line.split("**Verdict** — ", 1)[1] for line in markdown.splitlines()
                     if line.startswith("**Verdict** — ")],
        "html": [html.unescape(item) for item in re.findall(r"<li>(.*?)</li>",
                                                            verdict_list.group(1))],
    }  # fmt: skip


@pytest.mark.parametrize("flags", RUNS)
def test_the_verdict_is_one_text_in_every_view(
    flags: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    _run(["compare", *flags, *QUICK, "--out", str(out), "--no-report"], capsys)
    texts = _verdict_texts(out, capsys)
    assert texts["console"], texts
    assert all(view == texts["console"] for view in texts.values()), texts
    document = json.loads((out / "results.json").read_text())
    assert document["verdict"]["text"] == texts["console"][-1]


def test_every_view_calls_the_one_verdict_function() -> None:
    assert reports.console.verdicts is reports.verdict.verdicts
    assert reports.render.verdicts is reports.verdict.verdicts


def test_report_writes_files_only_where_out_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    _run(["compare", "--users", "2", *QUICK, "--out", str(out), "--no-report"], capsys)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    elsewhere = tmp_path / "elsewhere"
    printed = _run(["report", str(out), "--out", str(elsewhere)], capsys)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert (elsewhere / "report.html").is_file() and (elsewhere / "summary.md").is_file()
    assert printed.rstrip().endswith(f"report: {elsewhere / 'report.html'}")


@pytest.mark.parametrize("columns", [80, 120])
def test_the_summary_fits_the_terminal_without_ellipsis(
    columns: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    _run(["compare", "--users", "3", "--repetitions", "2", *QUICK, "--out", str(out),
          "--no-report"], capsys)  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "harness", "report", str(out)], capture_output=True, text=True,
        timeout=60, env={**os.environ, "COLUMNS": str(columns)},
    )  # fmt: skip
    text = done.stdout
    assert "…" not in text
    table_lines = [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]
    assert max(len(line) for line in table_lines) <= columns
    for mode in ("sequential", "threaded", "async"):
        assert f"│ {mode}" in text
    document = json.loads((out / "results.json").read_text())
    for run in document["runs"]:
        assert f"{run['summary']['counts']['submitted']}" in text
