"""The seed's "after": one ``aiohttp.ClientSession`` under an ``asyncio.Semaphore``."""

from __future__ import annotations

import asyncio
import functools

import aiohttp

from harness.gemini import HttpRequest, Target, build_generate_request
from harness.generators.base import PlannedRequest, RequestRecord, RunContext, Workload
from harness.generators.common import (
    Answered,
    GeneratorOptions,
    answered,
    drive_users_async,
    static_fallback,
)
from harness.generators.sequential import new_session
from harness.resilience.policy import CallResult
from harness.transport import send_async, send_sync


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

    async def call(self, planned: PlannedRequest, ctx: RunContext) -> CallResult[Answered]:
        req = build_generate_request(
            self.target, planned.recipe_request, max_output_tokens=self.options.max_output_tokens
        )

        async def attempt(timeout_s: float) -> Answered:
            return answered(await send_async(self.session, req, timeout_s, ctx.clock))

        fallbacks = [functools.partial(self._secondary, req, ctx)] if self.options.secondary else []
        fallbacks.append(functools.partial(self._static, planned))
        return await ctx.policy.call_async(attempt, fallbacks=fallbacks)

    async def _secondary(self, req: HttpRequest, ctx: RunContext) -> Answered:
        # The seed's second level: the sync client in a worker thread, one attempt.
        def blocking() -> Answered:
            with new_session() as session:
                timeout_s = ctx.policy.config.attempt_timeout_s
                return answered(send_sync(session, req, timeout_s, ctx.clock))

        return await asyncio.to_thread(blocking)

    async def _static(self, planned: PlannedRequest) -> Answered:
        return static_fallback(planned.recipe_request)


class AsyncGenerator:
    """Each user is a task; at most ``options.concurrency`` (``--concurrency``) in flight."""

    mode = "async"

    def __init__(self, target: Target, options: GeneratorOptions):
        self.concurrency_cap = options.concurrency
        self._target = target
        self._options = options

    def run(self, workload: Workload, ctx: RunContext) -> list[RequestRecord]:
        return asyncio.run(self.run_async(workload, ctx))

    async def run_async(self, workload: Workload, ctx: RunContext) -> list[RequestRecord]:
        async with new_client_session(self.concurrency_cap) as session:
            caller = AsyncCaller(self._target, self._options, session)
            call = functools.partial(caller.call, ctx=ctx)
            return await drive_users_async(workload, self.mode, self.concurrency_cap, ctx, call)

    def close(self) -> None:
        """Nothing to release: each run opens and closes its own session."""
