"""compare: every design on the same workload, side by side with its theoretical bound."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from harness.cli.common import (
    add_output_arguments,
    add_resilience_arguments,
    add_target_arguments,
    mock_config,
    resilience_config,
    target_spec,
)
from harness.errors import ConfigError
from harness.generators import DEFAULT_MODES, REGISTRY
from harness.measure.slo import parse_slo
from harness.run.defaults import CALIBRATION_MODES

if TYPE_CHECKING:
    from harness.generators.load import OpenLoad
    from harness.run.plan import CompareSpec, OutputOptions, RunPlan
    from harness.run.workload import WorkloadSpec


EXAMPLES = """examples:
  python -m harness compare --users 20                  # embedded mock, 1 s per answer
  python -m harness compare --users 20 --seed-limits    # the seed note's caps: 3 and 5
  python -m harness compare --modes threaded,async --rate 50 --duration 10 --latency 0.5
  python -m harness compare --users 50 --stream --tokens-per-s 200 --latency 0.4
  python -m harness compare --base-url http://127.0.0.1:8080 --reset-upstream
  GEMINI_API_KEY=... python -m harness compare --target gemini --users 3 --modes async
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    load = parser.add_argument_group("load")
    load.add_argument("--users", type=int, default=20, help="concurrent users (closed loop)")
    load.add_argument("--requests-per-user", type=int, default=1, metavar="R",
                      help="requests each user sends, one after another")  # fmt: skip
    load.add_argument("--modes", default=",".join(DEFAULT_MODES),
                      help=f"comma-separated designs: {', '.join(REGISTRY)}")  # fmt: skip
    load.add_argument("--workers", type=int, metavar="N",
                      help="threaded: pool size (default: one per user)")  # fmt: skip
    load.add_argument("--concurrency", type=int, metavar="N",
                      help="async/sdk: semaphore (default: one per user)")  # fmt: skip
    load.add_argument("--seed-limits", action="store_true",
                      help="the seed's own caps: semaphore 3, 5 worker threads")  # fmt: skip
    load.add_argument("--repetitions", type=int, default=1, metavar="N",
                      help="runs of each design, interleaved (A B C A B C)")  # fmt: skip
    load.add_argument("--max-output-tokens", type=int, default=2048, metavar="N",
                      help="maxOutputTokens of each request")  # fmt: skip
    add_scale_arguments(parser)
    add_data_arguments(parser)
    add_check_arguments(parser)
    add_target_arguments(parser)
    add_resilience_arguments(parser)
    add_output_arguments(parser)


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """Streaming, open-loop arrivals, bounded-memory summaries, calibration (docs/scale.md)."""
    group = parser.add_argument_group("streaming, open loop and scale (see docs/scale.md)")
    add = group.add_argument
    add(
        "--stream",
        action="store_true",
        help="streamGenerateContent?alt=sse: records get TTFT, ITL, TPOT, output tokens/s",
    )
    add("--rate", type=float, metavar="R", help="open loop: R requests/s whatever the answers")
    add(
        "--arrival",
        default="poisson",
        metavar="KIND",
        help="open loop: constant | poisson | gamma:cv=C",
    )
    add("--duration", type=float, metavar="S", help="open loop: send for S seconds")
    add("--requests", type=int, metavar="N", help="open loop: send N requests")
    add("--max-in-flight", type=int, metavar="M", help="open loop: at most M in flight")
    add("--arrival-seed", type=int, default=0, metavar="N", help="open loop: schedule seed")
    add(
        "--lag-warn-ms",
        type=float,
        default=10.0,
        metavar="MS",
        help="a request leaving later than this is late; warn above 1%% late",
    )
    add(
        "--no-raw-records",
        action="store_true",
        help="keep HDR histograms and counters only (bounded memory for long runs)",
    )
    add("--calibration", choices=CALIBRATION_MODES, default="auto",
        help="the results file's calibration block: auto (cached, else a quick measure), "
             "cached, quick, off")  # fmt: skip


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """Workloads from data instead of recipe requests (docs/workloads.md)."""
    group = parser.add_argument_group("workload from data (see docs/workloads.md)")
    add = group.add_argument
    add("--prompts", metavar="FILE", help="JSONL (text or contents, max_output_tokens) or CSV")
    add("--prompt-column", default="prompt", metavar="NAME", help="CSV: the prompt's column")
    add("--prompt-order", default="sequential", metavar="ORDER", help="sequential | random")
    add("--prompt-seed", type=int, default=0, metavar="N", help="seed of random order and draws")
    add("--prompt-tokens", metavar="DIST",
        help="synthetic prompts of DIST tokens: fixed:N, uniform:A-B, normal:MEAN,SD[,MIN,MAX], "
             "file:PATH")  # fmt: skip
    add("--output-tokens", metavar="DIST",
        help="maxOutputTokens per request drawn from DIST (same forms)")  # fmt: skip


def data_workload(ns: argparse.Namespace) -> WorkloadSpec | None:
    from harness.run.workload import workload_spec

    if ns.prompt_column != "prompt" and ns.prompts is None:
        raise ConfigError("--prompt-column: only with --prompts FILE.csv")
    return workload_spec(
        prompts_file=ns.prompts, column=ns.prompt_column, order=ns.prompt_order,
        seed=ns.prompt_seed, prompt_tokens=ns.prompt_tokens, output_tokens=ns.output_tokens,
    )  # fmt: skip


def add_check_arguments(parser: argparse.ArgumentParser) -> None:
    """Per-request SLOs and pass/fail thresholds on the run's figures (docs/workloads.md)."""
    group = parser.add_argument_group("SLO and thresholds (see docs/reports.md)")
    group.add_argument("--slo", metavar="CRITERIA",
                       help="good requests meet every criterion, e.g. latency<=2s,ttft<=500ms; "
                            "summaries gain slo_good and slo_goodput_rps")  # fmt: skip
    group.add_argument("--threshold", action="append", default=[], metavar="CHECK",
                       help="METRIC OP VALUE checked on every design, e.g. 'latency_p99<=2s', "
                            "'ok_share>=99%%'; exit 1 when one fails (repeatable)")  # fmt: skip


def checked_thresholds(texts: Sequence[str], where: str = "--threshold") -> tuple[str, ...]:
    """The threshold texts, parsed once now so bad text fails before the run (exit 2)."""
    from reports.errors import ReportInputError
    from reports.thresholds import parse_thresholds

    try:
        return tuple(t.text for t in parse_thresholds(texts, where))
    except ReportInputError as exc:
        raise ConfigError(str(exc)) from None


def open_load(ns: argparse.Namespace) -> OpenLoad | None:
    """The open-loop schedule the flags ask for; None without --rate."""
    from harness.generators.load import OpenLoad, parse_arrival

    if ns.rate is None:
        stray = [f for f in ("duration", "requests", "max_in_flight") if getattr(ns, f) is not None]
        if stray:
            flag = "--" + stray[0].replace("_", "-")
            raise ConfigError(f"{flag}: only meaningful with --rate R (open loop)")
        return None
    return OpenLoad(
        rate_rps=ns.rate,
        arrival=parse_arrival(ns.arrival),
        requests=ns.requests,
        duration_s=ns.duration,
        max_in_flight=ns.max_in_flight,
        seed=ns.arrival_seed,
    )


def output_options(ns: argparse.Namespace) -> OutputOptions:
    from harness.run.plan import OutputOptions

    return OutputOptions(
        out=Path(ns.out) if ns.out else None,
        json=ns.json,
        report=not ns.no_report,
        progress=not ns.no_progress,
        verbose=ns.verbose or ns.log_json,  # --log-json asks for the log, as JSON lines
        log_json=ns.log_json,
        export_csv=ns.export_csv,
    )


def plan_from_args(ns: argparse.Namespace, argv: Sequence[str], users: Sequence[int]) -> RunPlan:
    """The run the command line asks for (compare, sweep)."""
    from harness.run.plan import RunPlan

    tspec = target_spec(ns)
    mock = mock_config(ns) if tspec.kind == "mock" else None
    spec = compare_spec(ns, users)
    output = output_options(ns)
    return RunPlan(
        ns.command, list(argv), spec, tspec, mock, output, calibration=ns.calibration,
        thresholds=checked_thresholds(ns.threshold),
    )  # fmt: skip


def compare_spec(ns: argparse.Namespace, users: Sequence[int]) -> CompareSpec:
    from harness.run.plan import CompareSpec

    modes = tuple(m.strip() for m in ns.modes.split(",") if m.strip())
    if not modes:
        raise ConfigError("--modes: expected at least one design")
    spec = CompareSpec(
        modes=modes,
        users=tuple(users),
        requests_per_user=ns.requests_per_user,
        workers=ns.workers,
        concurrency=ns.concurrency,
        seed_limits=ns.seed_limits,
        repetitions=ns.repetitions,
        resilience=resilience_config(ns),
        max_output_tokens=ns.max_output_tokens,
        secondary=ns.secondary,
        stream=ns.stream,
        open_load=open_load(ns),
        raw_records=not ns.no_raw_records,
        late_threshold_s=_late_threshold_s(ns.lag_warn_ms),
        slo=parse_slo(ns.slo) if ns.slo else None,
        workload=data_workload(ns),
    )
    spec.validate()
    return spec


def _late_threshold_s(milliseconds: float) -> float:
    if not milliseconds >= 0:
        raise ConfigError(f"--lag-warn-ms: expected a number >= 0, got {milliseconds}")
    return milliseconds / 1000.0


def main(ns: argparse.Namespace, argv: list[str]) -> int:
    from harness.cli.output import run_plan

    return run_plan(plan_from_args(ns, argv[1:], [ns.users]))
