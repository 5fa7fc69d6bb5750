"""What issue 17 asked of the plots: CDFs split by outcome, timeline bins sized to the run,
runs told apart by line style and hatch, the timeline sized to its panels."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from reports import plot_base, plot_timeline, plots
from reports.aggregate import run_end_s
from reports.load import load_results


def _with_fast_fails(doc: dict[str, Any], count: int) -> dict[str, Any]:
    """Turn the first ``count`` records of every run into ≈ 0 s fallbacks (fast fails)."""
    for run in doc["runs"]:
        for record in run["records"][:count]:
            record.update(outcome="fallback", latency_s=0.001, end_s=record["start_s"] + 0.001)
    return doc


def test_the_latency_cdf_draws_real_answers_and_fallbacks_apart(build: Any, write: Any) -> None:
    results = load_results(write(_with_fast_fails(build(reps=1), count=5)))
    panels = [("ok", plots._latencies(plots.OK)), ("bad", plots._latencies(plots.BAD))]
    fig = plots.cdf_figure([results], panels, "t", "x")
    assert fig is not None
    ok_axes, bad_axes = fig.axes
    assert min(min(line.get_xdata()) for line in ok_axes.lines) > 0.5  # no fast fail among them
    assert {line.get_label() for line in bad_axes.lines} >= {"async (n=5)"}
    assert max(max(line.get_xdata()) for line in bad_axes.lines) == pytest.approx(0.001)


def test_without_failures_the_cdf_has_one_panel_and_says_so(build: Any, write: Any) -> None:
    results = load_results(write(build(reps=1)))
    panels = [("real answers (ok)", plots._latencies(plots.OK)),
              ("fallbacks and failures", plots._latencies(plots.BAD))]  # fmt: skip
    fig = plots.cdf_figure([results], panels, "Latency CDF", "x")
    assert fig is not None and len(fig.axes) == 1
    assert "(no fallbacks and failures)" in fig.get_suptitle()


@pytest.mark.parametrize(
    ("duration_s", "width_s"),
    [
        pytest.param(4.0, 0.02, id="4s"),
        pytest.param(0.13, 0.001, id="130ms"),
        pytest.param(60.0, 0.5, id="1min"),
        pytest.param(3600.0, 20.0, id="1h"),
    ],
)
def test_bins_are_round_and_50_to_200_over_the_run(duration_s: float, width_s: float) -> None:
    assert plot_timeline.bin_width_s(duration_s) == width_s
    edges = plot_timeline.bin_edges(duration_s, width_s)
    assert 50 <= len(edges) - 1 <= 200
    assert edges[0] == 0.0 and edges[-1] == duration_s  # the last step ends with the run


def test_timeline_bins_come_from_the_records_and_end_with_the_run(build: Any, write: Any) -> None:
    run = load_results(write(build(reps=1))).runs[0]
    bins = plot_timeline.timeline_bins(run)
    assert 50 <= len(bins.ok) <= 200 and bins.edges[-1] == run_end_s(run)
    widths = [hi - lo for lo, hi in zip(bins.edges[:-1], bins.edges[1:], strict=True)]
    # rates × widths count every request once, started and ended
    assert sum(r * w for r, w in zip(bins.started, widths, strict=True)) == pytest.approx(20)
    assert sum(r * w for r, w in zip(bins.ok, widths, strict=True)) == pytest.approx(20)
    assert "from the raw records" in bins.width_label


def test_without_records_the_timeline_keeps_seconds_and_says_so(build: Any, write: Any) -> None:
    doc = build(reps=1)
    for run in doc["runs"]:
        run["records"], run["timeline"] = [], run["timeline"][:3]
        run["summary"]["makespan_s"] = 2.5
    run = load_results(write(doc)).runs[0]
    bins = plot_timeline.timeline_bins(run)
    assert bins.width_label == "1 s bins: no raw records"
    assert bins.edges == [0.0, 1.0, 2.0, 2.5]  # the last second cut at the run's end


def test_two_runs_differ_by_line_style_and_hatch(build: Any, write: Any) -> None:
    first = load_results(write(build(reps=1), "a"))
    second = load_results(write(build(reps=1, slowdown=1.2), "b"))
    fig = plots.throughput_figure([first, second])
    (ax,) = fig.axes
    hatches = {bar.get_hatch() or "" for bar in ax.patches}
    assert len(hatches) == 2
    assert plots.file_style([first, second], first) != plots.file_style([first, second], second)


def test_the_timeline_grows_with_its_panels() -> None:
    assert plot_timeline.panel_figsize(1) == (10.0, 6.0)
    assert plot_timeline.panel_figsize(6) == (10.0, 10.8)  # 6 panels: 1080 px, not 600


def test_runs_are_named_by_what_differs_in_their_configuration(build: Any, write: Any) -> None:
    fast, slow = build(reps=1), build(reps=1)
    slow["config"]["mock"]["latency_s"] = 2.0
    slow["config"]["target"]["base_url"] = "http://127.0.0.1:9999"  # a place, not a setting
    loaded = [load_results(write(fast, "a")), load_results(write(slow, "b"))]
    named = plot_base.named_by_difference(loaded)
    assert [r.label for r in named] == ["a (mock.latency_s=1.0)", "b (mock.latency_s=2.0)"]
    assert plot_base.named_by_difference(loaded[:1]) == loaded[:1]


def test_a_sliver_of_a_last_bin_joins_the_one_before() -> None:
    """1.03 s in 0.02 s bins: the 0.01 s sliver would show a 20-requests spike as 2,000/s."""
    edges = plot_timeline.bin_edges(1.03, 0.02)
    widths = [hi - lo for lo, hi in itertools.pairwise(edges)]
    assert edges[-1] == 1.03 and min(widths) >= 0.02 - 1e-9
