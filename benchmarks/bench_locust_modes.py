"""The seed's claim measured through Locust: requests/s of each service mode, same load.

Not a test: run it by hand (about 30 s per mode by default):

    .venv/bin/python benchmarks/bench_locust_modes.py --users 50 --latency 0.5 --duration 20

For each mode it starts an embedded mock (fixed ``--latency``) and
``python -m harness serve --mode MODE`` on it, then runs
``locust -f scenarios/locustfile.py --headless -u USERS -r USERS -t DURATION
--exclude-tags batch`` (single generations only, so the bound is simple) against the
service, reads the Aggregated row of Locust's stats CSV and the service's own
``/stats``. It prints one Markdown row per mode: requests/s, the bound
``min(users, limit) / latency``, efficiency, median and p95 latency, failures, peak
generations in flight; and the speed-up of each mode over ``blocking``.
``--json FILE`` also writes the figures with the machine they came from.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import requests

from harness.measure.machine import machine_info
from harness.run.service_child import LocalStack, StackOptions

ROOT = Path(__file__).resolve().parents[1]
MODES = ("async", "threaded", "blocking")


def run_mode(mode: str, ns: argparse.Namespace, out: Path) -> dict[str, Any]:
    stack = LocalStack()
    try:
        url = stack.ensure(StackOptions(mode, mock_latency_s=ns.latency))
        prefix = out / mode
        cmd = [sys.executable, "-m", "locust", "-f", "scenarios/locustfile.py", "--headless"]
        cmd += ["-u", str(ns.users), "-r", str(ns.users), "-t", f"{ns.duration}s"]
        cmd += ["--host", url, "--exclude-tags", "batch", "--csv", str(prefix), "--only-summary"]
        done = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=ns.duration + 120
        )
        if done.returncode not in (0, 1):
            raise SystemExit(f"locust failed for {mode}: {done.stderr[-1500:]}")
        service = requests.get(f"{url}/stats", timeout=30).json()
    finally:
        stack.stop()
    return summarize(mode, aggregated(prefix), service, ns)


def aggregated(prefix: Path) -> dict[str, str]:
    with open(f"{prefix}_stats.csv", newline="") as file:
        return next(row for row in csv.DictReader(file) if row["Name"] == "Aggregated")


def summarize(
    mode: str, row: dict[str, str], service: dict[str, Any], ns: argparse.Namespace
) -> dict[str, Any]:
    rps = float(row["Requests/s"])
    bound_rps = min(ns.users, int(service["limit"])) / ns.latency
    return {
        "mode": mode,
        "requests": int(row["Request Count"]),
        "failures": int(row["Failure Count"]),
        "rps": rps,
        "bound_rps": bound_rps,
        "efficiency": rps / bound_rps,
        "median_ms": float(row["Median Response Time"]),
        "p95_ms": float(row["95%"]),
        "peak_in_flight": int(service["peak_in_flight"]),
    }


def table(results: list[dict[str, Any]]) -> str:
    base = next((r["rps"] for r in results if r["mode"] == "blocking"), None)
    lines = [
        "| mode | requests | failures | req/s | bound req/s | efficiency | median ms "
        "| p95 ms | peak in flight | × blocking |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        speedup = f"{r['rps'] / base:.1f}×" if base else "–"
        lines.append(
            f"| {r['mode']} | {r['requests']} | {r['failures']} | {r['rps']:.1f} "
            f"| {r['bound_rps']:.1f} | {r['efficiency']:.0%} | {r['median_ms']:.0f} "
            f"| {r['p95_ms']:.0f} | {r['peak_in_flight']} | {speedup} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.5, help="mock latency, seconds")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per mode")
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-locust-") as tmp:
        results = [run_mode(m.strip(), ns, Path(tmp)) for m in ns.modes.split(",") if m.strip()]
    machine = machine_info()
    print(f"{ns.users} users, {ns.latency} s upstream latency, {ns.duration} s per mode; "
          f"{machine['cpu_count']} CPUs, Python {platform.python_version()}")  # fmt: skip
    print(table(results))
    if ns.json:
        settings = {"users": ns.users, "latency_s": ns.latency, "duration_s": ns.duration}
        document = {"machine": machine, "settings": settings, "results": results}
        Path(ns.json).write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
