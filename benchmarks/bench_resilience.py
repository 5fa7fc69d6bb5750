"""What the resilience layer costs and saves, per design, against the mock on loopback.

Not a test: run it by hand (about 1 minute with the defaults on 2 cores):

    .venv/bin/python benchmarks/bench_resilience.py --reps 3

One mock process (``harness.run.embedded.EmbeddedMock``) serves every measurement; before
each one the bench reconfigures it (PUT /_mock/config) and resets it (POST
/_mock/reset) right before the run clock starts, so schedule windows line up with
run time. Three measurements per mode:

- **amplification** (upstream attempts ÷ requests offered) in a total outage (every
  call a 503), 200 requests, ``max_attempts=3``: without the retry budget and
  without the breaker; with the budget (10 %) and without the breaker; with the
  default policy (budget and breaker). The mock's own 503 count is printed beside it.
- **fast-fail latency**: the breaker is open (an outage it has seen), 1000 requests
  are refused without a network call; median and p99 of their record latency (which
  includes the static fallback), and the mock's request count during them (0).
- **recovery**: constant open-loop arrivals at ``--rate`` for ``--run-s`` seconds,
  an outage at ``--outage``; breaker window 10, minimum 5 calls, open 0.5 s, 3
  probes. Time from outage start to open, from outage end to closed, and the share
  of offered requests that reached the upstream during the outage.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import requests

from harness.gemini import Target
from harness.generators import REGISTRY
from harness.generators.base import Generator, RequestRecord, RunContext, Workload
from harness.generators.common import GeneratorOptions
from harness.generators.load import Arrival, OpenLoad
from harness.measure.metrics import is_fast_fail, percentiles
from harness.resilience import ResilienceConfig, ResiliencePolicy
from harness.run.embedded import EmbeddedMock

BASE_MOCK: dict[str, Any] = {"latency": 0.02, "faults": {}, "schedule": [], "rpm": None}
CAP = 16  # threaded workers / async semaphore


class Mock:
    """The mock's control API."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()

    def configure(self, **changes: Any) -> None:
        resp = self.http.put(f"{self.url}/_mock/config", json=BASE_MOCK | changes, timeout=5)
        resp.raise_for_status()

    def reset(self) -> None:
        self.http.post(f"{self.url}/_mock/reset", timeout=5).raise_for_status()

    def by_status(self) -> dict[str, int]:
        stats = self.http.get(f"{self.url}/_mock/stats", timeout=5).json()
        counts: dict[str, int] = stats["requests"].get("generateContent", {})
        return counts


def policy_config(**table: Any) -> ResilienceConfig:
    return ResilienceConfig.from_mapping(table, "bench")


def start(mode: str, mock: Mock, config: ResilienceConfig) -> tuple[Generator, RunContext]:
    """A generator, and a context whose clock starts as the mock's schedule clock does."""
    cap = 1 if mode == "sequential" else CAP
    generator = REGISTRY[mode](Target(mock.url, "bench", "gemini-2.5-flash"), GeneratorOptions(cap))
    if mode == "sdk":  # keep google.genai's import (over 1 s) off the run clock
        __import__("google.genai")
    mock.reset()
    t0 = time.perf_counter()

    def clock() -> float:
        return time.perf_counter() - t0

    return generator, RunContext(clock, ResiliencePolicy(config, clock=clock))


def run(
    mode: str, mock: Mock, config: ResilienceConfig, load: Any
) -> tuple[list[RequestRecord], RunContext]:
    generator, ctx = start(mode, mock, config)
    try:
        return generator.run(load, ctx), ctx
    finally:
        generator.close()


AMPLIFICATION: dict[str, dict[str, dict[str, Any]]] = {
    "no budget": {"breaker": {"enabled": False}, "retry": {"budget_ratio": "none"}},
    "budget 10%": {"breaker": {"enabled": False}},
    "budget+breaker": {},
}


def amplification(mode: str, mock: Mock) -> dict[str, Any]:
    mock.configure(faults={"503": 1.0}, latency=0.002)
    out: dict[str, Any] = {}
    for name, table in AMPLIFICATION.items():
        retry = {"max_attempts": 3, "base_s": 0.001, "cap_s": 0.001} | table.get("retry", {})
        config = policy_config(retry=retry, breaker=table.get("breaker", {}))
        records, ctx = run(mode, mock, config, Workload(10, 20))
        attempts = len(ctx.policy.attempt_times_s)
        out[name] = {"amplification": attempts / len(records), "mock_503": mock.by_status()["503"]}
    return out


def fast_fail(mode: str, mock: Mock) -> dict[str, Any]:
    mock.configure(schedule=["outage:0-600:503"])
    config = policy_config(
        retry={"max_attempts": 1}, breaker={"window_calls": 5, "minimum_calls": 5, "open_s": 600}
    )
    generator, ctx = start(mode, mock, config)
    try:
        generator.run(Workload(5, 1), ctx)  # five 503s open it
        before = sum(mock.by_status().values())
        records = generator.run(Workload(10, 100), ctx)
        reached = sum(mock.by_status().values()) - before
    finally:
        generator.close()
    latencies = [r.latency_s for r in records if is_fast_fail(r)]
    pct = percentiles(latencies)
    return {"n": len(latencies), "p50_ms": pct["p50"] * 1e3, "p99_ms": pct["p99"] * 1e3,
            "mock_requests": reached}  # fmt: skip


def recovery(mode: str, mock: Mock, args: argparse.Namespace) -> dict[str, Any]:
    start_s, end_s = args.outage
    mock.configure(schedule=[f"outage:{start_s:g}-{end_s:g}:503"])
    breaker = {"window_calls": 10, "minimum_calls": 5, "open_s": 0.5, "half_open_probes": 3}
    config = policy_config(retry={"max_attempts": 1}, breaker=breaker)
    load = OpenLoad(rate_rps=args.rate, arrival=Arrival("constant"), duration_s=args.run_s)
    records, ctx = run(mode, mock, config, load)
    moves = ctx.policy.transitions
    opened = next(t.time_s for t in moves if t.to_state == "open")
    closed = [t.time_s for t in moves if t.to_state == "closed" and t.time_s >= end_s - 0.1]
    during = [r for r in records if start_s <= r.start_s < end_s]
    upstream = sum(start_s <= t < end_s for t in ctx.policy.attempt_times_s)
    return {
        "to_open_s": opened - start_s,
        "to_close_s": closed[0] - end_s if closed else None,
        "upstream_share": upstream / len(during) if during else None,
        "fast_fails": sum(is_fast_fail(r) for r in records),
        "transitions": [f"{t.time_s:.3f} {t.from_state}->{t.to_state} ({t.reason})" for t in moves],
    }


RECOVERY_FIGURES = ("to_open_s", "to_close_s", "upstream_share", "fast_fails")


def median_of(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [row[key] for row in rows if row[key] is not None]
    return statistics.median(values) if values else None


def measure(mode: str, mock: Mock, args: argparse.Namespace) -> dict[str, Any]:
    reps = [recovery(mode, mock, args) for _ in range(args.reps)]
    summary = {key: median_of(reps, key) for key in RECOVERY_FIGURES}
    return {"amplification": amplification(mode, mock), "fast_fail": fast_fail(mode, mock),
            "recovery": summary, "recovery_reps": reps}  # fmt: skip


COLUMNS = (
    "mode", "ampl. no budget", "ampl. budget 10%", "ampl. budget+breaker", "fast-fail p50 ms",
    "p99 ms", "mock hits", "outage→open s", "outage end→closed s", "upstream share",
)  # fmt: skip


def table(results: dict[str, dict[str, Any]]) -> str:
    """The figures as one Markdown table, a row per mode."""
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for mode, res in results.items():
        amp, ff, rec = res["amplification"], res["fast_fail"], res["recovery"]
        cells = [mode, *(f"{amp[k]['amplification']:.3f}" for k in AMPLIFICATION)]
        cells += [f"{ff['p50_ms']:.3f}", f"{ff['p99_ms']:.3f}", str(ff["mock_requests"])]
        cells += [_fmt(rec[k]) for k in ("to_open_s", "to_close_s", "upstream_share")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def machine() -> str:
    return f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}"


def main(argv: list[str] | None = None, emit: Callable[[str], None] = print) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--modes",
        default=",".join(m for m in ("sequential", "threaded", "async", "sdk") if m in REGISTRY),
    )
    parser.add_argument("--reps", type=int, default=3, help="recovery runs per mode (median)")
    parser.add_argument("--rate", type=float, default=40.0, help="open-loop arrivals per second")
    parser.add_argument("--run-s", type=float, default=4.5, help="length of a recovery run")
    parser.add_argument(
        "--outage", type=float, nargs=2, default=(1.0, 3.0), metavar=("START", "END")
    )
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args(argv)
    results: dict[str, dict[str, Any]] = {}
    with EmbeddedMock(BASE_MOCK) as server:
        mock = Mock(server.url)
        for mode in args.modes.split(","):
            results[mode] = measure(mode, mock, args)
            print(f"{mode}: done", file=sys.stderr)
    emit(json.dumps(results, indent=2) if args.json else table(results))
    emit(f"\nmachine: {machine()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
