"""Open-loop drivers: requests leave at their scheduled time, whatever the answers do.

The schedule comes from :class:`harness.generators.load.OpenLoad`; each record's
``intended_start_s`` is its scheduled time, so a request that left late carries its
lag (``start_s - intended_start_s``) and its latency from the intended start.

- async: one pacer coroutine sleeps to each absolute time and starts a task;
- threaded: the calling thread is the dispatcher, submitting to the pool once a slot is
  free (a request that waits for one starts late and its lag says so);
- sequential: in order, each at its time or as soon as the previous one ended.

The design's concurrency cap (``--concurrency`` / ``--workers``) and ``max_in_flight``
mean the same in every design: the smaller one (:func:`in_flight_limit`) is a semaphore
the pacer takes BEFORE the request is stamped as sent, so the wait for a slot shows as
schedule lag (and in the latency from the intended start), never as upstream latency,
and no pool (threads, aiohttp connections, the sdk's unlimited connector) queues behind it.

    records = await drive_open_async(load, "async", ctx, call, cap=20)
    records = drive_open_sync(load, ctx, run_one, executor=pool, cap=20)
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Executor, Future, wait

from harness.generators.base import Load, PlannedRequest, RequestRecord, RunContext, Workload
from harness.generators.common import Answered, drive_users_async, run_one_async
from harness.generators.load import OpenLoad
from harness.resilience.policy import CallResult


def in_flight_limit(load: OpenLoad, cap: int | None) -> int | None:
    """How many requests may be in flight: ``cap`` and ``load.max_in_flight``, whichever
    is smaller; None when neither is set.

    >>> in_flight_limit(OpenLoad(10.0, parse_arrival("constant"), 5, max_in_flight=8), 5)
    5
    """
    limits = [n for n in (cap, load.max_in_flight) if n]
    return min(limits) if limits else None


def planned_request(load: OpenLoad, request_id: int) -> PlannedRequest:
    """Open loop has no users: each arrival is its own user, sending once."""
    return PlannedRequest(request_id, request_id, 0, load.recipe_request(request_id))


async def drive_open_async(
    load: OpenLoad,
    mode: str,
    ctx: RunContext,
    call: Callable[[PlannedRequest], Awaitable[CallResult[Answered]]],
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    cap: int | None = None,
) -> list[RequestRecord]:
    """Start each request as a task at its scheduled time (absolute, so no drift builds up),
    once one of :func:`in_flight_limit`'s slots is free."""
    slots = in_flight_limit(load, cap)
    limit = asyncio.Semaphore(slots) if slots else None
    records: list[RequestRecord] = []
    pending: set[asyncio.Task[None]] = set()

    async def one(planned: PlannedRequest, intended_s: float) -> None:
        try:
            record = await run_one_async(
                planned, mode, ctx, intended_s, functools.partial(call, planned)
            )
            if ctx.keep_records:
                records.append(record)
        finally:
            if limit is not None:
                limit.release()

    for request_id, intended_s in load.schedule():
        delay_s = intended_s - ctx.clock()
        if delay_s > 0:
            await sleep(delay_s)
        if limit is not None:
            await limit.acquire()
        task = asyncio.create_task(one(planned_request(load, request_id), intended_s))
        pending.add(task)
        task.add_done_callback(pending.discard)
    while pending:
        await asyncio.gather(*list(pending))
    return records


async def drive_load_async(
    load: Load,
    mode: str,
    cap: int,
    ctx: RunContext,
    call: Callable[[PlannedRequest], Awaitable[CallResult[Answered]]],
) -> list[RequestRecord]:
    """Closed-loop users (``drive_users_async``, at most ``cap`` in flight) or open loop."""
    if isinstance(load, Workload):
        return await drive_users_async(load, mode, cap, ctx, call)
    return await drive_open_async(load, mode, ctx, call, cap=cap)


RunOne = Callable[[PlannedRequest, float], RequestRecord]


def drive_open_sync(
    load: OpenLoad,
    ctx: RunContext,
    run_one: RunOne,
    executor: Executor | None = None,
    sleep: Callable[[float], None] = time.sleep,
    cap: int | None = None,
) -> list[RequestRecord]:
    """Dispatch each request at its time: inline (sequential) or to ``executor`` (threaded),
    once one of :func:`in_flight_limit`'s slots is free (so ``executor`` never queues).

    ``run_one(planned, intended_s)`` sends one request and returns its record.
    """
    slots = in_flight_limit(load, cap)
    limit = threading.BoundedSemaphore(slots) if slots else None
    records: list[RequestRecord] = []
    pending: set[Future[None]] = set()
    lock = threading.Lock()

    def one(planned: PlannedRequest, intended_s: float) -> None:
        try:
            record = run_one(planned, intended_s)
            if ctx.keep_records:
                records.append(record)  # list.append is atomic under the GIL
        finally:
            if limit is not None:
                limit.release()

    def forget(future: Future[None]) -> None:
        with lock:
            pending.discard(future)

    for request_id, intended_s in load.schedule():
        delay_s = intended_s - ctx.clock()
        if delay_s > 0:
            sleep(delay_s)
        if limit is not None:
            limit.acquire()
        planned = planned_request(load, request_id)
        if executor is None:
            one(planned, intended_s)
            continue
        future = executor.submit(one, planned, intended_s)
        with lock:
            pending.add(future)
        future.add_done_callback(forget)
    with lock:
        left = list(pending)
    wait(left)
    return records
