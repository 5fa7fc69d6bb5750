"""The physical limit of a closed-loop run: a true lower bound on its makespan, or none.

When the upstream tells each answer's service time (``mock_gemini`` sends
``X-Mock-Service-Time``; records carry it as ``service_s``), the bound is computed from
those times, whatever their distribution. With ``C`` the number of answers that can be in
service at once (the design's cap, or the upstream's own ``max_concurrency`` when lower)::

    bound = max(longest user chain  max_u Σ s_i,        # a user's requests are sequential
                total work over C   Σ s_i / C,
                waves               max_k (k+1) · s_(k·C+1))   # s sorted, largest first

Each term is a lower bound on any schedule (the third by pigeonhole: the k·C+1 longest
answers need k+1 rounds on some slot), so their maximum is one too; with equal times it
is the classic ``ceil(N/C)·S``. Only real answers (outcome ``ok``) count: time spent on
failures only makes the makespan longer, so the bound stays below it.

Without service times the bound is an **estimate**, ``ceil(N/C)·S`` with S from the
mock's configured mean or the measured median latency, labelled ``"estimate"``. Sources:
Graham (1969), "Bounds on multiprocessing timing anomalies" (the work and pigeonhole
bounds of P||Cmax); docs/ARCHITECTURE "The physical limit".

    times = ServiceTimes(); times.add(user=0, service_s=1.0) ...
    bound = times.bound(cap=20, upstream_cap=4)      # Bound(bound_s=5.0, kind='exact', ...)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from harness.errors import ConfigError

BoundKind = Literal["exact", "estimate"]


@dataclass(frozen=True)
class Bound:
    """A lower bound on a run's makespan (seconds), how it was known and what binds it."""

    bound_s: float | None
    kind: BoundKind | None = None
    limit: str | None = None  # e.g. "one user's chain", "cap 20", "upstream max_concurrency 4"

    def fields(self) -> dict[str, Any]:
        """The summary keys ``bound_s``, ``bound_kind``, ``bound_limit``."""
        return {"bound_s": self.bound_s, "bound_kind": self.kind, "bound_limit": self.limit}


NO_BOUND = Bound(None)


@dataclass
class ServiceTimes:
    """The service times of a run's real answers, per user (``keep_all``: every time too).

    Without ``keep_all`` (bounded memory, ``--no-raw-records``) the waves term is left
    out: the bound is still a lower bound, a little looser when times are equal.
    """

    keep_all: bool = True
    per_user_s: dict[int, float] = field(default_factory=dict)
    times_s: list[float] = field(default_factory=list)
    total_s: float = 0.0
    count: int = 0
    missing: int = 0  # real answers that came without a service time

    def add(self, user: int, service_s: float | None) -> None:
        """Count one real answer of ``user``; ``None`` when the upstream did not say."""
        if service_s is None:
            self.missing += 1
            return
        self.per_user_s[user] = self.per_user_s.get(user, 0.0) + service_s
        self.total_s += service_s
        self.count += 1
        if self.keep_all:
            self.times_s.append(service_s)

    def bound(self, cap: int, upstream_cap: int | None = None) -> Bound:
        """The exact bound when every real answer told its time; else :data:`NO_BOUND`."""
        if self.count == 0 or self.missing:
            return NO_BOUND
        slots, limit = effective_cap(cap, upstream_cap)
        terms = [
            (max(self.per_user_s.values()), "one user's chain"),
            (self.total_s / slots, limit),
        ]
        if self.times_s:
            terms.append((_waves_s(self.times_s, slots), f"waves of {slots} ({limit})"))
        bound_s, binds = max(terms, key=lambda term: term[0])
        return Bound(bound_s, "exact", binds)


def effective_cap(cap: int, upstream_cap: int | None) -> tuple[int, str]:
    """How many answers can be in service at once, and what sets that number."""
    if upstream_cap is not None and upstream_cap < cap:
        return upstream_cap, f"upstream max_concurrency {upstream_cap}"
    return cap, f"cap {cap}"


def _waves_s(times_s: list[float], slots: int) -> float:
    ordered = sorted(times_s, reverse=True)
    return max((k + 1) * ordered[k * slots] for k in range(math.ceil(len(ordered) / slots)))


def bound_s(total_requests: int, concurrency_cap: int, service_time_s: float) -> float:
    """The fastest possible makespan: ``ceil(N / C) · S``.

    >>> bound_s(20, 3, 1.0)
    7.0
    """
    if concurrency_cap < 1:
        raise ConfigError(f"concurrency_cap {concurrency_cap!r}: must be >= 1")
    if total_requests < 0:
        raise ConfigError(f"total_requests {total_requests!r}: must be >= 0")
    if service_time_s < 0:
        raise ConfigError(f"service_time_s {service_time_s!r}: must be >= 0")
    return math.ceil(total_requests / concurrency_cap) * service_time_s


def estimated_bound(
    requests: int, cap: int, service_time_s: float | None, upstream_cap: int | None = None
) -> Bound:
    """``ceil(N / C) · S``, labelled an estimate (S is a typical service time, not each one)."""
    if service_time_s is None or requests <= 0:
        return NO_BOUND
    slots, limit = effective_cap(cap, upstream_cap)
    return Bound(bound_s(requests, slots, service_time_s), "estimate", limit)
