"""The official ``openai`` async client under the same semaphore, policy and record.

The ``sdk`` design of a target whose ``api`` is ``openai``
(:func:`harness.generators.protocols.sdk_generator` picks it). The client's own retries
are off (``max_retries=0``) so that the shared policy is the only one retrying; its
answers and errors go through the same sans-IO functions as the other designs
(:mod:`harness.openai`).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from harness.errors import (
    ConfigError,
    ConnectionFailedError,
    MalformedAnswerError,
    UpstreamError,
    UpstreamTimeoutError,
)
from harness.gemini import Target
from harness.generators.base import PlannedRequest, RunContext
from harness.generators.common import (
    Answered,
    GeneratorOptions,
    service_time_s,
)
from harness.generators.official import OfficialClientDesign
from harness.openai import answer_from_chunks, build_chat_request, cumulative_tokens
from harness.openai.answer import answer_from_completion
from harness.openai.errors import error_from_response, status_of
from harness.recipes import RecipeRequest, build_prompt


def _mapped(exc: Exception) -> UpstreamError:
    """Map an openai exception into our tree through the same error parser."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return UpstreamTimeoutError("openai call timed out")
    if isinstance(exc, openai.APIConnectionError):
        return ConnectionFailedError(f"openai call failed: {type(exc).__name__}")
    if isinstance(exc, openai.APIStatusError):
        return error_from_response(exc.status_code, exc.response.headers, _body(exc))
    if isinstance(exc, openai.APIError):  # an error event inside a stream
        error = exc.body if isinstance(exc.body, dict) else {"message": exc.message}
        return error_from_response(status_of(error), {}, json.dumps({"error": error}).encode())
    if isinstance(exc, TimeoutError):
        return UpstreamTimeoutError("openai call timed out")
    if isinstance(exc, ValueError):
        return MalformedAnswerError(f"openai could not read the answer: {type(exc).__name__}")
    return ConnectionFailedError(f"openai call failed: {type(exc).__name__}")


def _body(exc: Any) -> bytes:
    try:
        content: bytes = exc.response.content
        return content
    except Exception:  # a streamed error answer that was not read: use what the SDK parsed
        return json.dumps({"error": exc.body if exc.body is not None else {}}).encode()


class OpenAISdkGenerator(OfficialClientDesign):
    """Each user is a task calling ``client.chat.completions.create``."""

    mode = "sdk"

    def __init__(self, target: Target, options: GeneratorOptions):
        self.concurrency_cap = options.concurrency
        self._target = target
        self._options = options
        self._ready_client: Any = None
        # The request body the other designs send, as keyword arguments of the client.
        example = build_chat_request(
            target,
            RecipeRequest.example(0),
            stream=options.stream,
            max_output_tokens=options.max_output_tokens,
        )
        fields = json.loads(example.body)
        self._fixed = {k: v for k, v in fields.items() if k != "messages"}

    def warm_up(self) -> None:
        """Import openai and build the client before the run clock starts; also its chat
        resources, which the client imports on first use (~2 s: not the design's time)."""
        client = self._client()
        _ = client.chat.completions.with_raw_response
        self._ready_client = client

    def _client(self) -> Any:
        import openai

        return openai.AsyncOpenAI(
            base_url=self._target.base_url, api_key=self._target.api_key, max_retries=0
        )

    async def _attempt(
        self, client: Any, planned: PlannedRequest, ctx: RunContext, timeout_s: float
    ) -> Answered:
        request = planned.recipe_request
        if not isinstance(request, RecipeRequest):  # data workloads are refused at start
            raise ConfigError("the openai sdk design sends recipe requests only")
        messages = [{"role": "user", "content": build_prompt(request)}]
        kwargs = {**self._fixed, "messages": messages, "timeout": timeout_s}
        try:
            if self._options.stream:
                return await asyncio.wait_for(self._streamed(client, kwargs, ctx), timeout_s)
            raw = await client.chat.completions.with_raw_response.create(**kwargs)
            first_byte_s = ctx.clock()
            completion = raw.parse()
        except Exception as exc:
            raise _mapped(exc) from None
        obj = completion.model_dump(mode="json", exclude_none=True)
        answer = answer_from_completion(obj)
        return Answered(answer, 200, first_byte_s, (), service_time_s(raw.headers))

    async def _streamed(self, client: Any, kwargs: dict[str, Any], ctx: RunContext) -> Answered:
        """``stream=True``: each chunk timestamped as the client yields it."""
        events: list[dict[str, Any]] = []
        marks: list[tuple[float, int]] = []
        stream = await client.chat.completions.create(**kwargs)
        service_s = service_time_s(getattr(getattr(stream, "response", None), "headers", None))
        async with stream:
            async for chunk in stream:
                now_s = ctx.clock()
                event = chunk.model_dump(mode="json", exclude_none=True)
                events.append(event)
                marks.append((now_s, cumulative_tokens(event, marks[-1][1] if marks else 0)))
        first_byte_s = marks[0][0] if marks else None
        return Answered(answer_from_chunks(events), 200, first_byte_s, tuple(marks), service_s)

    async def _close(self, client: Any) -> None:
        await client.close()
