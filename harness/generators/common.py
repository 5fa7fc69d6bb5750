"""The one request pipeline every generator drives: build → send → parse, under the policy.

Generators differ only in how they wait and send; this module holds what they share:
turning an HTTP answer into recipes, the static fallback, and the record.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from harness.errors import MalformedAnswerError
from harness.gemini import (
    GeminiAnswer,
    HttpRequest,
    SseDecoder,
    Target,
    answer_from_chunks,
    build_generate_request,
    chunk_from_event,
    error_from_response,
    parse_generate_response,
)
from harness.gemini.answer import candidate_text, first_candidate, recipes_from_text
from harness.gemini.prompt import PromptRequest, text_answer, text_answer_from_events
from harness.generators.base import PlannedRequest, RequestRecord, RunContext, Workload
from harness.generators.transport import HttpResponse, StreamedResponse
from harness.measure.metrics import NO_TOKEN_TIMING, token_timing
from harness.recipes import Recipe, RecipeRequest, fallback_recipes
from harness.resilience.policy import CallResult

log = logging.getLogger("harness.requests")


@dataclass(frozen=True)
class GeneratorOptions:
    """Settings every design reads. ``concurrency`` is the design's cap (workers / semaphore)."""

    concurrency: int
    max_output_tokens: int = 2048
    secondary: bool = False  # async only: try the sync client in a thread before static recipes
    stream: bool = False  # streamGenerateContent?alt=sse: records get TTFT, ITL, TPOT
    text_answers: bool = False  # a data workload (PromptRequest): answers are text, not recipes


_REQUEST_CACHE_SIZE = 1024


class RequestCache:
    """Built requests by recipe request: the JSON body is encoded once per distinct request.

    >>> cache = RequestCache(target, GeneratorOptions(4)); req = cache(planned.recipe_request)
    """

    def __init__(
        self,
        target: Target,
        options: GeneratorOptions,
        build: Callable[..., HttpRequest] = build_generate_request,
    ):
        self._target = target
        self._options = options
        self._build = build  # the protocol's request builder (harness.generators.protocols)
        self._built: dict[RecipeRequest | PromptRequest, HttpRequest] = {}
        self._last: tuple[RecipeRequest | PromptRequest, HttpRequest] | None = None

    def __call__(self, recipe_request: RecipeRequest | PromptRequest) -> HttpRequest:
        last = self._last  # workloads reuse request objects: identity first, no hashing
        if last is not None and last[0] is recipe_request:
            return last[1]
        req = self._built.get(recipe_request)
        if req is None:
            if len(self._built) >= _REQUEST_CACHE_SIZE:
                self._built.clear()  # a workload of all-different requests: stay bounded
            req = self._build(
                self._target,
                recipe_request,
                stream=self._options.stream,
                max_output_tokens=self._options.max_output_tokens,
            )
            self._built[recipe_request] = req
        self._last = (recipe_request, req)
        return req


@dataclass(slots=True)  # read-only; slots, not frozen: built once per request
class Answered:
    """A usable answer and where it came from."""

    answer: GeminiAnswer
    status: int | None
    first_byte_s: float | None
    marks: tuple[tuple[float, int], ...] = ()  # streamed: (clock time, cumulative tokens)
    service_s: float | None = None  # the upstream's own account of its service time, if told


# mock_gemini's header with an answer's injected service time (the real API sends none).
SERVICE_TIME_HEADER = "X-Mock-Service-Time"


def service_time_s(headers: Mapping[str, str] | None) -> float | None:
    """Seconds the upstream says it spent on this answer (``X-Mock-Service-Time``), or None.

    Only ``mock_gemini`` sends it; the bound and the timing error use it (docs/scale.md).
    """
    value = headers.get(SERVICE_TIME_HEADER) if headers else None
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if 0.0 <= seconds < float("inf") else None


def answered(resp: HttpResponse) -> Answered:
    """Parse an HTTP answer into recipes, or raise the mapped :class:`UpstreamError`."""
    if resp.status != 200:
        raise error_from_response(resp.status, resp.headers, resp.body)
    answer = parse_answer(resp.headers, resp.body)
    return Answered(answer, resp.status, resp.first_byte_s, (), service_time_s(resp.headers))


def answered_text(resp: HttpResponse) -> Answered:
    """:func:`answered` for a data workload: the answer is text; MAX_TOKENS ends it normally."""
    if resp.status != 200:
        raise error_from_response(resp.status, resp.headers, resp.body)
    try:
        obj = orjson.loads(resp.body)
    except ValueError:
        obj = None
    if type(obj) is not dict or "error" in obj:
        parse_generate_response(200, resp.headers, resp.body)  # raises the mapped error
        raise MalformedAnswerError("response body is not a JSON object", status=200)
    answer = text_answer(obj)
    return Answered(answer, resp.status, resp.first_byte_s, (), service_time_s(resp.headers))


def parse_answer(headers: Mapping[str, str], body: bytes) -> GeminiAnswer:
    """:func:`parse_generate_response` of a 200, reusing the recipes of an answer text seen before.

    The hot path of every design: the same answer text always gives the same recipes, so
    a mock's repeated answers are validated once (a real model's are all new: no gain, no
    harm). Undecodable or recipe-less answers raise exactly as the protocol module does.
    """
    try:
        # orjson decodes a Gemini answer ~3x faster than json.loads; anything it rejects
        # (NaN, say) takes the general json.loads path below, which decides.
        obj = orjson.loads(body)
    except ValueError:
        obj = None
    if type(obj) is not dict or "error" in obj:
        return parse_generate_response(200, headers, body)  # raises the mapped error
    candidate = first_candidate(obj)  # raises for a blocked or empty answer
    usage = obj.get("usageMetadata")
    if type(usage) is not dict:
        usage = {}
    finish = candidate.get("finishReason")
    finish = finish if type(finish) is str else None
    version = obj.get("modelVersion")
    return GeminiAnswer(
        _recipes(candidate_text(candidate), finish),
        _count(usage.get("promptTokenCount")),
        _count(usage.get("candidatesTokenCount")),
        _count(usage.get("thoughtsTokenCount")),
        finish,
        version if type(version) is str else None,
    )


def _recipes(text: str, finish_reason: str | None) -> tuple[Recipe, ...]:
    # The last answer first: comparing a repeated text costs a memcmp, hashing it for the
    # LRU cache ~4,000 instructions (a new str each time, so its hash is not cached).
    last = _last_recipes[0]
    if last is not None and last[0] == text and last[1] == finish_reason:
        return last[2]
    recipes = _recipes_by_text(text, finish_reason)
    _last_recipes[0] = (text, finish_reason, recipes)  # one assignment: thread-safe
    return recipes


_last_recipes: list[tuple[str, str | None, tuple[Recipe, ...]] | None] = [None]


@functools.lru_cache(maxsize=512)
def _recipes_by_text(text: str, finish_reason: str | None) -> tuple[Recipe, ...]:
    return recipes_from_text(text, finish_reason)  # errors are raised, never cached


def _count(value: object) -> int | None:
    if type(value) is int:
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def answered_stream(resp: StreamedResponse, text: bool = False) -> Answered:
    """Decode an SSE answer piece by piece; each event is stamped with its piece's time.

    Raises the mapped :class:`UpstreamError` for a non-200 answer or an error event.
    """
    if resp.status != 200:
        raise error_from_response(resp.status, resp.headers, resp.body)
    decoder = SseDecoder()
    marks: list[tuple[float, int]] = []
    for time_s, data in resp.pieces:
        _mark(marks, time_s, decoder.feed(data))
    end_s = resp.pieces[-1][0] if resp.pieces else resp.first_byte_s
    _mark(marks, end_s, decoder.flush())
    answer = (text_answer_from_events if text else answer_from_chunks)(decoder.received)
    service_s = service_time_s(resp.headers)
    return Answered(answer, resp.status, resp.first_byte_s, tuple(marks), service_s)


def _mark(marks: list[tuple[float, int]], time_s: float, events: list[dict[str, Any]]) -> None:
    for event in events:
        marks.append((time_s, cumulative_tokens(event, marks[-1][1] if marks else 0)))


def cumulative_tokens(event: Mapping[str, Any], previous: int) -> int:
    """Output tokens so far: the event's cumulative usage, else one per chunk with text."""
    chunk = chunk_from_event(event)
    if chunk.tokens is not None:
        return max(chunk.tokens, previous)
    return previous + (1 if chunk.text else 0)


def static_fallback(req: RecipeRequest | PromptRequest) -> Answered:
    """The last level of the fallback chain: canned recipes (none for a prompt), no network."""
    recipes = () if isinstance(req, PromptRequest) else tuple(fallback_recipes(req))
    answer = GeminiAnswer(recipes, None, None, None, "FALLBACK", None)
    return Answered(answer, None, None)


def to_record(
    planned: PlannedRequest,
    mode: str,
    times_s: tuple[float, float, float],
    result: CallResult[Answered],
) -> RequestRecord:
    """Build the one record of a request from its times (intended, start, end) and result."""
    intended_s, start_s, end_s = times_s
    value = result.value
    answer = value.answer if value is not None else None
    first_byte_s = value.first_byte_s if value is not None else None
    status = value.status if value is not None and value.status is not None else result.status
    marks = value.marks if value is not None else ()
    timing = token_timing(start_s, end_s, marks) if marks else NO_TOKEN_TIMING
    return RequestRecord(
        request_id=planned.request_id,
        user=planned.user,
        mode=mode,
        intended_start_s=intended_s,
        start_s=start_s,
        first_byte_s=first_byte_s,
        end_s=end_s,
        latency_s=end_s - start_s,
        ttft_s=timing.ttft_s,
        outcome=result.outcome,
        status=status,
        error=result.error,
        attempts=result.attempts,
        retry_wait_s=result.retry_wait_s,
        breaker_state_at_start=result.breaker_state_at_start,
        prompt_tokens=answer.prompt_tokens if answer else None,
        output_tokens=answer.output_tokens if answer else None,
        itl_s=timing.itl_s,
        tpot_s=timing.tpot_s,
        output_tps=timing.output_tps,
        service_s=value.service_s if value is not None else None,
    )


def failed_result(exc: BaseException, breaker_state: str) -> CallResult[Answered]:
    """A result for a request whose pipeline broke outside the policy (a bug, not upstream)."""
    return CallResult(None, "failed", 0, 0.0, breaker_state, type(exc).__name__, None)


def emit(record: RequestRecord, ctx: RunContext, in_flight_now: int) -> None:
    """Hand a finished record to the observers and the request log."""
    if log.isEnabledFor(logging.INFO):
        log.info(
            "request done",
            extra={
                "mode": record.mode,
                "request_id": record.request_id,
                "status": record.status,
                "outcome": record.outcome,
                "attempts": record.attempts,
                "latency_s": round(record.latency_s, 6),
                "in_flight": in_flight_now,
            },
        )
    if ctx.on_record is not None:
        ctx.on_record(record)


def _finish(
    planned: PlannedRequest,
    mode: str,
    ctx: RunContext,
    started: tuple[float, float],
    result: CallResult[Answered],
) -> RequestRecord:
    """Stamp the end, record the request, leave the in-flight count, tell the observers."""
    end_s = ctx.clock()
    record = to_record(planned, mode, (*started, end_s), result)
    emit(record, ctx, ctx.in_flight.leave(planned.request_id))
    return record


INTERRUPTED = "Interrupted"  # the error of a request the run stopped (not the upstream)


def interrupted_record(
    planned: PlannedRequest, mode: str, times_s: tuple[float, float, float], breaker: str
) -> RequestRecord:
    """The record of a request an interrupt stopped: failed, error ``Interrupted``."""
    result: CallResult[Answered] = CallResult(None, "failed", 0, 0.0, breaker, INTERRUPTED, None)
    return to_record(planned, mode, times_s, result)


def _stopped(
    planned: PlannedRequest, mode: str, ctx: RunContext, intended_s: float
) -> RequestRecord:
    now_s = ctx.clock()
    record = interrupted_record(planned, mode, (intended_s, now_s, now_s), ctx.policy.breaker.state)
    emit(record, ctx, ctx.in_flight.now)
    return record


def run_one_sync(
    planned: PlannedRequest,
    mode: str,
    ctx: RunContext,
    intended_s: float,
    call: Callable[[], CallResult[Answered]],
) -> RequestRecord:
    """Time one request around ``call`` (which applies the policy) and record it."""
    if ctx.stop.is_set():
        return _stopped(planned, mode, ctx, intended_s)
    start_s = ctx.clock()
    ctx.in_flight.enter((planned, intended_s, start_s))
    try:
        result = call()
    except Exception as exc:  # a bug must still end as one record
        result = failed_result(exc, ctx.policy.breaker.state)
    return _finish(planned, mode, ctx, (intended_s, start_s), result)


async def run_one_async(
    planned: PlannedRequest,
    mode: str,
    ctx: RunContext,
    intended_s: float,
    call: Callable[[], Awaitable[CallResult[Answered]]],
) -> RequestRecord:
    """The async twin of :func:`run_one_sync`."""
    if ctx.stop.is_set():
        return _stopped(planned, mode, ctx, intended_s)
    start_s = ctx.clock()
    ctx.in_flight.enter((planned, intended_s, start_s))
    try:
        result = await call()
    except Exception as exc:  # a bug must still end as one record
        result = failed_result(exc, ctx.policy.breaker.state)
    return _finish(planned, mode, ctx, (intended_s, start_s), result)


async def drive_users_async(
    workload: Workload,
    mode: str,
    cap: int,
    ctx: RunContext,
    call: Callable[[PlannedRequest], Awaitable[CallResult[Answered]]],
) -> list[RequestRecord]:
    """One task per user, each sending its requests in turn; at most ``cap`` in flight."""
    by_user = workload.by_user()
    # With no more users than the cap the semaphore could never make anyone wait.
    semaphore = asyncio.Semaphore(cap) if len(by_user) > cap else None

    async def user(planned_list: list[PlannedRequest]) -> list[RequestRecord]:
        records: list[RequestRecord] = []
        due_s = 0.0  # users arrive at t=0; a later request is due when the previous one ended
        for planned in planned_list:
            send = functools.partial(call, planned)
            if semaphore is None:
                record = await run_one_async(planned, mode, ctx, due_s, send)
            else:
                async with semaphore:
                    record = await run_one_async(planned, mode, ctx, due_s, send)
            due_s = record.end_s
            if ctx.keep_records:
                records.append(record)
        return records

    per_user = await asyncio.gather(*(user(u) for u in by_user))
    return [record for records in per_user for record in records]
