"""Bounded-memory percentiles: HDR histograms (1 µs .. 1 h, 3 significant digits).

For long runs (``--no-raw-records``) records are folded into histograms as they end,
so a million requests cost a few hundred kilobytes instead of a million records::

    hist = Histogram()
    for latency_s in latencies:
        hist.record(latency_s)
    hist.percentiles()      # {"mean": …, "p50": …, "p90": …, "p95": …, "p99": …, "max": …}

Values are buffered and folded in batches with numpy: each batch is rounded to its
HDR bucket first (the same bucket the value itself would land in), so the pure-Python
``hdrh`` package only sees a few hundred distinct values per batch. Percentiles are
the middle of the bucket (error ≤ 0.05 % of the value); mean and max are exact.
"""

from __future__ import annotations

import math
import threading
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from hdrh.histogram import HdrHistogram

from harness.measure import metrics
from harness.measure.bound import NO_BOUND, Bound, ServiceTimes, estimated_bound
from harness.measure.events import EventTimes

if TYPE_CHECKING:
    from harness.measure.record import RequestRecord

LOWEST_US = 1
HIGHEST_US = 3_600 * 1_000_000  # one hour
SIGNIFICANT_DIGITS = 3
_SUB_BUCKET_BITS = 11  # 3 significant digits: 2048 sub-buckets, 11 bits of precision
_QUANTILES = (("p50", 50.0), ("p90", 90.0), ("p95", 95.0), ("p99", 99.0))
_OUTCOMES = ("ok", "fallback", "failed")


def bucket_floor_us(values_us: Any) -> Any:
    """The lowest value of each value's HDR bucket (keeps its top 11 bits).

    >>> bucket_floor_us(np.array([5, 2047, 4097, 1_000_001])).tolist()
    [5, 2047, 4096, 1000000]
    """
    values = np.asarray(values_us, dtype=np.int64)
    _, exponent = np.frexp(values.astype(np.float64))  # exponent == bit_length for ints
    shift = np.maximum(exponent - _SUB_BUCKET_BITS, 0)
    return (values >> shift) << shift


class Histogram:
    """Seconds in, HDR inside; ``flush_every`` values are buffered before folding."""

    def __init__(self, flush_every: int = 8192):
        self._hdr = HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)
        self._flush_every = flush_every
        self._buffer = array("d")
        self._sum_s = 0.0
        self._min_s = float("inf")
        self._max_s = float("-inf")

    def record(self, seconds: float) -> None:
        self._buffer.append(seconds)
        if len(self._buffer) >= self._flush_every:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        values_s = np.frombuffer(self._buffer, dtype=np.float64)
        self._sum_s += float(values_s.sum())
        self._min_s = min(self._min_s, float(values_s.min()))
        self._max_s = max(self._max_s, float(values_s.max()))
        values_us = np.clip(np.rint(values_s * 1e6), LOWEST_US, HIGHEST_US).astype(np.int64)
        buckets, counts = np.unique(bucket_floor_us(values_us), return_counts=True)
        for value, count in zip(buckets.tolist(), counts.tolist(), strict=True):
            self._hdr.record_value(value, count)
        self._buffer = array("d")

    @property
    def count(self) -> int:
        return int(self._hdr.get_total_count()) + len(self._buffer)

    def value_at_s(self, percentile: float) -> float:
        """The middle of the bucket holding ``percentile`` (0..100), in seconds.

        Clamped to the observed [min, max]: a bucket's middle may lie past the largest
        (or below the smallest) value recorded, and a percentile never does.
        """
        self._flush()
        value = self._hdr.get_value_at_percentile(percentile)
        low = self._hdr.get_lowest_equivalent_value(value)
        high = self._hdr.get_highest_equivalent_value(value)
        return min(max((low + high) / 2 / 1e6, self._min_s), self._max_s)

    def percentiles(self) -> dict[str, float]:
        """The keys of :func:`harness.measure.metrics.percentiles`; ``{}`` when empty."""
        self._flush()
        count = self.count
        if count == 0:
            return {}
        result = {"mean": self._sum_s / count}
        result.update({name: self.value_at_s(q) for name, q in _QUANTILES})
        result["max"] = self._max_s
        return result

    def encode(self) -> str:
        """The compressed, base64 HDR form (mergeable with other HDR tools)."""
        self._flush()
        encoded: bytes = self._hdr.encode()
        return encoded.decode("ascii")


class RecordFold:
    """Folds records into histograms and counters as they end (thread-safe, bounded memory).

    Use it as the run's ``on_record`` with ``keep_records=False``; then :meth:`summary`
    and :meth:`timeline` give what :func:`harness.measure.metrics.summarize` and
    :func:`harness.measure.metrics.timeline` give from a list of records::

        fold = RecordFold(late_threshold_s=0.01)
        ... run with RunContext(clock, policy, on_record=fold, keep_records=False) ...
        fold.summary(concurrency_cap=100, service_time_s=1.0, submitted=n, makespan_s=t)
    """

    NAMES = ("latency_s", "latency_from_intended_s", "schedule_lag_s",
             "ttft_s", "itl_s", "tpot_s", "output_tps", "timing_error_s")  # fmt: skip

    def __init__(self, late_threshold_s: float = 0.010):
        self.late_threshold_s = late_threshold_s
        self.hist = {name: Histogram() for name in self.NAMES}
        self._lock = threading.Lock()
        self._seen = bytearray()  # one byte per request id: how often it was recorded
        self._outcomes: Counter[str] = Counter()
        self._fast_fail = self._attempts = self._late = self._tokens = 0
        self._per_second: dict[int, list[int]] = {}  # second -> [offered, ok, fallback, failed]
        self._service = ServiceTimes(keep_all=False)  # per-user sums: bounded by users

    def __call__(self, record: RequestRecord) -> None:
        with self._lock:
            self._fold(record)

    def _fold(self, r: RequestRecord) -> None:
        hist = self.hist
        hist["latency_s"].record(r.latency_s)
        hist["latency_from_intended_s"].record(r.end_s - r.intended_start_s)
        lag_s = r.start_s - r.intended_start_s
        hist["schedule_lag_s"].record(max(lag_s, 0.0))
        self._late += lag_s > self.late_threshold_s
        for name in ("ttft_s", "itl_s", "tpot_s", "output_tps"):
            value = getattr(r, name)
            if value is not None:
                hist[name].record(value)
        if r.ttft_s is not None:
            self._tokens += r.output_tokens or 0
        self._outcomes[r.outcome] += 1
        if r.outcome == "ok":
            self._service.add(r.user, r.service_s)
            if r.service_s is not None and r.attempts == 1:  # retry waits are not timing error
                hist["timing_error_s"].record(max(r.latency_s - r.service_s, 0.0))
        self._fast_fail += r.error == "CircuitOpenError" and r.attempts == 0
        self._attempts += r.attempts
        self._count_id(r.request_id)
        self._bin(r.start_s)[0] += 1
        self._bin(r.end_s)[1 + _OUTCOMES.index(r.outcome)] += 1

    def _count_id(self, request_id: int) -> None:
        if request_id >= len(self._seen):
            self._seen.extend(bytes(max(request_id + 1 - len(self._seen), len(self._seen))))
        self._seen[request_id] = min(self._seen[request_id] + 1, 255)

    def _bin(self, time_s: float) -> list[int]:
        return self._per_second.setdefault(max(0, int(time_s)), [0, 0, 0, 0])

    def ids(self) -> list[int]:
        """Every request id folded at least once."""
        seen = np.frombuffer(bytes(self._seen), dtype=np.uint8)
        return [int(i) for i in np.flatnonzero(seen)]

    def duplicated(self) -> int:
        """How many request ids were folded more than once (0 when the invariant holds)."""
        return int(np.count_nonzero(np.frombuffer(bytes(self._seen), dtype=np.uint8) > 1))

    @property
    def recorded(self) -> int:
        return sum(self._outcomes.values())

    def invariant_problems(self, submitted: int) -> list[str]:
        """Like :func:`harness.measure.metrics.check_invariant` for ids ``range(submitted)``."""
        seen = np.frombuffer(bytes(self._seen), dtype=np.uint8)
        wanted = np.zeros(max(submitted, seen.size), dtype=np.uint8)
        wanted[: seen.size] = seen
        problems = []
        missing = int(np.count_nonzero(wanted[:submitted] == 0))
        if missing:
            problems.append(f"{missing} submitted request id(s) have no record")
        duplicated = int(np.count_nonzero(wanted > 1))
        if duplicated:
            problems.append(f"{duplicated} request id(s) recorded more than once")
        extra = int(np.count_nonzero(wanted[submitted:]))
        if extra:
            problems.append(f"{extra} recorded request id(s) were never submitted")
        return problems

    def summary(
        self,
        *,
        concurrency_cap: int,
        service_time_s: float | None,
        submitted: int,
        makespan_s: float,
        upstream_attempts: int | None = None,
        upstream_cap: int | None = None,
        open_loop: bool = False,
    ) -> dict[str, Any]:
        """The keys of :func:`harness.measure.metrics.summarize`, from the histograms.

        The bound leaves out the waves term (it needs every service time): still a lower
        bound, a little looser when all times are equal (:mod:`harness.measure.bound`).
        """
        with self._lock:
            summary = self._summary(
                concurrency_cap, service_time_s, submitted, makespan_s, upstream_attempts
            )
            ok = self._outcomes.get("ok", 0)
            bound = self._bound(concurrency_cap, upstream_cap, service_time_s, ok, open_loop)
            summary.update(bound.fields())
            summary["efficiency"] = metrics.ratio(bound.bound_s, makespan_s)
            summary["goodput_rps"] = metrics.ratio(ok, makespan_s)
            summary["ok_share"] = metrics.ratio(ok, submitted)
            return summary

    def _bound(
        self,
        cap: int,
        upstream_cap: int | None,
        service_time_s: float | None,
        ok: int,
        open_loop: bool,
    ) -> Bound:
        if open_loop:
            return NO_BOUND
        bound = self._service.bound(cap, upstream_cap)
        if bound.bound_s is None and ok:
            return estimated_bound(ok, cap, service_time_s, upstream_cap)
        return bound

    def _summary(
        self,
        cap: int,
        service_time_s: float | None,
        submitted: int,
        makespan_s: float,
        upstream_attempts: int | None,
    ) -> dict[str, Any]:
        attempts = self._attempts if upstream_attempts is None else upstream_attempts
        hist = {name: h.percentiles() or None for name, h in self.hist.items()}
        streamed = hist["ttft_s"] is not None
        counts = {"submitted": submitted, "recorded": self.recorded}
        counts.update({o: self._outcomes.get(o, 0) for o in _OUTCOMES})
        counts["fast_fail"] = self._fast_fail
        return {
            "makespan_s": makespan_s,
            "throughput_rps": metrics.ratio(self.recorded, makespan_s),
            "latency_s": hist["latency_s"] or {},
            "ttft_s": hist["ttft_s"],
            "counts": counts,
            "upstream_attempts": attempts,
            "amplification": metrics.ratio(attempts, submitted),
            "invariant_ok": not self.invariant_problems(submitted),
            "itl_s": hist["itl_s"],
            "tpot_s": hist["tpot_s"],
            "output_tps": hist["output_tps"],
            "output_tokens_per_s": metrics.ratio(self._tokens, makespan_s) if streamed else None,
            "latency_from_intended_s": hist["latency_from_intended_s"] or {},
            "schedule_lag_s": self._lag(),
            "timing_error_s": hist["timing_error_s"],
            "percentiles_from": "hdr",
        }

    def _lag(self) -> dict[str, Any]:
        lag = self.hist["schedule_lag_s"]
        if lag.count == 0:
            return {}
        values = lag.percentiles()
        return {
            "p50": values["p50"],
            "p99": values["p99"],
            "max": values["max"],
            "late_threshold_s": self.late_threshold_s,
            "late_fraction": self._late / lag.count,
        }

    def timeline(
        self,
        *,
        attempt_times_s: Sequence[float] | EventTimes,
        fast_fail_times_s: Sequence[float] | EventTimes,
        transitions: Sequence[Mapping[str, Any]],
        duration_s: float,
    ) -> list[dict[str, Any]]:
        """The rows of :func:`harness.measure.metrics.timeline`, from per-second counters."""
        with self._lock:
            last = max(self._per_second, default=-1)
            seconds = max(last + 1, math.ceil(duration_s), 1 if self._per_second else 0)
            rows = np.zeros((seconds, 4), dtype=np.int64)
            for second, counts in self._per_second.items():
                rows[second] = counts
        if seconds == 0:
            return []
        attempts = metrics.per_second(attempt_times_s, seconds)
        fast = metrics.per_second(fast_fail_times_s, seconds)
        in_flight = np.cumsum(rows[:, 0]) - np.cumsum(rows[:, 1:].sum(axis=1))
        states = metrics.breaker_states(transitions, seconds)
        return [
            {"second": s, "offered": int(rows[s, 0]), "attempts": int(attempts[s]),
             "ok": int(rows[s, 1]), "fast_fail": int(fast[s]), "fallback": int(rows[s, 2]),
             "failed": int(rows[s, 3]), "in_flight": int(in_flight[s]), "breaker_state": states[s]}
            for s in range(seconds)
        ]  # fmt: skip
