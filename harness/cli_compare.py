"""compare: every design on the same workload, side by side with its theoretical bound."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import metrics, results
from harness.cli_common import (
    add_output_arguments,
    add_resilience_arguments,
    add_target_arguments,
    mock_config,
    resilience_config,
    target_spec,
)
from harness.compare import CompareSpec, ModeRun, concurrency_cap, run_mode, verdict
from harness.console import ModeProgress, comparison_tables, progress_bar, stdout_console
from harness.errors import ConfigError
from harness.gemini import Target
from harness.generators import DEFAULT_MODES, REGISTRY
from harness.generators.base import Workload
from harness.logs import configure_logging
from harness.targets import TargetSpec, open_target
from mock_gemini.config import MockConfig


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


def service_time_s(target: TargetSpec, mock: MockConfig | None) -> float | None:
    """S of the bound: the mock's mean time to first token when nothing else adds time."""
    if target.kind != "mock" or mock is None:
        return None
    if mock.tokens_per_s or mock.thinking_tokens:
        return None
    return mock.latency.mean_s()


def execute(
    ns: argparse.Namespace, argv: list[str], spec: CompareSpec, command: str
) -> tuple[dict[str, Any], Path]:
    """Run every (users, repetition, mode), then write and return the results file."""
    tspec = target_spec(ns)
    mock = mock_config(ns) if tspec.kind == "mock" else None
    configure_logging(ns.verbose, ns.log_json)
    runs: list[ModeRun] = []
    show = not (ns.no_progress or ns.json) and sys.stderr.isatty()
    with open_target(tspec, mock) as target, progress_bar(show) as progress:
        configure_logging(ns.verbose, ns.log_json, secrets=[target.api_key])
        for users in spec.users:
            for rep in range(spec.repetitions):
                runs += _one_round(target, spec, users, rep, progress)
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
    }
    data = results.new_results([command, *argv], config)
    for run in runs:
        results.add_run(
            data, mode=run.mode, users=run.users, requests_per_user=spec.requests_per_user,
            repetition=run.repetition, concurrency_cap=run.cap, summary=run.summary(s_time),
            records=run.records, transitions=run.transitions(), timeline=run.timeline(),
        )  # fmt: skip
    data["comparison"] = metrics.speedups(data["runs"])
    data = results.scrub_secrets(data, [secret])
    out_dir = Path(ns.out) if ns.out else results.default_run_dir(command)
    return data, results.write_results(data, out_dir)


def _one_round(
    target: Target, spec: CompareSpec, users: int, rep: int, progress: Any
) -> list[ModeRun]:
    workload = Workload(users, spec.requests_per_user)
    out = []
    for mode in spec.modes:
        cap = concurrency_cap(mode, users, spec)
        bar = ModeProgress(progress, f"{mode} ×{users}", workload.total)
        out.append(run_mode(mode, target, workload, cap, spec, bar, rep))
    return out


def _measured_service_time(runs: Sequence[ModeRun]) -> float | None:
    """Without an injected latency, S is the median latency of the least concurrent run."""
    if not runs:
        return None
    calmest = min(runs, key=lambda r: r.cap)
    ok = [r.latency_s for r in calmest.records if r.outcome == "ok"]
    return metrics.percentiles(ok).get("p50") if ok else None


def print_summary(data: dict[str, Any], path: Path, as_json: bool) -> None:
    """The table and verdict (or the JSON summary) on stdout; where the results went."""
    runs = data["runs"]
    speedups = {(c["users"], c["mode"]): c["speedup_vs_sequential"] for c in data["comparison"]}
    medians = {r["mode"]: r["summary"] for r in runs if r["users"] == runs[-1]["users"]}
    if as_json:
        summary = {
            "results": str(path),
            "verdict": verdict(medians),
            "runs": [{k: v for k, v in r.items() if k in _SUMMARY_KEYS} for r in runs],
            "comparison": data["comparison"],
        }
        print(json.dumps(summary, indent=2))
        return
    console = stdout_console()
    for table in comparison_tables(runs, speedups):
        console.print(table)
    invariant = all(r["summary"]["invariant_ok"] for r in runs)
    total = sum(r["summary"]["counts"]["submitted"] for r in runs)
    state = "ok" if invariant else "VIOLATED"
    console.print(f"record invariant: {state} ({total} requests, each recorded once)")
    console.print(f"verdict: {verdict(medians)}")
    console.print(f"results: {path}")


_SUMMARY_KEYS = ("mode", "users", "requests_per_user", "repetition", "concurrency_cap", "summary")


def render_report_if_wanted(ns: argparse.Namespace, path: Path) -> None:
    if ns.no_report:
        return
    from harness.cli_reports import render

    report = render([path], path.parent)
    if not ns.json:
        print(f"report: {report}")


def main(ns: argparse.Namespace, argv: list[str]) -> int:
    spec = compare_spec(ns, [ns.users])
    data, path = execute(ns, argv[1:], spec, "compare")
    print_summary(data, path, ns.json)
    render_report_if_wanted(ns, path)
    return 0
