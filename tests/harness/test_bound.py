"""The lower bound on a makespan: known answers, and true on real runs against the mock."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from harness.cli import main
from harness.measure.bound import ServiceTimes, estimated_bound


def _times(per_user: dict[int, list[float]], keep_all: bool = True) -> ServiceTimes:
    times = ServiceTimes(keep_all=keep_all)
    for user, values in per_user.items():
        for value in values:
            times.add(user, value)
    return times


@pytest.mark.parametrize(
    ("per_user", "cap", "upstream_cap", "expected", "limit"),
    [
        pytest.param({u: [1.0] for u in range(20)}, 3, None, 7.0, "waves of 3 (cap 3)",
                     id="ceil-waves"),
        pytest.param({u: [1.0] for u in range(20)}, 20, None, 1.0, "one user's chain",
                     id="all-at-once"),
        pytest.param({0: [1.0] * 20}, 1, None, 20.0, "one user's chain", id="sequential"),
        pytest.param({u: [1.0] * 3 for u in range(12)}, 12, 4, 9.0, "upstream max_concurrency 4",
                     id="upstream-cap-binds"),
        pytest.param({0: [3.0], 1: [1.0], 2: [1.0], 3: [1.0]}, 4, None, 3.0, "one user's chain",
                     id="longest-answer"),
        pytest.param({0: [0.5, 0.5], 1: [2.0], 2: [0.1]}, 2, None, 2.0, "one user's chain",
                     id="variable-times"),
    ],
)  # fmt: skip
def test_known_answers(
    per_user: dict[int, list[float]],
    cap: int,
    upstream_cap: int | None,
    expected: float,
    limit: str,
) -> None:
    bound = _times(per_user).bound(cap, upstream_cap)
    assert bound.bound_s == pytest.approx(expected)
    assert bound.kind == "exact" and bound.limit == limit


def test_without_every_time_there_is_no_exact_bound_but_a_labelled_estimate() -> None:
    times = _times({0: [1.0]})
    times.add(1, None)
    assert times.bound(2).bound_s is None
    estimate = estimated_bound(20, 20, 1.0, upstream_cap=4)
    assert (estimate.bound_s, estimate.kind, estimate.limit) == (
        5.0, "estimate", "upstream max_concurrency 4",
    )  # fmt: skip


def test_bounded_memory_fold_gives_a_looser_bound_that_is_still_below() -> None:
    per_user = {u: [1.0] for u in range(20)}
    exact = _times(per_user).bound(3)
    folded = _times(per_user, keep_all=False).bound(3)
    assert folded.bound_s is not None and exact.bound_s is not None
    assert folded.bound_s <= exact.bound_s
    assert folded.bound_s == pytest.approx(20 / 3)


def _compare(tmp_path: Path, *flags: str) -> dict[str, dict[str, object]]:
    out = tmp_path / "run"
    argv = ["compare", *flags, "--calibration", "off", "--no-report", "--no-progress",
            "--out", str(out), "--json"]  # fmt: skip
    assert main(argv) == 0
    document = json.loads((out / "results.json").read_text())
    return {run["mode"]: run["summary"] for run in document["runs"]}


def test_a_lognormal_latency_gets_a_true_bound_with_honest_efficiency(tmp_path: Path) -> None:
    """The mean latency is not a bound: per-answer times give efficiency near 1, never above."""
    summaries = _compare(
        tmp_path, "--users", "10", "--modes", "sequential,async",
        "--latency-dist", "lognormal:median=0.1,sigma=0.6", "--seed", "3",
    )  # fmt: skip
    for mode, summary in summaries.items():
        assert summary["bound_kind"] == "exact", mode
        efficiency = float(summary["efficiency"])  # type: ignore[arg-type]
        assert 0.6 < efficiency <= 1.02, (mode, efficiency)
        assert summary["timing_error_s"], mode


def test_the_upstreams_own_capacity_enters_the_bound(tmp_path: Path) -> None:
    summaries = _compare(
        tmp_path, "--users", "8", "--modes", "sequential,async", "--latency", "0.1",
        "--max-concurrency", "2", "--max-queue", "100",
    )  # fmt: skip
    seq, asy = summaries["sequential"], summaries["async"]
    assert "upstream max_concurrency 2" in str(asy["bound_limit"])
    assert float(seq["bound_s"]) / float(asy["bound_s"]) == pytest.approx(2.0, rel=0.05)  # type: ignore[arg-type]
    assert float(asy["efficiency"]) <= 1.02  # type: ignore[arg-type]
    assert not math.isnan(float(asy["efficiency"]))  # type: ignore[arg-type]
