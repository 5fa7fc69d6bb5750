"""Open-loop load: arrival statistics, the pacers, and coordinated-omission correction."""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from harness.errors import ConfigError
from harness.gemini import Target
from harness.generators.base import PlannedRequest, RequestRecord, RunContext
from harness.generators.common import Answered, run_one_sync
from harness.generators.load import (
    Arrival,
    OpenLoad,
    arrival_times_s,
    inter_arrivals_s,
    parse_arrival,
)
from harness.generators.pacing import drive_open_sync
from harness.measure.metrics import summarize
from harness.resilience.config import preset
from harness.resilience.policy import CallResult, ResiliencePolicy
from harness.run.design import run_mode
from harness.run.plan import CompareSpec, concurrency_cap
from reports.console import lag_warning

SAMPLES = 20_000


@pytest.mark.parametrize(
    ("arrival", "cv"),
    [
        pytest.param(Arrival("poisson"), 1.0, id="poisson"),
        pytest.param(Arrival("gamma", 3.0), 3.0, id="gamma-cv3"),
        pytest.param(Arrival("gamma", 0.5), 0.5, id="gamma-cv0.5"),
    ],
)
def test_inter_arrival_mean_and_cv_match_the_spec(arrival: Arrival, cv: float) -> None:
    import random

    gaps = list(itertools.islice(inter_arrivals_s(arrival, 50.0, random.Random(7)), SAMPLES))
    mean = statistics.fmean(gaps)
    assert mean == pytest.approx(1 / 50.0, rel=0.05 if cv > 1 else 0.03)
    assert statistics.pstdev(gaps) / mean == pytest.approx(cv, rel=0.08)


def test_constant_arrivals_are_exact_and_bounded_by_duration() -> None:
    times = list(arrival_times_s(Arrival("constant"), 8.0, duration_s=1.0))
    assert times == [i / 8.0 for i in range(8)]
    assert len(list(arrival_times_s(Arrival("poisson"), 1000.0, requests=25, seed=3))) == 25


def test_the_schedule_is_seeded_and_repeatable() -> None:
    load = OpenLoad(100.0, Arrival("gamma", 2.0), requests=50, seed=11)
    assert list(load.schedule()) == list(load.schedule()) and load.total == 50
    other = OpenLoad(100.0, Arrival("gamma", 2.0), requests=50, seed=12)
    assert list(load.schedule()) != list(other.schedule())


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        pytest.param("uniform", "--arrival", id="unknown-kind"),
        pytest.param("gamma", "cv=C", id="gamma-without-cv"),
        pytest.param("gamma:cv=-1", "cv=C", id="negative-cv"),
        pytest.param("poisson:cv=2", "no parameters", id="poisson-with-params"),
    ],
)
def test_bad_arrival_specs_name_the_flag(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_arrival(text)


def test_open_load_needs_a_bound_and_a_positive_rate() -> None:
    with pytest.raises(ConfigError, match="--requests N or --duration S"):
        OpenLoad(10.0, Arrival("poisson"))
    with pytest.raises(ConfigError, match="--rate"):
        OpenLoad(0.0, Arrival("poisson"), requests=3)


class FakeClock:
    def __init__(self) -> None:
        self.now_s = 0.0

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        self.now_s += seconds


def _stalled_run(stall_id: int, stall_s: float) -> list[RequestRecord]:
    """Sequential open loop at 100 req/s on a fake clock: every call 1 ms, one call stalls."""
    clock = FakeClock()
    ctx = RunContext(clock, ResiliencePolicy(preset("none"), clock=clock))
    load = OpenLoad(100.0, Arrival("constant"), requests=300)

    def run_one(planned: PlannedRequest, intended_s: float) -> RequestRecord:
        def call() -> CallResult[Answered]:
            clock.sleep(stall_s if planned.request_id == stall_id else 0.001)
            return CallResult(None, "ok", 1, 0.0, "closed", None, 200)

        return run_one_sync(planned, "sequential", ctx, intended_s, call)

    return drive_open_sync(load, ctx, run_one, sleep=clock.sleep)


def test_a_one_second_stall_shows_in_the_corrected_p99_not_in_the_raw_one() -> None:
    records = _stalled_run(stall_id=50, stall_s=1.0)
    summary = summarize(records, concurrency_cap=1, service_time_s=None, submitted=300)
    assert summary["latency_s"]["p99"] == pytest.approx(0.001, abs=1e-6)  # the raw view
    assert summary["latency_from_intended_s"]["p99"] > 0.95  # what users waiting saw
    assert summary["latency_s"]["max"] == pytest.approx(1.0)
    lag = summary["schedule_lag_s"]
    assert lag["max"] == pytest.approx(0.99, abs=1e-6)  # request 51: due 0.51, left at 1.50
    assert 0.3 < lag["late_fraction"] < 0.4  # ~100 of 300 left late
    assert lag_warning(summary) is not None and "WARNING" in str(lag_warning(summary))


def test_without_a_stall_no_request_is_late() -> None:
    records = _stalled_run(stall_id=-1, stall_s=0.0)
    summary = summarize(records, concurrency_cap=1, service_time_s=None, submitted=300)
    assert summary["schedule_lag_s"]["max"] == pytest.approx(0.0, abs=1e-9)
    assert lag_warning(summary) is None
    assert [r.intended_start_s for r in records] == [i / 100 for i in range(300)]


RECIPES = [{"title": "T", "ingredients": ["egg"], "steps": ["Cook."],
            "prep_time_minutes": 1, "cook_time_minutes": 2, "servings": 1}]  # fmt: skip
ANSWER = json.dumps({
    "candidates": [{"content": {"parts": [{"text": json.dumps(RECIPES)}], "role": "model"},
                    "finishReason": "STOP", "index": 0}],
    "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 9},
}).encode()  # fmt: skip
STALL_ID = 30


@pytest.fixture
def stalling_server() -> Iterator[str]:
    """Answers at once, except the STALL_ID-th request it receives, which waits 1 s."""
    loop = asyncio.new_event_loop()
    seen = itertools.count()

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        if next(seen) == STALL_ID:
            await asyncio.sleep(1.0)
        return web.Response(body=ANSWER, content_type="application/json")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def _open_run(mode: str, url: str, max_in_flight: int | None = None) -> dict[str, Any]:
    load = OpenLoad(100.0, Arrival("constant"), requests=150, max_in_flight=max_in_flight)
    spec = CompareSpec((mode,), (1,), resilience=preset("none"), open_load=load)
    run = run_mode(mode, Target(url, "k"), load, concurrency_cap(mode, 1, spec), spec)
    return run.summary(None)


def test_a_real_stall_holds_back_a_sequential_open_loop(stalling_server: str) -> None:
    summary = _open_run("sequential", stalling_server)
    assert summary["latency_s"]["p99"] < 0.3
    assert summary["latency_from_intended_s"]["p99"] > 0.8
    assert summary["schedule_lag_s"]["late_fraction"] > 0.3


def test_an_async_open_loop_keeps_its_schedule_through_a_stall(stalling_server: str) -> None:
    summary = _open_run("async", stalling_server)
    assert summary["counts"]["ok"] == 150
    assert summary["latency_from_intended_s"]["p50"] < 0.1
    assert summary["schedule_lag_s"]["p99"] < 0.1


def test_max_in_flight_one_makes_the_async_pacer_wait_like_sequential(
    stalling_server: str,
) -> None:
    summary = _open_run("async", stalling_server, max_in_flight=1)
    assert summary["peak_in_flight"] == 1
    assert summary["latency_from_intended_s"]["p99"] > 0.8


def test_rate_flags_are_checked_in_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--duration", "3", "--no-report",
         "--calibration", "off", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "--duration: only meaningful with --rate" in proc.stderr
