"""CPU-heavy work in worker processes, so one big request never stalls the event loop.

    offloader = Offloader()
    gen = await offloader.run(decode_and_parse, raw, parse_generate_request, False)
    offloader.close()

JSON decoding of a multi-megabyte body holds the GIL for its whole length (over a second
for 20 MiB of tiny values), so a thread would not help: the mock hands such work to a
small pool of processes, started on first use. The functions and their arguments must be
picklable (module-level functions, plain data); ApiError crosses back as itself.
"""

from __future__ import annotations

import asyncio
import functools
import multiprocessing
import signal
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from mock_gemini.protocol import status_error

T = TypeVar("T")
WORKERS = 2  # one hostile body occupies one worker; the other keeps serving big bodies
OFFLOAD_BODY_BYTES = 256 * 1024  # bodies above this are decoded and parsed in a worker
OFFLOAD_PROMPT_CHARS = 64 * 1024  # prompts above this are answered in a worker


class Offloader:
    """A lazily started pool of ``workers`` processes for pure, CPU-heavy functions."""

    def __init__(self, workers: int = WORKERS) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker; its exceptions re-raised here (a dead worker: 500)."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_ignore_interrupts,
            )  # fmt: skip
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, functools.partial(fn, *args))
        except BrokenProcessPool:
            self.close()  # a worker died (out of memory?): the next call starts a new pool
            raise status_error(500) from None

    def close(self) -> None:
        """Stop the workers once their current call ends; queued calls are dropped."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group: the server decides, workers do not trace back.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
