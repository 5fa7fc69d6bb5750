"""Request counters of the mock: by route and status, in flight, per second, latency buckets.

Cheap on the hot path (a few dict increments per request); rendered on demand as the
``GET /_mock/stats`` JSON and the ``GET /_mock/metrics`` Prometheus text::

    stats = Stats(clock=time.monotonic)
    started = stats.begin()
    stats.end("generateContent", 200, started)
    stats.snapshot()["requests"]   # {"generateContent": {"200": 1}}
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from typing import Any

BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
MAX_TIMELINE_S = 86_400  # keep one day of per-second rows


class Stats:
    """Counters since the start or the last ``reset()``; one event loop owns them."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.reset()

    def reset(self) -> None:
        """Forget the counts and restart the timeline clock; requests in flight stay counted."""
        self.started_s = self._clock()
        self.counts: dict[tuple[str, str], int] = {}
        self.in_flight: int = getattr(self, "in_flight", 0)
        self.peak_in_flight = self.in_flight
        self.timeline: dict[int, dict[str, int]] = {}
        self.buckets: dict[str, list[int]] = {}
        self.latency_sum_s: dict[str, float] = {}

    def begin(self) -> float:
        """Count a request in flight; returns its start time for ``end``."""
        self.in_flight += 1
        if self.in_flight > self.peak_in_flight:
            self.peak_in_flight = self.in_flight
        return self._clock()

    def end(self, route: str, status: int | str, started_s: float) -> None:
        """Record a finished request: its route, HTTP status (or "reset"/"cut"/"cancelled")."""
        now = self._clock()
        self.in_flight -= 1
        key = (route, str(status))
        self.counts[key] = self.counts.get(key, 0) + 1
        second = int(now - self.started_s)
        row = self.timeline.get(second)
        if row is None:
            row = self.timeline[second] = {}
            if len(self.timeline) > MAX_TIMELINE_S:
                del self.timeline[min(self.timeline)]
        row[key[1]] = row.get(key[1], 0) + 1
        counts = self.buckets.get(route)
        if counts is None:
            counts = self.buckets[route] = [0] * (len(BUCKETS_S) + 1)
            self.latency_sum_s[route] = 0.0
        elapsed_s = max(0.0, now - started_s)
        counts[bisect.bisect_left(BUCKETS_S, elapsed_s)] += 1
        self.latency_sum_s[route] += elapsed_s

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe view for ``GET /_mock/stats``."""
        requests: dict[str, dict[str, int]] = {}
        for (route, status), n in sorted(self.counts.items()):
            requests.setdefault(route, {})[status] = n
        by_status: dict[str, int] = {}
        for (_, status), n in self.counts.items():
            by_status[status] = by_status.get(status, 0) + n
        return {
            "uptime_s": round(self._clock() - self.started_s, 3),
            "total": sum(self.counts.values()),
            "requests": requests,
            "by_status": dict(sorted(by_status.items())),
            "in_flight": self.in_flight,
            "peak_in_flight": self.peak_in_flight,
            "timeline": [
                {"t_s": t, "requests": sum(row.values()), "by_status": dict(sorted(row.items()))}
                for t, row in sorted(self.timeline.items())
            ],
        }

    def prometheus(self, prefix: str = "mock_gemini") -> str:
        """The counters in Prometheus text exposition format (version 0.0.4)."""
        lines = [
            f"# HELP {prefix}_requests_total Requests answered, by route and status.",
            f"# TYPE {prefix}_requests_total counter",
        ]
        for (route, status), n in sorted(self.counts.items()):
            lines.append(f'{prefix}_requests_total{{route="{route}",status="{status}"}} {n}')
        lines += [
            f"# HELP {prefix}_in_flight Requests being served now.",
            f"# TYPE {prefix}_in_flight gauge",
            f"{prefix}_in_flight {self.in_flight}",
            f"# HELP {prefix}_in_flight_peak Most requests served at once since reset.",
            f"# TYPE {prefix}_in_flight_peak gauge",
            f"{prefix}_in_flight_peak {self.peak_in_flight}",
        ]
        lines += self._histogram_lines(f"{prefix}_request_duration_seconds")
        return "\n".join(lines) + "\n"

    def _histogram_lines(self, name: str) -> list[str]:
        lines = [
            f"# HELP {name} Time from request to the end of the answer.",
            f"# TYPE {name} histogram",
        ]
        for route, counts in sorted(self.buckets.items()):
            cumulative = 0
            for bound, n in zip((*BUCKETS_S, None), counts, strict=True):
                cumulative += n
                le = "+Inf" if bound is None else repr(bound)
                lines.append(f'{name}_bucket{{route="{route}",le="{le}"}} {cumulative}')
            lines.append(f'{name}_sum{{route="{route}"}} {self.latency_sum_s[route]:.6f}')
            lines.append(f'{name}_count{{route="{route}"}} {cumulative}')
        return lines
