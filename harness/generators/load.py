"""Who sends when: open-loop arrival schedules (closed-loop users live in ``Workload``).

Open loop means requests leave on a schedule fixed in advance, whatever the answers
do; a slow upstream then shows up as late requests, not as fewer requests. The
schedule is pure (seeded, no clock)::

    load = OpenLoad(rate_rps=50, arrival=parse_arrival("poisson"), requests=1000)
    for request_id, intended_s in load.schedule():
        ...                       # send request_id at intended_s (seconds from the run's start)

Arrival kinds: ``constant`` (every 1/R s), ``poisson`` (exponential gaps), and
``gamma:cv=C`` (gamma gaps with mean 1/R and coefficient of variation C: C > 1 is
burstier than Poisson, C < 1 smoother; C = 1 is Poisson).
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from harness.errors import ConfigError
from harness.gemini.prompt import PromptRequest
from harness.recipes import RecipeRequest

ArrivalKind = Literal["constant", "poisson", "gamma"]
_KINDS: tuple[ArrivalKind, ...] = ("constant", "poisson", "gamma")


@dataclass(frozen=True)
class Arrival:
    """The shape of the gaps between arrivals; ``cv`` is only read for ``gamma``."""

    kind: ArrivalKind
    cv: float = 1.0

    def describe(self) -> str:
        return f"gamma:cv={self.cv:g}" if self.kind == "gamma" else self.kind


def parse_arrival(text: str) -> Arrival:
    """``constant`` | ``poisson`` | ``gamma:cv=3``.

    >>> parse_arrival("gamma:cv=3")
    Arrival(kind='gamma', cv=3.0)
    """
    name, _, params = text.strip().partition(":")
    kind = next((k for k in _KINDS if k == name), None)
    if kind is None:
        raise ConfigError(f"--arrival {text!r}: expected constant, poisson or gamma:cv=C")
    if kind != "gamma":
        if params:
            raise ConfigError(f"--arrival {text!r}: {kind} takes no parameters")
        return Arrival(kind)
    key, _, value = params.partition("=")
    try:
        cv = float(value) if key.strip() == "cv" else math.nan
    except ValueError:
        cv = math.nan
    if not (cv > 0 and math.isfinite(cv)):
        raise ConfigError(f"--arrival {text!r}: gamma needs cv=C with C > 0, e.g. gamma:cv=3")
    return Arrival("gamma", cv)


def inter_arrivals_s(arrival: Arrival, rate_rps: float, rng: random.Random) -> Iterator[float]:
    """An endless stream of gaps between arrivals, with mean ``1 / rate_rps``."""
    mean_s = 1.0 / rate_rps
    if arrival.kind == "constant":
        return itertools.repeat(mean_s)
    if arrival.kind == "poisson":
        return (rng.expovariate(rate_rps) for _ in itertools.count())
    shape = 1.0 / arrival.cv**2  # gamma: cv = 1/sqrt(shape), mean = shape * scale
    scale = mean_s / shape
    return (rng.gammavariate(shape, scale) for _ in itertools.count())


def arrival_times_s(
    arrival: Arrival,
    rate_rps: float,
    *,
    requests: int | None = None,
    duration_s: float | None = None,
    seed: int = 0,
) -> Iterator[float]:
    """Absolute arrival times from 0: the first at 0, then cumulative gaps.

    Stops after ``requests`` arrivals or before ``duration_s`` (whichever comes first).
    Constant arrivals are ``i / rate`` exactly, so no rounding drift builds up.

    >>> list(arrival_times_s(Arrival("constant"), 4.0, requests=3))
    [0.0, 0.25, 0.5]
    """
    if requests is None and duration_s is None:
        raise ConfigError("open-loop load needs --requests N or --duration S")
    if arrival.kind == "constant":
        times: Iterator[float] = (i / rate_rps for i in itertools.count())
    else:
        gaps = inter_arrivals_s(arrival, rate_rps, random.Random(seed))
        times = itertools.accumulate(gaps, initial=0.0)
    if duration_s is not None:
        times = itertools.takewhile(lambda t: t < duration_s, times)
    return itertools.islice(times, requests) if requests is not None else times


@dataclass(frozen=True)
class OpenLoad:
    """Open-loop load: requests at ``rate_rps`` with ``arrival`` gaps, bounded in count or time.

    ``max_in_flight`` caps requests in flight; a request that would exceed it waits
    (and its lag counts against the schedule).
    """

    rate_rps: float
    arrival: Arrival
    requests: int | None = None
    duration_s: float | None = None
    max_in_flight: int | None = None
    seed: int = 0
    recipe_requests: Sequence[RecipeRequest | PromptRequest] = ()

    def __post_init__(self) -> None:
        if not (self.rate_rps > 0 and math.isfinite(self.rate_rps)):
            raise ConfigError(f"--rate: expected a positive number, got {self.rate_rps}")
        if self.requests is None and self.duration_s is None:
            raise ConfigError("--rate needs --requests N or --duration S")
        if self.requests is not None and self.requests <= 0:
            raise ConfigError(f"--requests: expected a positive integer, got {self.requests}")
        if self.duration_s is not None and not self.duration_s > 0:
            raise ConfigError(f"--duration: expected a positive number, got {self.duration_s}")
        if self.max_in_flight is not None and self.max_in_flight <= 0:
            raise ConfigError(
                f"--max-in-flight: expected a positive integer, got {self.max_in_flight}"
            )

    def schedule(self) -> Iterator[tuple[int, float]]:
        """``(request_id, intended_start_s)`` in order; the same on every call."""
        times = arrival_times_s(
            self.arrival,
            self.rate_rps,
            requests=self.requests,
            duration_s=self.duration_s,
            seed=self.seed,
        )
        return enumerate(times)

    @property
    def total(self) -> int:
        """How many requests the schedule holds (counted, not stored)."""
        return sum(1 for _ in self.schedule())

    @property
    def users(self) -> int:
        """Open loop has no users; results files show the in-flight cap (0: none)."""
        return self.max_in_flight or 0

    def recipe_request(self, request_id: int) -> RecipeRequest | PromptRequest:
        pool = self.recipe_requests or (RecipeRequest.example(request_id),)
        return pool[request_id % len(pool)]

    def describe(self) -> dict[str, object]:
        return {
            "rate_rps": self.rate_rps,
            "arrival": self.arrival.describe(),
            "requests": self.requests,
            "duration_s": self.duration_s,
            "max_in_flight": self.max_in_flight,
            "seed": self.seed,
        }
