"""calibrate and bench-self: arguments and output; the measuring is in ``harness.run``.

python -m harness calibrate --concurrency 1000 --latency 0.5
python -m harness bench-self --concurrency 64 --requests 3000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from harness.run.defaults import BENCH_CLIENTS as CLIENTS
from harness.run.defaults import CALIBRATION_PATH


def add_calibrate_arguments(parser: argparse.ArgumentParser) -> None:
    add = parser.add_argument
    add("--concurrency", type=int, default=1000, help="requests in flight for the timing error")
    add("--latency", type=float, default=0.5, help="latency the mock injects (s)")
    add("--rate-users", type=int, default=64, help="users looping for the max rate")
    add("--rate-requests", type=int, default=4000, help="requests for the max rate")
    add("--save", default=str(CALIBRATION_PATH), help="where the result is kept")
    add("--json", action="store_true", help="print the result as JSON")


def calibrate_main(ns: argparse.Namespace, argv: list[str]) -> int:
    from harness.measure.files import writable_file
    from harness.run import calibrate

    plan = calibrate.CalibrationPlan(
        "full", ns.concurrency, ns.latency, ns.rate_users, ns.rate_requests
    )
    plan.validate()
    writable_file(Path(ns.save), "--save")  # before the 15 s of measuring, not after
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
        if ratio is None:
            print(f"{name}: no ratio (the other client served nothing in every round)")
        else:
            print(f"{name}: {ratio:.2f}× (median of the per-round ratios)")
    ratios = report["ratios"]
    for name, ok in report["targets"].items():
        if ok is not None:
            measured = ratios.get(name.split()[0])
            print(f"target {name} (measured {measured:.2f}): {'met' if ok else 'MISSED'}")


def bench_self_main(ns: argparse.Namespace, argv: list[str]) -> int:
    from harness.measure.files import writable_file, write_atomic
    from harness.run.bench_self import BenchSelfPlan, bench_self

    if ns.out:
        writable_file(Path(ns.out), "--out")

    clients = tuple(c.strip() for c in ns.clients.split(",") if c.strip())
    if ns.no_locust:
        clients = tuple(c for c in clients if c != "locust-fasthttp")
    plan = BenchSelfPlan(clients, ns.concurrency, ns.requests, ns.rounds, ns.locust_seconds)
    report = bench_self(plan)
    if ns.out:
        write_atomic(Path(ns.out), json.dumps(report, indent=1) + "\n", "--out")
    if ns.json:
        print(json.dumps(report, indent=1))
    else:
        print_bench(report)
    return 0
