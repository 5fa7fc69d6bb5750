"""Execute a :class:`~harness.run.plan.RunPlan`: every design, load and repetition, in order.

    document = execute(plan)   # the results document (docs/results-format.md)

The runner shows progress on stderr and nothing else; tables, verdicts and reports are
views of the document, computed in ``reports``.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import urllib.request
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from harness.errors import Interrupted
from harness.gemini import Target
from harness.generators.base import Load, Workload
from harness.generators.protocols import protocol_for
from harness.generators.transport import HttpResponse
from harness.logs import configure_logging, url_secrets
from harness.measure import metrics, results
from harness.measure.slo import slo_summary
from harness.recipes import RecipeRequest
from harness.run.calibrate import calibration_block
from harness.run.design import ModeRun, open_file_need, raise_open_file_limit, run_mode
from harness.run.plan import CompareSpec, RunPlan, concurrency_cap
from harness.run.progress import ModeProgress, progress_bar
from harness.run.targets import TargetSpec, open_target, upstream_root
from mock_gemini.config import MockConfig


def service_time_s(target: TargetSpec, mock: MockConfig | None) -> float | None:
    """S of the bound: the mock's mean time to first token when nothing else adds time."""
    if target.kind != "mock" or mock is None:
        return None
    if mock.tokens_per_s or mock.thinking_tokens:
        return None
    return mock.latency.mean_s()


def execute(plan: RunPlan) -> dict[str, Any]:
    """Run every (users, repetition, mode); return the results document (not yet written).

    The document holds what was measured; the views and the verdict are computed from it
    by ``reports`` (see ``harness.cli.output.finish``). Secrets are scrubbed from it.
    """
    spec, tspec, mock, out = plan.spec, plan.target, plan.mock, plan.output
    configure_logging(out.verbose, out.log_json)
    raise_open_file_limit(open_file_need(_largest_cap(spec)))
    calibration = calibration_block(plan.calibration)
    runs: list[ModeRun] = []
    stopped: Interrupted | None = None
    show = out.progress and not out.json
    plain = not sys.stderr.isatty()
    with open_target(tspec, mock) as target, progress_bar(show, plain) as progress:
        secrets = [target.api_key, *url_secrets(target.base_url), *url_secrets(tspec.base_url)]
        configure_logging(out.verbose, out.log_json, secrets=secrets)
        if tspec.resettable:  # our own mock: warming it up touches nobody else's upstream
            warm_up(target, spec)
        try:
            for load in _loads(spec):
                for rep in range(spec.repetitions):
                    _one_round(target, spec, load, rep, progress, tspec.resettable, runs)
        except Interrupted as exc:  # keep every design that ended, and the one that was cut
            stopped = exc
            if exc.partial is not None:
                runs.append(exc.partial)
        url = target.base_url
    s_time = service_time_s(tspec, mock) or _measured_service_time(runs)
    config = {
        "target": tspec.describe(url),
        "mock": mock.to_dict() if mock else None,
        "resilience": spec.resilience.to_dict(),
        "workload": {
            "users": list(spec.users),
            "requests_per_user": spec.requests_per_user,
            **({"data": spec.workload.describe()} if spec.workload else {}),
        },
        "modes": list(spec.modes),
        "seed_limits": spec.seed_limits,
        "service_time_s": s_time,
        "scenario": plan.scenario,
        "stream": spec.stream,
        "open_loop": spec.open_load.describe() if spec.open_load else None,
        "raw_records": spec.raw_records,
        "slo": spec.slo.text if spec.slo is not None else None,
        "thresholds": list(plan.thresholds),
    }
    data = results.new_results([plan.command, *plan.argv], config)
    data["calibration"] = calibration
    for run in runs:
        summary = _summary(run, spec, s_time, mock)
        rpu = spec.requests_per_user if spec.open_load is None else 1
        results.add_run(
            data, mode=run.mode, users=run.users, requests_per_user=rpu,
            repetition=run.repetition, concurrency_cap=run.cap, summary=summary,
            records=run.records, transitions=run.transitions(), timeline=run.timeline(),
        )  # fmt: skip
    if stopped is not None:
        data["interrupted"] = True
    scrubbed: dict[str, Any] = results.scrub_secrets(data, secrets)
    if stopped is not None:
        stopped.document = scrubbed if runs else None
        raise stopped
    return scrubbed


def _loads(spec: CompareSpec) -> list[Load]:
    """One open-loop schedule, or one closed-loop workload per users value.

    A data workload gives each load its own pool of requests, one per request it sends.
    """
    data = spec.workload
    if spec.open_load is not None:
        load = spec.open_load
        return [replace(load, recipe_requests=data.requests(load.total)) if data else load]
    return [
        Workload(users, spec.requests_per_user,
                 data.requests(users * spec.requests_per_user) if data else ())
        for users in spec.users
    ]  # fmt: skip


def _largest_cap(spec: CompareSpec) -> int:
    """The most requests that can be in flight at once (each holds a socket)."""
    if spec.open_load is None:
        return max(concurrency_cap(m, u, spec) for m in spec.modes for u in spec.users)
    caps = (concurrency_cap(m, spec.open_load.users, spec) for m in spec.modes)
    return min(max(caps), spec.open_load.total)  # never more in flight than requests


def _one_round(
    target: Target,
    spec: CompareSpec,
    load: Load,
    rep: int,
    progress: Any,
    fresh: bool,
    runs: list[ModeRun],
) -> None:
    """Every design once on ``load``, appended to ``runs`` as each ends."""
    total = load.total
    label = f"×{load.users}" if isinstance(load, Workload) else "open"
    reset = functools.partial(reset_mock, upstream_root(target)) if fresh else None
    designs = len(_loads(spec)) * spec.repetitions * len(spec.modes)
    for mode in spec.modes:
        cap = concurrency_cap(mode, load.users, spec)
        bar = ModeProgress(progress, f"{len(runs) + 1}/{designs} {mode} {label}", total)
        runs.append(run_mode(mode, target, load, cap, spec, bar, rep, on_start=reset))


def _summary(
    run: ModeRun, spec: CompareSpec, s_time: float | None, mock: MockConfig | None
) -> dict[str, Any]:
    """The run's summary; an open-loop run is described by its rates, not by a bound."""
    upstream_cap = mock.max_concurrency if mock is not None else None
    summary = run.summary(s_time, upstream_cap=upstream_cap, open_loop=spec.open_load is not None)
    if spec.open_load is not None:
        summary["offered_rps"] = spec.open_load.rate_rps
        summary["achieved_rps"] = summary["throughput_rps"]
    if spec.slo is not None:
        summary.update(slo_summary(run.records, spec.slo, summary["makespan_s"]))
    return summary


def warm_up(target: Target, spec: CompareSpec) -> None:
    """One untimed request through the protocol's build and parse before the first design.

    The first request of a process pays for lazy imports and first-time code paths in the
    harness and the mock (tens of ms); without this the first design of a run carried that
    cost alone, and run order could flip a verdict. Failures are ignored: the run will meet
    them measured.
    """
    protocol = protocol_for(target)
    req = protocol.build(target, RecipeRequest.example(0), stream=False,
                         max_output_tokens=spec.max_output_tokens)  # fmt: skip
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only
    request = urllib.request.Request(req.url, data=req.body, headers=dict(req.headers))
    with contextlib.suppress(Exception):
        with opener.open(request, timeout=30) as answer:
            body, headers = answer.read(), dict(answer.headers)
        protocol.answered(HttpResponse(200, headers, body, 0.0))


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
