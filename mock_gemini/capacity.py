"""A concurrency cap with a bounded FIFO queue: the mock's model of upstream capacity.

limiter = CapacityLimiter(max_concurrency=2, max_queue=10)
async with limiter.slot():      # waits its turn; raises CapacityFull if 10 already wait
    ...                         # at most 2 requests are in here at once
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from mock_gemini.config_error import MockConfigError


class CapacityFull(Exception):
    """The queue is full: the server answers 503 overloaded at once."""


class CapacityLimiter:
    """At most ``max_concurrency`` holders at once; up to ``max_queue`` more wait in order.

    ``None`` means unlimited. ``in_use`` counts holders, ``queued`` counts waiters.
    """

    def __init__(self, max_concurrency: int | None, max_queue: int | None) -> None:
        if max_concurrency is not None and max_concurrency < 1:
            raise MockConfigError(f"max_concurrency must be ≥ 1, got {max_concurrency}")
        if max_queue is not None and max_queue < 0:
            raise MockConfigError(f"max_queue must be ≥ 0, got {max_queue}")
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.in_use = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def queued(self) -> int:
        """How many callers wait for a slot."""
        return len(self._waiters)

    def slot(self) -> AbstractAsyncContextManager[None]:
        """Hold one slot for the ``async with`` body; raises CapacityFull without waiting."""
        return self._slot()

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        await self._acquire()
        try:
            yield
        finally:
            self._release()

    async def _acquire(self) -> None:
        limit = self.max_concurrency
        if limit is None or (self.in_use < limit and not self._waiters):
            self.in_use += 1
            return
        if self.max_queue is not None and len(self._waiters) >= self.max_queue:
            raise CapacityFull(
                f"{self.in_use} requests in flight (max {limit}) and "
                f"{len(self._waiters)} queued (max {self.max_queue})"
            )
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # The slot was handed over just as we were cancelled: pass it on.
            else:
                self._waiters.remove(waiter)
            raise

    def _release(self) -> None:
        # Hand the slot straight to the oldest waiter, so newcomers cannot jump the queue.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.in_use -= 1
