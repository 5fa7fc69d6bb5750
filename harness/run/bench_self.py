"""bench-self: the harness measured against a bare loop and Locust on this machine.

    python -m harness bench-self --concurrency 64 --requests 3000 --rounds 3

bench-self runs, on ONE zero-latency embedded mock and in interleaved rounds, a bare
aiohttp loop, the async generator, the threaded generator and Locust's FastHttpUser
(``scenarios/bench_self_locustfile.py`` in a subprocess: Locust is never imported here),
and prints the median requests/s of each and the ratios (the median of each round's ratio:
the two clients of a round ran back to back). The generators are timed over their
makespan, the bare loop around its whole run, session included.
"""

from __future__ import annotations

import asyncio
import csv
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from harness.errors import ConfigError
from harness.gemini import HttpRequest, Target, build_generate_request
from harness.generators.base import Workload
from harness.measure.machine import machine_info
from harness.recipes import RecipeRequest
from harness.resilience.config import preset
from harness.run import limits
from harness.run.defaults import BENCH_CLIENTS
from harness.run.design import run_mode
from harness.run.embedded import EmbeddedMock
from harness.run.plan import CompareSpec

LOCUSTFILE = Path(__file__).resolve().parents[2] / "scenarios" / "bench_self_locustfile.py"
CLIENTS = BENCH_CLIENTS


Measure = Callable[[], dict[str, Any]]


def _cpu_s() -> float:
    times = psutil.Process().cpu_times()
    return float(times.user + times.system)


def _figures(requests: int, errors: int, elapsed_s: float, cpu_s: float) -> dict[str, Any]:
    return {"rps": requests / elapsed_s, "requests": requests, "errors": errors,
            "elapsed_s": elapsed_s, "cpu_us_per_request": cpu_s / requests * 1e6}  # fmt: skip


def _timed(run: Callable[[], tuple[int, int]]) -> dict[str, Any]:
    """Run one client; ``run`` returns (requests, errors)."""
    cpu0, t0 = _cpu_s(), time.perf_counter()
    requests, errors = run()
    return _figures(requests, errors, time.perf_counter() - t0, _cpu_s() - cpu0)


async def bare_aiohttp(req: HttpRequest, concurrency: int, requests: int) -> tuple[int, int]:
    """The floor: ``concurrency`` coroutines posting the same bytes and reading the answer."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    errors = 0
    async with aiohttp.ClientSession(connector=connector) as session:
        tickets = iter(range(requests))

        async def worker() -> None:
            nonlocal errors
            for _ in tickets:
                async with session.post(req.url, data=req.body, headers=req.headers) as resp:
                    await resp.read()
                    errors += resp.status != 200

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return requests, errors


def _generator(mode: str, target: Target, concurrency: int, requests: int) -> dict[str, Any]:
    """One design through ``run_mode``, timed over its makespan: from the start of its load
    to its last record, the same span as the bare loop's (which also opens its session).
    The run's set-up and checks before and after (GC, samplers, the invariant) are left out;
    its CPU is the sampler's, over the same block."""
    spec = CompareSpec((mode,), (concurrency,), resilience=preset("none"))
    run = run_mode(mode, target, Workload(concurrency, requests // concurrency), concurrency, spec)
    errors = sum(1 for r in run.records if r.outcome != "ok")
    return _figures(len(run.records), errors, run.makespan_s, float(run.resources["cpu_s"]))


def run_locust(req: HttpRequest, base_url: str, concurrency: int, seconds: float) -> dict[str, Any]:
    """Locust FastHttpUser in a subprocess; req/s from its stats CSV, CPU from rusage."""
    with tempfile.TemporaryDirectory(prefix="bench-self-") as tmp:
        body = Path(tmp) / "body.json"
        body.write_bytes(req.body)
        env = {**os.environ, "BENCH_BODY_FILE": str(body), "BENCH_PATH": _path(req.url, base_url)}
        cmd = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
               "-u", str(concurrency), "-r", str(max(concurrency, 1000)), "-t", f"{seconds:g}s",
               "--host", base_url, "--csv", str(Path(tmp) / "stats"), "--only-summary",
               "--loglevel", "WARNING", "--stop-timeout", "2"]  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=seconds + 60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        stats = _aggregated_row(Path(tmp) / "stats_stats.csv", done.stderr)
    requests = int(stats["Request Count"])
    cpu_s = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return {"rps": float(stats["Requests/s"]), "requests": requests,
            "errors": int(stats["Failure Count"]), "elapsed_s": seconds,
            "cpu_us_per_request": cpu_s / requests * 1e6 if requests else None}  # fmt: skip


def _path(url: str, base_url: str) -> str:
    return url[len(base_url.rstrip("/")) :]


def _aggregated_row(path: Path, stderr: str) -> dict[str, str]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = [row for row in csv.DictReader(handle) if row.get("Name") == "Aggregated"]
    except OSError:
        rows = []
    if not rows:
        tail = stderr.strip().splitlines()[-1:] or ["no output"]
        raise ConfigError(f"locust run produced no stats ({path.name}): {tail[0]}")
    return rows[0]


@dataclass(frozen=True)
class BenchSelfPlan:
    """What ``bench-self`` measures: clients, users (= connections), requests, rounds."""

    clients: tuple[str, ...] = CLIENTS
    concurrency: int = 64
    requests: int = 3000
    rounds: int = 3
    locust_seconds: float = 6.0


def bench_self(ns: BenchSelfPlan) -> dict[str, Any]:
    """Interleaved rounds of every client on one zero-latency mock; medians and ratios."""
    clients = list(ns.clients)
    unknown = [c for c in clients if c not in CLIENTS]
    if unknown or not clients:
        raise ConfigError(f"--clients: expected some of {', '.join(CLIENTS)}, got {unknown}")
    limits.check_range("--concurrency", ns.concurrency, 1, limits.MAX_IN_FLIGHT)
    limits.check_range("--requests", ns.requests, ns.concurrency, limits.MAX_REQUESTS)
    limits.check_range("--rounds", ns.rounds, 1, limits.MAX_REPETITIONS)
    if "locust-fasthttp" in clients:
        limits.check_range("--locust-seconds", ns.locust_seconds, 1, 3600)
    rounds: dict[str, list[dict[str, Any]]] = {c: [] for c in clients}
    with EmbeddedMock({"latency": 0.0}) as mock:
        target = Target(mock.url, "bench-self")
        req = build_generate_request(target, RecipeRequest.example(0))
        measures = _measures(ns, target, req, mock.url)
        for number in range(1, ns.rounds + 1):
            for client in clients:
                print(f"bench-self round {number}/{ns.rounds}: {client}", file=sys.stderr,
                      flush=True)  # fmt: skip
                rounds[client].append(measures[client]())
    return _report(ns, rounds)


def _measures(ns: BenchSelfPlan, target: Target, req: HttpRequest, url: str) -> dict[str, Measure]:
    c, n = ns.concurrency, ns.requests
    return {
        "bare-aiohttp": lambda: _timed(lambda: asyncio.run(bare_aiohttp(req, c, n))),
        "async": lambda: _generator("async", target, c, n),
        "threaded": lambda: _generator("threaded", target, c, n),
        "locust-fasthttp": lambda: run_locust(req, url, c, ns.locust_seconds),
    }


def _report(ns: BenchSelfPlan, rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    medians = {c: statistics.median(r["rps"] for r in rs) for c, rs in rounds.items()}
    ratios = {}
    if "async" in rounds:
        for other in ("bare-aiohttp", "threaded", "locust-fasthttp"):
            if other in rounds:
                ratios[f"async/{other}"] = paired_ratio(rounds["async"], rounds[other])
    return {
        "machine": machine_info(),
        "settings": {
            "concurrency": ns.concurrency,
            "requests": ns.requests,
            "rounds": ns.rounds,
            "locust_seconds": ns.locust_seconds,
        },
        "median_rps": medians,
        "ratios": ratios,
        "targets": {
            "async/bare-aiohttp >= 0.9": _meets(ratios.get("async/bare-aiohttp"), 0.9),
            "async/locust-fasthttp >= 1.2": _meets(ratios.get("async/locust-fasthttp"), 1.2),
        },
        "rounds": rounds,
    }


def paired_ratio(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> float | None:
    """The median of the per-round ratios: each round's two clients ran back to back on
    the same mock, so a slow spell of a shared machine hits both sides of a ratio.

    A round in which the other client served nothing has no ratio; with none left the
    result is None (no figure), never a division by zero.

    >>> paired_ratio([{"rps": 90}, {"rps": 50}, {"rps": 99}], [{"rps": 100}] * 3)
    0.9
    """
    ratios = [a["rps"] / b["rps"] for a, b in zip(ours, theirs, strict=True) if b["rps"]]
    return statistics.median(ratios) if ratios else None


def _meets(ratio: float | None, target: float) -> bool | None:
    return None if ratio is None else ratio >= target
