"""Issue 3's benchmarks: efficiency at 20 users, 1,000 users vs the bare pair, the seed's table.

Not a test: run it by hand (about 3 minutes; the machine is shared, so every ratio is
measured inside one run):

    .venv/bin/python benchmarks/bench_compare.py [--rounds 2] [--skip-seed-table]

1. ``compare --users 20 --latency 1``: efficiency (bound / makespan) of every mode (≥ 0.95).
2. ``compare --modes async --users 1000 --latency 1`` against a bare aiohttp client and a
   bare aiohttp server that sleeps 1 s, same 1,000 requests, interleaved rounds (≤ 1.2×).
3. The seed's table: 5, 10, 20 users at 1 s, sequential / threaded / async makespans and
   speed-ups, without and with ``--seed-limits``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bare_pair import BareServer, bare_client

ROOT = Path(__file__).resolve().parents[1]
PATH = "/v1beta/models/gemini-2.5-flash:generateContent"


def harness(*args: str) -> dict[str, Any]:
    """``python -m harness compare ARGS`` → its results.json."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        cmd = [sys.executable, "-m", "harness", "compare", *args, "--no-report", "--json",
               "--no-progress", "--calibration", "off", "--out", tmp]  # fmt: skip
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise SystemExit(f"harness failed: {done.stderr.strip()[-500:]}")
        data: dict[str, Any] = json.loads((Path(tmp) / "results.json").read_text())
        return data


def sample_bodies() -> tuple[bytes, bytes]:
    """A real request body and a real mock answer, so the bare pair moves the same bytes."""
    sys.path.insert(0, str(ROOT))
    import requests

    from harness.gemini import Target, build_generate_request
    from harness.recipes import RecipeRequest
    from harness.run.embedded import EmbeddedMock

    with EmbeddedMock({"latency": 0.0}) as mock:
        req = build_generate_request(Target(mock.url, "k"), RecipeRequest.example(0))
        answer = requests.post(req.url, headers=dict(req.headers), data=req.body, timeout=10)
        return req.body, answer.content


def efficiency_at_20() -> None:
    data = harness("--users", "20", "--latency", "1")
    print("\n1. compare --users 20 --latency 1 (target: efficiency >= 0.95 in every mode)")
    for run in data["runs"]:
        s = run["summary"]
        verdict = "met" if s["efficiency"] >= 0.95 else "MISSED"
        print(f"   {run['mode']:<10} makespan {s['makespan_s']:.3f} s  bound {s['bound_s']:.1f} s"
              f"  efficiency {s['efficiency']:.3f}  {verdict}")  # fmt: skip


def async_vs_bare(users: int, latency_s: float, rounds: int) -> dict[str, Any]:
    """Interleaved rounds: the bare pair, then the harness; medians and their ratio."""
    body, answer = sample_bodies()
    bare_s: list[float] = []
    harness_s: list[float] = []
    errors = 0
    for _ in range(rounds):
        with BareServer(latency_s, answer) as url:
            elapsed_s, failed = bare_client(url + PATH, body, users)
        bare_s.append(elapsed_s)
        errors += failed
        data = harness("--modes", "async", "--users", str(users), "--latency", f"{latency_s:g}")
        summary = data["runs"][0]["summary"]
        harness_s.append(summary["makespan_s"])
        errors += summary["counts"]["failed"]
    ratio = statistics.median(harness_s) / statistics.median(bare_s)
    return {"bare_s": bare_s, "harness_s": harness_s, "ratio": ratio, "errors": errors,
            "peak_rss_per_in_flight": summary.get("rss_per_in_flight_bytes")}  # fmt: skip


def thousand_users(rounds: int) -> None:
    result = async_vs_bare(1000, 1.0, rounds)
    print("\n2. compare --modes async --users 1000 --latency 1 vs bare aiohttp client + server")
    print(f"   bare pair   {_seconds(result['bare_s'])}")
    print(f"   harness     {_seconds(result['harness_s'])}")
    verdict = "met" if result["ratio"] <= 1.2 else "MISSED"
    print(
        f"   ratio (medians) {result['ratio']:.2f}x (target <= 1.2x) {verdict}; "
        f"errors {result['errors']}"
    )


def _seconds(values: list[float]) -> str:
    shown = ", ".join(f"{v:.2f}" for v in values)
    return f"median {statistics.median(values):.2f} s ({shown})"


def seed_table() -> None:
    print("\n3. the seed's table, 1 s latency (speed-up = sequential makespan / makespan)")
    for limits in (False, True):
        extra = ["--seed-limits"] if limits else []
        print(f"   {'with --seed-limits (semaphore 3, 5 threads)' if limits else 'no caps'}")
        print("   users  sequential s  threaded s  async s  threaded x  async x")
        for users in (5, 10, 20):
            data = harness("--users", str(users), "--latency", "1", *extra)
            span = {r["mode"]: r["summary"]["makespan_s"] for r in data["runs"]}
            seq = span["sequential"]
            print(f"   {users:>5}  {seq:>12.2f}  {span['threaded']:>10.2f}  {span['async']:>7.2f}"
                  f"  {seq / span['threaded']:>10.2f}  {seq / span['async']:>7.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds for part 2")
    parser.add_argument("--skip-seed-table", action="store_true")
    ns = parser.parse_args()
    efficiency_at_20()
    thousand_users(ns.rounds)
    if not ns.skip_seed_table:
        seed_table()


if __name__ == "__main__":
    main()
