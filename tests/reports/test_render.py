"""Markdown and HTML outputs, and render_report's files."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reports.errors import ReportInputError
from reports.load import load_many, load_results
from reports.render import render_html, render_markdown, render_report

Build = Callable[..., dict[str, Any]]
Write = Callable[..., Path]


def test_markdown_has_the_table_the_verdict_and_the_breaker_summary(faulty_results: Path) -> None:
    text = render_markdown([load_results(faulty_results)])
    assert "| mode | users | cap | reps | makespan s |" in text
    assert re.search(r"\| async \| 20 \| 20 \| 3 \| 1\.02 ", text)
    # 70 % real answers everywhere: no speed claim, the verdict says why
    assert "**Verdict** — 20 users: not comparable: sequential served 14 of 20 real answers" in text
    assert "faster than" not in text
    assert re.search(r"\| threaded \| 20 \| 3 \| 2 \| ", text)  # opened twice
    assert "<b>" not in text  # the command's text cannot inject tags into a step summary


def test_markdown_says_slower_and_when_nothing_to_compare(build: Build, write: Write) -> None:
    doc = build(modes=("sequential", "async"), reps=1)
    doc["runs"][1]["summary"]["makespan_s"] = 40.0  # async twice as slow as sequential
    slow = render_markdown([load_results(write(doc, "slow"))])
    assert "async 1.98× slower than sequential" in slow
    lonely = render_markdown([load_results(write(build(modes=("async",), reps=1), "lonely"))])
    assert "20 users: only async ran: nothing to compare" in lonely
    assert "_No breaker transitions recorded._" in lonely


def test_html_is_self_contained_and_escaped(faulty_results: Path, tmp_path: Path) -> None:
    png = tmp_path / "x.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\nfake")
    page = render_html([load_results(faulty_results)], {"timeline": png})
    assert '<img src="data:image/png;base64,iVBORw0KGgpmYWtl"' in page
    assert "<th>makespan s</th>" in page
    assert "20 users: not comparable: sequential served 14 of 20 real answers" in page
    assert "half_open → open" in page  # the full transitions table
    assert "&quot;service_time_s&quot;: 1.0" in page  # configuration, pretty JSON, escaped
    assert "--note &lt;b&gt;&amp;" in page
    assert "<b>&" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)  # no external assets


def test_a_clean_run_claims_its_speedup_and_what_the_bound_allows(
    build: Build, write: Write
) -> None:
    text = render_markdown([load_results(write(build(reps=3), "clean"))])
    assert "20 users: async 19.8× faster than sequential; bound allows 20×" in text
    assert "threaded 4.9× (bound 5×)" in text


def test_several_results_side_by_side(build: Build, write: Write) -> None:
    first = write(build(reps=1), "before")
    second = write(build(reps=1, slowdown=1.2), "after")
    page = render_html(load_many([first, second]), {})
    assert page.count('<section class="headline">') == 2  # each file's verdict first
    assert page.count("<h3>before</h3>") == 2  # its tables, and its folded configuration
    assert page.index("<h2>before</h2>") < page.index("<h2>after</h2>")
    assert page.index("<h2>after</h2>") < page.index("<h2>Plots</h2>") < page.index("<h3>before")


def test_render_report_writes_every_file(faulty_results: Path, tmp_path: Path) -> None:
    paths = render_report([faulty_results.parent], tmp_path / "out")
    names = ["throughput", "latency_percentiles", "latency_cdf", "timeline", "amplification"]
    assert set(paths) == {*names, "html", "markdown"}
    assert all(paths[n] == tmp_path / "out" / f"{n}.png" for n in names)
    html = paths["html"].read_text(encoding="utf-8")
    assert html.count('<img src="data:image/png;base64,') == len(names)
    assert "Verdict" in paths["markdown"].read_text(encoding="utf-8")


def test_render_report_skips_plots_without_data(build: Build, write: Write, tmp_path: Path) -> None:
    doc = build(users=(3,), reps=1)
    for run in doc["runs"]:
        run["timeline"], run["records"] = [], []
    paths = render_report([write(doc)], tmp_path / "out")
    assert set(paths) == {"throughput", "latency_percentiles", "html", "markdown"}
    assert not (tmp_path / "out" / "timeline.png").exists()


def test_render_report_names_a_bad_source(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="no such results file"):
        render_report([tmp_path / "missing"], tmp_path / "out")


CLOSED_ONLY = ("users", "makespan", "bound", "efficiency", "speed-up")


def _headers(text: str) -> list[list[str]]:
    """The header cells of every Markdown table in ``text``."""
    lines = text.splitlines()
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line, below in itertools.pairwise(lines)
        if line.startswith("|") and below.startswith("|---")
    ]


def _rows(text: str, first: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith(f"| {first} |")
    ]


def test_open_loop_markdown_shows_rates_and_corrected_latency_and_no_closed_loop_columns(
    build: Build, write: Write
) -> None:
    text = render_markdown([load_results(write(build(reps=3, rate_rps=20), "open"))])
    summary = _headers(text)[0]
    assert not [h for h in summary if any(word in h for word in CLOSED_ONLY)], summary
    for wanted in ("offered rps", "achieved rps", "goodput rps", "ok share", "in-flight cap"):
        assert wanted in summary
    assert "from intended start p50 / p95 / p99 s" in summary
    assert "schedule lag p50 / p99 / max ms" in summary
    assert "**Load** — Open loop: 20 req/s (poisson), ≤ 256 in flight." in text
    # repetitions: one row per design, medians; sequential fell 4 s behind the schedule
    rows = {row[0]: dict(zip(summary, row, strict=True)) for row in _rows(text, "sequential")}
    rows.update({row[0]: dict(zip(summary, row, strict=True)) for row in _rows(text, "async")})
    assert len(_rows(text, "sequential")) == 1
    assert rows["sequential"]["reps"] == "3"
    assert rows["sequential"]["offered rps"] == "20"
    assert rows["sequential"]["from intended start p50 / p95 / p99 s"] == "5 / 5.4 / 5.75"
    assert rows["async"]["from intended start p50 / p95 / p99 s"] == "1 / 1.08 / 1.15"
    assert rows["async"]["in-flight cap"] == "≤ 256"
    assert rows["async"]["ok share"] == "100%"
    assert "users 0" not in text and "≤ 0 in flight" not in text


def test_open_loop_html_has_no_closed_loop_columns(build: Build, write: Write) -> None:
    page = render_html([load_results(write(build(reps=1, rate_rps=20), "open"))], {})
    head = re.search(r"<h4>Summary</h4>.*?<thead>(.*?)</thead>", page)
    assert head is not None
    headers = re.findall(r"<th(?: class=\"text\")?>(.*?)</th>", head.group(1))
    assert not [h for h in headers if any(word in h for word in CLOSED_ONLY)], headers
    assert "<th>offered rps</th>" in page and "<th>goodput rps</th>" in page
    assert "<th>from intended start p50 / p95 / p99 s</th>" in page
    assert "coordinated omission corrected" in page


def test_closed_loop_tables_show_ok_share_goodput_and_the_reference(
    faulty_results: Path,
) -> None:
    text = render_markdown([load_results(faulty_results)])
    headers = _headers(text)[0]
    assert "speed-up vs sequential (goodput ratio; bound)" in headers
    row = dict(zip(headers, _rows(text, "async")[0], strict=True))
    assert row["ok share"] == "70%"  # 14 of 20 real answers
    assert row["throughput rps"] == "19.6"
    assert row["goodput rps"] == "13.7"  # 14 ok / 1.02 s


def test_without_sequential_the_speedup_names_the_first_design(build: Build, write: Write) -> None:
    text = render_markdown([load_results(write(build(modes=("threaded", "async"), reps=1)))])
    assert "speed-up vs threaded (goodput ratio; bound)" in _headers(text)[0]
    assert "| threaded | 20 | 5 | 1 |" in text and "1× (ref)" in text


def test_an_estimated_bound_is_marked_and_an_unknown_one_is_a_dash(
    build: Build, write: Write
) -> None:
    doc = build(modes=("sequential", "async"), reps=1)
    doc["runs"][0]["summary"].update(bound_s=None, efficiency=None)
    doc["runs"][1]["summary"]["bound_kind"] = "estimate"
    text = render_markdown([load_results(write(doc))])
    headers = _headers(text)[0]
    seq = dict(zip(headers, _rows(text, "sequential")[0], strict=True))
    asy = dict(zip(headers, _rows(text, "async")[0], strict=True))
    assert (seq["bound s"], seq["efficiency"]) == ("—", "—")
    assert (asy["bound s"], asy["efficiency"]) == ("~1", "~0.98")


def test_streamed_runs_show_ttft_itl_tpot_and_tokens_in_markdown_and_html(
    build: Build, write: Write
) -> None:
    results = load_results(write(build(reps=2, stream=True)))
    text = render_markdown([results])
    assert "#### Streaming" in text
    headers = _headers(text)[1]
    row = dict(zip(headers, _rows(text, "async")[1], strict=True))
    assert row["TTFT p50 / p95 / p99 ms"] == "80 / 86.4 / 92"
    assert row["ITL p50 / p95 / p99 ms"] == "1.6 / 1.73 / 1.84"
    assert row["TPOT p50 / p95 / p99 ms"] == "1.68 / 1.81 / 1.93"
    assert row["output tok/s per request p50 / p95 / p99"] == "500 / 540 / 575"
    page = render_html([results], {})
    for header in ("TTFT p50 / p95 / p99 ms", "ITL p50 / p95 / p99 ms", "TPOT p50 / p95 / p99 ms"):
        assert f"<th>{header}</th>" in page
    unstreamed = render_markdown([load_results(write(build(reps=1), "plain"))])
    assert "Streaming" not in unstreamed and "TTFT" not in unstreamed


def test_render_report_draws_ttft_and_itl_for_a_streamed_run(
    build: Build, write: Write, tmp_path: Path
) -> None:
    paths = render_report([write(build(reps=1, stream=True))], tmp_path / "out")
    assert {"ttft_cdf", "itl_cdf"} <= set(paths)
    page = paths["html"].read_text(encoding="utf-8")
    assert "Time to first token CDF per mode" in page
