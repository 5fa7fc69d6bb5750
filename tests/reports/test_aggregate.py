"""Medians, speed-ups and breaker bands against known answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reports.aggregate import (
    Spread,
    breaker_bands,
    metric_values,
    time_in_state,
    times_opened,
)
from reports.load import Transition, load_results
from reports.verdict import figure_values, group_bound_speedup


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param([3.0, 1.0, 2.0], Spread(2.0, 1.0, 3.0, 3), id="odd"),
        pytest.param([4.0, 1.0, 2.0, 3.0], Spread(2.5, 1.0, 4.0, 4), id="even"),
        pytest.param([None, 5.0], Spread(5.0, 5.0, 5.0, 1), id="nulls-ignored"),
        pytest.param([], None, id="empty"),
    ],
)
def test_spread_is_median_with_min_and_max(
    values: list[float | None], expected: Spread | None
) -> None:
    assert Spread.of(values) == expected


T = Transition


@pytest.mark.parametrize(
    ("transitions", "end_s", "expected"),
    [
        pytest.param([], 4.0, [(0.0, 4.0, "closed")], id="never-tripped"),
        pytest.param(
            [
                T(1.5, "closed", "open", ""),
                T(2.5, "open", "half_open", ""),
                T(2.75, "half_open", "closed", ""),
            ],
            6.0,
            [
                (0.0, 1.5, "closed"),
                (1.5, 2.5, "open"),
                (2.5, 2.75, "half_open"),
                (2.75, 6.0, "closed"),
            ],
            id="trip-and-recover",
        ),
        pytest.param(
            [T(1.0, "closed", "open", "")],
            3.0,
            [(0.0, 1.0, "closed"), (1.0, 3.0, "open")],
            id="run-ends-open",
        ),
        pytest.param(
            [T(0.0, "closed", "open", ""), T(2.0, "open", "half_open", "")],
            2.0,
            [(0.0, 2.0, "open")],
            id="empty-bands-dropped",
        ),
        pytest.param(
            [T(2.0, "open", "half_open", ""), T(1.0, "closed", "open", "")],
            3.0,
            [(0.0, 1.0, "closed"), (1.0, 2.0, "open"), (2.0, 3.0, "half_open")],
            id="unsorted-input",
        ),
    ],
)
def test_breaker_bands_follow_transitions(
    transitions: list[Transition], end_s: float, expected: list[tuple[float, float, str]]
) -> None:
    assert breaker_bands(transitions, end_s) == expected


def test_bands_of_a_recorded_run_edge_exactly_at_its_transitions(faulty_results: Path) -> None:
    run = next(r for r in load_results(faulty_results).runs if r.breaker_transitions)
    bands = breaker_bands(run.breaker_transitions, run.summary["makespan_s"])
    assert [start for start, _, _ in bands[1:]] == [t.time_s for t in run.breaker_transitions]
    assert [state for _, _, state in bands[1:]] == [t.to_state for t in run.breaker_transitions]
    assert bands[-1][1] == run.summary["makespan_s"]
    assert times_opened(run) == 2
    makespan = run.summary["makespan_s"]
    assert time_in_state(run, "open") == pytest.approx(0.4 * makespan)  # 0.2→0.4, 0.45→0.65


def test_speedup_is_goodput_against_the_sequential_median(
    faulty_results: Path,
) -> None:
    results = load_results(faulty_results)
    seqs = metric_values(results, ("sequential", 20), "makespan")
    asyncs = metric_values(results, ("async", 20), "makespan")
    ok = {mode: metric_values(results, (mode, 20), "ok") for mode in ("sequential", "async")}
    seq_goodput = Spread.of(o / m for o, m in zip(ok["sequential"], seqs, strict=True))
    assert seq_goodput is not None
    assert figure_values(results, ("async", 20), "speedup") == pytest.approx(
        [o / m / seq_goodput.median for o, m in zip(ok["async"], asyncs, strict=True)]
    )
    assert group_bound_speedup(results, ("async", 20)) == pytest.approx(20.0)
    assert group_bound_speedup(results, ("threaded", 20)) == pytest.approx(5.0)


def test_a_nan_repetition_makes_the_spread_nan_not_a_plausible_median() -> None:
    import math

    spread = Spread.of([1.0, math.nan, 2.0])
    assert spread is not None and spread.count == 3
    assert all(math.isnan(v) for v in (spread.median, spread.low, spread.high))


def test_a_nan_figure_prints_as_nan_in_the_tables(build: Any, write: Any) -> None:
    import math

    from reports.render import render_markdown

    doc = build(modes=("sequential", "async"), reps=3)
    doc["runs"][4]["summary"]["throughput_rps"] = math.nan  # one async repetition
    text = render_markdown([load_results(write(doc))])
    row = next(line for line in text.splitlines() if line.startswith("| async |"))
    assert "| NaN |" in row
