"""Issue 7's benchmarks: bench-self ratios, timing error, 10,000 users, memory per request.

Not a test: run it by hand (about 3 minutes; ratios are measured inside one run because
the machine is shared and noisy):

    .venv/bin/python benchmarks/bench_scale.py [--rounds 2] [--users 10000]

1. ``python -m harness bench-self`` (bare aiohttp, async, threaded, Locust FastHttpUser).
2. ``python -m harness calibrate --concurrency 1000``: timing error median (target ≤ 2 ms).
3. ``compare --modes async --users 10000 --latency 2`` against a bare aiohttp client and a
   bare aiohttp server that sleeps 2 s, same requests, interleaved rounds (target ≤ 1.25×,
   0 errors); peak RSS per request in flight.
4. ``compare --modes threaded --users 1000 --latency 2``: 1,000 threads, RSS per thread.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_compare import ROOT, async_vs_bare, harness


def _run_json(*args: str) -> dict[str, object]:
    cmd = [sys.executable, "-m", "harness", *args, "--json"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {done.stderr.strip()[-500:]}")
    result: dict[str, object] = json.loads(done.stdout)
    return result


def bench_self(rounds: int) -> None:
    report = _run_json("bench-self", "--rounds", str(rounds), "--requests", "3000")
    print("1. bench-self: zero-latency mock, 64 connections, 3000 requests per client per round")
    medians = report["median_rps"]
    assert isinstance(medians, dict)
    for client, rps in medians.items():
        print(f"   {client:<16} {rps:8.0f} req/s (median of {rounds})")
    ratios = report["ratios"]
    assert isinstance(ratios, dict)
    for name, ratio in ratios.items():
        print(f"   {name}: {ratio:.2f}x")
    print("   targets: async/bare-aiohttp >= 0.9, async/locust-fasthttp >= 1.2")


def timing_error() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        block = _run_json("calibrate", "--concurrency", "1000", "--save", f"{tmp}/c.json")
    warm = block["timing_error_s"]
    reference = block["reference_error_s"]
    assert isinstance(warm, dict) and isinstance(reference, dict)
    print("\n2. calibrate --concurrency 1000 (target: timing error median <= 2 ms)")
    print(f"   max rate {block['max_rate_rps']:.0f} req/s; timing at {block['timing_rate_rps']:.0f}"
          f" req/s, {block['injected_latency_s']:.2f} s injected, 1000 in flight")  # fmt: skip
    print(f"   error median {warm['p50'] * 1e3:.2f} ms, p99 {warm['p99'] * 1e3:.2f} ms; bare-client"
          f" reference median {reference['p50'] * 1e3:.2f} ms")  # fmt: skip


def ten_thousand(users: int, rounds: int) -> None:
    result = async_vs_bare(users, 2.0, rounds)
    print(f"\n3. compare --modes async --users {users} --latency 2 vs the bare pair")
    print(f"   bare pair  {', '.join(f'{v:.2f}' for v in result['bare_s'])} s")
    print(f"   harness    {', '.join(f'{v:.2f}' for v in result['harness_s'])} s")
    verdict = "met" if result["ratio"] <= 1.25 and result["errors"] == 0 else "MISSED"
    print(f"   ratio (medians) {result['ratio']:.2f}x (target <= 1.25x, 0 errors): {verdict};"
          f" errors {result['errors']}")  # fmt: skip
    per = result["peak_rss_per_in_flight"]
    print(f"   async: {per / 1024:.1f} KiB of RSS per request in flight (at {users})")


def threaded_thousand() -> None:
    data = harness("--modes", "threaded", "--users", "1000", "--latency", "2")
    s = data["runs"][0]["summary"]
    print("\n4. compare --modes threaded --users 1000 --latency 2")
    print(f"   makespan {s['makespan_s']:.2f} s, {s['counts']['failed']} failed, peak threads"
          f" {s['peak_threads']}, peak RSS {s['peak_rss_bytes'] / 2**20:.0f} MiB,"
          f" {s['rss_per_in_flight_bytes'] / 1024:.1f} KiB per request in flight")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--users", type=int, default=10_000)
    ns = parser.parse_args()
    bench_self(max(ns.rounds, 3))
    timing_error()
    ten_thousand(ns.users, ns.rounds)
    threaded_thousand()


if __name__ == "__main__":
    main()
