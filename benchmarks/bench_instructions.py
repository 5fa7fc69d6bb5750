"""Instructions per request, bare aiohttp loop vs the async generator: a noise-free ratio.

Requests/s on a shared 2-core machine swing by ±20% from one second to the next; the
number of instructions a client executes per request does not. This runs each client
under ``valgrind --tool=callgrind`` twice (a short and a long run against the same
zero-latency embedded mock) and divides the difference in instructions by the difference
in requests, so start-up and imports cancel out::

    .venv/bin/python benchmarks/bench_instructions.py            # ~4 minutes
    .venv/bin/python benchmarks/bench_instructions.py --requests 512,2560

Kernel time (send, recv, epoll) is not counted: the ratio is the user-space work of the
two clients. Needs valgrind (Debian package ``valgrind``).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLIENTS = ("bare-aiohttp", "async")
CONCURRENCY = 64
_COLLECTED = re.compile(r"Collected : (\d+)")


def run_client(client: str, url: str, requests: int) -> None:
    """The measured process: one client, ``requests`` requests, 64 at a time."""
    from harness.gemini import Target, build_generate_request
    from harness.generators.base import RunContext, Workload
    from harness.generators.common import GeneratorOptions
    from harness.generators.concurrent import AsyncGenerator
    from harness.recipes import RecipeRequest
    from harness.resilience.config import preset
    from harness.resilience.policy import ResiliencePolicy
    from harness.run.bench_self import bare_aiohttp
    from harness.run.design import quiet_gc

    target = Target(url, "bench-instructions")
    if client == "bare-aiohttp":
        req = build_generate_request(target, RecipeRequest.example(0))
        asyncio.run(bare_aiohttp(req, CONCURRENCY, requests))
        return
    policy = ResiliencePolicy(preset("none"), clock=time.perf_counter)
    generator = AsyncGenerator(target, GeneratorOptions(CONCURRENCY))
    with quiet_gc():  # as run_mode does
        workload = Workload(CONCURRENCY, requests // CONCURRENCY)
        generator.run(workload, RunContext(time.perf_counter, policy))


def instructions(client: str, url: str, requests: int, out_dir: Path) -> int:
    out = out_dir / f"callgrind.{client}.{requests}.out"
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
           __file__, "--client", client, "--url", url, "--requests", str(requests)]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=True)
    match = _COLLECTED.search(done.stderr)
    if match is None:
        raise RuntimeError(f"callgrind printed no total for {client}: {done.stderr[-300:]}")
    return int(match.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", default="64,1088", help="short,long run (multiples of 64)")
    parser.add_argument("--client", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.client:
        run_client(ns.client, ns.url, int(ns.requests))
        return 0
    if shutil.which("valgrind") is None:
        print("bench_instructions: valgrind is not installed (apt install valgrind)")
        return 2
    short, long = (int(n) for n in ns.requests.split(","))
    from harness.run.embedded import EmbeddedMock

    per_request: dict[str, float] = {}
    with EmbeddedMock({"latency": 0.0}) as mock, tempfile.TemporaryDirectory() as tmp:
        for client in CLIENTS:
            low = instructions(client, mock.url, short, Path(tmp))
            high = instructions(client, mock.url, long, Path(tmp))
            per_request[client] = (high - low) / (long - short)
            print(f"{client:<13} {per_request[client] / 1000:8.1f} k instructions / request")
    ratio = per_request["async"] / per_request["bare-aiohttp"]
    print(f"async / bare-aiohttp: {ratio:.2f}x the instructions (0.9x the req/s needs <= 1.11x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
