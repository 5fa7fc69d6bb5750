"""Markdown and HTML outputs, and render_report's files."""

from __future__ import annotations

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
    assert "--cols:2" in page
    assert page.count('<section class="file">') == 2
    assert page.index("<h2>before</h2>") < page.index("<h2>after</h2>")


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
