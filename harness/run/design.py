"""Run designs side by side on one workload and gather the results file.

The pure part (caps, the verdict) is separate from the driver (:func:`run_modes`),
which only times the generators and collects what they recorded.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import resource
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psutil

from harness.errors import ConfigError, Interrupted, InvariantError
from harness.gemini import Target
from harness.generators import REGISTRY
from harness.generators.base import Generator, Load, RequestRecord, RunContext
from harness.generators.common import GeneratorOptions, interrupted_record
from harness.measure import metrics
from harness.measure.hdr import RecordFold
from harness.measure.resources import ResourceSampler
from harness.resilience.policy import ResiliencePolicy
from harness.run.plan import CompareSpec

log = logging.getLogger("harness.run")


@dataclass
class ModeRun:
    """One design's run: its records and what the policy and the sampler saw."""

    mode: str
    users: int
    repetition: int
    cap: int
    submitted: Sequence[int]
    records: list[RequestRecord]
    policy: ResiliencePolicy
    resources: dict[str, float | int]
    makespan_s: float
    fold: RecordFold | None = None  # set when records were folded, not kept
    late_threshold_s: float = metrics.LATE_THRESHOLD_S
    interrupted: bool = False  # a signal stopped it: ``submitted`` is what was sent

    def summary(
        self,
        service_time_s: float | None,
        *,
        upstream_cap: int | None = None,
        open_loop: bool = False,
    ) -> dict[str, Any]:
        """The run's summary (docs/results-format.md); ``upstream_cap``: mock max_concurrency."""
        kwargs: dict[str, Any] = {
            "concurrency_cap": self.cap,
            "service_time_s": service_time_s,
            "submitted": len(self.submitted),
            "upstream_attempts": len(self.policy.attempts),
            "makespan_s": self.makespan_s,
            "upstream_cap": upstream_cap,
            "open_loop": open_loop,
        }
        if self.interrupted and self.fold is None:
            kwargs["submitted_ids"] = self.submitted
        if self.fold is not None:
            summary = self.fold.summary(**kwargs)
        else:
            summary = metrics.summarize(
                self.records, late_threshold_s=self.late_threshold_s, **kwargs
            )
        summary.update(self.resources)
        if self.interrupted:
            summary["interrupted"] = True
            if self.fold is not None:
                summary["invariant_ok"] = self.fold.duplicated() == 0
        attempts = summary.get("upstream_attempts") or 0
        ok = summary["counts"].get("ok", 0)
        # What the upstream did to this design's attempts: compared across designs against an
        # external upstream, whose state the runner cannot reset (reports.verdict).
        summary["upstream_error_share"] = 1.0 - ok / attempts if attempts else None
        return summary

    def timeline(self) -> list[dict[str, Any]]:
        if self.fold is not None:
            return self.fold.timeline(
                attempt_times_s=self.policy.attempts,
                fast_fail_times_s=self.policy.fast_fails,
                transitions=self.transitions(),
                duration_s=self.makespan_s,
            )
        return metrics.timeline(
            self.records,
            attempt_times_s=self.policy.attempts,
            fast_fail_times_s=self.policy.fast_fails,
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
    workload: Load,
    cap: int,
    spec: CompareSpec,
    on_record: Callable[[RequestRecord], None] | None = None,
    repetition: int = 0,
    on_start: Callable[[], None] | None = None,
    generator: Generator | None = None,
) -> ModeRun:
    """Run one design once, on a fresh policy and clock; check the record invariant.

    ``on_start`` runs after the design's set-up, just before the clock starts (the runner
    resets the embedded mock there, so the mock's schedule and the run's clock agree).
    ``generator`` is a design built elsewhere (the service load's); else ``REGISTRY[mode]``.
    """
    if generator is None:
        text = spec.workload is not None  # a data workload's answers are text, not recipes
        options = GeneratorOptions(
            cap, spec.max_output_tokens, spec.secondary, spec.stream, text_answers=text
        )
        generator = REGISTRY[mode](target, options)
    origin_s = [time.perf_counter()]

    def clock() -> float:
        return time.perf_counter() - origin_s[0]

    # Without raw records the policy keeps counts per second, not every attempt's time.
    policy = ResiliencePolicy(
        spec.resilience, clock=clock, rng_seed=repetition, exact_times=spec.raw_records
    )
    attach = getattr(on_record, "attach", None)  # a live display shows the breaker and waits
    if attach is not None:
        attach(policy)
    fold = None if spec.raw_records else RecordFold(spec.late_threshold_s)
    # Every finished record also lands in the journal: an interrupt loses none of them.
    journal: list[RequestRecord] = []
    observer = _both(fold or journal.append, on_record)
    ctx = RunContext(clock, policy, observer, keep_records=fold is None)
    log.info("run start", extra={"mode": mode, "users": workload.users, "cap": cap})
    rss_before = psutil.Process().memory_info().rss
    try:
        with quiet_gc(), ResourceSampler() as usage:
            warm_up = getattr(generator, "warm_up", None)  # optional: set-up before the clock
            if warm_up is not None:
                warm_up()
            if on_start is not None:
                on_start()
            origin_s[0] = time.perf_counter()  # the run starts now: GC and sampler set-up excluded
            stopped: Interrupted | None = None
            try:
                records = generator.run(workload, ctx)
            except KeyboardInterrupt as exc:
                stopped = _stop(ctx, exc)
            makespan_s = clock()
    finally:
        generator.close()
    resources = {**usage.summary(), **_in_flight_cost(ctx, usage.peak_rss_bytes, rss_before)}
    if stopped is not None:
        partial = _partial(mode, ctx, journal, fold, makespan_s)
        stopped.partial = ModeRun(
            mode, workload.users, repetition, cap, partial[0], partial[1], policy, resources,
            makespan_s, fold, spec.late_threshold_s, interrupted=True,
        )  # fmt: skip
        raise stopped
    submitted = range(workload.total)
    _check_invariant(mode, records, submitted, fold)
    log.info("run end", extra={"mode": mode, "records": len(records), "makespan_s": makespan_s})
    run = ModeRun(
        mode, workload.users, repetition, cap, submitted, records, policy, resources,
        makespan_s, fold, spec.late_threshold_s,
    )  # fmt: skip
    return run


def _stop(ctx: RunContext, exc: KeyboardInterrupt) -> Interrupted:
    """Stop sending (requests not yet started end as ``Interrupted`` records)."""
    ctx.stop.set()
    return exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)


def _partial(
    mode: str,
    ctx: RunContext,
    journal: list[RequestRecord],
    fold: RecordFold | None,
    end_s: float,
) -> tuple[list[int], list[RequestRecord]]:
    """(submitted ids, records) of an interrupted run: what ended, and what was in flight.

    A request in flight when the run stopped ends as one ``Interrupted`` record; requests
    that never started were never submitted. With a fold the records are folded, not kept.
    """
    finished = list(journal) if fold is None else []
    seen = {r.request_id for r in finished}
    breaker = ctx.policy.breaker.state
    for planned, intended_s, start_s in ctx.in_flight.snapshot():
        if planned.request_id not in seen:
            record = interrupted_record(planned, mode, (intended_s, start_s, end_s), breaker)
            finished.append(record)
            if fold is not None:
                fold(record)
    if fold is not None:
        return fold.ids(), []
    ids = sorted({r.request_id for r in finished})
    return ids, sorted(finished, key=lambda r: r.request_id)


@contextlib.contextmanager
def quiet_gc(young_threshold: int = 50_000) -> Iterator[None]:
    """Fewer, cheaper garbage collections while a run holds thousands of requests in flight.

    The objects alive before the run are frozen (never rescanned) and young collections
    run every ``young_threshold`` allocations instead of 700: with 10,000 requests in
    flight CPython's default spends about 40% of the client's CPU re-walking live objects.
    Thresholds and the frozen set are restored afterwards.
    """
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(young_threshold, 20, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def _both(
    first: Callable[[RequestRecord], None], then: Callable[[RequestRecord], None] | None
) -> Callable[[RequestRecord], None]:
    if then is None:
        return first

    def both(record: RequestRecord) -> None:
        first(record)
        then(record)

    return both


def _check_invariant(
    mode: str, records: list[RequestRecord], submitted: range, fold: RecordFold | None
) -> None:
    if fold is not None:
        problems = fold.invariant_problems(len(submitted))
    else:
        problems = metrics.check_invariant(records, submitted)
    if problems:
        raise InvariantError(f"{mode}: {'; '.join(problems)}")


def _in_flight_cost(ctx: RunContext, peak_rss_bytes: int, rss_before: int) -> dict[str, Any]:
    """Peak requests in flight and what each cost in resident memory at the peak."""
    peak = ctx.in_flight.peak
    grown = max(0, peak_rss_bytes - rss_before)
    return {
        "peak_in_flight": peak,
        "rss_before_bytes": rss_before,
        "rss_per_in_flight_bytes": round(grown / peak) if peak else None,
    }


def open_file_need(cap: int) -> int:
    """File descriptors a run needs: one socket per request in flight, plus headroom."""
    return cap + 256


def raise_open_file_limit(needed: int) -> tuple[int, int]:
    """Raise the soft RLIMIT_NOFILE to ``needed`` where the hard limit allows; else explain.

    Returns the (old, new) soft limit. A hard limit below ``needed`` raises ConfigError
    with the command that fixes it.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft, soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise ConfigError(
            f"open-file limit: this run needs about {needed} file descriptors (one socket per "
            f"request in flight) but the limit is {soft} (hard {hard}); raise it "
            f"(e.g. `ulimit -n {needed}` as root) or run fewer users / set --max-in-flight"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    log.warning("raised the open-file soft limit", extra={"from": soft, "to": needed})
    return soft, needed
