"""Execute a :class:`RunPlan` (from the command line or a scenario file) and show its results.

data, path = execute(plan)
finish(plan, data, path)   # table or JSON on stdout, report next to results.json
"""

from __future__ import annotations

import functools
import json
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from harness import metrics, results
from harness.calibrate import CalibrationMode, calibration_block
from harness.compare import (
    CompareSpec,
    ModeRun,
    concurrency_cap,
    open_file_need,
    raise_open_file_limit,
    run_mode,
    verdict,
)
from harness.console import (
    ModeProgress,
    comparison_tables,
    make_table,
    progress_bar,
    stdout_console,
)
from harness.gemini import Target
from harness.generators.base import Load, Workload
from harness.logs import configure_logging
from harness.targets import TargetSpec, open_target
from mock_gemini.config import MockConfig


@dataclass(frozen=True)
class OutputOptions:
    """Where results go and what is printed."""

    out: Path | None = None
    json: bool = False
    report: bool = True
    progress: bool = True
    verbose: bool = False
    log_json: bool = False


@dataclass(frozen=True)
class RunPlan:
    """Everything one run needs; ``command``/``argv`` are recorded in the results file."""

    command: str
    argv: Sequence[str]
    spec: CompareSpec
    target: TargetSpec
    mock: MockConfig | None
    output: OutputOptions
    scenario: dict[str, Any] | None = None
    calibration: CalibrationMode = "auto"  # see harness.calibrate.calibration_block


def service_time_s(target: TargetSpec, mock: MockConfig | None) -> float | None:
    """S of the bound: the mock's mean time to first token when nothing else adds time."""
    if target.kind != "mock" or mock is None:
        return None
    if mock.tokens_per_s or mock.thinking_tokens:
        return None
    return mock.latency.mean_s()


def execute(plan: RunPlan) -> tuple[dict[str, Any], Path]:
    """Run every (users, repetition, mode), then write and return the results file."""
    spec, tspec, mock, out = plan.spec, plan.target, plan.mock, plan.output
    configure_logging(out.verbose, out.log_json)
    raise_open_file_limit(open_file_need(_largest_cap(spec)))
    calibration = calibration_block(plan.calibration)
    runs: list[ModeRun] = []
    show = out.progress and not out.json and sys.stderr.isatty()
    with open_target(tspec, mock) as target, progress_bar(show) as progress:
        configure_logging(out.verbose, out.log_json, secrets=[target.api_key])
        fresh = tspec.kind == "mock"
        for load in _loads(spec):
            for rep in range(spec.repetitions):
                runs += _one_round(target, spec, load, rep, progress, fresh)
        url = target.base_url
        secret = target.api_key
    s_time = service_time_s(tspec, mock) or _measured_service_time(runs)
    config = {
        "target": tspec.describe(url),
        "mock": mock.to_dict() if mock else None,
        "resilience": spec.resilience.to_dict(),
        "workload": {"users": list(spec.users), "requests_per_user": spec.requests_per_user},
        "modes": list(spec.modes),
        "seed_limits": spec.seed_limits,
        "service_time_s": s_time,
        "scenario": plan.scenario,
        "stream": spec.stream,
        "open_loop": spec.open_load.describe() if spec.open_load else None,
        "raw_records": spec.raw_records,
    }
    data = results.new_results([plan.command, *plan.argv], config)
    data["calibration"] = calibration
    for run in runs:
        rpu = spec.requests_per_user if spec.open_load is None else 1
        results.add_run(
            data, mode=run.mode, users=run.users, requests_per_user=rpu,
            repetition=run.repetition, concurrency_cap=run.cap, summary=_summary(run, spec, s_time),
            records=run.records, transitions=run.transitions(), timeline=run.timeline(),
        )  # fmt: skip
    data["comparison"] = metrics.speedups(data["runs"])
    data = results.scrub_secrets(data, [secret])
    out_dir = out.out or results.default_run_dir(plan.command)
    return data, results.write_results(data, out_dir)


def _loads(spec: CompareSpec) -> list[Load]:
    """One open-loop schedule, or one closed-loop workload per users value."""
    if spec.open_load is not None:
        return [spec.open_load]
    return [Workload(users, spec.requests_per_user) for users in spec.users]


def _largest_cap(spec: CompareSpec) -> int:
    """The most requests that can be in flight at once (each holds a socket)."""
    if spec.open_load is None:
        return max(concurrency_cap(m, u, spec) for m in spec.modes for u in spec.users)
    caps = (concurrency_cap(m, spec.open_load.users, spec) for m in spec.modes)
    return min(max(caps), spec.open_load.total)  # never more in flight than requests


def _one_round(
    target: Target, spec: CompareSpec, load: Load, rep: int, progress: Any, fresh: bool = False
) -> list[ModeRun]:
    out = []
    total = load.total
    label = f"×{load.users}" if isinstance(load, Workload) else "open"
    reset = functools.partial(reset_mock, target.base_url) if fresh else None
    for mode in spec.modes:
        cap = concurrency_cap(mode, load.users, spec)
        bar = ModeProgress(progress, f"{mode} {label}", total)
        out.append(run_mode(mode, target, load, cap, spec, bar, rep, on_start=reset))
    return out


def _summary(run: ModeRun, spec: CompareSpec, s_time: float | None) -> dict[str, Any]:
    """The run's summary; open loop's bound is the schedule's span plus one service time."""
    summary = run.summary(s_time)
    if spec.open_load is not None:
        span_s = max((t for _, t in spec.open_load.schedule()), default=0.0)
        bound = span_s + s_time if s_time is not None else None
        summary["bound_s"] = bound
        summary["efficiency"] = metrics.ratio(bound, run.makespan_s)
    return summary


def reset_mock(base_url: str) -> None:
    """Every design meets the same embedded mock: schedule from 0, quotas full, draws re-seeded."""
    request = urllib.request.Request(f"{base_url}/_mock/reset", method="POST")
    no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    with no_proxy.open(request, timeout=10) as answer:
        answer.read()


def _measured_service_time(runs: Sequence[ModeRun]) -> float | None:
    """Without an injected latency, S is the median latency of the least concurrent run."""
    if not runs:
        return None
    calmest = min(runs, key=lambda r: r.cap)
    if calmest.fold is not None:
        return calmest.fold.hist["latency_s"].percentiles().get("p50")
    ok = [r.latency_s for r in calmest.records if r.outcome == "ok"]
    return metrics.percentiles(ok).get("p50") if ok else None


def print_summary(data: dict[str, Any], path: Path, as_json: bool) -> None:
    """The table and verdict (or the JSON summary) on stdout; where the results went."""
    runs = data["runs"]
    speedups = {(c["users"], c["mode"]): c["speedup_vs_sequential"] for c in data["comparison"]}
    medians = {r["mode"]: r["summary"] for r in runs if r["users"] == runs[-1]["users"]}
    verdict_line = verdict(medians, open_loop=data["config"].get("open_loop") is not None)
    if as_json:
        summary = {
            "results": str(path),
            "verdict": verdict_line,
            "runs": [{k: v for k, v in r.items() if k in _SUMMARY_KEYS} for r in runs],
            "comparison": data["comparison"],
        }
        print(json.dumps(summary, indent=2))
        for line in extra_lines(data):
            print(line, file=sys.stderr)
        return
    console = stdout_console()
    for table in [*comparison_tables(runs, speedups), *extra_tables(data)]:
        console.print(table)
    for line in extra_lines(data):
        console.print(line, markup=False, highlight=False)
    invariant = all(r["summary"]["invariant_ok"] for r in runs)
    total = sum(r["summary"]["counts"]["submitted"] for r in runs)
    state = "ok" if invariant else "VIOLATED"
    console.print(f"record invariant: {state} ({total} requests, each recorded once)")
    console.print(f"verdict: {verdict_line}")
    console.print(f"results: {path}")


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value * 1000:.1f}"


def extra_tables(data: dict[str, Any]) -> list[Table]:
    """Streaming (TTFT/ITL/TPOT) and open-loop (corrected latency, lag) tables when relevant."""
    runs, tables = data["runs"], []
    if any(r["summary"].get("ttft_s") for r in runs):
        tables.append(make_table(
            "Streaming (ms; TTFT from the request's start)",
            ("mode", "users", "TTFT p50", "TTFT p95", "ITL p50", "TPOT p50", "TPOT p95",
             "out tok/s"),
            [_stream_row(r) for r in runs],
        ))  # fmt: skip
    if data["config"].get("open_loop"):
        tables.append(make_table(
            "Open loop (ms): latency from the actual start vs the intended start "
            "(coordinated omission corrected), and how late requests left",
            ("mode", "req/s", "p50", "p99", "p50 corrected", "p99 corrected",
             "lag p50", "lag p99", "lag max", "late"),
            [_open_row(r) for r in runs],
        ))  # fmt: skip
    return tables


def _stream_row(run: Mapping[str, Any]) -> list[str]:
    s = run["summary"]
    ttft, itl, tpot = (s.get(k) or {} for k in ("ttft_s", "itl_s", "tpot_s"))
    tps = s.get("output_tokens_per_s")
    return [run["mode"], str(run["users"]), _ms(ttft.get("p50")), _ms(ttft.get("p95")),
            _ms(itl.get("p50")), _ms(tpot.get("p50")), _ms(tpot.get("p95")),
            "–" if tps is None else f"{tps:.0f}"]  # fmt: skip


def _open_row(run: Mapping[str, Any]) -> list[str]:
    s = run["summary"]
    raw, fixed = s["latency_s"], s.get("latency_from_intended_s") or {}
    lag = s.get("schedule_lag_s") or {}
    late = lag.get("late_fraction")
    times = [raw.get("p50"), raw.get("p99"), fixed.get("p50"), fixed.get("p99"),
             lag.get("p50"), lag.get("p99"), lag.get("max")]  # fmt: skip
    return [
        run["mode"],
        f"{s['throughput_rps'] or 0:.1f}",
        *(_ms(t) for t in times),
        "–" if late is None else f"{late:.1%}",
    ]


def extra_lines(data: dict[str, Any]) -> list[str]:
    """Lag warnings (open loop), memory per request in flight, the harness's own limits."""
    lines = []
    for run in data["runs"]:
        summary = run["summary"]
        warning = metrics.lag_warning(summary) if data["config"].get("open_loop") else None
        if warning:
            lines.append(f"{run['mode']}: {warning}")
        per = summary.get("rss_per_in_flight_bytes")
        if per is not None and summary.get("peak_in_flight", 0) >= 100:
            lines.append(f"{run['mode']}: peak {summary['peak_in_flight']} in flight, "
                         f"{per / 1024:.0f} KiB of RSS per request in flight")  # fmt: skip
    calibration = data.get("calibration")
    if calibration:
        lines.append(calibration_line(calibration))
    return lines


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


_SUMMARY_KEYS = ("mode", "users", "requests_per_user", "repetition", "concurrency_cap", "summary")


def finish(plan: RunPlan, data: dict[str, Any], path: Path) -> None:
    """Print the summary and render the report next to the results (unless told not to)."""
    print_summary(data, path, plan.output.json)
    if not plan.output.report:
        return
    from harness.cli_reports import render

    report = render([path], path.parent)
    if not plan.output.json:
        print(f"report: {report}")
