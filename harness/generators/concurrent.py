"""The seed's "after": one ``aiohttp.ClientSession`` under an ``asyncio.Semaphore``."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable

import aiohttp

from harness.gemini import HttpRequest, Target
from harness.generators.base import Load, PlannedRequest, RequestRecord, RunContext
from harness.generators.common import (
    Answered,
    GeneratorOptions,
    RequestCache,
    static_fallback,
)
from harness.generators.pacing import drive_load_async
from harness.generators.protocols import protocol_for, readers
from harness.generators.sequential import new_session
from harness.generators.transport import (
    Clock,
    send_async_stream,
    send_async_then,
    send_sync,
    send_sync_stream,
)
from harness.resilience.policy import CallResult


def new_client_session(concurrency: int) -> aiohttp.ClientSession:
    """A session whose connector holds as many connections as the semaphore admits."""
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    return aiohttp.ClientSession(connector=connector)


class AsyncCaller:
    """One request through one ``aiohttp.ClientSession`` under the run's policy."""

    def __init__(self, target: Target, options: GeneratorOptions, session: aiohttp.ClientSession):
        self.target = target
        self.options = options
        self.session = session
        self.protocol = protocol_for(target)  # Gemini or OpenAI: chosen once
        self._plain, self._stream = readers(self.protocol, options.text_answers)
        self._request = RequestCache(target, options, self.protocol.build)

    async def call(self, planned: PlannedRequest, ctx: RunContext) -> CallResult[Answered]:
        req = self._request(planned.recipe_request)
        attempt: Callable[[float], Awaitable[Answered]]
        if self.options.stream:
            attempt = functools.partial(self._streamed, req, ctx.clock)
        else:  # the hot path: the policy awaits send_async_then itself
            attempt = functools.partial(
                send_async_then, self.session, req, clock=ctx.clock, then=self._plain
            )
        fallbacks = [functools.partial(self._secondary, req, ctx)] if self.options.secondary else []
        fallbacks.append(functools.partial(self._static, planned))
        # aiohttp's total timeout bounds each attempt: no second timer (self_bounded).
        return await ctx.policy.call_async(attempt, fallbacks=fallbacks, self_bounded=True)

    async def _streamed(self, req: HttpRequest, clock: Clock, timeout_s: float) -> Answered:
        resp = await send_async_stream(self.session, req, timeout_s, clock)
        return self._stream(resp)

    async def _secondary(self, req: HttpRequest, ctx: RunContext) -> Answered:
        # The seed's second level: the sync client in a worker thread, one attempt. It goes
        # to the same upstream, so it asks the same breaker and counts as an attempt.
        def attempt(timeout_s: float) -> Answered:
            with new_session() as session:
                if self.options.stream:
                    resp = send_sync_stream(session, req, timeout_s, ctx.clock)
                    return self._stream(resp)
                return self._plain(send_sync(session, req, timeout_s, ctx.clock))

        return await asyncio.to_thread(ctx.policy.guarded_once, attempt)

    async def _static(self, planned: PlannedRequest) -> Answered:
        return static_fallback(planned.recipe_request)


class AsyncGenerator:
    """Each user is a task; at most ``options.concurrency`` (``--concurrency``) in flight."""

    mode = "async"

    def __init__(self, target: Target, options: GeneratorOptions):
        self.concurrency_cap = options.concurrency
        self._target = target
        self._options = options

    def run(self, workload: Load, ctx: RunContext) -> list[RequestRecord]:
        return asyncio.run(self.run_async(workload, ctx))

    async def run_async(self, workload: Load, ctx: RunContext) -> list[RequestRecord]:
        async with new_client_session(self.concurrency_cap) as session:
            caller = AsyncCaller(self._target, self._options, session)
            call = functools.partial(caller.call, ctx=ctx)
            return await drive_load_async(workload, self.mode, self.concurrency_cap, ctx, call)

    def close(self) -> None:
        """Nothing to release: each run opens and closes its own session."""
