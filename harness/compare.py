"""Run designs side by side on one workload and gather the results file.

The pure part (caps, the verdict) is separate from the driver (:func:`run_modes`),
which only times the generators and collects what they recorded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import metrics
from harness.errors import ConfigError, InvariantError
from harness.gemini import Target
from harness.generators import REGISTRY
from harness.generators.base import RequestRecord, RunContext, Workload
from harness.generators.common import GeneratorOptions
from harness.resilience.policy import ResilienceConfig, ResiliencePolicy
from harness.resources import ResourceSampler

log = logging.getLogger("harness.run")

SEED_SEMAPHORE = 3  # the seed note's asyncio.Semaphore(3)
SEED_WORKERS = 5  # the seed note's ThreadPoolExecutor(max_workers=5)


@dataclass(frozen=True)
class CompareSpec:
    """What to run: designs, load, caps and policy. ``users`` may hold several values (a sweep)."""

    modes: tuple[str, ...]
    users: tuple[int, ...]
    requests_per_user: int = 1
    workers: int | None = None
    concurrency: int | None = None
    seed_limits: bool = False
    repetitions: int = 1
    resilience: ResilienceConfig = field(default_factory=ResilienceConfig)
    max_output_tokens: int = 2048
    secondary: bool = False

    def validate(self) -> None:
        unknown = [m for m in self.modes if m not in REGISTRY]
        if unknown:
            known = ", ".join(REGISTRY)
            raise ConfigError(f"--modes: unknown mode {unknown[0]!r} (known: {known})")
        _positive("--users", self.users)
        _positive("--requests-per-user", (self.requests_per_user,))
        _positive("--repetitions", (self.repetitions,))
        _positive("--workers", (self.workers,) if self.workers is not None else ())
        _positive("--concurrency", (self.concurrency,) if self.concurrency is not None else ())


def _positive(flag: str, values: Sequence[int]) -> None:
    for value in values:
        if value <= 0:
            raise ConfigError(f"{flag}: expected a positive integer, got {value}")


def concurrency_cap(mode: str, users: int, spec: CompareSpec) -> int:
    """The design's cap: 1 for sequential, else the flag, the seed's limit, or the user count."""
    if mode == "sequential":
        return 1
    if mode == "threaded":
        flag, seed = spec.workers, SEED_WORKERS
    else:
        flag, seed = spec.concurrency, SEED_SEMAPHORE
    if spec.seed_limits:
        return seed
    return flag if flag is not None else users


@dataclass
class ModeRun:
    """One design's run: its records and what the policy and the sampler saw."""

    mode: str
    users: int
    repetition: int
    cap: int
    submitted: list[int]
    records: list[RequestRecord]
    policy: ResiliencePolicy
    resources: dict[str, float | int]
    makespan_s: float

    def summary(self, service_time_s: float | None) -> dict[str, Any]:
        summary = metrics.summarize(
            self.records,
            concurrency_cap=self.cap,
            service_time_s=service_time_s,
            submitted=len(self.submitted),
            upstream_attempts=len(self.policy.attempt_times_s),
            makespan_s=self.makespan_s,
        )
        summary.update(self.resources)
        return summary

    def timeline(self) -> list[dict[str, Any]]:
        return metrics.timeline(
            self.records,
            attempt_times_s=self.policy.attempt_times_s,
            fast_fail_times_s=self.policy.fast_fail_times_s,
            transitions=self.transitions(),
            duration_s=self.makespan_s,
        )

    def transitions(self) -> list[dict[str, Any]]:
        return [
            {"time_s": t.time_s, "from": t.from_state, "to": t.to_state, "reason": t.reason}
            for t in self.policy.breaker.transitions
        ]


def run_mode(
    mode: str,
    target: Target,
    workload: Workload,
    cap: int,
    spec: CompareSpec,
    on_record: Callable[[RequestRecord], None] | None = None,
    repetition: int = 0,
) -> ModeRun:
    """Run one design once, on a fresh policy and clock; check the record invariant."""
    options = GeneratorOptions(cap, spec.max_output_tokens, spec.secondary)
    generator = REGISTRY[mode](target, options)
    t0 = time.perf_counter()

    def clock() -> float:
        return time.perf_counter() - t0

    policy = ResiliencePolicy(spec.resilience, clock=clock, rng_seed=repetition)
    ctx = RunContext(clock, policy, on_record)
    log.info("run start", extra={"mode": mode, "users": workload.users, "cap": cap})
    try:
        with ResourceSampler() as usage:
            records = generator.run(workload, ctx)
            makespan_s = clock()
    finally:
        generator.close()
    submitted = [p.request_id for p in workload]
    problems = metrics.check_invariant(records, submitted)
    if problems:
        raise InvariantError(f"{mode}: {'; '.join(problems)}")
    log.info("run end", extra={"mode": mode, "records": len(records), "makespan_s": makespan_s})
    return ModeRun(
        mode,
        workload.users,
        repetition,
        cap,
        submitted,
        records,
        policy,
        usage.summary(),
        makespan_s,
    )


def verdict(summaries: Mapping[str, Mapping[str, Any]]) -> str:
    """One line: the fastest design against sequential, and what the bound allows."""
    if "sequential" not in summaries or len(summaries) < 2:
        return "only one design ran: nothing to compare"
    base = summaries["sequential"]
    best_mode = min(
        (m for m in summaries if m != "sequential"), key=lambda m: summaries[m]["makespan_s"]
    )
    best = summaries[best_mode]
    speedup = base["makespan_s"] / best["makespan_s"] if best["makespan_s"] else float("inf")
    allowed = base["bound_s"] / best["bound_s"] if best.get("bound_s") else None
    line = f"{best_mode} {speedup:.1f}× faster than sequential"
    return line + (f"; bound allows {allowed:.0f}×" if allowed else "")
