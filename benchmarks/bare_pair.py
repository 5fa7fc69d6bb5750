"""The floor for big runs: a bare aiohttp server that sleeps, and a bare aiohttp client.

Used by bench_scale.py and bench_compare.py (not by the harness). The server is a child
process; the client sends ``n`` concurrent POSTs with a Gemini-sized body and returns
the wall time, so a harness run can be compared with the same requests on the same machine::

    with BareServer(latency_s=2.0, answer=body) as url:
        elapsed_s, errors = bare_client(url + PATH, request_body, 10_000)
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import time
from types import TracebackType

import aiohttp

SERVER = textwrap.dedent(
    """
    import asyncio, sys
    from aiohttp import web
    LATENCY_S = float(sys.argv[1])
    ANSWER = sys.stdin.buffer.read()
    async def handle(request):
        await request.read()
        await asyncio.sleep(LATENCY_S)
        return web.Response(body=ANSWER, content_type="application/json")
    async def main():
        app = web.Application()
        app.router.add_post("/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=16384)
        await site.start()
        print("bare listening on http://127.0.0.1:%d" % runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()
    asyncio.run(main())
    """
)


class BareServer:
    """``python -c SERVER LATENCY`` in a child process; ``url`` once entered."""

    def __init__(self, latency_s: float, answer: bytes):
        self._latency_s = latency_s
        self._answer = answer
        self._proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> str:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self._latency_s)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(self._answer)
        proc.stdin.close()
        line = proc.stdout.readline().decode()
        self._proc = proc
        if "listening on " not in line:
            self.__exit__(None, None, None)
            raise RuntimeError(f"bare server did not start: {line!r}")
        self.url = line.split("listening on ", 1)[1].strip()
        return self.url

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
            if self._proc.stdout is not None:
                self._proc.stdout.close()
            self._proc = None


async def _bare(url: str, body: bytes, n: int) -> int:
    headers = {"Content-Type": "application/json", "x-goog-api-key": "bare"}
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def one() -> int:
            try:
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    return int(resp.status != 200)
            except (aiohttp.ClientError, TimeoutError):
                return 1

        return sum(await asyncio.gather(*(one() for _ in range(n))))


def bare_client(url: str, body: bytes, n: int) -> tuple[float, int]:
    """Wall time of ``n`` concurrent POSTs from one session, and how many failed."""
    started = time.perf_counter()
    errors = asyncio.run(_bare(url, body, n))
    return time.perf_counter() - started, errors
