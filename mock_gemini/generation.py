"""The generation pipeline: schedule, quota, capacity, fault, then the timed answer.

One function serves generateContent, both streamGenerateContent forms and the OpenAI chat
route; the ``Shaper`` builds the JSON objects and the ``Framing`` frames them::

    shaper = GeminiShaper("gemini-2.5-flash", state.response_id())
    response = await serve_generation(state, request, gen, key, "gemini-2.5-flash", shaper, SSE)
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web

from mock_gemini.capacity import CapacityFull
from mock_gemini.content import (
    CACHED_TEXT_CHARS,
    Answer,
    compose_answer,
    compose_uncached,
    finish_text,
    split_text,
)
from mock_gemini.faults import FaultKind
from mock_gemini.latency import GenerationPlan, plan_generation
from mock_gemini.parsing import GenerateRequest
from mock_gemini.peers import pad_answer
from mock_gemini.protocol import JSON_CONTENT_TYPE, ApiError, quota_error, status_error
from mock_gemini.quotas import REQUESTS_METRIC, RPM_QUOTA_ID
from mock_gemini.state import MockState
from mock_gemini.tools import FunctionCall, calls_tokens, function_calls

FAULT_RETRY_DELAY_S = 1.0  # RetryInfo of an injected (random) 429: it is transient
_FREE_TIER_RPM = 10
PLAN_CACHE_SIZE = 4096


class Shaper(Protocol):
    """Builds the answer objects of one response (Gemini or OpenAI shaped)."""

    def full(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]: ...

    def full_body(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> bytes: ...

    def chunk(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]: ...

    def calls(
        self, calls: tuple[FunctionCall, ...], prompt: int, candidates: int, thoughts: int
    ) -> list[dict[str, Any]]: ...

    def calls_full(
        self, calls: tuple[FunctionCall, ...], prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Framing:
    """How stream chunks are framed on the wire."""

    content_type: str
    opening: bytes
    first_prefix: bytes
    next_prefix: bytes
    suffix: bytes
    closing: bytes
    closing_after_error: bytes

    def frame(self, obj: Any, first: bool) -> bytes:
        prefix = self.first_prefix if first else self.next_prefix
        return prefix + json.dumps(obj).encode() + self.suffix


SSE = Framing("text/event-stream", b"", b"data: ", b"data: ", b"\r\n\r\n", b"", b"")
ARRAY = Framing(JSON_CONTENT_TYPE, b"[", b"", b",\r\n", b"", b"]", b"]")
OPENAI_SSE = Framing(
    "text/event-stream", b"", b"data: ", b"data: ", b"\n\n", b"data: [DONE]\n\n", b""
)
_JSON_HEADERS = {"Content-Type": JSON_CONTENT_TYPE}
# The injected service time of an answer (seconds the mock spent on it, queueing excluded).
# The real API never sends it; the harness reads it to compute a true lower bound on a run's
# makespan and each request's timing error (docs/mock-gemini.md, "Service-time header").
SERVICE_TIME_HEADER = "X-Mock-Service-Time"


def _service_headers(base: dict[str, str], plan: GenerationPlan) -> dict[str, str]:
    return {**base, SERVICE_TIME_HEADER: f"{plan.total_s:.6f}"}


class ConnectionDropped(Exception):
    """The mock closed the connection on purpose ("reset" or "cut"), for the stats."""

    def __init__(self, outcome: str) -> None:
        super().__init__(outcome)
        self.outcome = outcome


@dataclass
class Job:
    """One generation request, decided: what to say, when, and which fault (if any)."""

    request: web.Request
    shaper: Shaper
    framing: Framing | None
    answer: Answer
    plan: GenerationPlan
    prompt_tokens: int
    thoughts: int
    hang_s: float = 0.0


async def serve_generation(
    state: MockState,
    request: web.Request,
    gen: GenerateRequest,
    key: str,
    model: str,
    shaper: Shaper,
    framing: Framing | None,
) -> web.StreamResponse:
    """Answer one generation request, or raise ApiError / ConnectionDropped."""
    state.prompts.append(gen.prompt_text)
    schedule = state.schedule_now()
    if schedule.outage_status is not None:
        raise _status_fault(schedule.outage_status, model, state)
    denial = state.quotas.admit(key, model, gen.prompt_tokens, state.clock())
    if denial is not None:
        raise quota_error(
            metric=denial.metric,
            quota_id=denial.quota_id,
            limit=denial.limit,
            model=model,
            retry_delay_s=denial.retry_delay_s,
        )
    if state.limiter.max_concurrency is None:
        return await _answer(state, request, gen, model, shaper, framing, schedule.slow_factor)
    try:
        async with state.limiter.slot():
            return await _answer(state, request, gen, model, shaper, framing, schedule.slow_factor)
    except CapacityFull:
        raise status_error(503) from None


async def _answer(
    state: MockState,
    request: web.Request,
    gen: GenerateRequest,
    model: str,
    shaper: Shaper,
    framing: Framing | None,
    slow_factor: float,
) -> web.StreamResponse:
    config = state.config
    fault = state.picker.pick()
    seed = config.seed if gen.seed is None else config.seed * 1_000_003 + gen.seed
    answer = pad_answer(await _compose(state, gen, model, seed), gen.min_output_tokens)
    if fault is FaultKind.SAFETY:
        answer = Answer("", 0, "SAFETY")
    thoughts = _thoughts(config.thinking_tokens, gen.thinking_budget)
    plan = _plan(state, answer.output_tokens, thoughts, slow_factor)
    job = Job(
        request, shaper, framing, answer, plan, gen.prompt_tokens, thoughts, config.hang_max_s
    )
    if fault is None or fault is FaultKind.SAFETY:
        return await (deliver_stream(job) if framing else deliver_json(job))
    return await _FAULTS[fault](job, model, state)


async def _compose(state: MockState, gen: GenerateRequest, model: str, seed: int) -> Answer:
    """Function calls when the tools call for them, else a template's text, else the model's.

    A big schema answer is composed in a worker process, long prompts are not cached.
    """
    config = state.config
    if gen.tools is not None:
        calls = function_calls(gen.tools, gen.prompt_text, seed, config.auto_call_rate)
        if calls:
            return Answer("", calls_tokens(calls), "STOP", calls)
    if config.templates.templates:  # a tuple test: no call when none are configured
        text = config.templates.render(gen.prompt_text, model)
        if text is not None:
            return finish_text(text, gen.max_output_tokens, gen.stop_sequences)
    json_mode = (gen.response_mime_type or "").startswith("application/json")
    schema = gen.schema_json if json_mode else None
    args = (gen.prompt_text, seed, json_mode, schema, gen.max_output_tokens, gen.stop_sequences,
            config.fill_max_tokens)  # fmt: skip
    if gen.heavy:  # a big schema answer: composed in a worker, not cached
        answer: Answer = await state.offloader.run(compose_uncached, *args)
        return answer
    if len(gen.prompt_text) > CACHED_TEXT_CHARS:
        return compose_uncached(*args)
    return compose_answer(*args)


def _plan(
    state: MockState, output_tokens: int, thoughts: int, slow_factor: float
) -> GenerationPlan:
    config = state.config
    if config.latency.kind != "fixed":
        return plan_generation(
            config.latency, config.tokens_per_s, output_tokens, thoughts, state.rng, slow_factor
        )
    # A fixed latency draws nothing from the rng: the plan depends on these inputs only.
    key = (output_tokens, thoughts, slow_factor)
    plan = state.fixed_plans.get(key)
    if plan is None:
        plan = plan_generation(
            config.latency, config.tokens_per_s, output_tokens, thoughts, state.rng, slow_factor
        )
        if len(state.fixed_plans) >= PLAN_CACHE_SIZE:
            state.fixed_plans.clear()
        state.fixed_plans[key] = plan
    return plan


def _thoughts(configured: int, budget: int | None) -> int:
    # A request may cap thinking (thinkingBudget 0 turns it off); -1 means "dynamic".
    if budget is None or budget < 0:
        return configured
    return min(configured, budget)


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


def _text(answer: Answer) -> str | None:
    return None if answer.finish_reason == "SAFETY" else answer.text


async def deliver_json(job: Job) -> web.StreamResponse:
    """The whole answer after ``plan.total_s``."""
    await _sleep(job.plan.total_s)
    return web.Response(body=_full_body(job), headers=_service_headers(_JSON_HEADERS, job.plan))


async def _start_stream(job: Job) -> web.StreamResponse:
    assert job.framing is not None
    await _sleep(job.plan.ttft_s)
    headers = _service_headers({"Content-Type": job.framing.content_type}, job.plan)
    response = web.StreamResponse(headers=headers)
    await response.prepare(job.request)
    if job.framing.opening:
        await response.write(job.framing.opening)
    return response


def _chunks(job: Job) -> list[dict[str, Any]]:
    answer, plan = job.answer, job.plan
    if answer.calls:
        return job.shaper.calls(answer.calls, job.prompt_tokens, answer.output_tokens, job.thoughts)
    sizes = [tokens for _, tokens in plan.chunks]
    pieces = split_text(answer.text, sizes)
    objects: list[dict[str, Any]] = []
    sent = 0
    for index, (piece, size) in enumerate(zip(pieces, sizes, strict=True)):
        sent += size
        last = index == len(sizes) - 1
        finish = answer.finish_reason if last else None
        text = None if answer.finish_reason == "SAFETY" else piece
        objects.append(job.shaper.chunk(text, finish, job.prompt_tokens, sent, job.thoughts))
    return objects


async def deliver_stream(job: Job, stop_after: int | None = None) -> web.StreamResponse:
    """Chunks at the plan's pace; ``stop_after`` N chunks leaves the stream open (faults)."""
    assert job.framing is not None
    framing = job.framing
    response = await _start_stream(job)
    objects = _chunks(job)
    calls = bool(job.answer.calls)
    for index, obj in enumerate(objects[:stop_after]):
        if calls and index == 0:  # a call is sent whole, once it is all "generated"
            await _sleep(job.plan.total_s - job.plan.ttft_s)
        elif index and not calls:
            await _sleep(job.plan.chunks[index][0])
        await response.write(framing.frame(obj, index == 0))
    if stop_after is None:
        if framing.closing:
            await response.write(framing.closing)
        await response.write_eof()
    return response


# ---- faults --------------------------------------------------------------------------------


def _status_fault(code: int, model: str, state: MockState) -> ApiError:
    if code != 429:
        return status_error(code)
    return quota_error(
        metric=REQUESTS_METRIC,
        quota_id=RPM_QUOTA_ID,
        limit=state.config.quotas.rpm or _FREE_TIER_RPM,
        model=model,
        retry_delay_s=FAULT_RETRY_DELAY_S,
    )


def _drop(request: web.Request, outcome: str) -> ConnectionDropped:
    """Close the connection: "reset" with a TCP RST, "cut" with a plain close."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if outcome == "reset" and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        else:
            transport.close()
    return ConnectionDropped(outcome)


async def _fail_status(job: Job, model: str, state: MockState, code: int) -> web.StreamResponse:
    await _sleep(job.plan.ttft_s)
    raise _status_fault(code, model, state)


async def _hang(job: Job, model: str, state: MockState) -> web.StreamResponse:
    await _sleep(job.hang_s)  # the client normally gives up first (and cancels us)
    raise status_error(504)


async def _reset(job: Job, model: str, state: MockState) -> web.StreamResponse:
    await _sleep(job.plan.ttft_s)
    raise _drop(job.request, "reset")


async def _stream_error(job: Job, model: str, state: MockState) -> web.StreamResponse:
    if job.framing is None:
        return await _fail_status(job, model, state, 500)
    response = await deliver_stream(job, stop_after=1)
    await response.write(job.framing.frame(status_error(500).body(), first=False))
    await response.write(job.framing.closing_after_error)
    await response.write_eof()
    return response


async def _stream_cut(job: Job, model: str, state: MockState) -> web.StreamResponse:
    if job.framing is not None:
        await deliver_stream(job, stop_after=1)
        raise _drop(job.request, "cut")
    await _sleep(job.plan.total_s)
    body = _full_body(job)
    response = web.StreamResponse(headers=_JSON_HEADERS)
    response.content_length = len(body)
    await response.prepare(job.request)
    await response.write(body[: len(body) // 2])
    raise _drop(job.request, "cut")


def _full_body(job: Job) -> bytes:
    answer = job.answer
    if answer.calls:
        tokens = (job.prompt_tokens, answer.output_tokens, job.thoughts)
        return json.dumps(job.shaper.calls_full(answer.calls, *tokens)).encode()
    return job.shaper.full_body(
        _text(answer), answer.finish_reason, job.prompt_tokens, answer.output_tokens, job.thoughts
    )


async def _malformed(job: Job, model: str, state: MockState) -> web.StreamResponse:
    body = _full_body(job)
    broken = body[: max(1, len(body) // 2)]  # a 200 whose body is not JSON
    if job.framing is None:
        await _sleep(job.plan.total_s)
        return web.Response(body=broken, headers=_JSON_HEADERS)
    response = await _start_stream(job)
    await response.write(job.framing.first_prefix + broken + job.framing.suffix)
    await response.write(job.framing.closing)
    await response.write_eof()
    return response


def _status(code: int) -> Callable[[Job, str, MockState], Awaitable[web.StreamResponse]]:
    async def fail(job: Job, model: str, state: MockState) -> web.StreamResponse:
        return await _fail_status(job, model, state, code)

    return fail


_FAULTS: dict[FaultKind, Callable[[Job, str, MockState], Awaitable[web.StreamResponse]]] = {
    FaultKind.RATE_LIMIT: _status(429),
    FaultKind.INTERNAL: _status(500),
    FaultKind.UNAVAILABLE: _status(503),
    FaultKind.DEADLINE: _status(504),
    FaultKind.HANG: _hang,
    FaultKind.RESET: _reset,
    FaultKind.STREAM_ERROR: _stream_error,
    FaultKind.STREAM_CUT: _stream_cut,
    FaultKind.MALFORMED: _malformed,
}
