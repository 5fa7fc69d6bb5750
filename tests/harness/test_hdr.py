"""HDR histograms against numpy, and the bounded-memory fold against the record-based summary."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hdrh.histogram import HdrHistogram

from harness.measure.hdr import Histogram, RecordFold, bucket_floor_us
from harness.measure.metrics import percentiles, summarize, timeline
from harness.measure.record import Outcome, RequestRecord


@pytest.mark.parametrize(
    "values_s",
    [
        pytest.param([random.Random(1).lognormvariate(-1.0, 0.6) for _ in range(100_000)],
                     id="lognormal-100k"),
        pytest.param([0.5 + i * 1e-4 for i in range(20_000)], id="uniform-ramp-20k"),
        pytest.param([random.Random(2).expovariate(20.0) + 0.01 for _ in range(50_000)],
                     id="exponential-50k"),
    ],
)  # fmt: skip
def test_hdr_percentiles_agree_with_numpy_within_a_tenth_of_a_percent(
    values_s: list[float],
) -> None:
    hist = Histogram(flush_every=4096)
    for value in values_s:
        hist.record(value)
    got, want = hist.percentiles(), percentiles(values_s)
    assert hist.count == len(values_s)
    for key in ("p50", "p90", "p95", "p99"):
        assert got[key] == pytest.approx(want[key], rel=1e-3), key
    assert got["mean"] == pytest.approx(want["mean"], rel=1e-9)
    assert got["max"] == want["max"]


def test_bucket_floor_is_the_hdr_lowest_equivalent_value() -> None:
    reference = HdrHistogram(1, 3_600_000_000, 3)
    values = np.unique(np.geomspace(1, 3_600_000_000, 5000).astype(np.int64))
    floors = bucket_floor_us(values)
    assert floors.tolist() == [reference.get_lowest_equivalent_value(int(v)) for v in values]


@pytest.mark.parametrize(
    "values_s",
    [
        pytest.param([1.0] * 100, id="100x1s"),
        pytest.param([0.25] * 3 + [2.5] * 97, id="two-values"),
        pytest.param(np.random.default_rng(3).uniform(0.99, 1.0, 1000).tolist(), id="narrow"),
    ],
)
def test_percentiles_never_leave_the_observed_range(values_s: list[float]) -> None:
    hist = Histogram()
    for value in values_s:
        hist.record(value)
    got = hist.percentiles()
    assert got["max"] == max(values_s)
    for key in ("p50", "p90", "p95", "p99"):
        assert min(values_s) <= got[key] <= got["max"], key
    if len(set(values_s)) == 1:  # 100 × 1.0 s: every percentile is 1.0 (was p99 1.0001915)
        assert got["p99"] == got["p50"] == values_s[0]


def test_an_empty_histogram_has_no_percentiles() -> None:
    assert Histogram().percentiles() == {}


def _record(rid: int, start_s: float, latency_s: float, lag_s: float = 0.0) -> RequestRecord:
    outcome: Outcome = "ok" if rid % 7 else "failed"
    return RequestRecord(
        rid, rid, "async", start_s - lag_s, start_s, None, start_s + latency_s, latency_s,
        0.1 if rid % 2 else None, outcome, 200, None, 1, 0.0, "closed", 10, 20,
        0.01 if rid % 2 else None, 0.02 if rid % 2 else None, 50.0 if rid % 2 else None,
    )  # fmt: skip


def _records(n: int) -> list[RequestRecord]:
    rng = random.Random(5)
    return [
        _record(i, i * 0.01 + 0.003, rng.uniform(0.1, 0.9), lag_s=0.05 if i % 10 == 0 else 0.0)
        for i in range(n)
    ]


def test_the_fold_summarizes_like_the_records_do() -> None:
    records = _records(3000)
    fold = RecordFold(late_threshold_s=0.01)
    for record in records:
        fold(record)
    kwargs: dict[str, Any] = {
        "concurrency_cap": 50,
        "service_time_s": 0.5,
        "submitted": 3000,
        "makespan_s": 31.0,
    }
    want = summarize(records, **kwargs)
    got = fold.summary(**kwargs)
    assert got["counts"] == want["counts"] and got["invariant_ok"] and want["invariant_ok"]
    for key in ("latency_s", "latency_from_intended_s", "ttft_s", "itl_s", "tpot_s"):
        for q in ("p50", "p99"):
            assert got[key][q] == pytest.approx(want[key][q], rel=2e-3, abs=2e-6), (key, q)
    assert got["schedule_lag_s"]["late_fraction"] == want["schedule_lag_s"]["late_fraction"]
    assert got["output_tokens_per_s"] == pytest.approx(want["output_tokens_per_s"])
    assert (got["bound_s"], got["efficiency"]) == (want["bound_s"], want["efficiency"])


def test_the_fold_timeline_matches_the_record_timeline() -> None:
    records = _records(500)
    fold = RecordFold()
    for record in records:
        fold(record)
    starts = [r.start_s for r in records]
    args: dict[str, Any] = {
        "attempt_times_s": starts,
        "fast_fail_times_s": [],
        "transitions": [],
        "duration_s": 6.0,
    }
    assert fold.timeline(**args) == timeline(records, **args)


def test_the_fold_finds_missing_duplicated_and_unknown_ids() -> None:
    fold = RecordFold()
    for rid in (0, 1, 1, 3, 9):
        fold(_record(rid, 0.0, 0.1))
    problems = fold.invariant_problems(5)
    assert problems == [
        "2 submitted request id(s) have no record",
        "1 request id(s) recorded more than once",
        "1 recorded request id(s) were never submitted",
    ]


def test_no_raw_records_keeps_histograms_and_a_complete_invariant(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--modes", "threaded,async", "--rate", "100",
         "--requests", "150", "--latency", "0.02", "--no-raw-records", "--no-report",
         "--calibration", "off", "--out", str(out)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "record invariant: ok (300 requests" in proc.stdout
    for run in json.loads((out / "results.json").read_text())["runs"]:
        summary = run["summary"]
        assert run["records"] == [] and summary["percentiles_from"] == "hdr"
        assert summary["counts"]["ok"] == 150 and summary["invariant_ok"]
        assert 0.02 <= summary["latency_s"]["p50"] <= summary["latency_from_intended_s"]["p99"]
        assert sum(row["offered"] for row in run["timeline"]) == 150
        # attempts were counted per second, not kept one float each: the same totals
        assert sum(row["attempts"] for row in run["timeline"]) == 150
        assert summary["upstream_attempts"] == 150
