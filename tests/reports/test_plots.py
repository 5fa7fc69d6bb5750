"""Every plot is a real 1000×600 PNG; plots without data are skipped, not crashed."""

from __future__ import annotations

import struct
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from reports import plots
from reports.load import Results, load_results

PlotFn = Callable[[Sequence[Results], Path], Path | None]
ALL_PLOTS = [
    pytest.param(plots.plot_throughput_vs_users, id="throughput"),
    pytest.param(plots.plot_latency_percentiles, id="latency-percentiles"),
    pytest.param(plots.plot_latency_cdf, id="latency-cdf"),
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
def test_each_plot_is_a_1000x600_png(plot: PlotFn, faulty_results: Path, tmp_path: Path) -> None:
    out = plot([load_results(faulty_results)], tmp_path / "p.png")
    assert out == tmp_path / "p.png"
    assert out.stat().st_size > 5_000
    assert png_size(out) == (1000, 600)


@pytest.mark.parametrize("plot", ALL_PLOTS)
def test_plots_of_a_sweep_compared_with_a_single_run(
    plot: PlotFn, build: Callable[..., dict[str, Any]], write: Callable[..., Path], tmp_path: Path
) -> None:
    sweep = write(build(users=(2, 4, 8), modes=("sequential", "async", "custom"), reps=2), "sweep")
    single = write(build(users=(4,), reps=1, faults=True), "single")
    out = plot([load_results(sweep), load_results(single)], tmp_path / "p.png")
    assert out is not None
    assert png_size(out) == (1000, 600)


@pytest.mark.parametrize(
    ("plot", "strip"),
    [
        pytest.param(plots.plot_timeline, "timeline", id="timeline-without-rows"),
        pytest.param(plots.plot_amplification, "timeline", id="amplification-without-rows"),
        pytest.param(plots.plot_latency_cdf, "records", id="cdf-without-records"),
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
    plots._draw_bands(ax, run)
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


def test_runs_are_named_by_users_or_as_open_loop(build: Any, write: Any) -> None:
    closed_doc = build(users=(20,), reps=1)
    open_doc = build(users=(20,), reps=1)
    open_doc["config"]["open_loop"] = {"rate_rps": 20, "arrival": "constant", "requests": 10}
    closed = load_results(write(closed_doc, name="closed"))
    opened = load_results(write(open_doc, name="open"))
    assert plots.who(closed, 20) == "20 users"
    assert plots.who(opened, 20) == "open loop, ≤ 20 in flight"
