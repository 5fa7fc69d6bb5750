"""How close the mock comes to a bare aiohttp server at thousands of requests in flight.

Not a test: run it by hand (about 30 s, two server processes plus this client):

    .venv/bin/python benchmarks/bench_mock_capacity.py --requests 5000

It starts ``python -m mock_gemini --latency 1.0`` and a bare aiohttp server whose only
handler sleeps 1 s and returns a canned answer of the same size, each in its own process,
then sends the same N concurrent generateContent requests to each from ONE
``aiohttp.ClientSession`` with an unlimited connector. Each server gets two bursts in ABBA
order (bare, mock, mock, bare); the best of each is compared. It prints both wall times,
their ratio (target ≤ 1.3×), the mock's peak RSS, and its zero-latency request rate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
PATH = "/v1beta/models/gemini-2.5-flash:generateContent"
BODY = json.dumps(
    {
        "contents": [{"role": "user", "parts": [{"text": "Ingredients: chicken, rice, garlic."}]}],
        "generationConfig": {"responseMimeType": "application/json", "temperature": 0.7},
    }
).encode()
HEADERS = {"x-goog-api-key": "bench", "Content-Type": "application/json"}
BARE_SERVER = textwrap.dedent(
    """
    import asyncio, sys
    from aiohttp import web
    CANNED = sys.stdin.buffer.read()
    async def handle(request):
        await request.read()
        await asyncio.sleep({latency_s})
        return web.Response(body=CANNED, content_type="application/json")
    async def main():
        app = web.Application()
        app.router.add_post("/{{tail:.*}}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=4096)
        await site.start()
        print("bare listening on http://127.0.0.1:%d" % runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()
    asyncio.run(main())
    """
)


def start(args: list[str], stdin: bytes | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start a server process and read its 'listening on URL' line."""
    proc = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdin is not None and proc.stdout is not None
    if stdin is not None:
        proc.stdin.write(stdin)
    proc.stdin.close()
    line = proc.stdout.readline().decode()
    if "listening on " not in line:
        proc.kill()
        raise SystemExit(f"server did not start: {line!r}")
    return proc, line.split("listening on ", 1)[1].strip()


def peak_rss_bytes(pid: int) -> int:
    """VmHWM (peak resident set) of a Linux process."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


Run = tuple[float, dict[int, int]]  # wall seconds, count by HTTP status


async def burst(session: aiohttp.ClientSession, url: str, n: int) -> Run:
    """N requests at once; wall time until the last answer is read, and statuses."""
    statuses: dict[int, int] = {}

    async def one() -> None:
        async with session.post(url + PATH, data=BODY, headers=HEADERS) as response:
            await response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(n)))
    return time.perf_counter() - started, statuses


async def rate(session: aiohttp.ClientSession, url: str, n: int, workers: int) -> float:
    """Requests per second with ``workers`` closed-loop clients and no latency."""
    left = n

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            async with session.post(url + PATH, data=BODY, headers=HEADERS) as response:
                await response.read()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return n / (time.perf_counter() - started)


async def run(args: argparse.Namespace) -> None:
    latency = str(args.latency_s)
    mock, mock_url = start(
        [sys.executable, "-m", "mock_gemini", "--port", "0", "--latency", latency]
    )
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            async with session.post(mock_url + PATH, data=BODY, headers=HEADERS) as response:
                canned = await response.read()
            script = BARE_SERVER.format(latency_s=args.latency_s)
            bare, bare_url = start([sys.executable, "-c", script], stdin=canned)
            try:
                await burst(session, bare_url, min(200, args.requests))  # warm-up both
                await burst(session, mock_url, min(200, args.requests))
                # ABBA order, so drift in the machine's load hits both servers alike.
                bare_runs: list[Run] = []
                mock_runs: list[Run] = []
                for target in ("bare", "mock", "mock", "bare"):
                    url, runs = (bare_url, bare_runs) if target == "bare" else (mock_url, mock_runs)
                    runs.append(await burst(session, url, args.requests))
            finally:
                bare.terminate()
                bare.wait()
            rss = peak_rss_bytes(mock.pid)
            async with session.put(mock_url + "/_mock/config", json={"latency": 0}) as response:
                response.raise_for_status()
            zero_rps = await rate(session, mock_url, args.rate_requests, args.rate_workers)
    finally:
        mock.terminate()
        mock.wait()
    report(args, bare_runs, mock_runs, rss, zero_rps)


def report(
    args: argparse.Namespace, bare_runs: list[Run], mock_runs: list[Run], rss: int, zero_rps: float
) -> None:
    """Print the figures; times are the best of each server's runs (all runs listed too)."""
    bare_s, bare_status = min(bare_runs, key=lambda run: run[0])
    mock_s, mock_status = min(mock_runs, key=lambda run: run[0])
    ratio = mock_s / bare_s
    print(f"machine: {platform.machine()}, python {platform.python_version()}, cpus ", end="")
    print(len(__import__("os").sched_getaffinity(0)))
    print(f"requests in flight: {args.requests}, latency {args.latency_s} s")
    print(f"bare aiohttp sleep server: {bare_s:.2f} s  statuses {bare_status}  ", end="")
    print("runs " + ", ".join(f"{t:.2f}" for t, _ in bare_runs))
    print(f"mock_gemini:               {mock_s:.2f} s  statuses {mock_status}  ", end="")
    print("runs " + ", ".join(f"{t:.2f}" for t, _ in mock_runs))
    print(f"ratio mock/bare: {ratio:.2f}x  (target <= 1.3x: {'met' if ratio <= 1.3 else 'MISSED'})")
    print(f"mock peak RSS: {rss / 2**20:.1f} MiB")
    print(
        f"mock zero-latency rate: {zero_rps:.0f} requests/s "
        f"({args.rate_requests} requests, {args.rate_workers} concurrent clients)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000, help="concurrent requests")
    parser.add_argument("--latency-s", type=float, default=1.0, help="server-side latency")
    parser.add_argument("--rate-requests", type=int, default=5000, help="zero-latency requests")
    parser.add_argument("--rate-workers", type=int, default=64, help="zero-latency clients")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
