"""What every generator shares: the workload, the one record, the protocol, the registry.

A generator turns a :class:`Workload` into exactly one :class:`RequestRecord`
per request.  ``run`` is synchronous for every design (the async design runs its
own event loop inside), so ``compare`` drives them all the same way::

    gen = REGISTRY["async"](target, options)
    records = gen.run(workload, RunContext(clock, policy, on_record=print))
    gen.close()
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from harness.gemini.prompt import PromptRequest
from harness.generators.load import OpenLoad
from harness.measure.record import RequestRecord
from harness.recipes import RecipeRequest

if TYPE_CHECKING:
    from harness.resilience.policy import ResiliencePolicy


@dataclass(slots=True)
class PlannedRequest:
    """One unit of work: which user sends it, in which order, with what content."""

    request_id: int
    user: int
    sequence: int
    recipe_request: RecipeRequest | PromptRequest


@dataclass(frozen=True)
class Workload:
    """Closed-loop load: ``users`` users each send ``requests_per_user`` requests in turn."""

    users: int
    requests_per_user: int = 1
    recipe_requests: Sequence[RecipeRequest | PromptRequest] = ()

    @property
    def total(self) -> int:
        return self.users * self.requests_per_user

    def by_user(self) -> list[list[PlannedRequest]]:
        """The requests of each user, in the order that user sends them."""
        return [
            [self._planned(user, seq) for seq in range(self.requests_per_user)]
            for user in range(self.users)
        ]

    def __iter__(self) -> Iterator[PlannedRequest]:
        for user_requests in self.by_user():
            yield from user_requests

    def _planned(self, user: int, seq: int) -> PlannedRequest:
        request_id = user * self.requests_per_user + seq
        pool = self.recipe_requests or (RecipeRequest.example(request_id),)
        return PlannedRequest(request_id, user, seq, pool[request_id % len(pool)])


RecordCallback = Callable[[RequestRecord], None]


@dataclass
class RunContext:
    """What one run shares between its requests: the clock, the policy, the observers.

    ``clock`` returns seconds since the run's start; the policy was built on the same clock,
    so its breaker transitions and attempt times line up with the records.
    """

    clock: Callable[[], float]
    policy: ResiliencePolicy
    on_record: RecordCallback | None = None
    in_flight: InFlight = dataclasses.field(default_factory=lambda: InFlight())
    # False (``--no-raw-records``): drivers hand records to ``on_record`` and keep none,
    # so a million-request run holds histograms, not a million records.
    keep_records: bool = True
    # Set when the run is interrupted: requests not yet started end at once as
    # "Interrupted" records instead of being sent (harness.run.interrupts).
    stop: threading.Event = dataclasses.field(default_factory=threading.Event)


Started = tuple["PlannedRequest", float, float]  # (request, intended start, start): clock s


class InFlight:
    """A thread-safe count of requests in flight, with its peak, and which they are.

    ``open`` maps each request id in flight to its :data:`Started` entry, so an
    interrupted run can still give every request it sent one record.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0
        self.open: dict[int, Started] = {}

    def enter(self, started: Started | None = None) -> int:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
            if started is not None:
                self.open[started[0].request_id] = started
            return self.now

    def leave(self, request_id: int | None = None) -> int:
        with self._lock:
            self.now -= 1
            if request_id is not None:
                self.open.pop(request_id, None)
            return self.now

    def snapshot(self) -> list[Started]:
        """The requests in flight right now."""
        with self._lock:
            return list(self.open.values())


Load = Workload | OpenLoad  # closed-loop users, or open-loop arrivals (harness.generators.load)


class Generator(Protocol):
    """One concurrency design. ``run`` returns one record per planned request
    (none when ``ctx.keep_records`` is false: ``ctx.on_record`` still sees each one).

    A design may also have ``warm_up()``: set-up (threads, sessions) that ``run_mode``
    calls before the run's clock starts."""

    mode: str
    concurrency_cap: int

    def run(self, workload: Load, ctx: RunContext) -> list[RequestRecord]: ...

    def close(self) -> None: ...
