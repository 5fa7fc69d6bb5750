"""Pure arithmetic over loaded results: groups, medians with spread, metrics, breaker bands.

Runs are grouped by ``(mode, users)``; repetitions of a group are summarised by their
median, with min–max as the spread::

    for key, runs in groups(results).items():
        spread = Spread.of(metric_values(results, key, "p95"))

Shared by the tables, the plots and the regression gate, so they all agree.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from reports.load import Results, Run, Transition

MODE_ORDER = ("sequential", "threaded", "async", "sdk")
GroupKey = tuple[str, int]
Band = tuple[float, float, str]

# metric name → path of keys into a run's summary
METRIC_FIELDS: dict[str, tuple[str, ...]] = {
    "makespan": ("makespan_s",),
    "efficiency": ("efficiency",),
    "throughput": ("throughput_rps",),
    "p50": ("latency_s", "p50"),
    "p95": ("latency_s", "p95"),
    "p99": ("latency_s", "p99"),
    "max": ("latency_s", "max"),
    "ok": ("counts", "ok"),
    "failed": ("counts", "failed"),
    "fallback": ("counts", "fallback"),
    "fast_fail": ("counts", "fast_fail"),
    "amplification": ("amplification",),
    "intended_p95": ("latency_from_intended_s", "p95"),  # open loop: coordinated omission
    "intended_p99": ("latency_from_intended_s", "p99"),  # corrected latency
    "ttft_p50": ("ttft_s", "p50"),
    "ttft_p95": ("ttft_s", "p95"),
    "itl_p95": ("itl_s", "p95"),
    "tpot_p95": ("tpot_s", "p95"),
    "cpu": ("cpu_s",),
}
METRICS = (*METRIC_FIELDS, "speedup")


@dataclass(frozen=True)
class Spread:
    """Median of repetitions with their min and max.

    >>> Spread.of([3.0, 1.0, 2.0])
    Spread(median=2.0, low=1.0, high=3.0, count=3)
    """

    median: float
    low: float
    high: float
    count: int

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Spread | None:
        """The spread of the non-null values, or None when there are none; any NaN makes it NaN."""
        kept = [float(v) for v in values if v is not None]
        if not kept:
            return None
        if any(math.isnan(v) for v in kept):  # NaN has no order: no median, no min–max
            return cls(math.nan, math.nan, math.nan, len(kept))
        return cls(statistics.median(kept), min(kept), max(kept), len(kept))


def mode_rank(mode: str) -> tuple[int, str]:
    """Sort key: the known designs in their usual order, then the rest by name."""
    return (MODE_ORDER.index(mode), "") if mode in MODE_ORDER else (len(MODE_ORDER), mode)


def modes_of(results_list: Sequence[Results]) -> list[str]:
    """Every mode present in any of the results, in display order."""
    return sorted({run.mode for r in results_list for run in r.runs}, key=mode_rank)


def groups(results: Results) -> dict[GroupKey, list[Run]]:
    """Runs grouped by (mode, users), ordered by users then mode; reps by repetition."""
    out: dict[GroupKey, list[Run]] = {}
    for run in results.runs:
        out.setdefault((run.mode, run.users), []).append(run)
    ordered = sorted(out, key=lambda key: (key[1], mode_rank(key[0])))
    return {key: sorted(out[key], key=lambda run: run.repetition) for key in ordered}


def run_metric(run: Run, name: str) -> float | None:
    """One summary number of a run by metric name (None when absent or null)."""
    value: object = run.summary
    for key in METRIC_FIELDS[name]:
        value = value.get(key) if isinstance(value, Mapping) else None
    return float(value) if isinstance(value, int | float) else None


def metric_values(results: Results, key: GroupKey, name: str) -> list[float]:
    """A summary metric over the repetitions of one group (nulls left out).

    Cross-run figures (``speedup``) are computed in :mod:`reports.verdict`; ask
    :func:`reports.verdict.figure_values` for any metric of :data:`METRICS`.
    """
    runs = groups(results).get(key, [])
    return [v for run in runs if (v := run_metric(run, name)) is not None]


def breaker_bands(transitions: Sequence[Transition], end_s: float) -> list[Band]:
    """Intervals of constant breaker state, edges exactly at the transition times.

    The state before the first transition is that transition's ``from`` (``closed``
    when nothing happened); the run's end closes the last band. Empty bands are dropped.

    >>> breaker_bands([Transition(2.0, "closed", "open", "")], 5.0)
    [(0.0, 2.0, 'closed'), (2.0, 5.0, 'open')]
    """
    ordered = sorted(transitions, key=lambda t: t.time_s)
    state = ordered[0].from_state if ordered else "closed"
    start_s, bands = 0.0, []
    for transition in ordered:
        bands.append((start_s, transition.time_s, state))
        start_s, state = transition.time_s, transition.to_state
    bands.append((start_s, max(end_s, start_s), state))
    return [band for band in bands if band[1] > band[0]]


def time_in_state(run: Run, state: str) -> float:
    """Seconds the run's breaker spent in ``state``."""
    bands = breaker_bands(run.breaker_transitions, run_end_s(run))
    return sum(end - start for start, end, s in bands if s == state)


def times_opened(run: Run) -> int:
    """How many transitions into ``open`` the run recorded."""
    return sum(1 for t in run.breaker_transitions if t.to_state == "open")


def run_end_s(run: Run) -> float:
    """The end of a run: its makespan (never before its last transition)."""
    last_s = max((t.time_s for t in run.breaker_transitions), default=0.0)
    return max(float(run.summary["makespan_s"]), last_s)


def representative(runs: Sequence[Run]) -> Run:
    """The run to draw when only one fits: the largest users value, first repetition."""
    return min(runs, key=lambda run: (-run.users, run.repetition))
