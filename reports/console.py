"""The console summary of a results document: tables, warnings, the verdict, where it went.

The run prints it when it ends and ``python -m harness report RUN_DIR`` prints it again,
from the same function, so the two are the same text::

    print_summary(results, stdout_console())
    summary_json(results)   # what ``--json`` prints

Every figure comes from the document's summaries; the verdict from :mod:`reports.verdict`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from reports.aggregate import Spread, groups
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
    """A console that does not squeeze the tables when stdout is a pipe or a file."""
    console = Console()
    return console if console.is_terminal else Console(width=max(console.width, MIN_WIDTH))


def print_summary(results: Results, console: Console) -> None:
    """Tables, warnings, the record invariant, the verdict and the results path."""
    for table in summary_tables(results):
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
    return json.dumps(summary, indent=2)


def closing_lines(results: Results) -> list[str]:
    """The record invariant, one verdict line per load, and where the results are."""
    runs = results.runs
    invariant = all(run.summary.get("invariant_ok", True) for run in runs)
    total = sum(int((run.summary.get("counts") or {}).get("submitted", 0)) for run in runs)
    state = "ok" if invariant else "VIOLATED"
    lines = [f"record invariant: {state} ({total} requests, each recorded once)"]
    for verdict in verdicts(results):
        lines.append(f"verdict: {verdict.text}")
        lines += [f"warning: {warning}" for warning in verdict.warnings]
    return [*lines, f"results: {results.path}"]


def summary_tables(results: Results) -> list[Table]:
    """The time table (closed loop), outcomes and cost, streaming and open-loop tables."""
    tables = []
    if not is_open_loop(results):
        tables.append(_time_table(results))
    tables.append(make_table("Outcomes and cost", _cost_columns(results), _cost_rows(results)))
    runs = results.runs
    if any(run.summary.get("ttft_s") for run in runs):
        tables.append(make_table(
            "Streaming (ms; TTFT from the request's start)",
            (*_id_columns(results), "TTFT p50", "TTFT p95", "ITL p50", "TPOT p50", "TPOT p95",
             "out tok/s"),
            [[*_id_cells(results, r), *_stream_cells(r)] for r in runs],
        ))  # fmt: skip
    if is_open_loop(results):
        tables.append(make_table(
            "Open loop (ms): latency from the actual start vs the intended start "
            "(coordinated omission corrected), and how late requests left",
            (*_id_columns(results), "req/s", "p50", "p99", "p50 corrected", "p99 corrected",
             "lag p50", "lag p99", "lag max", "late"),
            [[*_id_cells(results, r), *_open_cells(r)] for r in runs],
        ))  # fmt: skip
    return tables


def make_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    """A rich table: text columns left-aligned, numbers right-aligned."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column in TEXT_COLUMNS else "right")
    for row in rows:
        table.add_row(*row)
    return table


TEXT_COLUMNS = frozenset({"mode"})


def _repeated(results: Results) -> bool:
    return any(run.repetition > 0 for run in results.runs)


def _id_columns(results: Results) -> tuple[str, ...]:
    users = () if is_open_loop(results) else ("users",)
    return ("mode", *users, *(("rep",) if _repeated(results) else ()))


def _id_cells(results: Results, run: Run) -> list[str]:
    users = [] if is_open_loop(results) else [str(run.users)]
    return [run.mode, *users, *([str(run.repetition + 1)] if _repeated(results) else [])]


def _time_table(results: Results) -> Table:
    columns = (*_id_columns(results), "cap", "makespan s", "bound s", "eff.", "speed-up",
               "good/s", "p50 s", "p95 s", "p99 s", "max s")  # fmt: skip
    speedups = {key: Spread.of(group_speedups(results, key)) for key in groups(results)}
    rows = []
    for run in results.runs:
        s, lat = run.summary, run.summary.get("latency_s") or {}
        speedup = speedups.get((run.mode, run.users))
        rows.append([
            *_id_cells(results, run), _fmt(run.concurrency_cap),
            _fmt(s.get("makespan_s")), _bound_cell(s), _fmt(s.get("efficiency"), 2),
            _speedup_cell(speedup), _fmt(goodput_rps(run)),
            _fmt(lat.get("p50")), _fmt(lat.get("p95")), _fmt(lat.get("p99")), _fmt(lat.get("max")),
        ])  # fmt: skip
    return make_table(
        "Time: designs against the lower bound on their makespan (~: an estimate); "
        "speed-up and good/s count real answers only",
        columns,
        rows,
    )


def _bound_cell(summary: Mapping[str, Any]) -> str:
    text = _fmt(summary.get("bound_s"))
    return f"~{text}" if summary.get("bound_kind") == "estimate" and text != "–" else text


def _speedup_cell(speedup: Spread | None) -> str:
    if speedup is None:
        return "–"
    return _fmt(speedup.median, 3) + "×"


def _cost_columns(results: Results) -> tuple[str, ...]:
    return (*_id_columns(results), "ok", "ok %", "fallback", "failed", "fast-fail",
            "attempts", "ampl.", "CPU s", "peak RSS MiB", "threads")  # fmt: skip


def _cost_rows(results: Results) -> list[list[str]]:
    rows = []
    for run in results.runs:
        s, counts = run.summary, run.summary.get("counts") or {}
        rss = s.get("peak_rss_bytes")
        rows.append([
            *_id_cells(results, run), str(counts.get("ok", 0)), _share(run),
            str(counts.get("fallback", 0)),
            str(counts.get("failed", 0)), str(counts.get("fast_fail", 0)),
            str(s.get("upstream_attempts")), _fmt(s.get("amplification"), 3),
            _fmt(s.get("cpu_s")), _fmt(rss / 2**20 if rss else None), _fmt(s.get("peak_threads")),
        ])  # fmt: skip
    return rows


def _share(run: Run) -> str:
    share = ok_share([run])
    return "–" if share is None else f"{share:.0%}"


def _stream_cells(run: Run) -> list[str]:
    s = run.summary
    ttft, itl, tpot = (s.get(k) or {} for k in ("ttft_s", "itl_s", "tpot_s"))
    tps = s.get("output_tokens_per_s")
    return [_ms(ttft.get("p50")), _ms(ttft.get("p95")), _ms(itl.get("p50")),
            _ms(tpot.get("p50")), _ms(tpot.get("p95")),
            "–" if tps is None else f"{tps:.0f}"]  # fmt: skip


def _open_cells(run: Run) -> list[str]:
    s = run.summary
    raw, fixed = s.get("latency_s") or {}, s.get("latency_from_intended_s") or {}
    lag = s.get("schedule_lag_s") or {}
    late = lag.get("late_fraction")
    times = [raw.get("p50"), raw.get("p99"), fixed.get("p50"), fixed.get("p99"),
             lag.get("p50"), lag.get("p99"), lag.get("max")]  # fmt: skip
    return [
        f"{s.get('throughput_rps') or 0:.1f}",
        *(_ms(t) for t in times),
        "–" if late is None else f"{late:.1%}",
    ]


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
