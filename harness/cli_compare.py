"""compare: every design on the same workload, side by side with its theoretical bound."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from harness.cli_common import (
    add_output_arguments,
    add_resilience_arguments,
    add_target_arguments,
    mock_config,
    resilience_config,
    target_spec,
)
from harness.compare import CompareSpec
from harness.errors import ConfigError
from harness.generators import DEFAULT_MODES, REGISTRY
from harness.runner import OutputOptions, RunPlan, execute, finish


def add_arguments(parser: argparse.ArgumentParser) -> None:
    load = parser.add_argument_group("load")
    load.add_argument("--users", type=int, default=20, help="concurrent users (default 20)")
    load.add_argument("--requests-per-user", type=int, default=1, metavar="R")
    load.add_argument("--modes", default=",".join(DEFAULT_MODES),
                      help=f"comma-separated designs: {', '.join(REGISTRY)}")  # fmt: skip
    load.add_argument("--workers", type=int, help="threaded: pool size (default: users)")
    load.add_argument("--concurrency", type=int, help="async/sdk: semaphore (default: users)")
    load.add_argument("--seed-limits", action="store_true",
                      help="the seed's own caps: semaphore 3, 5 worker threads")  # fmt: skip
    load.add_argument("--repetitions", type=int, default=1, help="runs of each design")
    load.add_argument("--max-output-tokens", type=int, default=2048)
    add_target_arguments(parser)
    add_resilience_arguments(parser)
    add_output_arguments(parser)


def output_options(ns: argparse.Namespace) -> OutputOptions:
    return OutputOptions(
        out=Path(ns.out) if ns.out else None,
        json=ns.json,
        report=not ns.no_report,
        progress=not ns.no_progress,
        verbose=ns.verbose,
        log_json=ns.log_json,
    )


def plan_from_args(ns: argparse.Namespace, argv: Sequence[str], users: Sequence[int]) -> RunPlan:
    """The run the command line asks for (compare, sweep)."""
    tspec = target_spec(ns)
    mock = mock_config(ns) if tspec.kind == "mock" else None
    spec = compare_spec(ns, users)
    return RunPlan(ns.command, list(argv), spec, tspec, mock, output_options(ns))


def compare_spec(ns: argparse.Namespace, users: Sequence[int]) -> CompareSpec:
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
    )
    spec.validate()
    return spec


def main(ns: argparse.Namespace, argv: list[str]) -> int:
    plan = plan_from_args(ns, argv[1:], [ns.users])
    finish(plan, *execute(plan))
    return 0
