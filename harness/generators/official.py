"""What the two official-client designs share (google-genai, openai): one client per run,
each request one attempt function under the shared policy, static recipes last.

A subclass gives ``_client()`` (built in ``warm_up``, before the clock starts),
``_attempt(client, planned, ctx, timeout_s)`` and ``_close(client)``.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any

from harness.generators.base import Load, PlannedRequest, RequestRecord, RunContext
from harness.generators.common import Answered, static_fallback
from harness.generators.pacing import drive_load_async
from harness.resilience.policy import CallResult


class OfficialClientDesign:
    """The ``sdk`` design's driver; the protocol's client lives in the subclass."""

    mode = "sdk"
    concurrency_cap: int
    _ready_client: Any = None

    def _client(self) -> Any:
        raise NotImplementedError

    async def _attempt(
        self, client: Any, planned: PlannedRequest, ctx: RunContext, timeout_s: float
    ) -> Answered:
        raise NotImplementedError

    async def _close(self, client: Any) -> None:
        raise NotImplementedError

    async def _call(
        self, client: Any, planned: PlannedRequest, *, ctx: RunContext
    ) -> CallResult[Answered]:
        async def static() -> Answered:
            return static_fallback(planned.recipe_request)

        attempt = functools.partial(self._attempt, client, planned, ctx)
        return await ctx.policy.call_async(attempt, fallbacks=[static])

    def run(self, workload: Load, ctx: RunContext) -> list[RequestRecord]:
        return asyncio.run(self._run(workload, ctx))

    async def _run(self, workload: Load, ctx: RunContext) -> list[RequestRecord]:
        client, self._ready_client = self._ready_client or self._client(), None
        try:
            call = functools.partial(self._call, client, ctx=ctx)
            return await drive_load_async(workload, self.mode, self.concurrency_cap, ctx, call)
        finally:
            await self._close(client)

    def close(self) -> None:
        """Nothing to release: each run opens and closes its own client."""
