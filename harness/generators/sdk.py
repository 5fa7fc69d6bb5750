"""The official ``google-genai`` async client under the same semaphore, policy and record.

Optional: :func:`available` is False when the package is not installed. The SDK's own
retries stay off (its default) so that the shared policy is the only one retrying.
"""

from __future__ import annotations

import importlib.util
import json
from typing import Any

from harness.errors import (
    ConnectionFailedError,
    MalformedAnswerError,
    UpstreamError,
    UpstreamTimeoutError,
)
from harness.gemini import (
    Target,
    answer_from_chunks,
    error_from_response,
    parse_generate_response,
)
from harness.generators.base import PlannedRequest, RunContext
from harness.generators.common import (
    Answered,
    GeneratorOptions,
    cumulative_tokens,
    service_time_s,
)
from harness.generators.official import OfficialClientDesign
from harness.recipes import RECIPE_SCHEMA, RecipeRequest, build_prompt


def available() -> bool:
    """True when ``google-genai`` can be imported."""
    return importlib.util.find_spec("google.genai") is not None


def _service_s(response: Any) -> float | None:
    """The service-time header of the SDK's underlying HTTP answer, when it kept one."""
    http = getattr(response, "sdk_http_response", None)
    return service_time_s(getattr(http, "headers", None))


def _mapped(exc: Exception) -> UpstreamError:
    """Map an SDK exception into our tree through the same error parser as the other designs."""
    from google.genai import errors

    if isinstance(exc, errors.APIError):
        body = json.dumps(exc.details if exc.details is not None else {}).encode()
        headers = getattr(getattr(exc, "response", None), "headers", None)  # for Retry-After
        return error_from_response(int(exc.code or 0), headers or {}, body)
    if isinstance(exc, TimeoutError):
        return UpstreamTimeoutError("google-genai call timed out")
    if isinstance(exc, ValueError):  # the SDK could not decode a 200 body
        return MalformedAnswerError(
            f"google-genai could not read the answer: {type(exc).__name__}", status=200
        )
    return ConnectionFailedError(f"google-genai call failed: {type(exc).__name__}")


class SdkGenerator(OfficialClientDesign):
    """Each user is a task calling ``client.aio.models.generate_content``."""

    mode = "sdk"

    def __init__(self, target: Target, options: GeneratorOptions):
        self.concurrency_cap = options.concurrency
        self._target = target
        self._options = options
        self._ready_client: Any = None

    def warm_up(self) -> None:
        """Import google-genai (~1 s) and build the client before the run clock starts."""
        self._ready_client = self._client()

    def _client(self) -> Any:
        from google import genai
        from google.genai import types

        http = types.HttpOptions(
            base_url=self._target.base_url,
            api_version=self._target.api_version,
            # One attempt: the shared policy is the only one retrying. (With aiohttp the SDK
            # otherwise re-sends once after a dropped connection, uncounted.)
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        return genai.Client(api_key=self._target.api_key, http_options=http)

    async def _attempt(
        self, client: Any, planned: PlannedRequest, ctx: RunContext, timeout_s: float
    ) -> Answered:
        from google.genai import types

        config = types.GenerateContentConfig(
            temperature=0.7,
            max_output_tokens=self._options.max_output_tokens,
            response_mime_type="application/json",
            response_schema=RECIPE_SCHEMA,
            http_options=types.HttpOptions(timeout=max(1, int(timeout_s * 1000))),
        )
        recipe_request = planned.recipe_request
        if not isinstance(recipe_request, RecipeRequest):  # CompareSpec.validate refuses it
            raise TypeError("the sdk design sends recipe requests only")
        prompt = build_prompt(recipe_request)
        if self._options.stream:
            return await self._streamed(client, prompt, config, ctx)
        try:
            response = await client.aio.models.generate_content(
                model=self._target.model, contents=prompt, config=config
            )
        except Exception as exc:
            raise _mapped(exc) from None
        first_byte_s = ctx.clock()
        body = response.model_dump_json(exclude_none=True, by_alias=True).encode()
        answer = parse_generate_response(200, {}, body)
        return Answered(answer, 200, first_byte_s, (), _service_s(response))

    async def _streamed(self, client: Any, prompt: str, config: Any, ctx: RunContext) -> Answered:
        """``generate_content_stream``: each chunk timestamped as the SDK yields it."""
        events: list[dict[str, Any]] = []
        marks: list[tuple[float, int]] = []
        service_s = None
        try:
            stream = await client.aio.models.generate_content_stream(
                model=self._target.model, contents=prompt, config=config
            )
            async for response in stream:
                now_s = ctx.clock()
                if not events:
                    service_s = _service_s(response)
                event = response.model_dump(mode="json", exclude_none=True, by_alias=True)
                events.append(event)
                marks.append((now_s, cumulative_tokens(event, marks[-1][1] if marks else 0)))
        except Exception as exc:
            raise _mapped(exc) from None
        first_byte_s = marks[0][0] if marks else None
        return Answered(answer_from_chunks(events), 200, first_byte_s, tuple(marks), service_s)

    async def _close(self, client: Any) -> None:
        await client.aio.aclose()
