"""Every plot is a real 1000 px wide PNG (600 px high, the timeline more with more panels);
plots without data are skipped, not crashed."""

from __future__ import annotations

import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from reports import plot_timeline, plots
from reports.load import Results, load_results
from reports.verdict import load_label

PlotFn = Callable[[Sequence[Results], Path], Path | None]
ALL_PLOTS = [
    pytest.param(plots.plot_throughput_vs_users, id="throughput"),
    pytest.param(plots.plot_latency_percentiles, id="latency-percentiles"),
    pytest.param(plots.plot_latency_cdf, id="latency-cdf"),
    pytest.param(plots.plot_ttft_cdf, id="ttft-cdf"),
    pytest.param(plots.plot_itl_cdf, id="itl-cdf"),
    pytest.param(plots.plot_timeline, id="timeline"),
    pytest.param(plots.plot_amplification, id="amplification"),
]


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG signature and IHDR chunk."""
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert header[12:16] == b"IHDR"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


@pytest.mark.parametrize("plot", ALL_PLOTS)
@pytest.mark.parametrize("rate_rps", [pytest.param(None, id="closed"), pytest.param(20, id="open")])
def test_each_plot_is_a_1000x600_png(
    plot: PlotFn, rate_rps: float | None, build: Any, write: Any, tmp_path: Path
) -> None:
    doc = build(faults=True, stream=True, rate_rps=rate_rps)
    out = plot([load_results(write(doc))], tmp_path / "p.png")
    assert out == tmp_path / "p.png"
    assert out.stat().st_size > 5_000
    assert png_size(out) == (1000, 600)


@pytest.mark.parametrize("plot", ALL_PLOTS)
def test_plots_of_a_sweep_compared_with_a_single_run(
    plot: PlotFn, build: Callable[..., dict[str, Any]], write: Callable[..., Path], tmp_path: Path
) -> None:
    sweep = write(build(users=(2, 4, 8), modes=("sequential", "async", "custom"), reps=2), "sweep")
    single = write(build(users=(4,), reps=1, faults=True, stream=True), "single")
    opened = write(build(reps=2, rate_rps=10, stream=True), "open")
    out = plot([load_results(p) for p in (sweep, single, opened)], tmp_path / "p.png")
    assert out is not None
    # the timeline grows with its panels (9 here: 3 files × 3 modes), 1.6 in (160 px) each
    assert png_size(out) == ((1000, 1560) if plot is plots.plot_timeline else (1000, 600))


@pytest.mark.parametrize(
    ("plot", "strip"),
    [
        pytest.param(plots.plot_timeline, "timeline", id="timeline-without-rows"),
        pytest.param(plots.plot_amplification, "timeline", id="amplification-without-rows"),
        pytest.param(plots.plot_latency_cdf, "records", id="cdf-without-records"),
        pytest.param(plots.plot_ttft_cdf, "records", id="ttft-without-records"),
        pytest.param(plots.plot_itl_cdf, "records", id="itl-without-records"),
    ],
)
def test_plots_without_data_write_nothing(
    plot: PlotFn,
    strip: str,
    build: Callable[..., dict[str, Any]],
    write: Callable[..., Path],
    tmp_path: Path,
) -> None:
    doc = build(reps=1)
    for run in doc["runs"]:
        run[strip] = []
    assert plot([load_results(write(doc))], tmp_path / "p.png") is None
    assert not (tmp_path / "p.png").exists()


def test_timeline_bands_are_drawn_at_the_transition_times(faulty_results: Path) -> None:
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    run = next(r for r in load_results(faulty_results).runs if r.breaker_transitions)
    ax = Figure().subplots()
    plot_timeline._draw_bands(ax, run)
    spans = [patch for patch in ax.patches if isinstance(patch, Rectangle)]
    assert len(spans) == len(ax.patches)
    drawn = [edge for span in spans for edge in (span.get_x(), span.get_x() + span.get_width())]
    t = [transition.time_s for transition in run.breaker_transitions]
    # open, half-open, open, half-open; the final closed band is not painted
    expected = [t[0], t[1], t[1], t[2], t[2], t[3], t[3], t[4]]
    assert drawn == pytest.approx(expected)


def test_mode_colours_are_fixed_for_known_modes_and_distinct_for_others() -> None:
    first = plots.mode_colours(["async", "sequential", "b-custom", "a-custom"])
    again = plots.mode_colours(["a-custom", "b-custom", "sequential", "async"])
    assert first == again
    assert len(set(first.values())) == 4


def test_importing_reports_pulls_in_neither_matplotlib_nor_harness() -> None:
    code = (
        "import sys, reports, reports.load, reports.render, reports.regression, reports.tables;"
        "assert 'matplotlib' not in sys.modules, 'matplotlib';"
        "import reports.plots;"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'harness'], 'harness'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_ttft_and_itl_cdfs_need_streamed_records(faulty_results: Path, tmp_path: Path) -> None:
    unstreamed = [load_results(faulty_results)]
    assert plots.plot_ttft_cdf(unstreamed, tmp_path / "t.png") is None
    assert plots.plot_itl_cdf(unstreamed, tmp_path / "i.png") is None
    assert not list(tmp_path.glob("*.png"))


def _curves(fig: Any) -> dict[str, list[float]]:
    (ax,) = fig.axes
    return {line.get_label().split(" ")[0]: list(line.get_xdata()) for line in ax.lines}


def test_ttft_and_itl_cdfs_draw_one_curve_per_design_from_the_records(
    build: Any, write: Any
) -> None:
    results = load_results(write(build(stream=True, reps=2)))
    ttft = plots.cdf_figure([results], [("", plots._record_values("ttft_s"))], "t", "x")
    itl = plots.cdf_figure([results], [("", plots._record_values("itl_s"))], "i", "x")
    for fig, first in ((ttft, 0.1), (itl, 0.002)):
        curves = _curves(fig)
        assert set(curves) == {"sequential", "threaded", "async"}
        assert len(curves["threaded"]) == 40  # 20 records × 2 repetitions, pooled
        assert curves["threaded"][0] == pytest.approx(first)
        assert curves["async"][0] == pytest.approx(first * 0.8)  # async streams faster


def test_the_open_loop_latency_cdf_counts_from_the_intended_start(build: Any, write: Any) -> None:
    results = load_results(write(build(reps=1, rate_rps=20)))
    sequential = plots._latencies(plots.OK | plots.BAD)(results, "sequential")
    record = max(results.runs[0].records, key=lambda r: r["end_s"] - r["intended_start_s"])
    assert sequential[-1] == pytest.approx(record["end_s"] - record["intended_start_s"])
    assert sequential[-1] > max(r["latency_s"] for r in results.runs[0].records)


def _references(fig: Any) -> dict[str, list[float]]:
    (ax,) = fig.axes
    out: dict[str, list[float]] = {}
    for line in ax.lines:
        if line.get_gid():
            out.setdefault(line.get_gid(), []).extend(line.get_ydata())
    return out


def test_the_open_loop_throughput_plot_is_drawn_against_the_offered_rate(
    build: Any, write: Any
) -> None:
    results = load_results(write(build(reps=3, rate_rps=20)))
    fig = plots.throughput_figure([results])
    (ax,) = fig.axes
    assert _references(fig) == {"offered": [20.0] * 6}  # one dashed tick per design
    assert "users" not in ax.get_xlabel()
    assert ax.get_xlabel() == f"mode ({load_label(results, 0)})"
    assert "20 req/s (poisson)" in ax.get_xlabel()
    assert "offered rate" in ax.get_title()
    assert [bar.get_height() for bar in ax.patches] == pytest.approx(
        [run.summary["throughput_rps"] for run in results.runs[::3]]
    )


def test_the_closed_loop_throughput_plot_is_drawn_against_the_bound(build: Any, write: Any) -> None:
    results = load_results(write(build(reps=1)))
    refs = _references(plots.throughput_figure([results]))
    assert set(refs) == {"bound"}
    assert refs["bound"] == pytest.approx(
        [1.0] * 2 + [5.0] * 2 + [20.0] * 2
    )  # 20 requests / bound_s


def test_timeline_rows_are_named_by_their_load(build: Any, write: Any) -> None:
    closed = load_results(write(build(users=(20,), reps=1), name="closed"))
    opened = load_results(write(build(reps=1, rate_rps=20), name="open"))
    assert load_label(closed, 20) == "20 users"
    assert load_label(opened, 0) == "20 req/s (poisson), ≤ 256 in flight"
