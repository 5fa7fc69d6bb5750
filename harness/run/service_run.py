"""``load``: drive any HTTP service that calls an LLM, and watch its upstream while it runs.

    document = execute_load(plan)    # the results document, with an ``upstream`` block

The service is a URL, or a command started here with ``{port}`` and ``{upstream_url}``
filled and the embedded mock's URL in every ``--upstream-env`` variable; without either,
the built-in recipe service (``python -m harness serve``) is started on the mock. While
the load runs, the mock's requests in flight are sampled every
:data:`SAMPLE_INTERVAL_S`, so the report can set the service's concurrency (seen from the
client) beside its upstream's (seen by the mock) and name the design (reports.diagnosis).
"""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ConfigError, Interrupted
from harness.gemini import Target
from harness.generators.base import Load, Workload
from harness.generators.http import ServiceGenerator, ServiceSpec
from harness.logs import redact_url, url_secrets
from harness.measure import results
from harness.measure.slo import Slo, slo_summary
from harness.resilience.config import preset
from harness.run.design import ModeRun, run_mode
from harness.run.plan import CompareSpec, OutputOptions
from harness.run.progress import ModeProgress, progress_bar
from harness.run.runner import reset_mock
from harness.run.service_process import started_service
from harness.run.targets import TargetSpec, open_target
from mock_gemini.config import MockConfig

SAMPLE_INTERVAL_S = 0.02  # how often the mock's in-flight count is read during the load


@dataclass(frozen=True)
class LoadPlan:
    """One ``load`` run: the service, the load shape, the upstream and where results go."""

    argv: Sequence[str]
    spec: ServiceSpec
    load: Load
    cap: int
    mock: MockConfig | None
    output: OutputOptions
    upstream_env: tuple[str, ...] = ()
    builtin_mode: str | None = None  # set: the built-in recipe service in this mode
    scenario: dict[str, Any] | None = None
    notes: dict[str, Any] = field(default_factory=dict)
    slo: Slo | None = None  # per-request criteria: summaries gain slo_good, slo_goodput_rps
    thresholds: tuple[str, ...] = ()  # checked on the document: exit 1 when one fails


def execute_load(plan: LoadPlan) -> dict[str, Any]:
    """Start what is needed, run the load, and return the results document (not written)."""
    show = plan.output.progress and not plan.output.json
    plain = not sys.stderr.isatty()
    stopped: Interrupted | None = None
    run: ModeRun | None = None
    monitor: UpstreamMonitor | None = None
    with contextlib.ExitStack() as stack:
        upstream = None
        if plan.mock is not None:
            upstream = stack.enter_context(open_target(TargetSpec("mock"), plan.mock)).base_url
        url = plan.spec.url or stack.enter_context(
            started_service(plan.spec, upstream, plan.upstream_env, plan.builtin_mode)
        )
        progress = stack.enter_context(progress_bar(show, plain))
        if upstream is not None:
            monitor = stack.enter_context(UpstreamMonitor(upstream))
        try:
            run = _run(plan, url, upstream, monitor, progress)
        except Interrupted as exc:
            stopped, run = exc, exc.partial
    if run is None:
        raise stopped or ConfigError("load: nothing ran")
    document = _document(plan, url, run, monitor)
    if stopped is not None:
        document["interrupted"] = True
        stopped.document = document
        raise stopped
    return document


def _run(
    plan: LoadPlan,
    url: str,
    upstream: str | None,
    monitor: UpstreamMonitor | None,
    progress: Any,
) -> ModeRun:
    generator = ServiceGenerator(plan.spec, url, plan.cap)
    users = (plan.load.users,) if isinstance(plan.load, Workload) else (1,)
    spec = CompareSpec(("service",), users, resilience=preset("none"), raw_records=True)

    def start() -> None:
        if upstream is not None:
            reset_mock(upstream)  # the mock's peak and schedule start with the load
        if monitor is not None:
            monitor.start()

    bar = ModeProgress(progress, "service", plan.load.total)
    return run_mode(
        "service", Target(url, ""), plan.load, plan.cap, spec, bar, on_start=start,
        generator=generator,
    )  # fmt: skip


def _document(
    plan: LoadPlan, url: str, run: ModeRun, monitor: UpstreamMonitor | None
) -> dict[str, Any]:
    secrets = [*url_secrets(url), *url_secrets(plan.spec.url)]
    open_loop = not isinstance(plan.load, Workload)
    config = {
        "service": {
            "url": redact_url(url),
            "command": plan.spec.command,
            "builtin_mode": plan.builtin_mode,
            "requests": [
                {"method": t.method, "path": t.path, "weight": t.weight} for t in plan.spec.requests
            ],
            "ok": {
                "status": sorted(plan.spec.ok.status),
                "has": list(plan.spec.ok.has),
                "absent": list(plan.spec.ok.absent),
                "equals": [list(pair) for pair in plan.spec.ok.equals],
            },
        },
        "target": {"kind": "service", "base_url": redact_url(url)},
        "mock": plan.mock.to_dict() if plan.mock else None,
        "workload": {"users": [plan.load.users], "requests_per_user": _per_user(plan.load)},
        "modes": ["service"],
        "open_loop": plan.load.describe() if open_loop else None,  # type: ignore[union-attr]
        "scenario": plan.scenario,
        "raw_records": True,
        "slo": plan.slo.text if plan.slo is not None else None,
        "thresholds": list(plan.thresholds) or None,
    }
    data = results.new_results(["load", *plan.argv], config)
    summary = run.summary(None, open_loop=open_loop)
    if plan.slo is not None:
        summary.update(slo_summary(run.records, plan.slo, summary["makespan_s"]))
    attempts = sum(record.attempts for record in run.records)  # one HTTP request each
    summary["upstream_attempts"] = attempts
    summary["amplification"] = attempts / len(run.records) if run.records else None
    if open_loop:
        summary["offered_rps"] = plan.load.rate_rps  # type: ignore[union-attr]
        summary["achieved_rps"] = summary["throughput_rps"]
    results.add_run(
        data, mode="service", users=plan.load.users, requests_per_user=_per_user(plan.load),
        repetition=0, concurrency_cap=plan.cap, summary=summary, records=run.records,
        transitions=(), timeline=run.timeline(),
    )  # fmt: skip
    data["upstream"] = _upstream(plan, monitor) if monitor is not None else None
    scrubbed: dict[str, Any] = results.scrub_secrets(data, secrets)
    return scrubbed


def _per_user(load: Load) -> int:
    return load.requests_per_user if isinstance(load, Workload) else 1


def _upstream(plan: LoadPlan, monitor: UpstreamMonitor) -> dict[str, Any]:
    samples = monitor.samples()
    return {
        "kind": "embedded-mock",
        "peak_in_flight": monitor.peak(),
        "in_flight_timeline": [[round(t, 4), n] for t, n in samples],
        "sample_interval_s": SAMPLE_INTERVAL_S,
        "service_time_s": plan.mock.latency.mean_s() if plan.mock else None,
    }


class UpstreamMonitor:
    """Samples the mock's requests in flight on a thread; :meth:`peak` asks the mock itself."""

    def __init__(self, base_url: str) -> None:
        self._url = base_url.rstrip("/") + "/_mock/stats"
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        self._samples: list[tuple[float, int]] = []
        self._origin_s = 0.0
        self._halt = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> UpstreamMonitor:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Sample from now on (clock 0 is now: the load's start)."""
        self._origin_s = time.perf_counter()
        self._thread = threading.Thread(target=self._loop, name="upstream-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._halt.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _stats(self) -> dict[str, Any]:
        with self._opener.open(self._url, timeout=5) as answer:
            stats: dict[str, Any] = json.loads(answer.read())
        return stats

    def _loop(self) -> None:
        while not self._halt.wait(SAMPLE_INTERVAL_S):
            with contextlib.suppress(OSError, ValueError):
                in_flight = int(self._stats().get("in_flight", 0))
                self._samples.append((time.perf_counter() - self._origin_s, in_flight))

    def samples(self) -> list[tuple[float, int]]:
        self.stop()
        return list(self._samples)

    def peak(self) -> int:
        """The mock's own peak since the load started (exact, not sampled)."""
        try:
            return int(self._stats().get("peak_in_flight", 0))
        except (OSError, ValueError):
            return max((n for _, n in self._samples), default=0)
