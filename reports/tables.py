"""Table models (headers + text rows) built once and rendered as Markdown or HTML.

    table = summary_table(results)
    print(to_markdown(table))

Numbers are medians over repetitions; ``a (lo–hi)`` shows the spread when it exists.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from reports.aggregate import (
    GroupKey,
    Spread,
    groups,
    run_metric,
    time_in_state,
    times_opened,
)
from reports.load import Results, Run
from reports.verdict import figure_values as metric_values
from reports.verdict import group_bound_speedup, reference_mode

MIB = 2**20


@dataclass(frozen=True)
class Table:
    """A rectangular table of already formatted cells."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


SUMMARY_HEADERS = (
    "mode",
    "users",
    "cap",
    "reps",
    "makespan s",
    "bound s",
    "efficiency",
    "speed-up (bound)",
    "throughput rps",
    "p50 / p95 / p99 s",
    "ok / fallback / failed",
    "amplification",
    "CPU s",
    "peak RSS MiB",
)


def summary_table(results: Results) -> Table:
    """One row per (mode, users): the medians of the repetitions."""
    rows = tuple(_summary_row(results, key, runs) for key, runs in groups(results).items())
    return Table(SUMMARY_HEADERS, rows)


def _summary_row(results: Results, key: GroupKey, runs: Sequence[Run]) -> tuple[str, ...]:
    def med(name: str) -> str:
        return fmt_spread(Spread.of(metric_values(results, key, name)))

    def counts(*names: str) -> str:
        return " / ".join(fmt_number(_median(runs, name)) for name in names)

    rss = Spread.of(_raw(run, "peak_rss_bytes") for run in runs)
    return (
        key[0],
        str(key[1]),
        fmt_number(runs[0].concurrency_cap),
        str(len(runs)),
        med("makespan"),
        fmt_number(Spread.of(_raw(run, "bound_s") for run in runs)),
        fmt_spread(Spread.of(metric_values(results, key, "efficiency")), digits=2),
        _speedup_cell(results, key),
        med("throughput"),
        counts("p50", "p95", "p99"),
        counts("ok", "fallback", "failed"),
        fmt_spread(Spread.of(metric_values(results, key, "amplification")), digits=2),
        med("cpu"),
        fmt_number(None if rss is None else rss.median / MIB),
    )


def _speedup_cell(results: Results, key: GroupKey) -> str:
    if reference_mode(results, key[1]) == key[0]:
        return "1× (ref)"  # the yardstick itself
    speedup = Spread.of(metric_values(results, key, "speedup"))
    bound = group_bound_speedup(results, key)
    text = "—" if speedup is None else f"{fmt_number(speedup.median)}×"
    return text if bound is None else f"{text} (≤{fmt_number(bound)}×)"


BREAKER_HEADERS = ("mode", "users", "reps", "times opened", "time open s", "time half-open s")


def breaker_summary_table(results: Results) -> Table | None:
    """Per (mode, users) with any transition: how often and how long the breaker was open."""
    rows = []
    for (mode, users), runs in groups(results).items():
        if any(run.breaker_transitions for run in runs):
            opened = Spread.of(float(times_opened(run)) for run in runs)
            open_s = Spread.of(time_in_state(run, "open") for run in runs)
            half_s = Spread.of(time_in_state(run, "half_open") for run in runs)
            rows.append(
                (
                    mode,
                    str(users),
                    str(len(runs)),
                    fmt_spread(opened),
                    fmt_spread(open_s),
                    fmt_spread(half_s),
                )
            )
    return Table(BREAKER_HEADERS, tuple(rows)) if rows else None


def transitions_table(results: Results) -> Table | None:
    """Every recorded breaker transition of every run."""
    rows = tuple(
        (
            run.mode,
            str(run.users),
            str(run.repetition),
            f"{t.time_s:.3f}",
            f"{t.from_state} → {t.to_state}",
            t.reason,
        )
        for run in results.runs
        for t in run.breaker_transitions
    )
    headers = ("mode", "users", "rep", "time s", "transition", "reason")
    return Table(headers, rows) if rows else None


def to_markdown(table: Table) -> str:
    """A GitHub-flavoured Markdown table; ``|`` in cells is escaped."""
    lines = [_md_row(table.headers), "|" + "|".join("---" for _ in table.headers) + "|"]
    lines += [_md_row(row) for row in table.rows]
    return "\n".join(lines)


def _md_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def fmt_number(value: float | Spread | None, digits: int = 3) -> str:
    """A short human number: 3 significant digits, whole numbers without decimals.

    >>> [fmt_number(v) for v in (19.64, 20.0, 0.01234, 1234.5, None, math.nan, -math.inf)]
    ['19.6', '20', '0.0123', '1,234', '—', 'NaN', '-∞']
    """
    if isinstance(value, Spread):
        value = value.median
    if value is None:
        return "—"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if float(value).is_integer() or abs(value) >= 10**digits:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def fmt_spread(spread: Spread | None, digits: int = 3) -> str:
    """``median (min–max)``, or just the median when the repetitions agree."""
    if spread is None:
        return "—"
    text = fmt_number(spread.median, digits)
    if spread.count > 1 and spread.low != spread.high:
        text += f" ({fmt_number(spread.low, digits)}–{fmt_number(spread.high, digits)})"
    return text


def _median(runs: Sequence[Run], metric: str) -> Spread | None:
    return Spread.of(run_metric(run, metric) for run in runs)


def _raw(run: Run, key: str) -> float | None:
    value = run.summary.get(key)
    return float(value) if isinstance(value, int | float) else None
