"""The harness's own limits on this machine: how fast it can send, how well it times.

Two figures, each against an embedded mock on loopback, measured with the async
generator and no resilience layer:

- ``max_rate_rps``: requests/s with a zero-latency mock (``rate_users`` users looping);
- ``timing_error_s``: measured latency − injected latency at ``concurrency`` requests
  in flight (median, p99, max), over warm connections (each user's second request;
  the first, which also opens the connection, is reported as ``cold``).

``python -m harness calibrate`` runs the full measure and saves it to
``runs/calibration.json``; every results file carries a ``calibration`` block, which is
that saved measure with its age, or (when there is none, or it is older than
:data:`MAX_CACHE_AGE_S`) a quick ~2 s measure that is then saved for the next run::

    block = calibration_block("auto", Path("runs/calibration.json"))
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from harness.errors import ConfigError
from harness.gemini import Target, build_generate_request
from harness.generators.base import Workload
from harness.generators.load import Arrival, OpenLoad
from harness.measure import metrics
from harness.measure.files import write_atomic
from harness.measure.machine import machine_info
from harness.recipes import RecipeRequest
from harness.resilience.config import preset
from harness.run import limits
from harness.run.defaults import CALIBRATION_PATH, CalibrationMode
from harness.run.design import run_mode
from harness.run.embedded import EmbeddedMock
from harness.run.plan import CompareSpec

MAX_CACHE_AGE_S = 7 * 24 * 3600.0
_KEY = "calibration-key"
TIMING_RATE_FRACTION = 0.25  # timing error is measured at most at this share of the max rate


@dataclass(frozen=True)
class CalibrationPlan:
    """How hard to measure: ``full`` for ``calibrate``, ``quick`` (~2 s) for results files."""

    kind: str
    concurrency: int = 1000
    latency_s: float = 0.5
    rate_users: int = 64
    rate_requests: int = 4000

    def validate(self) -> None:
        """Every setting within its documented range (ConfigError naming the flag)."""
        limits.check_range("--concurrency", self.concurrency, 1, limits.MAX_IN_FLIGHT)
        if not 0 < self.latency_s <= 60:
            raise ConfigError(f"--latency: expected 0 < seconds <= 60, got {self.latency_s}")
        limits.check_range("--rate-users", self.rate_users, 1, limits.MAX_USERS)
        limits.check_range("--rate-requests", self.rate_requests, 1, limits.MAX_REQUESTS)
        if self.rate_requests < self.rate_users:
            raise ConfigError(f"--rate-requests: expected at least {self.rate_users}")


QUICK = CalibrationPlan("quick", concurrency=100, latency_s=0.25, rate_users=32, rate_requests=600)


def _spec() -> CompareSpec:
    return CompareSpec(("async",), (1,), resilience=preset("none"))


def measure_max_rate(url: str, users: int, requests: int) -> dict[str, Any]:
    """Requests/s of the async generator: ``users`` users looping against ``url``."""
    per_user = max(1, requests // users)
    run = run_mode("async", Target(url, _KEY), Workload(users, per_user), users, _spec())
    ok = sum(1 for r in run.records if r.outcome == "ok")
    return {
        "max_rate_rps": metrics.ratio(len(run.records), run.makespan_s),
        "rate_users": users,
        "rate_requests": len(run.records),
        "rate_errors": len(run.records) - ok,
        "cpu_s_per_request": metrics.ratio(float(run.resources["cpu_s"]), len(run.records)),
    }


def timing_schedule(concurrency: int, latency_s: float, max_rate_rps: float) -> tuple[float, float]:
    """(rate, latency) that hold ``concurrency`` in flight at a sustainable rate.

    In flight = rate x latency (Little's law); when ``concurrency / latency_s`` would ask for
    more than :data:`TIMING_RATE_FRACTION` of what the harness can send, the latency is
    raised instead (a saturated sender measures its own queue, not its timing).

    >>> timing_schedule(1000, 0.5, 2000.0)
    (500.0, 2.0)
    """
    rate_rps = min(concurrency / latency_s, max(max_rate_rps, 1.0) * TIMING_RATE_FRACTION)
    return rate_rps, max(latency_s, concurrency / rate_rps)


def measure_timing_error(url: str, concurrency: int, latency_s: float) -> dict[str, Any]:
    """measured − injected latency at a steady ``concurrency`` in flight (open loop, constant).

    3 x ``concurrency`` requests at ``concurrency / latency_s`` per second: the first wave
    opens the connections (``cold``), the later ones reuse them (``warm``).
    """
    load = OpenLoad(concurrency / latency_s, Arrival("constant"), requests=3 * concurrency)
    spec = CompareSpec(("async",), (1,), resilience=preset("none"), open_load=load)
    run = run_mode("async", Target(url, _KEY), load, concurrency * 2, spec)
    ok = [r for r in run.records if r.outcome == "ok"]
    warm = [r.latency_s - latency_s for r in ok if r.request_id >= concurrency]
    cold = [r.latency_s - latency_s for r in ok if r.request_id < concurrency]
    lag = [r.start_s - r.intended_start_s for r in run.records]
    return {
        "timing_concurrency": concurrency,
        "injected_latency_s": latency_s,
        "timing_rate_rps": load.rate_rps,
        "timing_error_s": _error_stats(warm),
        "timing_error_cold_s": _error_stats(cold),
        "timing_lag_p99_s": metrics.percentiles(lag).get("p99"),
        "timing_errors": len(run.records) - len(ok),
        "peak_in_flight": run.resources.get("peak_in_flight"),
    }


async def _bare_errors(url: str, latency_s: float, users: int, rounds: int) -> list[float]:
    req = build_generate_request(Target(url, _KEY), RecipeRequest.example(0))
    errors: list[float] = []
    async with aiohttp.ClientSession() as session:

        async def one() -> None:
            started = time.perf_counter()
            async with session.post(req.url, data=req.body, headers=req.headers) as resp:
                await resp.read()
            errors.append(time.perf_counter() - started - latency_s)

        for _ in range(rounds):
            await asyncio.gather(*(one() for _ in range(users)))
    return errors[users:]  # the first round opened the connections


def measure_reference_error(url: str, latency_s: float) -> dict[str, float]:
    """The same error for a bare aiohttp client, 10 at a time: what the mock itself adds."""
    return _error_stats(asyncio.run(_bare_errors(url, latency_s, users=10, rounds=3)))


def _error_stats(errors_s: list[float]) -> dict[str, float]:
    values = metrics.percentiles(errors_s)
    return {k: values[k] for k in ("p50", "p99", "max")} if values else {}


def measure(plan: CalibrationPlan) -> dict[str, Any]:
    """Run both measures, each on its own embedded mock; returns the calibration block."""
    plan.validate()
    started = time.perf_counter()
    _say(f"{plan.kind} calibration 1/2: the highest request rate ({plan.rate_users} users, "
         f"{plan.rate_requests} requests, zero-latency mock)")  # fmt: skip
    with EmbeddedMock({"latency": 0.0}) as mock:
        rate = measure_max_rate(mock.url, plan.rate_users, plan.rate_requests)
    _, latency_s = timing_schedule(plan.concurrency, plan.latency_s, rate["max_rate_rps"] or 0.0)
    _say(
        f"{plan.kind} calibration 2/2: timing error at {plan.concurrency} in flight "
        f"(injected latency {latency_s:.3g} s); max rate was {rate['max_rate_rps'] or 0:.0f} req/s"
    )
    with EmbeddedMock({"latency": latency_s}) as mock:
        timing = measure_timing_error(mock.url, plan.concurrency, latency_s)
        reference = measure_reference_error(mock.url, latency_s)
    return {
        "kind": plan.kind,
        "measured_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "measured_unix_s": time.time(),
        "machine": machine_info(),
        "measure_s": round(time.perf_counter() - started, 3),
        **rate,
        **timing,
        "reference_error_s": reference,
    }


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # progress: stdout stays the result's


def save(block: dict[str, Any], path: Path = CALIBRATION_PATH) -> Path:
    """Write the block where later runs find it (atomically: runs may read it meanwhile)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_atomic(path, json.dumps(block, indent=1) + "\n", "--save")


def load_cached(path: Path = CALIBRATION_PATH, now_s: float | None = None) -> dict[str, Any] | None:
    """The saved measure with ``source: cached`` and its ``age_s``; None if absent or unreadable."""
    try:
        block = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(block, dict) or not isinstance(block.get("measured_unix_s"), int | float):
        return None
    now_s = time.time() if now_s is None else now_s
    return {
        **block,
        "source": "cached",
        "path": str(path),
        "age_s": now_s - block["measured_unix_s"],
    }


def calibration_block(
    mode: CalibrationMode, path: Path = CALIBRATION_PATH, max_age_s: float = MAX_CACHE_AGE_S
) -> dict[str, Any] | None:
    """What a results file carries: the cached measure, or a quick one (saved), or None (off).

    ``auto``: cached when younger than ``max_age_s``, else quick; ``cached``: only the cache
    (None when absent); ``quick``: always measure now.
    """
    if mode == "off":
        return None
    cached = load_cached(path) if mode != "quick" else None
    if mode == "cached" or (cached is not None and cached["age_s"] <= max_age_s):
        return cached
    block = measure(QUICK)
    save(block, path)
    return {**block, "source": "measured", "path": str(path), "age_s": 0.0}


def _ms(stats: dict[str, Any], key: str) -> str:
    value = stats.get(key)
    return "–" if value is None else f"{value * 1000:.2f}"


def describe(block: dict[str, Any]) -> list[str]:
    """Lines for the terminal: the harness's limits in words."""
    warm = block.get("timing_error_s") or {}
    cold = block.get("timing_error_cold_s") or {}
    reference = block.get("reference_error_s") or {}
    return [
        f"max request rate (async generator, zero-latency mock, {block['rate_users']} users): "
        f"{block['max_rate_rps']:.0f} req/s ({block['rate_errors']} errors)",
        f"timing error at {block['timing_concurrency']} in flight "
        f"({block['timing_rate_rps']:.0f} req/s, {block['injected_latency_s']:g} s injected, "
        f"warm connections): "
        f"median {_ms(warm, 'p50')} ms, p99 {_ms(warm, 'p99')} ms, max {_ms(warm, 'max')} ms",
        f"  first request per connection (includes connect): median {_ms(cold, 'p50')} ms, "
        f"p99 {_ms(cold, 'p99')} ms",
        f"  reference, a bare aiohttp client 10 at a time on the same mock: median "
        f"{_ms(reference, 'p50')} ms, p99 {_ms(reference, 'p99')} ms (the mock's own share)",
        f"({block['timing_errors']} errors; measured in {block['measure_s']:.1f} s)",
    ]
