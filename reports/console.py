"""The console summary of a results document: tables, warnings, the verdict, where it went.

The run prints it when it ends and ``python -m harness report RUN_DIR`` prints it again,
from the same function, so the two are the same text::

    print_summary(results, stdout_console())
    summary_json(results)   # what ``--json`` prints

Every figure comes from the document's summaries; the verdict from :mod:`reports.verdict`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table

from reports.aggregate import GroupKey, Spread, groups, time_in_state, times_opened
from reports.diagnosis import diagnose
from reports.load import Results, Run
from reports.verdict import (
    comparison_rows,
    goodput_rps,
    group_speedups,
    is_open_loop,
    ok_share,
    verdicts,
)

MIN_WIDTH = 120  # wide enough for the tables when stdout is not a terminal
LATE_WARN_FRACTION = 0.01  # warn when more than 1% of requests left late
SUMMARY_RUN_KEYS = (
    "mode", "users", "requests_per_user", "repetition", "concurrency_cap", "summary",
)  # fmt: skip


def stdout_console() -> Console:
    """The terminal's width; ``COLUMNS`` when set; else (a pipe, a file) :data:`MIN_WIDTH`."""
    console = Console()
    if console.is_terminal or os.environ.get("COLUMNS", "").isdigit():
        return console
    return Console(width=max(console.width, MIN_WIDTH))


def print_summary(results: Results, console: Console) -> None:
    """Tables, warnings, the record invariant, the verdict and the results path."""
    for table in summary_tables(results, console.width):
        console.print(table)
    for line in [*notes(results), *closing_lines(results)]:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def summary_json(results: Results) -> str:
    """What ``--json`` prints: the results path, the verdicts, the run summaries."""
    every = verdicts(results)
    raw = results.document or {}
    summary = {
        "results": str(results.path),
        "verdict": every[-1].to_dict(),
        "verdicts": [v.to_dict() for v in every],
        "runs": [{k: v for k, v in r.items() if k in SUMMARY_RUN_KEYS} for r in raw["runs"]],
        "comparison": comparison_rows(results),
    }
    diagnosis = diagnose(results)
    if diagnosis is not None:
        summary["diagnosis"] = diagnosis
    return json.dumps(summary, indent=2)


def closing_lines(results: Results) -> list[str]:
    """The record invariant, one verdict line per load, and where the results are."""
    runs = results.runs
    invariant = all(run.summary.get("invariant_ok", True) for run in runs)
    total = sum(int((run.summary.get("counts") or {}).get("submitted", 0)) for run in runs)
    state = "ok" if invariant else "VIOLATED"
    lines = [f"record invariant: {state} ({total} requests, each recorded once)"]
    diagnosis = diagnose(results)
    if diagnosis is not None:
        lines.append(f"diagnosis: {diagnosis['design']}: {diagnosis['evidence']}")
    else:
        for verdict in verdicts(results):
            lines.append(f"verdict: {verdict.text}")
            lines += [f"warning: {warning}" for warning in verdict.warnings]
    return [*lines, f"results: {results.path}"]


@dataclass(frozen=True)
class Sheet:
    """A table before layout: ``ids`` leading columns name a row and repeat in every part."""

    title: str
    columns: tuple[str, ...]
    rows: list[list[str]]
    ids: int


def summary_tables(results: Results, width: int = MIN_WIDTH) -> list[Table]:
    """The tables of the summary, each split into parts that fit ``width`` columns."""
    return [table for sheet in summary_sheets(results) for table in fit(sheet, width)]


def summary_sheets(results: Results) -> list[Sheet]:
    """Time (closed loop) or rates (open loop), outcomes and cost, streaming: one row per
    design and load, medians over repetitions (``a (lo–hi)`` where they differ)."""
    sheets = [_open_sheet(results) if is_open_loop(results) else _time_sheet(results)]
    sheets.append(_cost_sheet(results))
    if any(run.summary.get("ttft_s") for run in results.runs):
        sheets.append(_stream_sheet(results))
    return sheets


def fit(sheet: Sheet, width: int) -> list[Table]:
    """The sheet as one table, or as several that each fit ``width`` (never ellipsised)."""
    sizes = [
        max(len(column), *(len(row[i]) for row in sheet.rows)) if sheet.rows else len(column)
        for i, column in enumerate(sheet.columns)
    ]
    parts: list[list[int]] = [[]]
    used = 1 + sum(size + 3 for size in sizes[: sheet.ids])
    for index in range(sheet.ids, len(sizes)):
        if parts[-1] and used + sizes[index] + 3 > width:
            parts.append([])
            used = 1 + sum(size + 3 for size in sizes[: sheet.ids])
        parts[-1].append(index)
        used += sizes[index] + 3
    tables = []
    for number, part in enumerate(parts, start=1):
        keep = [*range(sheet.ids), *part]
        title = sheet.title if len(parts) == 1 else f"{sheet.title} ({number}/{len(parts)})"
        table = Table(title=title)
        for i in keep:
            column = sheet.columns[i]
            left = column in TEXT_COLUMNS
            table.add_column(
                column, justify="left" if left else "right", no_wrap=True, min_width=sizes[i]
            )
        for row in sheet.rows:
            table.add_row(*(row[i] for i in keep))
        tables.append(table)
    return tables


def make_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A rich table: text columns left-aligned, numbers right-aligned."""
    return fit(Sheet(title, tuple(columns), [list(r) for r in rows], 1), 10_000)[0]


TEXT_COLUMNS = frozenset({"mode"})


def _id_columns(results: Results) -> tuple[str, ...]:
    repeated = any(len(runs) > 1 for runs in groups(results).values())
    users = () if is_open_loop(results) else ("users",)
    return ("mode", *users, *(("reps",) if repeated else ()))


def _id_cells(results: Results, key: GroupKey, runs: Sequence[Run]) -> list[str]:
    repeated = len(_id_columns(results)) > (1 if is_open_loop(results) else 2)
    users = [] if is_open_loop(results) else [str(key[1])]
    return [key[0], *users, *([str(len(runs))] if repeated else [])]


def _values(runs: Sequence[Run], *path: str) -> Spread | None:
    def get(run: Run) -> float | None:
        value: Any = run.summary
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        return float(value) if isinstance(value, int | float) else None

    return Spread.of(get(run) for run in runs)


def _cell(runs: Sequence[Run], *path: str, spread: bool = False, ms: bool = False) -> str:
    values = _values(runs, *path)
    if values is None:
        return "–"
    show = _ms if ms else _fmt
    text = show(values.median)
    if spread and values.count > 1 and values.low != values.high:
        text += f" ({show(values.low)}–{show(values.high)})"
    return text


def _time_sheet(results: Results) -> Sheet:
    columns = (*_id_columns(results), "cap", "makespan s", "bound s", "eff.", "speed-up",
               "good/s", "p50 s", "p95 s", "p99 s", "max s")  # fmt: skip
    rows = []
    for key, runs in groups(results).items():
        speedup = Spread.of(group_speedups(results, key))
        goodput = Spread.of(goodput_rps(run) for run in runs)
        rows.append([
            *_id_cells(results, key, runs), _fmt(runs[0].concurrency_cap),
            _cell(runs, "makespan_s", spread=True), _bound_cell(runs),
            _fmt(None if (e := _values(runs, "efficiency")) is None else e.median, 2),
            "–" if speedup is None else _fmt(speedup.median) + "×",
            "–" if goodput is None else _fmt(goodput.median),
            *(_cell(runs, "latency_s", q) for q in ("p50", "p95", "p99", "max")),
        ])  # fmt: skip
    title = ("Time against the lower bound on the makespan (~: estimated); "
             "speed-up and good/s: real answers only")  # fmt: skip
    return Sheet(title, columns, rows, len(_id_columns(results)))


def _open_sheet(results: Results) -> Sheet:
    columns = (*_id_columns(results), "offered/s", "achieved/s", "good/s", "p50 ms", "p99 ms",
               "p50 corr. ms", "p99 corr. ms", "lag p50 ms", "lag p99 ms", "lag max ms",
               "late")  # fmt: skip
    rows = []
    for key, runs in groups(results).items():
        late = _values(runs, "schedule_lag_s", "late_fraction")
        goodput = Spread.of(goodput_rps(run) for run in runs)
        offered = (results.config.get("open_loop") or {}).get("rate_rps")
        rows.append([
            *_id_cells(results, key, runs), _fmt(offered), _cell(runs, "throughput_rps"),
            "–" if goodput is None else _fmt(goodput.median),
            *(_cell(runs, "latency_s", q, ms=True) for q in ("p50", "p99")),
            *(_cell(runs, "latency_from_intended_s", q, ms=True) for q in ("p50", "p99")),
            *(_cell(runs, "schedule_lag_s", q, ms=True) for q in ("p50", "p99", "max")),
            "–" if late is None else f"{late.median:.1%}",
        ])  # fmt: skip
    title = ("Open loop: rates, and latency from the actual vs the intended start "
             "(corr.: coordinated omission corrected)")  # fmt: skip
    return Sheet(title, columns, rows, len(_id_columns(results)))


def _bound_cell(runs: Sequence[Run]) -> str:
    values = _values(runs, "bound_s")
    if values is None:
        return "–"
    estimate = any(run.summary.get("bound_kind") == "estimate" for run in runs)
    return f"~{_fmt(values.median)}" if estimate else _fmt(values.median)


def _cost_sheet(results: Results) -> Sheet:
    columns = (*_id_columns(results), "ok", "ok %", "fallback", "failed", "fast-fail",
               "attempts", "ampl.", "CPU s", "peak RSS MiB", "threads")  # fmt: skip
    rows = []
    for key, runs in groups(results).items():
        share = ok_share(runs)
        rss = _values(runs, "peak_rss_bytes")
        rows.append([
            *_id_cells(results, key, runs), _cell(runs, "counts", "ok"),
            "–" if share is None else f"{share:.0%}",
            *(_cell(runs, "counts", k) for k in ("fallback", "failed", "fast_fail")),
            _cell(runs, "upstream_attempts"), _cell(runs, "amplification"),
            _cell(runs, "cpu_s"), "–" if rss is None else _fmt(rss.median / 2**20),
            _cell(runs, "peak_threads"),
        ])  # fmt: skip
    return Sheet("Outcomes and cost", columns, rows, len(_id_columns(results)))


def _stream_sheet(results: Results) -> Sheet:
    columns = (*_id_columns(results), "TTFT p50", "TTFT p95", "ITL p50", "TPOT p50",
               "TPOT p95", "out tok/s")  # fmt: skip
    rows = [
        [*_id_cells(results, key, runs),
         *(_cell(runs, name, q, ms=True) for name, q in (("ttft_s", "p50"), ("ttft_s", "p95"),
                                                          ("itl_s", "p50"), ("tpot_s", "p50"),
                                                          ("tpot_s", "p95"))),
         _cell(runs, "output_tokens_per_s")]
        for key, runs in groups(results).items()
    ]  # fmt: skip
    return Sheet("Streaming (ms; TTFT from the request's start)", columns, rows,
                 len(_id_columns(results)))  # fmt: skip


def breaker_lines(results: Results) -> list[str]:
    """Per design and load whose breaker moved: how often it opened and how long it stayed."""
    lines = []
    for (mode, users), runs in groups(results).items():
        if not any(run.breaker_transitions for run in runs):
            continue
        opened = Spread.of(float(times_opened(run)) for run in runs)
        open_s = Spread.of(time_in_state(run, "open") for run in runs)
        half_s = Spread.of(time_in_state(run, "half_open") for run in runs)
        last = [run.breaker_transitions[-1].to_state for run in runs if run.breaker_transitions]
        where = "" if is_open_loop(results) else f" at {users} users"
        lines.append(
            f"breaker: {mode}{where} opened {_fmt(opened.median if opened else 0)}×, "
            f"open {_fmt(open_s.median if open_s else 0)} s, half-open "
            f"{_fmt(half_s.median if half_s else 0)} s; ended {last[-1]}"
        )
    return lines


def notes(results: Results) -> list[str]:
    """Lag warnings (open loop), memory per request in flight, the harness's own limits."""
    lines = []
    for run in results.runs:
        summary = run.summary
        warning = lag_warning(summary) if is_open_loop(results) else None
        if warning:
            lines.append(f"{run.mode}: {warning}")
        per = summary.get("rss_per_in_flight_bytes")
        if per is not None and summary.get("peak_in_flight", 0) >= 100:
            lines.append(f"{run.mode}: peak {summary['peak_in_flight']} in flight, "
                         f"{per / 1024:.0f} KiB of RSS per request in flight")  # fmt: skip
    lines += breaker_lines(results)
    lines += bound_notes(results)
    timing = timing_error_line(results)
    if timing:
        lines.append(timing)
    calibration = (results.document or {}).get("calibration")
    if calibration:
        lines.append(calibration_line(calibration))
    return lines


def bound_notes(results: Results) -> list[str]:
    """How the bound was known and what binds it, once per distinct (kind, limit)."""
    seen: dict[tuple[str, str], list[str]] = {}
    for run in results.runs:
        kind, limit = run.summary.get("bound_kind"), run.summary.get("bound_limit")
        if kind and limit:
            seen.setdefault((kind, limit), []).append(run.mode)
    lines = []
    for (kind, limit), modes in seen.items():
        how = ("from the upstream's own service times" if kind == "exact"
               else "an estimate: ceil(N/C)·S with S a typical service time")  # fmt: skip
        names = ", ".join(dict.fromkeys(modes))
        lines.append(f"bound ({names}): {how}; binding limit: {limit}")
    return lines


def timing_error_line(results: Results) -> str | None:
    """Measured minus injected latency per design (ms), when the upstream told its times."""
    parts = []
    for run in results.runs:
        error = run.summary.get("timing_error_s") or {}
        if error.get("p50") is not None:
            parts.append(f"{run.mode} p50 {_ms(error.get('p50'))} p99 {_ms(error.get('p99'))}")
    if not parts:
        return None
    return "timing error (measured − injected latency, ms): " + "; ".join(parts)


def lag_warning(summary: Mapping[str, Any]) -> str | None:
    """A WARNING line when more than 1% of requests left later than the threshold."""
    lag = summary.get("schedule_lag_s") or {}
    fraction = lag.get("late_fraction")
    if fraction is None or fraction <= LATE_WARN_FRACTION:
        return None
    return (
        f"WARNING: {fraction:.1%} of requests left more than "
        f"{lag['late_threshold_s'] * 1000:g} ms after their intended start "
        f"(lag p99 {lag['p99'] * 1000:.1f} ms, max {lag['max'] * 1000:.1f} ms): "
        "the generator could not keep the schedule; latency from the intended start "
        "includes that wait"
    )


def calibration_line(block: Mapping[str, Any]) -> str:
    """One line: the harness's own limits and where the figures came from."""
    warm = block.get("timing_error_s") or {}
    age_h = float(block.get("age_s") or 0.0) / 3600
    return (
        f"harness limits ({block.get('kind')} calibration, {block.get('source')}, "
        f"{age_h:.1f} h old): ~{block.get('max_rate_rps') or 0:.0f} req/s max; timing error "
        f"at {block.get('timing_concurrency')} in flight median {_ms(warm.get('p50'))} ms, "
        f"p99 {_ms(warm.get('p99'))} ms"
    )


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.1f}"


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)
