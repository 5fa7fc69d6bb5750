"""Streaming: TTFT/ITL/TPOT from scripted chunk times, SSE decoding, every design end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from harness.errors import ServerError
from harness.gemini import Target
from harness.generators import REGISTRY
from harness.generators.base import RequestRecord, Workload
from harness.generators.common import answered_stream
from harness.generators.transport import StreamedResponse
from harness.measure.metrics import TokenTiming, summarize, token_timing
from harness.resilience.config import preset
from harness.run.design import run_mode
from harness.run.embedded import EmbeddedMock
from harness.run.plan import CompareSpec, concurrency_cap

MODES = [pytest.param(m, id=m) for m in ("sequential", "threaded", "async", "sdk") if m in REGISTRY]

TIMINGS = [
    pytest.param(
        0.0, 1.0, [(0.25, 1), (0.5, 5), (0.75, 9), (0.875, 9)],
        TokenTiming(0.25, 0.0625, 0.09375, 9.0), id="trailing-finish-chunk",
    ),
    pytest.param(
        10.0, 12.0, [(10.5, 3), (11.0, 23), (11.5, 43)],
        TokenTiming(0.5, 0.025, 1.5 / 42, 43 / 2.0), id="gemini-like-3-then-20",
    ),
    pytest.param(
        0.0, 2.0, [(0.5, 0), (1.0, 4), (1.5, 4), (1.75, 6)],
        TokenTiming(1.0, 0.375, 1.0 / 5, 3.0), id="empty-first-chunk-and-pause",
    ),
    pytest.param(0.0, 1.0, [(0.5, 1)], TokenTiming(0.5, None, None, 1.0), id="one-token"),
    pytest.param(0.0, 1.0, [(0.5, 7)], TokenTiming(0.5, None, 0.5 / 6, 7.0), id="one-chunk"),
    pytest.param(0.0, 1.0, [(0.5, 0)], TokenTiming(None, None, None, None), id="no-tokens"),
    pytest.param(0.0, 1.0, [], TokenTiming(None, None, None, None), id="no-chunks"),
]  # fmt: skip


@pytest.mark.parametrize(("start_s", "end_s", "marks", "expected"), TIMINGS)
def test_token_timing_of_a_scripted_chunk_sequence(
    start_s: float, end_s: float, marks: list[tuple[float, int]], expected: TokenTiming
) -> None:
    got = token_timing(start_s, end_s, marks)
    for name in ("ttft_s", "itl_s", "tpot_s", "output_tps"):
        want = getattr(expected, name)
        assert getattr(got, name) == (None if want is None else pytest.approx(want)), name


def _event(text: str, tokens: int, finish: str | None = None) -> bytes:
    candidate: dict[str, object] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish:
        candidate["finishReason"] = finish
    obj = {"candidates": [candidate], "usageMetadata": {"candidatesTokenCount": tokens}}
    return b"data: " + json.dumps(obj).encode() + b"\r\n\r\n"


RECIPES = json.dumps([{"title": "T", "ingredients": ["egg"], "steps": ["Cook."],
                       "prep_time_minutes": 1, "cook_time_minutes": 2, "servings": 1}])  # fmt: skip


def test_events_split_across_pieces_get_the_time_of_the_piece_that_completes_them() -> None:
    a, b, c = RECIPES[:10], RECIPES[10:60], RECIPES[60:]
    wire = _event(a, 3) + _event(b, 23) + _event(c, 30, "STOP")
    first_end = len(_event(a, 3))
    pieces = [(0.2, wire[:5]), (0.3, wire[5 : first_end + 7]), (0.6, wire[first_end + 7 :])]
    got = answered_stream(StreamedResponse(200, {}, pieces, 0.1))
    assert got.marks == ((0.3, 3), (0.6, 23), (0.6, 30))
    assert got.answer.output_tokens == 30 and got.answer.recipes[0].title == "T"


def test_an_error_event_after_output_raises_the_mapped_error() -> None:
    error = {"error": {"code": 500, "message": "boom", "status": "INTERNAL"}}
    wire = _event(RECIPES[:10], 3) + b"data: " + json.dumps(error).encode() + b"\r\n\r\n"
    with pytest.raises(ServerError):
        answered_stream(StreamedResponse(200, {}, [(0.1, wire)], 0.1))


@pytest.fixture(scope="module")
def streaming_mock() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.05, "tokens_per_s": 400}) as mock:
        yield mock.url


def _run(mode: str, url: str, users: int = 3, stream: bool = True) -> list[RequestRecord]:
    spec = CompareSpec((mode,), (users,), resilience=preset("none"), stream=stream)
    cap = concurrency_cap(mode, users, spec)
    return run_mode(mode, Target(url, "k"), Workload(users), cap, spec).records


@pytest.mark.parametrize("mode", MODES)
def test_every_design_streams_and_records_token_timing(mode: str, streaming_mock: str) -> None:
    records = _run(mode, streaming_mock)
    assert {r.outcome for r in records} == {"ok"}
    for r in records:
        assert r.ttft_s is not None and r.itl_s is not None and r.tpot_s is not None
        assert 0.05 <= r.ttft_s < r.latency_s
        # 400 tokens/s: each later token about 2.5 ms after the one before
        assert 0.0015 < r.itl_s < 0.01 and 0.0015 < r.tpot_s < 0.01
        assert r.output_tokens and r.output_tps == pytest.approx(r.output_tokens / r.latency_s)
    summary = summarize(records, concurrency_cap=3, service_time_s=None, submitted=3)
    assert summary["ttft_s"]["p50"] >= 0.05 and summary["itl_s"]["p50"] > 0
    assert summary["output_tokens_per_s"] > 0


def test_without_stream_records_carry_no_token_timing(streaming_mock: str) -> None:
    records = _run("async", streaming_mock, users=2, stream=False)
    assert all(r.ttft_s is None and r.itl_s is None and r.tpot_s is None for r in records)


@pytest.mark.parametrize("mode", [pytest.param(m, id=m) for m in ("threaded", "async")])
def test_a_stream_cut_by_an_error_event_is_a_failed_request(mode: str) -> None:
    config = {"latency": 0.0, "tokens_per_s": 1000, "faults": {"stream_error": 1.0}}
    with EmbeddedMock(config) as mock:
        records = _run(mode, mock.url, users=2)
    assert {r.outcome for r in records} == {"failed"}
    assert all(r.error is not None for r in records)
