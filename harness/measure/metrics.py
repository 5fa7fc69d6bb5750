"""Summaries of RequestRecords: percentiles, the physical bound, timelines, speed-ups.

Pure functions from records (and counts the driver kept) to the plain dicts of
docs/results-format.md; numpy does the arithmetic so 100,000 records take
milliseconds::

    summary = summarize(records, concurrency_cap=20, service_time_s=1.0, submitted=20)
    summary["efficiency"]        # bound_s / makespan_s
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from harness.measure.bound import NO_BOUND, Bound, ServiceTimes, estimated_bound
from harness.measure.events import EventTimes

if TYPE_CHECKING:  # records are only read; importing generators at run time is not needed
    from harness.measure.record import RequestRecord

FloatArray = npt.NDArray[np.float64]

_QUANTILES = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0))
_OUTCOMES = ("ok", "fallback", "failed")
_MAX_LISTED_IDS = 10
LATE_THRESHOLD_S = 0.010  # a request that left this much after its intended start is "late"
LATE_WARN_FRACTION = 0.01  # warn when more than this fraction of requests left late


@dataclass(frozen=True)
class TokenTiming:
    """Per-request streaming figures (None when the stream does not define them)."""

    ttft_s: float | None
    itl_s: float | None
    tpot_s: float | None
    output_tps: float | None


NO_TOKEN_TIMING = TokenTiming(None, None, None, None)


def token_timing(start_s: float, end_s: float, marks: Sequence[tuple[float, int]]) -> TokenTiming:
    """TTFT, ITL, TPOT and output tokens/s of one stream from its (time, cumulative tokens).

    - ``ttft_s``: first chunk that carries a token, minus ``start_s``;
    - ``itl_s``: mean gap between tokens, each chunk's gap spread over the tokens it
      carries: (time of the last token-carrying chunk - first) / (tokens after the first chunk);
    - ``tpot_s``: (``end_s`` - first token) / (output tokens - 1), i.e. per token after the first;
    - ``output_tps``: output tokens / (``end_s`` - ``start_s``).

    >>> token_timing(0.0, 1.0, [(0.25, 1), (0.5, 5), (0.75, 9), (0.875, 9)])
    TokenTiming(ttft_s=0.25, itl_s=0.0625, tpot_s=0.09375, output_tps=9.0)
    """
    first = next((i for i, (_, tokens) in enumerate(marks) if tokens > 0), None)
    if first is None:
        return NO_TOKEN_TIMING
    first_s, first_tokens = marks[first]
    total = max(tokens for _, tokens in marks)
    last_s = next(t for t, tokens in marks if tokens == total)
    elapsed_s = end_s - start_s
    return TokenTiming(
        ttft_s=first_s - start_s,
        itl_s=(last_s - first_s) / (total - first_tokens) if total > first_tokens else None,
        tpot_s=(end_s - first_s) / (total - 1) if total > 1 else None,
        output_tps=total / elapsed_s if elapsed_s > 0 else None,
    )


def percentiles(values: Sequence[float] | FloatArray) -> dict[str, float]:
    """mean, p50, p90, p95, p99 and max, linearly interpolated; ``{}`` when empty.

    >>> percentiles([1.0, 2.0, 3.0, 4.0])["p50"]
    2.5
    """
    data = np.asarray(values, dtype=np.float64)
    if data.size == 0:
        return {}
    points = np.percentile(data, [q for _, q in _QUANTILES], method="linear")
    result = {"mean": float(data.mean())}
    result.update({name: float(p) for (name, _), p in zip(_QUANTILES, points, strict=True)})
    result["max"] = float(data.max())
    return result


def is_fast_fail(record: RequestRecord) -> bool:
    """The breaker refused the request before any upstream attempt."""
    return record.error == "CircuitOpenError" and record.attempts == 0


def check_invariant(records: Sequence[RequestRecord], submitted_ids: Collection[int]) -> list[str]:
    """Problems with "each submitted request id recorded exactly once"; ``[]`` means ok.

    >>> check_invariant([], [0])
    ['1 submitted request id(s) have no record: 0']
    """
    seen = Counter(record.request_id for record in records)
    wanted = set(submitted_ids)
    problems = []
    missing = wanted.difference(seen)
    if missing:
        problems.append(f"{len(missing)} submitted request id(s) have no record: {_ids(missing)}")
    duplicated = [rid for rid, count in seen.items() if count > 1]
    if duplicated:
        problems.append(
            f"{len(duplicated)} request id(s) recorded more than once: {_ids(duplicated)}"
        )
    extra = set(seen).difference(wanted)
    if extra:
        problems.append(f"{len(extra)} recorded request id(s) were never submitted: {_ids(extra)}")
    return problems


def _ids(ids: Collection[int]) -> str:
    shown = sorted(ids)[:_MAX_LISTED_IDS]
    more = ", ..." if len(ids) > _MAX_LISTED_IDS else ""
    return ", ".join(map(str, shown)) + more


def summarize(
    records: Sequence[RequestRecord],
    *,
    concurrency_cap: int,
    service_time_s: float | None,
    submitted: int,
    upstream_attempts: int | None = None,
    makespan_s: float | None = None,
    submitted_ids: Collection[int] | None = None,
    late_threshold_s: float = LATE_THRESHOLD_S,
    upstream_cap: int | None = None,
    open_loop: bool = False,
) -> dict[str, Any]:
    """The ``summary`` object of a run, without cpu_s / peak_rss_bytes / peak_threads.

    ``submitted_ids`` defaults to ``range(submitted)`` (the Workload's ids).
    ``late_threshold_s`` is the schedule lag past which a request counts as late.
    ``upstream_cap`` is the upstream's own concurrency limit when known (the mock's
    ``max_concurrency``); an open-loop run has no makespan bound (:mod:`harness.measure.bound`).
    """
    starts = np.fromiter((r.start_s for r in records), np.float64, len(records))
    ends = np.fromiter((r.end_s for r in records), np.float64, len(records))
    if makespan_s is None:
        makespan_s = float(ends.max() - starts.min()) if len(records) else 0.0
    if upstream_attempts is None:
        upstream_attempts = sum(r.attempts for r in records)
    ok = [r for r in records if r.outcome == "ok"]
    bound = NO_BOUND if open_loop else run_bound(ok, concurrency_cap, upstream_cap, service_time_s)
    ids = range(submitted) if submitted_ids is None else submitted_ids
    return {
        "makespan_s": makespan_s,
        **bound.fields(),
        "efficiency": ratio(bound.bound_s, makespan_s),
        "throughput_rps": ratio(len(records), makespan_s),
        "goodput_rps": ratio(len(ok), makespan_s),
        "ok_share": ratio(len(ok), submitted),
        "timing_error_s": percentiles(
            # single-attempt answers only: a retried request's latency holds its retry waits
            [r.latency_s - r.service_s for r in ok if r.service_s is not None and r.attempts == 1]
        )
        or None,
        "latency_s": percentiles([r.latency_s for r in records]),
        "ttft_s": percentiles([r.ttft_s for r in records if r.ttft_s is not None]) or None,
        "counts": _counts(records, submitted),
        "upstream_attempts": upstream_attempts,
        "amplification": ratio(upstream_attempts, submitted),
        "invariant_ok": not check_invariant(records, ids),
        **streaming_summary(records, makespan_s),
        **schedule_summary(records, late_threshold_s),
    }


def run_bound(
    ok: Sequence[RequestRecord],
    cap: int,
    upstream_cap: int | None,
    service_time_s: float | None,
) -> Bound:
    """The exact bound from the real answers' service times, else the labelled estimate."""
    times = ServiceTimes()
    for record in ok:
        times.add(record.user, record.service_s)
    bound = times.bound(cap, upstream_cap)
    if bound.bound_s is None and ok:
        return estimated_bound(len(ok), cap, service_time_s, upstream_cap)
    return bound


def _optional(values: Sequence[float | None]) -> dict[str, float] | None:
    return percentiles([v for v in values if v is not None]) or None


def streaming_summary(records: Sequence[RequestRecord], makespan_s: float) -> dict[str, Any]:
    """ITL, TPOT and per-request output tokens/s percentiles; output tokens/s of the run."""
    streamed = [r for r in records if r.ttft_s is not None]
    tokens = sum(r.output_tokens or 0 for r in streamed)
    return {
        "itl_s": _optional([r.itl_s for r in streamed]),
        "tpot_s": _optional([r.tpot_s for r in streamed]),
        "output_tps": _optional([r.output_tps for r in streamed]),
        "output_tokens_per_s": ratio(tokens, makespan_s) if streamed else None,
    }


def schedule_summary(records: Sequence[RequestRecord], late_threshold_s: float) -> dict[str, Any]:
    """Latency from the intended start (coordinated omission corrected) and the schedule lag."""
    intended = np.fromiter((r.intended_start_s for r in records), np.float64, len(records))
    starts = np.fromiter((r.start_s for r in records), np.float64, len(records))
    ends = np.fromiter((r.end_s for r in records), np.float64, len(records))
    return {
        "latency_from_intended_s": percentiles(ends - intended),
        "schedule_lag_s": lag_summary(starts - intended, late_threshold_s),
    }


def lag_summary(lags_s: Sequence[float] | FloatArray, late_threshold_s: float) -> dict[str, Any]:
    """p50/p99/max of how late requests left, and the fraction later than the threshold."""
    lags = np.asarray(lags_s, dtype=np.float64)
    if lags.size == 0:
        return {}
    p50, p99 = np.percentile(lags, [50.0, 99.0])
    return {
        "p50": float(p50),
        "p99": float(p99),
        "max": float(lags.max()),
        "late_threshold_s": late_threshold_s,
        "late_fraction": float(np.count_nonzero(lags > late_threshold_s) / lags.size),
    }


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _counts(records: Sequence[RequestRecord], submitted: int) -> dict[str, int]:
    outcomes: Counter[str] = Counter(r.outcome for r in records)
    counts = {"submitted": submitted, "recorded": len(records)}
    counts.update({outcome: outcomes.get(outcome, 0) for outcome in _OUTCOMES})
    counts["fast_fail"] = sum(1 for r in records if is_fast_fail(r))
    return counts


def timeline(
    records: Sequence[RequestRecord],
    *,
    attempt_times_s: Sequence[float] | EventTimes = (),
    fast_fail_times_s: Sequence[float] | EventTimes | None = None,
    transitions: Sequence[Mapping[str, Any]] = (),
    duration_s: float | None = None,
) -> list[dict[str, Any]]:
    """One row per whole second of the run (see docs/results-format.md).

    Without ``attempt_times_s`` each record counts its ``attempts`` at its
    ``start_s``; without ``fast_fail_times_s`` the fast-failed records count at
    their ``end_s``. ``duration_s`` defaults to the last event's time.
    """
    starts = np.fromiter((r.start_s for r in records), np.float64, len(records))
    ends = np.fromiter((r.end_s for r in records), np.float64, len(records))
    if duration_s is None:
        duration_s = float(ends.max()) if len(records) else 0.0
    seconds = max(1, math.ceil(duration_s)) if len(records) or duration_s > 0 else 0
    if seconds == 0:
        return []
    columns = _event_columns(records, starts, ends, seconds, attempt_times_s, fast_fail_times_s)
    columns["in_flight"] = _in_flight(starts, ends, seconds)
    states = breaker_states(transitions, seconds)
    names = ("offered", "attempts", "ok", "fast_fail", "fallback", "failed", "in_flight")
    return [
        {"second": s, **{name: int(columns[name][s]) for name in names}, "breaker_state": states[s]}
        for s in range(seconds)
    ]


def per_second(
    times_s: Sequence[float] | FloatArray | EventTimes, seconds: int, weights: Any = None
) -> Any:
    """Counts per whole second; times past the end land in the last row."""
    if isinstance(times_s, EventTimes):  # counted per second already (weights: none)
        counts = np.zeros(max(seconds, 1), dtype=np.int64)
        for second, n in times_s.per_second().items():
            counts[min(second, seconds - 1)] += n
        return counts[:seconds]
    index = np.clip(np.floor(np.asarray(times_s, dtype=np.float64)), 0, seconds - 1)
    return np.bincount(index.astype(np.int64), weights=weights, minlength=seconds)


def _event_columns(
    records: Sequence[RequestRecord],
    starts: FloatArray,
    ends: FloatArray,
    seconds: int,
    attempt_times_s: Sequence[float] | EventTimes,
    fast_fail_times_s: Sequence[float] | EventTimes | None,
) -> dict[str, Any]:
    outcomes = np.array([r.outcome for r in records], dtype=object)
    columns = {"offered": per_second(starts, seconds)}
    if len(attempt_times_s):
        columns["attempts"] = per_second(attempt_times_s, seconds)
    else:
        tries = np.fromiter((r.attempts for r in records), np.float64, len(records))
        columns["attempts"] = per_second(starts, seconds, weights=tries)
    for outcome in _OUTCOMES:
        columns[outcome] = per_second(ends[outcomes == outcome], seconds)
    if fast_fail_times_s is None:
        fast = np.array([is_fast_fail(r) for r in records], dtype=bool)
        fast_fail_times_s = ends[fast] if len(records) else []
    columns["fast_fail"] = per_second(fast_fail_times_s, seconds)
    return columns


def _in_flight(starts: FloatArray, ends: FloatArray, seconds: int) -> Any:
    """Requests with start <= t < end at each second's end t."""
    edges = np.arange(1, seconds + 1, dtype=np.float64)
    started = np.searchsorted(np.sort(starts), edges, side="right")
    ended = np.searchsorted(np.sort(ends), edges, side="right")
    return started - ended


def breaker_states(transitions: Sequence[Mapping[str, Any]], seconds: int) -> list[str]:
    """The state at each second's end; ``closed`` before the first transition."""
    ordered = sorted(transitions, key=lambda t: float(t["time_s"]))
    states, state, position = [], "closed", 0
    for second in range(seconds):
        while position < len(ordered) and float(ordered[position]["time_s"]) <= second + 1:
            state = str(ordered[position]["to"])
            position += 1
        states.append(state)
    return states
