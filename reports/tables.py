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
from reports.verdict import (
    goodput_rps,
    group_bound_speedup,
    is_open_loop,
    ok_share,
    reference_mode,
)

MIB = 2**20


@dataclass(frozen=True)
class Table:
    """A rectangular table of already formatted cells."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


CLOSED_HEADERS = (
    "mode",
    "users",
    "cap",
    "reps",
    "makespan s",
    "bound s",
    "efficiency",
    "speed-up",  # replaced by speedup_header(): it names the reference
    "throughput rps",
    "goodput rps",
    "ok share",
    "p50 / p95 / p99 s",
    "ok / fallback / failed",
    "amplification",
    "CPU s",
    "peak RSS MiB",
)
OPEN_HEADERS = (
    "mode",
    "in-flight cap",
    "reps",
    "offered rps",
    "achieved rps",
    "goodput rps",
    "ok share",
    "from intended start p50 / p95 / p99 s",
    "from actual start p50 / p95 / p99 s",
    "schedule lag p50 / p99 / max ms",
    "late",
    "ok / fallback / failed",
    "amplification",
    "CPU s",
    "peak RSS MiB",
)
STREAM_HEADERS = (
    "TTFT p50 / p95 / p99 ms",
    "ITL p50 / p95 / p99 ms",
    "TPOT p50 / p95 / p99 ms",
    "output tok/s per request p50 / p95 / p99",
    "output tok/s",
)
P3 = ("p50", "p95", "p99")


def summary_table(results: Results) -> Table:
    """One row per (mode, load): the medians of the repetitions.

    Closed loop: time against the bound, speed-up, throughput and goodput. Open loop:
    offered, achieved and goodput rates, latency from the intended start and the lag.
    """
    if is_open_loop(results):
        rows = tuple(_open_row(results, runs) for runs in groups(results).values())
        return Table(OPEN_HEADERS, rows)
    headers = tuple(speedup_header(results) if h == "speed-up" else h for h in CLOSED_HEADERS)
    rows = tuple(_closed_row(results, key, runs) for key, runs in groups(results).items())
    return Table(headers, rows)


def speedup_header(results: Results) -> str:
    """``speed-up vs sequential (goodput ratio; bound)``: what the column divides by."""
    references = {reference_mode(results, users) for _, users in groups(results)} - {None}
    reference = references.pop() if len(references) == 1 else "reference"
    return f"speed-up vs {reference} (goodput ratio; bound)"


def _closed_row(results: Results, key: GroupKey, runs: Sequence[Run]) -> tuple[str, ...]:
    def med(name: str, digits: int = 3) -> str:
        return fmt_spread(Spread.of(metric_values(results, key, name)), digits)

    estimate = "~" if is_estimate(runs) else ""
    efficiency = med("efficiency", digits=2)
    return (
        key[0],
        str(key[1]),
        fmt_number(runs[0].concurrency_cap),
        str(len(runs)),
        med("makespan"),
        bound_cell(runs),
        efficiency if efficiency == "—" else estimate + efficiency,
        _speedup_cell(results, key, estimate),
        med("throughput"),
        fmt_spread(Spread.of(goodput_rps(run) for run in runs)),
        fmt_share(ok_share(runs)),
        _triple(runs, "latency_s", P3),
        _counts(runs),
        med("amplification", digits=2),
        med("cpu"),
        _rss(runs),
    )


def _open_row(results: Results, runs: Sequence[Run]) -> tuple[str, ...]:
    lag = Spread.of(_stat(run, "schedule_lag_s", "late_fraction") for run in runs)
    return (
        runs[0].mode,
        f"≤ {fmt_number(runs[0].concurrency_cap)}",
        str(len(runs)),
        fmt_spread(Spread.of(offered_rps(results, run) for run in runs)),
        fmt_spread(Spread.of(achieved_rps(run) for run in runs)),
        fmt_spread(Spread.of(goodput_rps(run) for run in runs)),
        fmt_share(ok_share(runs)),
        _triple(runs, "latency_from_intended_s", P3),
        _triple(runs, "latency_s", P3),
        _triple(runs, "schedule_lag_s", ("p50", "p99", "max"), 1000),
        "—" if lag is None else fmt_share(lag.median),
        _counts(runs),
        fmt_spread(Spread.of(run_metric(run, "amplification") for run in runs), digits=2),
        fmt_spread(Spread.of(run_metric(run, "cpu") for run in runs)),
        _rss(runs),
    )


def offered_rps(results: Results, run: Run) -> float | None:
    """The schedule's rate: the summary's ``offered_rps``, else ``config.open_loop.rate_rps``."""
    stated = _raw(run, "offered_rps")
    if stated is not None:
        return stated
    rate = (results.config.get("open_loop") or {}).get("rate_rps")
    return float(rate) if isinstance(rate, int | float) else None


def achieved_rps(run: Run) -> float | None:
    """Requests completed per second: the summary's ``achieved_rps``, else its throughput."""
    stated = _raw(run, "achieved_rps")
    return stated if stated is not None else run_metric(run, "throughput")


def is_estimate(runs: Sequence[Run]) -> bool:
    """Whether a group's bound is an estimate (``"bound_kind": "estimate"`` in a summary)."""
    return any(run.summary.get("bound_kind") == "estimate" for run in runs)


def bound_cell(runs: Sequence[Run]) -> str:
    """The median bound in seconds, ``~12.1`` when estimated, ``—`` when unknown."""
    bound = Spread.of(_raw(run, "bound_s") for run in runs)
    if bound is None:
        return "—"
    return ("~" if is_estimate(runs) else "") + fmt_number(bound)


def _speedup_cell(results: Results, key: GroupKey, estimate: str) -> str:
    if reference_mode(results, key[1]) == key[0]:
        return "1× (ref)"  # the yardstick itself
    speedup = Spread.of(metric_values(results, key, "speedup"))
    bound = group_bound_speedup(results, key)
    text = "—" if speedup is None else f"{fmt_number(speedup.median)}×"
    return text if bound is None else f"{text} (≤{estimate}{fmt_number(bound)}×)"


def streaming_table(results: Results) -> Table | None:
    """TTFT, ITL, TPOT and output tokens/s per (mode, load); None when nothing was streamed."""
    if not any(run.summary.get("ttft_s") for run in results.runs):
        return None
    rows = []
    for key, runs in groups(results).items():
        rows.append((
            *_id_cells(results, key), str(len(runs)),
            _triple(runs, "ttft_s", P3, 1000), _triple(runs, "itl_s", P3, 1000),
            _triple(runs, "tpot_s", P3, 1000), _triple(runs, "output_tps", P3),
            fmt_spread(Spread.of(_raw(run, "output_tokens_per_s") for run in runs)),
        ))  # fmt: skip
    return Table((*_id_headers(results), "reps", *STREAM_HEADERS), tuple(rows))


def _id_headers(results: Results) -> tuple[str, ...]:
    return ("mode",) if is_open_loop(results) else ("mode", "users")


def _id_cells(results: Results, key: GroupKey) -> tuple[str, ...]:
    return (key[0],) if is_open_loop(results) else (key[0], str(key[1]))


def _triple(runs: Sequence[Run], block: str, stats: Sequence[str], scale: float = 1.0) -> str:
    """``a / b / c``: the medians over repetitions of three statistics of a summary block."""
    cells = []
    for stat in stats:
        spread = Spread.of(_stat(run, block, stat) for run in runs)
        cells.append(fmt_number(None if spread is None else spread.median * scale))
    return " / ".join(cells)


def _stat(run: Run, block: str, stat: str) -> float | None:
    value = (run.summary.get(block) or {}).get(stat)
    return float(value) if isinstance(value, int | float) else None


def _counts(runs: Sequence[Run]) -> str:
    return " / ".join(fmt_number(_median(runs, n)) for n in ("ok", "fallback", "failed"))


def _rss(runs: Sequence[Run]) -> str:
    rss = Spread.of(_raw(run, "peak_rss_bytes") for run in runs)
    return fmt_number(None if rss is None else rss.median / MIB)


def fmt_share(share: float | None) -> str:
    """A share as a percentage: ``100%``, ``97.5%``, ``—`` when unknown."""
    return "—" if share is None else f"{share * 100:.3g}%"


BREAKER_HEADERS = ("reps", "times opened", "time open s", "time half-open s")


def breaker_summary_table(results: Results) -> Table | None:
    """Per (mode, load) with any transition: how often and how long the breaker was open."""
    rows = []
    for key, runs in groups(results).items():
        if any(run.breaker_transitions for run in runs):
            opened = Spread.of(float(times_opened(run)) for run in runs)
            open_s = Spread.of(time_in_state(run, "open") for run in runs)
            half_s = Spread.of(time_in_state(run, "half_open") for run in runs)
            spreads = (fmt_spread(opened), fmt_spread(open_s), fmt_spread(half_s))
            rows.append((*_id_cells(results, key), str(len(runs)), *spreads))
    headers = (*_id_headers(results), *BREAKER_HEADERS)
    return Table(headers, tuple(rows)) if rows else None


def transitions_table(results: Results) -> Table | None:
    """Every recorded breaker transition of every run."""
    rows = tuple(
        (
            *_id_cells(results, (run.mode, run.users)),
            str(run.repetition),
            f"{t.time_s:.3f}",
            f"{t.from_state} → {t.to_state}",
            t.reason,
        )
        for run in results.runs
        for t in run.breaker_transitions
    )
    headers = (*_id_headers(results), "rep", "time s", "transition", "reason")
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
    if spread.count > 1 and spread.low != spread.high and not math.isnan(spread.median):
        text += f" ({fmt_number(spread.low, digits)}–{fmt_number(spread.high, digits)})"
    return text


def _median(runs: Sequence[Run], metric: str) -> Spread | None:
    return Spread.of(run_metric(run, metric) for run in runs)


def _raw(run: Run, key: str) -> float | None:
    value = run.summary.get(key)
    return float(value) if isinstance(value, int | float) else None
