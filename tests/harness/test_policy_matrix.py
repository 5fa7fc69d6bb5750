"""One policy, identical in every design: each design × each upstream behaviour → the same
outcome, attempt count and latency class.

The upstream is a scripted aiohttp server on 127.0.0.1 (port 0, its own thread and loop):
each case says what the n-th request to it gets (an answer, a late answer, a trickling
body or stream, a 429, a 503), and the server counts what reached it (arrival times,
requests in flight and their peak). Margins are generous: 2 shared, noisy cores.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

from harness.gemini import Target
from harness.generators import REGISTRY
from harness.generators.base import Load, RequestRecord, RunContext, Workload
from harness.generators.common import GeneratorOptions
from harness.generators.load import OpenLoad, parse_arrival
from harness.recipes import RecipeRequest, fallback_recipes
from harness.resilience import ResilienceConfig, ResiliencePolicy

MODES = [pytest.param(m, id=m) for m in ("sequential", "threaded", "async", "sdk") if m in REGISTRY]
TIMEOUT_S = 1.0  # the attempt timeout of the timeout cases (the user's --timeout 1)
SLOW_S = 4.0  # how long a slow upstream would go on if nobody cut it
RETRY_IN_S = 1.4  # the 429's message; its RetryInfo says "1s"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# (n, since_first_s): the n-th request (from 0), arriving since_first_s after the first
# one → how it is answered
Script = Callable[[int, float], Handler]

# ---- the scripted upstream ----------------------------------------------------------------

TEXT = json.dumps([r.to_json() for r in fallback_recipes(RecipeRequest.example(0))])


def _chunk(text: str, finish: str | None = None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish is not None:
        candidate["finishReason"] = finish
    usage = {"promptTokenCount": 40, "candidatesTokenCount": 20, "totalTokenCount": 60}
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash"}


def _sse(obj: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(obj).encode() + b"\r\n\r\n"


async def _stream(request: web.Request, pieces: list[str], gap_s: float) -> web.StreamResponse:
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await resp.prepare(request)
    for i, piece in enumerate(pieces):
        await resp.write(_sse(_chunk(piece, "STOP" if i == len(pieces) - 1 else None)))
        await asyncio.sleep(gap_s)
    await resp.write_eof()
    return resp


def answer(delay_s: float = 0.0) -> Handler:
    """A whole answer (JSON, or SSE for a stream request) after ``delay_s``."""

    async def handle(request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(delay_s)
        if "streamGenerateContent" in request.path:
            return await _stream(request, [TEXT[:20], TEXT[20:]], 0.0)
        return web.json_response(_chunk(TEXT, "STOP"))

    return handle


async def gzipped(request: web.Request) -> web.StreamResponse:
    """A whole answer, gzip-compressed as the real API sends it (the body is read raw)."""
    resp = web.json_response(_chunk(TEXT, "STOP"))
    resp.enable_compression(web.ContentCoding.gzip)
    return resp


async def trickle_body(request: web.Request) -> web.StreamResponse:
    """Headers at once, then a non-streamed body a few bytes at a time for SLOW_S."""
    body = json.dumps(_chunk(TEXT, "STOP")).encode()
    resp = web.StreamResponse(headers={"Content-Type": "application/json"})
    resp.content_length = len(body)
    await resp.prepare(request)
    step = len(body) // 16 + 1
    for start in range(0, len(body), step):
        await resp.write(body[start : start + step])
        await asyncio.sleep(SLOW_S / 16)
    return resp


async def trickle_stream(request: web.Request) -> web.StreamResponse:
    """An SSE stream that keeps sending an event every SLOW_S/16 s for SLOW_S."""
    step = len(TEXT) // 16 + 1
    return await _stream(request, [TEXT[i : i + step] for i in range(0, len(TEXT), step)], 0.25)


def error(status: int, message: str, *details: dict[str, Any]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        body = {"error": {"code": status, "message": message, "details": list(details)}}
        return web.json_response(body, status=status)

    return handle


QUOTA_429 = error(
    429,
    f"You exceeded your current quota. Please retry in {RETRY_IN_S}s.",
    {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"},
)
OVERLOADED_503 = error(503, "The model is overloaded. Please try again later.")


def quota_for(window_s: float) -> Script:
    """429 (RetryInfo "1s", message "retry in 1.4s") until ``window_s`` after the first
    request, then answers: a retry after RetryInfo's rounded-down 1 s fails again."""
    return lambda n, since_first_s: QUOTA_429 if since_first_s < window_s else answer()


class ScriptedUpstream:
    """An aiohttp server in its own thread; ``play(script)`` sets what the next requests get."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._script: Script = lambda n, since_first_s: answer()
        self.arrivals_s: list[float] = []  # time.perf_counter() of each request's arrival
        self.in_flight = 0
        self.peak = 0
        self._runner: web.AppRunner | None = None

    def start(self) -> str:
        self._thread.start()
        return asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)

    async def _start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # A client that gave up disconnects: cancel its handler, as a real server stops.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        return f"http://{host}:{port}"

    def play(self, script: Script) -> None:
        self._script = script
        self.arrivals_s = []
        self.peak = self.in_flight

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        n = len(self.arrivals_s)
        self.arrivals_s.append(time.perf_counter())
        since_first_s = self.arrivals_s[-1] - self.arrivals_s[0]
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            return await self._script(n, since_first_s)(request)
        finally:
            self.in_flight -= 1

    def stop(self) -> None:
        if self._runner is not None:
            cleanup = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
            cleanup.result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


@pytest.fixture(scope="module")
def upstream() -> Iterator[tuple[ScriptedUpstream, str]]:
    server = ScriptedUpstream()
    url = server.start()
    yield server, url
    server.stop()


# ---- running a design -----------------------------------------------------------------------


def policy_config(**table: Any) -> ResilienceConfig:
    return ResilienceConfig.from_mapping(table, "test")


def trip_breaker(policy: ResiliencePolicy) -> None:
    """Open the breaker before the run: failures up to its minimum."""
    for _ in range(policy.config.breaker.minimum_calls):
        permit = policy.breaker.acquire()
        assert permit is not None
        policy.breaker.record(permit, success=False, duration_s=0.0)
    assert policy.breaker.state == "open"


@dataclass
class Ran:
    records: list[RequestRecord]
    ctx: RunContext
    t0: float  # time.perf_counter() at the run clock's zero


def run_design(
    mode: str,
    url: str,
    config: ResilienceConfig,
    load: Load,
    *,
    cap: int = 1,
    stream: bool = False,
    before: Callable[[ResiliencePolicy], None] | None = None,
) -> Ran:
    """One design's run on a fresh policy and clock (set-up such as the sdk's import first)."""
    generator = REGISTRY[mode](Target(url, "test-key"), GeneratorOptions(cap, stream=stream))
    try:
        warm_up = getattr(generator, "warm_up", None)
        if warm_up is not None:
            warm_up()
        t0 = time.perf_counter()

        def clock() -> float:
            return time.perf_counter() - t0

        policy = ResiliencePolicy(config, clock=clock)
        if before is not None:
            before(policy)
        ctx = RunContext(clock, policy)
        records = generator.run(load, ctx)
    finally:
        generator.close()
    assert sorted(r.request_id for r in records) == list(range(load.total))
    return Ran(records, ctx, t0)


# ---- one request, one behaviour: the same result in every design --------------------------


@dataclass(frozen=True)
class Case:
    script: Script
    config: ResilienceConfig
    outcome: str
    attempts: int
    error: str | None
    latency_s: tuple[float, float]  # the latency class: [low, high]
    upstream_requests: int
    stream: bool = False
    users: int = 1
    before: Callable[[ResiliencePolicy], None] | None = None
    retry_gap_s: float = 0.0  # the upstream saw consecutive attempts at least this far apart


NO_BREAKER = {"enabled": False}


def retrying(attempts: int, **table: Any) -> ResilienceConfig:
    """No breaker, no jitter, no budget: ``attempts`` tries 0.05 s apart (``table`` overrides)."""
    retry = {"max_attempts": attempts, "base_s": 0.05, "jitter": "none", "budget_ratio": "none"}
    base = {"attempt_timeout_s": 5.0, "deadline_s": 10.0, "fallback": False}
    return policy_config(**(base | table), retry=retry, breaker=NO_BREAKER)


def always(handler: Handler) -> Script:
    return lambda n, since_first_s: handler


ONE_TRY = retrying(1, attempt_timeout_s=TIMEOUT_S)
# Attempt 1 times out at 0.8 s; attempt 2 gets what is left of the deadline (0.35 s).
TWO_TRIES_IN_DEADLINE = retrying(5, attempt_timeout_s=0.8, deadline_s=1.2)
BREAKER_OPEN = policy_config(
    retry={"max_attempts": 1}, breaker={"window_calls": 2, "minimum_calls": 2, "open_s": 60}
)
ABOUT_TIMEOUT = (TIMEOUT_S - 0.1, TIMEOUT_S + 0.9)
ABOUT_DEADLINE = (1.1, 2.0)
AT_LEAST_RETRY_IN = (RETRY_IN_S, RETRY_IN_S + 1.0)
FAST = (0.0, 0.8)
INSTANT = (0.0, 0.1)
TIMEOUT = "UpstreamTimeoutError"

CASES = [
    pytest.param(Case(always(gzipped), ONE_TRY, "ok", 1, None, FAST, 1), id="gzip-answer"),
    pytest.param(
        Case(always(answer(SLOW_S)), ONE_TRY, "failed", 1, TIMEOUT, ABOUT_TIMEOUT, 1),
        id="slow-answer",
    ),
    pytest.param(
        Case(always(trickle_body), ONE_TRY, "failed", 1, TIMEOUT, ABOUT_TIMEOUT, 1),
        id="slow-body",
    ),
    pytest.param(
        Case(always(trickle_stream), ONE_TRY, "failed", 1, TIMEOUT, ABOUT_TIMEOUT, 1, stream=True),
        id="slow-stream",
    ),
    pytest.param(
        Case(
            always(answer(SLOW_S)), TWO_TRIES_IN_DEADLINE, "failed", 2, TIMEOUT, ABOUT_DEADLINE, 2
        ),
        id="deadline",
    ),
    pytest.param(
        Case(
            quota_for(RETRY_IN_S),
            retrying(2),
            "ok",
            2,
            None,
            AT_LEAST_RETRY_IN,
            2,
            retry_gap_s=RETRY_IN_S,
        ),
        id="429-truncated-retry-info",
    ),
    pytest.param(
        Case(
            always(OVERLOADED_503),
            retrying(3, fallback=True),
            "fallback",
            3,
            "OverloadedError",
            FAST,
            3,
        ),
        id="503-storm",
    ),
    pytest.param(
        Case(
            always(answer()),
            BREAKER_OPEN,
            "fallback",
            0,
            "CircuitOpenError",
            INSTANT,
            0,
            users=3,
            before=trip_breaker,
        ),
        id="open-breaker",
    ),
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("mode", MODES)
def test_each_design_ends_each_behaviour_the_same_way(
    mode: str, case: Case, upstream: tuple[ScriptedUpstream, str]
) -> None:
    server, url = upstream
    server.play(case.script)
    load = Workload(case.users)
    ran = run_design(mode, url, case.config, load, stream=case.stream, before=case.before)

    low_s, high_s = case.latency_s
    for r in ran.records:
        assert (r.outcome, r.attempts, r.error) == (case.outcome, case.attempts, case.error), r
        assert low_s <= r.latency_s <= high_s, r
    assert len(server.arrivals_s) == case.upstream_requests
    gaps_s = [b - a for a, b in zip(server.arrivals_s, server.arrivals_s[1:], strict=False)]
    assert all(gap_s >= case.retry_gap_s for gap_s in gaps_s), gaps_s
    assert all(r.retry_wait_s >= case.retry_gap_s for r in ran.records)


# ---- a concurrency cap means the same in every design and load shape ------------------------

CAP = 2
ANSWER_S = 0.3
PLAIN = policy_config(attempt_timeout_s=5, retry={"max_attempts": 1}, breaker=NO_BREAKER)
LOADS = [
    pytest.param(OpenLoad(200.0, parse_arrival("constant"), requests=10), id="open-loop"),
    pytest.param(Workload(6), id="closed-loop"),
]


@pytest.mark.parametrize("load", LOADS)
@pytest.mark.parametrize("mode", MODES)
def test_a_cap_bounds_the_upstream_and_its_wait_is_lag(
    mode: str, load: Load, upstream: tuple[ScriptedUpstream, str]
) -> None:
    server, url = upstream
    server.play(always(answer(ANSWER_S)))
    ran = run_design(mode, url, PLAIN, load, cap=CAP)

    cap = 1 if mode == "sequential" else CAP
    assert server.peak <= cap and ran.ctx.in_flight.peak <= cap
    assert {(r.outcome, r.attempts) for r in ran.records} == {("ok", 1)}
    # The wait for a slot is not upstream latency: each request's own time is one answer…
    assert max(r.latency_s for r in ran.records) < ANSWER_S + 0.6
    # …and the wait shows as lag behind the intended start (3+ waves of ANSWER_S each).
    lags_s = [r.start_s - r.intended_start_s for r in ran.records]
    assert max(lags_s) >= 1.5 * ANSWER_S
    assert max(r.end_s - r.intended_start_s for r in ran.records) >= 2.5 * ANSWER_S
