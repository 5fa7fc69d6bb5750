"""How the service waits for Gemini: the seed's "after", a threaded variant, its "before".

* :class:`AsyncMode`: ``async def`` endpoints, one ``aiohttp.ClientSession`` under an
  ``asyncio.Semaphore(concurrency)``;
* :class:`ThreadedMode`: plain ``def`` endpoints that Starlette runs in its thread pool
  (``workers`` threads), one ``requests.Session`` per thread over one shared pool;
* :class:`BlockingMode`: ``async def`` endpoints calling ``requests`` directly, which
  blocks the event loop: one generation at a time, whatever the load.

Every mode has ``start()``/``close()`` (awaited by the app's lifespan) and
``generate(req)``/``generate_batch(reqs)``, async for AsyncMode, sync for the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

import aiohttp
import anyio.to_thread
import requests

from harness.generators.common import GeneratorOptions
from harness.generators.concurrent import AsyncCaller, new_client_session
from harness.generators.sequential import SyncCaller, new_session
from harness.recipes import RecipeRequest
from harness.service.core import Generation, ServiceCore
from harness.service.settings import ServiceSettings


def _options(settings: ServiceSettings) -> GeneratorOptions:
    return GeneratorOptions(settings.limit, settings.max_output_tokens, settings.secondary)


def generate_sync(
    core: ServiceCore,
    caller: SyncCaller,
    req: RecipeRequest,
    slot: AbstractContextManager[object] | None = None,
) -> Generation:
    """One generation through a ``requests`` session, in the calling thread.

    ``slot`` (e.g. a semaphore) is held around the call; the latency includes its wait.
    """
    planned = core.plan(req)
    started_s = core.clock()
    with slot or contextlib.nullcontext():
        core.enter()
        try:
            result = caller.call(planned, core.ctx)
        except Exception as exc:  # a bug still ends as one failed generation
            return core.broken(planned, exc, started_s)
    return core.finish(planned, result, started_s)


def shared_adapter(pool_size: int) -> requests.adapters.HTTPAdapter:
    """A connection pool for many sessions: at most ``pool_size`` idle connections per host.

    Not blocking: a call finding every pooled connection busy opens one more, which is
    closed (not pooled) when it returns, so idle sockets never exceed ``pool_size``.
    """
    return requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)


def session_on(adapter: requests.adapters.HTTPAdapter) -> requests.Session:
    """A session like :func:`new_session` whose connections live in ``adapter``'s pool.

    >>> session_on(shared_adapter(8)).get_adapter("http://127.0.0.1:9000") is not None
    True
    """
    session = new_session()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class AsyncMode:
    """The seed's "after": non-blocking calls, at most ``concurrency`` in flight."""

    concurrent_batch = True

    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self._session: aiohttp.ClientSession | None = None
        self._caller: AsyncCaller | None = None
        self._semaphore: asyncio.Semaphore | None = None

    async def start(self) -> None:
        settings = self.core.settings
        self._session = new_client_session(settings.concurrency)
        self._caller = AsyncCaller(settings.target, _options(settings), self._session)
        self._semaphore = asyncio.Semaphore(settings.concurrency)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def generate(self, req: RecipeRequest) -> Generation:
        assert self._caller is not None and self._semaphore is not None, "not started"
        core = self.core
        planned = core.plan(req)
        started_s = core.clock()  # the latency includes the wait for the semaphore
        async with self._semaphore:
            core.enter()
            try:
                result = await self._caller.call(planned, core.ctx)
            except Exception as exc:  # a bug still ends as one failed generation
                return core.broken(planned, exc, started_s)
        return core.finish(planned, result, started_s)

    async def generate_batch(self, reqs: list[RecipeRequest]) -> list[Generation]:
        """All at once; one item's exception becomes that item's failure, not the batch's."""
        done = await asyncio.gather(*(self.generate(r) for r in reqs), return_exceptions=True)
        return [
            item if isinstance(item, Generation) else self.core.unstarted(req, item)
            for req, item in zip(reqs, done, strict=True)
        ]


class ThreadedMode:
    """Sync endpoints on ``workers`` threads; a batch fan-out runs on a pool of its own.

    At most ``workers`` generations call upstream at once (a semaphore: the endpoint
    threads and the batch pool together, so ``limit`` holds for batches too). Each thread
    has its own ``requests.Session`` (its own cookies and state), but every session sends
    through one shared adapter whose pool keeps at most ``workers`` connections: upstream
    sockets never exceed ``workers``. Starlette's threads come and go (anyio ends a worker
    idle for 10 s); a session of its own per thread, with its own pool, left one idle
    socket behind for every thread that ended: 157 → 255 → 353 sockets over three bursts.
    """

    concurrent_batch = True

    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self._local = threading.local()
        self._adapter: requests.adapters.HTTPAdapter | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._slots = threading.BoundedSemaphore(core.settings.workers)

    async def start(self) -> None:
        workers = self.core.settings.workers
        # Starlette runs sync endpoints through anyio, whose default limiter has 40 tokens.
        anyio.to_thread.current_default_thread_limiter().total_tokens = workers
        self._adapter = shared_adapter(workers)
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="service-batch")

    async def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        if self._adapter is not None:
            self._adapter.close()  # every pooled upstream connection, whichever thread used it

    def _caller(self) -> SyncCaller:
        caller: SyncCaller | None = getattr(self._local, "caller", None)
        if caller is None:
            assert self._adapter is not None, "not started"
            settings = self.core.settings
            session = session_on(self._adapter)
            caller = SyncCaller(settings.target, _options(settings), session)
            self._local.caller = caller  # dropped with the thread: it holds no socket
        return caller

    def generate(self, req: RecipeRequest) -> Generation:
        return generate_sync(self.core, self._caller(), req, self._slots)

    def generate_batch(self, reqs: list[RecipeRequest]) -> list[Generation]:
        """Each item on the batch pool; one item's exception becomes that item's failure."""
        assert self._pool is not None, "not started"
        futures = [self._pool.submit(self.generate, req) for req in reqs]
        results: list[Generation] = []
        for req, future in zip(reqs, futures, strict=True):
            try:
                results.append(future.result())
            except Exception as exc:
                results.append(self.core.unstarted(req, exc))
        return results


class BlockingMode:
    """The seed's "before": sync calls inside ``async def`` endpoints block the event loop."""

    concurrent_batch = False

    def __init__(self, core: ServiceCore) -> None:
        self.core = core
        self._session: requests.Session | None = None
        self._caller: SyncCaller | None = None

    async def start(self) -> None:
        settings = self.core.settings
        self._session = new_session()
        self._caller = SyncCaller(settings.target, _options(settings), self._session)

    async def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def generate(self, req: RecipeRequest) -> Generation:
        assert self._caller is not None, "not started"
        return generate_sync(self.core, self._caller, req)

    def generate_batch(self, reqs: list[RecipeRequest]) -> list[Generation]:
        """One after another, as the blocking design can only do."""
        results: list[Generation] = []
        for req in reqs:
            try:
                results.append(self.generate(req))
            except Exception as exc:
                results.append(self.core.unstarted(req, exc))
        return results


Mode = AsyncMode | ThreadedMode | BlockingMode
