"""calibrate and bench-self: the harness measured against itself on this machine.

    python -m harness calibrate --concurrency 1000 --latency 0.5
    python -m harness bench-self --concurrency 64 --requests 3000 --rounds 3

bench-self runs, on ONE zero-latency embedded mock and in interleaved rounds, a bare
aiohttp loop, the async generator, the threaded generator and Locust's FastHttpUser
(``scenarios/bench_self_locustfile.py`` in a subprocess: Locust is never imported here),
and prints the median requests/s of each and the ratios (the median of each round's ratio:
the two clients of a round ran back to back). The generators are timed over their
makespan, the bare loop around its whole run, session included.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from harness import calibrate
from harness.compare import CompareSpec, run_mode
from harness.embedded import EmbeddedMock
from harness.errors import ConfigError
from harness.gemini import HttpRequest, Target, build_generate_request
from harness.generators.base import Workload
from harness.machine import machine_info
from harness.recipes import RecipeRequest
from harness.resilience.config import preset

LOCUSTFILE = Path(__file__).resolve().parents[1] / "scenarios" / "bench_self_locustfile.py"
CLIENTS = ("bare-aiohttp", "async", "threaded", "locust-fasthttp")


def add_calibrate_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--concurrency", type=int, default=1000, help="requests in flight for the timing error")
    add("--latency", type=float, default=0.5, help="latency the mock injects (s)")
    add("--rate-users", type=int, default=64, help="users looping for the max rate")
    add("--rate-requests", type=int, default=4000, help="requests for the max rate")
    add("--save", default=str(calibrate.CALIBRATION_PATH), help="where the result is kept")
    add("--json", action="store_true", help="print the result as JSON")


def calibrate_main(ns: argparse.Namespace, argv: list[str]) -> int:
    plan = calibrate.CalibrationPlan(
        "full", ns.concurrency, ns.latency, ns.rate_users, ns.rate_requests
    )
    plan.validate()
    block = calibrate.measure(plan)
    path = calibrate.save(block, Path(ns.save))
    if ns.json:
        print(json.dumps(block, indent=1))
    else:
        print("\n".join(calibrate.describe(block)))
        print(f"saved: {path} (results files carry it as their calibration block)")
    return 0


def add_bench_self_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--concurrency", type=int, default=64, help="users / connections of every client")
    add("--requests", type=int, default=3000, help="requests per client per round")
    add("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    add("--locust-seconds", type=float, default=6.0, help="Locust run time per round")
    add("--no-locust", action="store_true", help="leave Locust out")
    add("--clients", default=",".join(CLIENTS), help=f"subset of {', '.join(CLIENTS)}")
    add("--out", metavar="FILE", help="also write the figures as JSON")
    add("--json", action="store_true", help="print the figures as JSON")


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


def bench_self(ns: argparse.Namespace) -> dict[str, Any]:
    """Interleaved rounds of every client on one zero-latency mock; medians and ratios."""
    clients = [c.strip() for c in ns.clients.split(",") if c.strip()]
    if ns.no_locust:
        clients = [c for c in clients if c != "locust-fasthttp"]
    unknown = [c for c in clients if c not in CLIENTS]
    if unknown or ns.concurrency < 1 or ns.requests < ns.concurrency or ns.rounds < 1:
        raise ConfigError(
            f"bench-self: clients {unknown or clients}, --concurrency {ns.concurrency}, "
            f"--requests {ns.requests} (>= concurrency), --rounds {ns.rounds} (>= 1)"
        )
    rounds: dict[str, list[dict[str, Any]]] = {c: [] for c in clients}
    with EmbeddedMock({"latency": 0.0}) as mock:
        target = Target(mock.url, "bench-self")
        req = build_generate_request(target, RecipeRequest.example(0))
        measures = _measures(ns, target, req, mock.url)
        for _ in range(ns.rounds):
            for client in clients:
                rounds[client].append(measures[client]())
    return _report(ns, rounds)


def _measures(
    ns: argparse.Namespace, target: Target, req: HttpRequest, url: str
) -> dict[str, Measure]:
    c, n = ns.concurrency, ns.requests
    return {
        "bare-aiohttp": lambda: _timed(lambda: asyncio.run(bare_aiohttp(req, c, n))),
        "async": lambda: _generator("async", target, c, n),
        "threaded": lambda: _generator("threaded", target, c, n),
        "locust-fasthttp": lambda: run_locust(req, url, c, ns.locust_seconds),
    }


def _report(ns: argparse.Namespace, rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
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


def paired_ratio(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> float:
    """The median of the per-round ratios: each round's two clients ran back to back on
    the same mock, so a slow spell of a shared machine hits both sides of a ratio.

    >>> paired_ratio([{"rps": 90}, {"rps": 50}, {"rps": 99}], [{"rps": 100}] * 3)
    0.9
    """
    return statistics.median(a["rps"] / b["rps"] for a, b in zip(ours, theirs, strict=True))


def _meets(ratio: float | None, target: float) -> bool | None:
    return None if ratio is None else ratio >= target


def print_bench(report: dict[str, Any]) -> None:
    print(
        f"{'client':<16} {'req/s (median)':>15} {'min..max':>17} {'CPU µs/req':>11} {'errors':>7}"
    )
    for client, rs in report["rounds"].items():
        rps = [r["rps"] for r in rs]
        cpu = [r["cpu_us_per_request"] for r in rs if r["cpu_us_per_request"] is not None]
        errors = sum(r["errors"] for r in rs)
        cpu_text = f"{statistics.median(cpu):.0f}" if cpu else "–"
        span = f"{min(rps):.0f}..{max(rps):.0f}"
        median = report["median_rps"][client]
        print(f"{client:<16} {median:>15.0f} {span:>17} {cpu_text:>11} {errors:>7}")
    for name, ratio in report["ratios"].items():
        print(f"{name}: {ratio:.2f}× (median of the per-round ratios)")
    for name, ok in report["targets"].items():
        if ok is not None:
            print(f"target {name}: {'met' if ok else 'MISSED'}")


def bench_self_main(ns: argparse.Namespace, argv: list[str]) -> int:
    report = bench_self(ns)
    if ns.out:
        Path(ns.out).write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    if ns.json:
        print(json.dumps(report, indent=1))
    else:
        print_bench(report)
    return 0
