"""CPU-heavy work in worker processes, so one big request never stalls the event loop.

    offloader = Offloader()
    gen = await offloader.run_on_body(chunks, decode_and_parse, parse_generate_request, False)
    answer = await offloader.run(compose_uncached, prompt, seed)
    await offloader.close()

JSON decoding of a multi-megabyte body holds the GIL for its whole length (over a second
for 20 MiB of tiny values), so a thread would not help: the mock hands such work to up to
WORKERS child processes (``python -m mock_gemini.worker``), started on first use. The
function and its arguments must pickle (module-level functions, plain data); ApiError
crosses back as itself. A request body goes to the worker chunk by chunk, never joined
or copied whole on the event loop. A call whose request is cancelled kills its worker.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from mock_gemini.protocol import status_error
from mock_gemini.worker import HEADER, frame

T = TypeVar("T")
WORKERS = 2  # one hostile body occupies one worker; the other keeps serving big bodies
OFFLOAD_BODY_BYTES = 256 * 1024  # bodies above this are decoded and parsed in a worker
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


class _Worker:
    """One child process answering one call at a time."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls) -> _Worker:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mock_gemini.worker", env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        return cls(proc)

    async def call(self, payload: bytes, chunks: list[bytes]) -> bytes:
        stdin, stdout = self.proc.stdin, self.proc.stdout
        assert stdin is not None and stdout is not None
        stdin.write(frame(payload))
        stdin.write(HEADER.pack(sum(map(len, chunks))))
        for chunk in chunks:  # drained one by one: the transport never holds a whole body
            stdin.write(chunk)
            await stdin.drain()
        await stdin.drain()
        header = await stdout.readexactly(HEADER.size)
        return await stdout.readexactly(HEADER.unpack(header)[0])

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
        await self.proc.wait()


class Offloader:
    """Up to ``workers`` child processes for pure, CPU-heavy functions."""

    def __init__(self, workers: int = WORKERS) -> None:
        self.workers = workers
        self._slots: asyncio.Semaphore | None = None
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker; its exception re-raised here (a dead worker: 500)."""
        return await self.run_on_body([], fn, *args)

    async def run_on_body(self, chunks: list[bytes], fn: Callable[..., T], *args: Any) -> T:
        """``fn(b"".join(chunks), *args)`` in a worker (``fn(*args)`` with no chunks)."""
        payload = pickle.dumps((fn, args), protocol=pickle.HIGHEST_PROTOCOL)
        if self._slots is None:
            self._slots = asyncio.Semaphore(self.workers)
        async with self._slots:
            reply = await self._call(payload, chunks)
        ok, value = pickle.loads(reply)
        if ok:
            return value
        raise value

    async def _call(self, payload: bytes, chunks: list[bytes]) -> bytes:
        worker = self._idle.pop() if self._idle else await self._start()
        try:
            reply = await worker.call(payload, chunks)
        except BaseException as exc:  # cancelled mid-call or dead: its pipe is out of step
            self._all.discard(worker)
            await asyncio.shield(worker.stop())
            if isinstance(exc, OSError | asyncio.IncompleteReadError):
                raise status_error(500) from None
            raise
        self._idle.append(worker)
        return reply

    async def _start(self) -> _Worker:
        worker = await _Worker.start()
        self._all.add(worker)
        return worker

    async def close(self) -> None:
        """Kill every worker, busy or idle, and reap it."""
        workers, self._all, self._idle = self._all, set(), []
        await asyncio.gather(*(worker.stop() for worker in workers))
