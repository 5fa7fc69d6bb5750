"""report.html's order and the figures beside each plot (the browser test measures the rest)."""

from __future__ import annotations

import re
from typing import Any

from reports.load import load_results
from reports.render import plot_tables, render_html, render_report


def test_the_page_reads_verdict_plots_tables_then_folded_configuration(
    build: Any, write: Any, tmp_path: Any
) -> None:
    page = render_report([write(build(faults=True))], tmp_path / "out")["html"].read_text()
    order = ['class="verdict"', '<div class="plots">', "<h4>Summary</h4>", "<details>"]
    positions = [page.index(marker) for marker in order]
    assert positions == sorted(positions)
    folded = page[page.index("<details>") :]
    assert "<summary>Configuration and provenance</summary>" in folded
    assert "&quot;resilience&quot;" in folded and "<dt>commit</dt>" in folded


def test_each_plot_carries_its_figures_in_a_table_and_its_alt_text(build: Any, write: Any) -> None:
    results = load_results(write(build(reps=1)))
    (table,) = plot_tables("throughput", [results])
    assert table.headers[:2] == ("mode", "users") and "throughput rps" in table.headers
    throughput = {row[0]: row[table.headers.index("throughput rps")] for row in table.rows}
    page = render_report([results.path], results.path.parent / "out")["html"].read_text()
    figure = re.search(r'<figure id="plot-throughput">.*?</figure>', page)
    assert figure is not None
    assert "<th>throughput rps</th>" in figure.group(0)  # the table under the plot
    assert f"<td>{throughput['async']}</td>" in figure.group(0)
    alt = re.search(r'alt="([^"]*)"', figure.group(0))
    assert alt is not None and "async 20 " in alt.group(1)  # hover text: the same figures
    assert throughput["async"] in alt.group(1)


def test_open_and_closed_files_get_a_table_each_under_a_plot(build: Any, write: Any) -> None:
    closed = load_results(write(build(reps=1), "closed"))
    opened = load_results(write(build(reps=1, rate_rps=20), "open"))
    tables = plot_tables("latency_percentiles", [closed, opened])
    assert [t.headers[0] for t in tables] == ["run", "run"] and len(tables) == 2
    assert {row[0] for row in tables[1].rows} == {"open"}


def test_text_columns_are_left_aligned_and_figures_right(build: Any, write: Any) -> None:
    page = render_html([load_results(write(build(reps=1)))], {})
    assert '<th class="text">mode</th>' in page
    assert '<td class="text">sequential</td>' in page
    assert "<th>throughput rps</th>" in page  # numbers: the default right alignment
