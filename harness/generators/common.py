"""The one request pipeline every generator drives: build → send → parse, under the policy.

Generators differ only in how they wait and send; this module holds what they share:
turning an HTTP answer into recipes, the static fallback, and the record.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from harness.gemini import GeminiAnswer, error_from_response, parse_generate_response
from harness.generators.base import PlannedRequest, RequestRecord, RunContext, Workload
from harness.recipes import RecipeRequest, fallback_recipes
from harness.resilience.policy import CallResult
from harness.transport import HttpResponse

log = logging.getLogger("harness.requests")


@dataclass(frozen=True)
class GeneratorOptions:
    """Settings every design reads. ``concurrency`` is the design's cap (workers / semaphore)."""

    concurrency: int
    max_output_tokens: int = 2048
    secondary: bool = False  # async only: try the sync client in a thread before static recipes


@dataclass(frozen=True)
class Answered:
    """A usable answer and where it came from."""

    answer: GeminiAnswer
    status: int | None
    first_byte_s: float | None


def answered(resp: HttpResponse) -> Answered:
    """Parse an HTTP answer into recipes, or raise the mapped :class:`UpstreamError`."""
    if resp.status != 200:
        raise error_from_response(resp.status, resp.headers, resp.body)
    answer = parse_generate_response(resp.status, resp.headers, resp.body)
    return Answered(answer, resp.status, resp.first_byte_s)


def static_fallback(req: RecipeRequest) -> Answered:
    """The last level of the fallback chain: canned recipes, no network."""
    answer = GeminiAnswer(tuple(fallback_recipes(req)), None, None, None, "FALLBACK", None)
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
    return RequestRecord(
        request_id=planned.request_id,
        user=planned.user,
        mode=mode,
        intended_start_s=intended_s,
        start_s=start_s,
        first_byte_s=first_byte_s,
        end_s=end_s,
        latency_s=end_s - start_s,
        ttft_s=None,
        outcome=result.outcome,
        status=status,
        error=result.error,
        attempts=result.attempts,
        retry_wait_s=result.retry_wait_s,
        breaker_state_at_start=result.breaker_state_at_start,
        prompt_tokens=answer.prompt_tokens if answer else None,
        output_tokens=answer.output_tokens if answer else None,
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


def run_one_sync(
    planned: PlannedRequest,
    mode: str,
    ctx: RunContext,
    intended_s: float,
    call: Callable[[], CallResult[Answered]],
) -> RequestRecord:
    """Time one request around ``call`` (which applies the policy) and record it."""
    ctx.in_flight.enter()
    start_s = ctx.clock()
    try:
        result = call()
    except Exception as exc:  # a bug must still end as one record
        result = failed_result(exc, ctx.policy.breaker.state)
    end_s = ctx.clock()
    record = to_record(planned, mode, (intended_s, start_s, end_s), result)
    emit(record, ctx, ctx.in_flight.leave())
    return record


async def run_one_async(
    planned: PlannedRequest,
    mode: str,
    ctx: RunContext,
    intended_s: float,
    call: Callable[[], Awaitable[CallResult[Answered]]],
) -> RequestRecord:
    """The async twin of :func:`run_one_sync`."""
    ctx.in_flight.enter()
    start_s = ctx.clock()
    try:
        result = await call()
    except Exception as exc:  # a bug must still end as one record
        result = failed_result(exc, ctx.policy.breaker.state)
    end_s = ctx.clock()
    record = to_record(planned, mode, (intended_s, start_s, end_s), result)
    emit(record, ctx, ctx.in_flight.leave())
    return record


async def drive_users_async(
    workload: Workload,
    mode: str,
    cap: int,
    ctx: RunContext,
    call: Callable[[PlannedRequest], Awaitable[CallResult[Answered]]],
) -> list[RequestRecord]:
    """One task per user, each sending its requests in turn; at most ``cap`` in flight."""
    semaphore = asyncio.Semaphore(cap)

    async def user(planned_list: list[PlannedRequest]) -> list[RequestRecord]:
        records: list[RequestRecord] = []
        due_s = 0.0  # users arrive at t=0; a later request is due when the previous one ended
        for planned in planned_list:
            async with semaphore:
                record = await run_one_async(
                    planned, mode, ctx, due_s, functools.partial(call, planned)
                )
            due_s = record.end_s
            records.append(record)
        return records

    per_user = await asyncio.gather(*(user(u) for u in workload.by_user()))
    return [record for records in per_user for record in records]
