"""What every mode shares: the policy and clock, request ids, the counters, the answer shape.

Modes only differ in how they wait; each generation goes through :class:`ServiceCore`::

    core = ServiceCore(settings)
    core.open()                              # at startup: clock and policy
    planned = core.plan(recipe_request)      # a PlannedRequest with a fresh id
    started_s = core.clock()
    core.enter()                             # admitted: counted in flight
    generation = core.finish(planned, result, started_s)   # leaves, counts, times it
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from harness.generators.base import InFlight, PlannedRequest, RunContext
from harness.generators.common import Answered
from harness.measure.record import Outcome
from harness.recipes import Recipe, RecipeRequest
from harness.resilience.policy import CallResult, ResiliencePolicy
from harness.service.settings import ServiceSettings

log = logging.getLogger("harness.service")

_STATUS = {"ok": "success", "fallback": "fallback", "failed": "failed"}


@dataclass(frozen=True)
class Generation:
    """How one recipe request ended, as the API reports it."""

    request_id: int
    ingredients: int
    recipes: tuple[Recipe, ...]
    outcome: Outcome
    attempts: int
    error: str | None
    upstream_status: int | None
    latency_s: float

    def to_json(self) -> dict[str, Any]:
        """``{"recipes": [...], "status": "success", "outcome": "ok", "attempts": 1}``."""
        body: dict[str, Any] = {
            "recipes": [recipe.to_json() for recipe in self.recipes],
            "status": _STATUS[self.outcome],
            "outcome": self.outcome,
            "attempts": self.attempts,
        }
        if self.outcome != "ok":
            body["error"] = self.error
        return body

    def failure_detail(self) -> dict[str, Any]:
        """The 502 detail of a failed generation: class names and counts, never upstream text."""
        where = f" (HTTP {self.upstream_status})" if self.upstream_status else ""
        return {
            "message": f"recipe generation failed: {self.error or 'unknown error'}{where}",
            "outcome": self.outcome,
            "error": self.error,
            "attempts": self.attempts,
        }

    def log_fields(self, mode: str) -> dict[str, Any]:
        """The structured log record of this generation (counts, never the key or the text)."""
        return {
            "mode": mode,
            "request_id": self.request_id,
            "ingredients_count": self.ingredients,
            "outcome": self.outcome,
            "recipe_count": len(self.recipes),
            "attempts": self.attempts,
            "error": self.error,
            "latency_s": round(self.latency_s, 6),
        }


def log_generation(fields: dict[str, Any]) -> None:
    """A background task: one INFO record ``recipe generation`` with ``fields`` as extras."""
    log.info("recipe generation", extra=fields)


class ServiceStats:
    """Thread-safe counters of one process: requests served and generations by outcome."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.outcomes: Counter[str] = Counter({"ok": 0, "fallback": 0, "failed": 0})
        self.requests_served = 0

    def count(self, outcome: str) -> None:
        with self._lock:
            self.outcomes[outcome] += 1

    def served(self) -> None:
        with self._lock:
            self.requests_served += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"outcomes": dict(self.outcomes), "requests_served": self.requests_served}


class ServiceCore:
    """The process-wide state every mode shares; :meth:`open` creates it at startup."""

    def __init__(self, settings: ServiceSettings) -> None:
        self.settings = settings
        self.stats = ServiceStats()
        self._ids = itertools.count()
        self._ids_lock = threading.Lock()
        self._ctx: RunContext | None = None
        self._started_at = 0.0

    def open(self) -> None:
        """Start the clock and build the one policy (one breaker for the whole process)."""
        self._started_at = time.monotonic()
        # A service runs for days: per-second counts of attempts, not every attempt's time.
        policy = ResiliencePolicy(self.settings.resilience, clock=self.clock, exact_times=False)
        self._ctx = RunContext(self.clock, policy, in_flight=InFlight())

    def clock(self) -> float:
        """Seconds since startup."""
        return time.monotonic() - self._started_at

    @property
    def ctx(self) -> RunContext:
        if self._ctx is None:
            raise RuntimeError("the service has not started: ServiceCore.open() was not called")
        return self._ctx

    def plan(self, req: RecipeRequest) -> PlannedRequest:
        with self._ids_lock:
            request_id = next(self._ids)
        return PlannedRequest(request_id, user=0, sequence=0, recipe_request=req)

    def enter(self) -> None:
        """A generation was admitted (past any semaphore): count it in flight."""
        self.ctx.in_flight.enter()

    def finish(
        self, planned: PlannedRequest, result: CallResult[Answered], started_s: float
    ) -> Generation:
        """An admitted generation ended: leave in flight, count it, describe it."""
        self.ctx.in_flight.leave()
        return self._ended(planned, result, started_s)

    def broken(self, planned: PlannedRequest, exc: BaseException, started_s: float) -> Generation:
        """An admitted generation whose pipeline raised (a bug, not upstream): failed."""
        return self.finish(planned, self._failed(exc), started_s)

    def unstarted(self, req: RecipeRequest, exc: BaseException) -> Generation:
        """A batch item that raised before it was admitted: failed, never in flight."""
        return self._ended(self.plan(req), self._failed(exc), self.clock())

    def _ended(
        self, planned: PlannedRequest, result: CallResult[Answered], started_s: float
    ) -> Generation:
        self.stats.count(result.outcome)
        value = result.value
        return Generation(
            request_id=planned.request_id,
            ingredients=len(getattr(planned.recipe_request, "ingredients", ())),
            recipes=value.answer.recipes if value is not None else (),
            outcome=result.outcome,
            attempts=result.attempts,
            error=result.error,
            upstream_status=result.status,
            latency_s=self.clock() - started_s,
        )

    def _failed(self, exc: BaseException) -> CallResult[Answered]:
        breaker_state = self.ctx.policy.breaker.state
        return CallResult(None, "failed", 0, 0.0, breaker_state, type(exc).__name__, None)

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /stats`` answers."""
        ctx = self.ctx
        return {
            "mode": self.settings.mode,
            "limit": self.settings.limit,
            "in_flight": ctx.in_flight.now,
            "peak_in_flight": ctx.in_flight.peak,
            "breaker_state": ctx.policy.breaker.state,
            "uptime_s": round(self.clock(), 3),
            **self.stats.snapshot(),
        }
