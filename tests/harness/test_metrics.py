"""Metrics against known answers: percentiles, the bound, summaries, timelines, speed-ups."""

from __future__ import annotations

import time
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.measure.bound import bound_s
from harness.measure.metrics import (
    check_invariant,
    percentiles,
    summarize,
    timeline,
)
from harness.measure.record import Outcome, RequestRecord


def record(
    request_id: int,
    start_s: float,
    end_s: float,
    *,
    outcome: Outcome = "ok",
    attempts: int = 1,
    error: str | None = None,
    ttft_s: float | None = None,
) -> RequestRecord:
    return RequestRecord(
        request_id=request_id,
        user=request_id,
        mode="async",
        intended_start_s=start_s,
        start_s=start_s,
        first_byte_s=None if ttft_s is None else start_s + ttft_s,
        end_s=end_s,
        latency_s=end_s - start_s,
        ttft_s=ttft_s,
        outcome=outcome,
        status=200 if outcome == "ok" else None,
        error=error,
        attempts=attempts,
        retry_wait_s=0.0,
        breaker_state_at_start="closed",
        prompt_tokens=None,
        output_tokens=None,
    )


# --- percentiles ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        pytest.param(
            [1.0, 2.0, 3.0, 4.0],
            {"mean": 2.5, "p50": 2.5, "p90": 3.7, "p95": 3.85, "p99": 3.97, "max": 4.0},
            id="four",
        ),
        pytest.param(
            [float(v) for v in range(1, 101)],
            {"mean": 50.5, "p50": 50.5, "p90": 90.1, "p95": 95.05, "p99": 99.01, "max": 100.0},
            id="one-to-hundred",
        ),
        pytest.param(
            [7.0],
            {"mean": 7.0, "p50": 7.0, "p90": 7.0, "p95": 7.0, "p99": 7.0, "max": 7.0},
            id="single",
        ),
        pytest.param(
            [10.0, 0.0, 5.0],
            {"mean": 5.0, "p50": 5.0, "p90": 9.0, "p95": 9.5, "p99": 9.9, "max": 10.0},
            id="unsorted",
        ),
    ],
)
def test_percentiles_known_answers(values: list[float], expected: dict[str, float]) -> None:
    result = percentiles(values)

    assert result == pytest.approx(expected)
    assert all(type(v) is float for v in result.values())


def test_percentiles_of_nothing_is_empty() -> None:
    assert percentiles([]) == {}


# --- bound ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "cap", "service_s", "expected"),
    [
        pytest.param(20, 1, 1.0, 20.0, id="sequential"),
        pytest.param(20, 3, 1.0, 7.0, id="semaphore-3"),
        pytest.param(20, 5, 2.0, 8.0, id="five-threads"),
        pytest.param(20, 20, 1.0, 1.0, id="all-at-once"),
        pytest.param(20, 100, 1.0, 1.0, id="cap-above-n"),
        pytest.param(0, 4, 1.0, 0.0, id="nothing"),
    ],
)
def test_bound_is_ceil_n_over_c(n: int, cap: int, service_s: float, expected: float) -> None:
    assert bound_s(n, cap, service_s) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        pytest.param((10, 0, 1.0), "concurrency_cap", id="zero-cap"),
        pytest.param((-1, 1, 1.0), "total_requests", id="negative-n"),
        pytest.param((10, 1, -1.0), "service_time_s", id="negative-s"),
    ],
)
def test_bound_rejects_bad_input_by_name(args: tuple[int, int, float], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        bound_s(*args)


# --- invariant -----------------------------------------------------------------------------


def test_invariant_ok_when_each_id_once() -> None:
    assert check_invariant([record(i, 0, 1) for i in range(3)], range(3)) == []


def test_invariant_names_missing_duplicate_and_extra_ids() -> None:
    records = [record(0, 0, 1), record(0, 0, 1), record(2, 0, 1), record(9, 0, 1)]

    problems = check_invariant(records, range(4))

    assert problems == [
        "2 submitted request id(s) have no record: 1, 3",
        "1 request id(s) recorded more than once: 0",
        "1 recorded request id(s) were never submitted: 9",
    ]


def test_invariant_lists_at_most_ten_ids() -> None:
    (problem,) = check_invariant([], range(100))

    assert problem.startswith("100 submitted request id(s) have no record: 0, 1, 2")
    assert problem.endswith("9, ...")


# --- summary -------------------------------------------------------------------------------


def test_summary_of_a_clean_concurrent_run() -> None:
    records = [record(i, 0.0, 1.0 + i / 100, ttft_s=0.4) for i in range(4)]

    summary = summarize(records, concurrency_cap=4, service_time_s=1.0, submitted=4)

    assert summary["makespan_s"] == pytest.approx(1.03)
    assert summary["bound_s"] == 1.0
    assert summary["efficiency"] == pytest.approx(1.0 / 1.03)
    assert summary["throughput_rps"] == pytest.approx(4 / 1.03)
    assert summary["latency_s"]["max"] == pytest.approx(1.03)
    assert summary["ttft_s"]["p50"] == pytest.approx(0.4)
    assert summary["counts"] == {
        "submitted": 4,
        "recorded": 4,
        "ok": 4,
        "fallback": 0,
        "failed": 0,
        "fast_fail": 0,
    }
    assert (summary["upstream_attempts"], summary["amplification"]) == (4, 1.0)
    assert summary["invariant_ok"] is True


def test_summary_counts_outcomes_fast_fails_and_retries() -> None:
    records = [
        record(0, 0.0, 1.0, attempts=3),
        record(1, 0.5, 2.0, outcome="fallback", attempts=2, error="OverloadedError"),
        record(2, 1.0, 1.0, outcome="fallback", attempts=0, error="CircuitOpenError"),
        record(3, 1.0, 1.1, outcome="failed", attempts=1, error="CircuitOpenError"),
    ]

    summary = summarize(records, concurrency_cap=2, service_time_s=None, submitted=4)

    assert summary["counts"] == {
        "submitted": 4,
        "recorded": 4,
        "ok": 1,
        "fallback": 2,
        "failed": 1,
        "fast_fail": 1,
    }
    assert summary["upstream_attempts"] == 6
    assert summary["amplification"] == pytest.approx(1.5)
    assert summary["bound_s"] is None and summary["efficiency"] is None
    assert summary["ttft_s"] is None
    assert summary["makespan_s"] == pytest.approx(2.0)


def test_summary_takes_given_makespan_and_attempts() -> None:
    records = [record(0, 0.2, 1.0), record(1, 0.2, 1.0)]

    summary = summarize(
        records,
        concurrency_cap=1,
        service_time_s=0.5,
        submitted=2,
        upstream_attempts=5,
        makespan_s=2.0,
    )

    assert summary["makespan_s"] == 2.0
    assert summary["efficiency"] == pytest.approx(0.5)
    assert summary["throughput_rps"] == pytest.approx(1.0)
    assert summary["amplification"] == pytest.approx(2.5)


def test_summary_flags_a_lost_request() -> None:
    summary = summarize([record(0, 0, 1)], concurrency_cap=2, service_time_s=1.0, submitted=2)

    assert summary["invariant_ok"] is False
    assert summary["counts"]["recorded"] == 1


def test_summary_of_nothing_does_not_divide_by_zero() -> None:
    summary = summarize([], concurrency_cap=1, service_time_s=1.0, submitted=0)

    assert summary["makespan_s"] == 0.0
    assert summary["efficiency"] is None and summary["throughput_rps"] is None
    assert summary["amplification"] is None
    assert summary["latency_s"] == {}


def test_summary_of_100k_records_is_fast() -> None:
    records = [record(i, i * 1e-4, i * 1e-4 + 0.5 + (i % 7) * 0.01) for i in range(100_000)]

    started = time.perf_counter()
    summary = summarize(records, concurrency_cap=50, service_time_s=0.5, submitted=100_000)
    elapsed_s = time.perf_counter() - started

    assert summary["invariant_ok"] is True
    assert elapsed_s < 1.0


# --- timeline ------------------------------------------------------------------------------


def _row(second: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "second": second,
        "offered": 0,
        "attempts": 0,
        "ok": 0,
        "fast_fail": 0,
        "fallback": 0,
        "failed": 0,
        "in_flight": 0,
        "breaker_state": "closed",
    }
    row.update(values)
    return row


def test_timeline_counts_starts_ends_and_in_flight() -> None:
    records = [
        record(0, 0.1, 0.9),
        record(1, 0.2, 1.5, attempts=2),
        record(2, 1.2, 2.5, outcome="failed", attempts=3, error="ServerError"),
        record(3, 2.1, 2.1, outcome="fallback", attempts=0, error="CircuitOpenError"),
    ]
    transitions = [
        {"time_s": 2.05, "from": "closed", "to": "open", "reason": "failure rate"},
    ]

    rows = timeline(records, transitions=transitions)

    assert rows == [
        _row(0, offered=2, attempts=3, ok=1, in_flight=1),
        _row(1, offered=1, attempts=3, ok=1, in_flight=1),
        _row(2, offered=1, fast_fail=1, fallback=1, failed=1, breaker_state="open"),
    ]


def test_timeline_uses_recorded_attempt_and_fast_fail_times() -> None:
    records = [record(0, 0.0, 2.5, attempts=3)]

    rows = timeline(
        records, attempt_times_s=[0.0, 1.2, 2.2], fast_fail_times_s=[0.5, 0.6], duration_s=3.0
    )

    assert [r["attempts"] for r in rows] == [1, 1, 1]
    assert [r["fast_fail"] for r in rows] == [2, 0, 0]
    assert [r["in_flight"] for r in rows] == [1, 1, 0]


def test_timeline_breaker_state_is_the_state_at_each_seconds_end() -> None:
    transitions = [
        {"time_s": 3.5, "from": "open", "to": "half_open", "reason": "open for 2 s"},
        {"time_s": 1.5, "from": "closed", "to": "open", "reason": "failures"},
        {"time_s": 3.6, "from": "half_open", "to": "closed", "reason": "probes ok"},
    ]

    rows = timeline([], transitions=transitions, duration_s=5.0)

    assert [r["breaker_state"] for r in rows] == ["closed", "open", "open", "closed", "closed"]


def test_timeline_of_nothing_is_empty() -> None:
    assert timeline([]) == []


def test_timeline_puts_late_events_in_the_last_row() -> None:
    rows = timeline([record(0, 0.0, 3.7)], duration_s=2.0)

    assert len(rows) == 2
    assert rows[-1]["ok"] == 1


# --- speed-ups -----------------------------------------------------------------------------


def run(mode: str, users: int, makespan_s: float, bound: float | None) -> dict[str, Any]:
    return {"mode": mode, "users": users, "summary": {"makespan_s": makespan_s, "bound_s": bound}}
