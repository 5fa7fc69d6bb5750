"""The verdict, from synthetic results documents: ranking, reference, comparability."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reports.load import Results, parse_results
from reports.verdict import comparison_rows, headline, verdicts

from .conftest import build_results


def _results(doc: dict[str, Any]) -> Results:
    return parse_results(doc, Path("mem/results.json"))


def test_closed_loop_names_the_fastest_design_its_speedup_and_bound() -> None:
    v = headline(_results(build_results(reps=1)))
    assert v.comparable and v.reference == "sequential"
    assert v.ranking[0].mode == "async"
    # bound ratio: sequential 20 s against async's 1 s (cap 20)
    assert v.ranking[0].bound == pytest.approx(20.0)
    assert v.text.startswith("20 users: async ")
    assert "faster than sequential; bound allows 20×" in v.text


def test_repetitions_are_judged_by_their_median_with_spread() -> None:
    doc = build_results(reps=3, noise=0.2, seed=3)
    v = headline(_results(doc))
    best = v.ranking[0]
    assert best.repetitions == 3 and best.low is not None and best.high is not None
    assert best.low <= best.value <= best.high  # type: ignore[operator]
    assert "over 3 repetitions" in v.text


def test_without_sequential_the_first_design_is_the_reference_and_says_so() -> None:
    v = headline(_results(build_results(modes=("threaded", "async", "sdk"), reps=1)))
    assert v.reference == "threaded"
    assert "than threaded" in v.text


def test_one_design_has_nothing_to_compare() -> None:
    v = headline(_results(build_results(modes=("async",), reps=1)))
    assert not v.comparable and "only async ran" in v.text


def _served(doc: dict[str, Any], mode: str, ok: int) -> dict[str, Any]:
    for run in doc["runs"]:
        if run["mode"] == mode:
            counts = run["summary"]["counts"]
            counts["fallback"] = counts["submitted"] - ok
            counts["ok"] = ok
    return doc


def test_fallbacks_are_not_speed_the_verdict_is_not_comparable() -> None:
    doc = _served(build_results(reps=1), "threaded", ok=0)
    v = headline(_results(doc))
    assert not v.comparable
    assert v.text == "20 users: not comparable: threaded served 0 of 20 real answers (20 fallback)"
    assert "faster" not in v.text


def test_open_loop_ranks_tail_latency_from_the_intended_start() -> None:
    doc = build_results(reps=1)
    doc["config"]["open_loop"] = {"rate_rps": 20.0, "arrival": "poisson"}
    for run, p99 in zip(doc["runs"], (0.9, 0.3, 0.2), strict=True):
        run["summary"]["latency_from_intended_s"] = {"p99": p99}
        run["concurrency_cap"] = 20
    v = headline(_results(doc))
    assert v.text.startswith("20 req/s (poisson), ≤ 20 in flight: async has the lowest p99")
    assert "users" not in v.text and "faster" not in v.text
    assert comparison_rows(_results(doc)) == []


def test_a_sweep_has_one_verdict_per_users_value() -> None:
    texts = [v.text for v in verdicts(_results(build_results(users=(1, 5, 20), reps=1)))]
    assert [t.split(":")[0] for t in texts] == ["1 users", "5 users", "20 users"]


def test_a_speedup_beyond_the_bounds_says_why() -> None:
    doc = build_results(reps=1)
    for run in doc["runs"]:
        if run["mode"] == "sequential":  # sequential slower than its bound: overhead
            run["summary"]["makespan_s"] *= 1.5
            run["summary"]["efficiency"] = run["summary"]["bound_s"] / run["summary"]["makespan_s"]
    v = headline(_results(doc))
    assert v.comparable
    assert any("is more than the bounds allow" in w and "sequential's overhead" in w
               for w in v.warnings), v.warnings  # fmt: skip
