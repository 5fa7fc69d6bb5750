"""Execute a :class:`RunPlan` (from the command line or a scenario file) and show its results.

data, path = execute(plan)
finish(plan, data, path)   # table or JSON on stdout, report next to results.json
"""

from __future__ import annotations

import json
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import metrics, results
from harness.compare import CompareSpec, ModeRun, concurrency_cap, run_mode, verdict
from harness.console import ModeProgress, comparison_tables, progress_bar, stdout_console
from harness.gemini import Target
from harness.generators.base import Workload
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
    runs: list[ModeRun] = []
    show = out.progress and not out.json and sys.stderr.isatty()
    with open_target(tspec, mock) as target, progress_bar(show) as progress:
        configure_logging(out.verbose, out.log_json, secrets=[target.api_key])
        fresh = tspec.kind == "mock"
        for users in spec.users:
            for rep in range(spec.repetitions):
                runs += _one_round(target, spec, users, rep, progress, fresh)
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
    }
    data = results.new_results([plan.command, *plan.argv], config)
    for run in runs:
        results.add_run(
            data, mode=run.mode, users=run.users, requests_per_user=spec.requests_per_user,
            repetition=run.repetition, concurrency_cap=run.cap, summary=run.summary(s_time),
            records=run.records, transitions=run.transitions(), timeline=run.timeline(),
        )  # fmt: skip
    data["comparison"] = metrics.speedups(data["runs"])
    data = results.scrub_secrets(data, [secret])
    out_dir = out.out or results.default_run_dir(plan.command)
    return data, results.write_results(data, out_dir)


def _one_round(
    target: Target, spec: CompareSpec, users: int, rep: int, progress: Any, fresh: bool = False
) -> list[ModeRun]:
    workload = Workload(users, spec.requests_per_user)
    out = []
    for mode in spec.modes:
        if fresh:
            reset_mock(target.base_url)
        cap = concurrency_cap(mode, users, spec)
        bar = ModeProgress(progress, f"{mode} ×{users}", workload.total)
        out.append(run_mode(mode, target, workload, cap, spec, bar, rep))
    return out


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


def finish(plan: RunPlan, data: dict[str, Any], path: Path) -> None:
    """Print the summary and render the report next to the results (unless told not to)."""
    print_summary(data, path, plan.output.json)
    if not plan.output.report:
        return
    from harness.cli_reports import render

    report = render([path], path.parent)
    if not plan.output.json:
        print(f"report: {report}")
