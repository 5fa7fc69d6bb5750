"""The regression gate: rule grammar, noise tolerance, real slow-downs, bad input."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reports.errors import ReportInputError
from reports.regression import Rule, gate, parse_rules

Build = Callable[..., dict[str, Any]]
Write = Callable[..., Path]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("p95:+10%", [Rule("p95", "+", 10.0, True)], id="relative-rise"),
        pytest.param("efficiency:-5%", [Rule("efficiency", "-", 5.0, True)], id="relative-drop"),
        pytest.param("failed:+0", [Rule("failed", "+", 0.0, False)], id="absolute-count"),
        pytest.param(
            "makespan:2.5", [Rule("makespan", "+", 2.5, False)], id="unsigned-worse-is-up"
        ),
        pytest.param(
            "throughput:7%", [Rule("throughput", "-", 7.0, True)], id="unsigned-worse-is-down"
        ),
        pytest.param(
            " efficiency:-5% , p95 : +10% ,failed:+0",
            [
                Rule("efficiency", "-", 5.0, True),
                Rule("p95", "+", 10.0, True),
                Rule("failed", "+", 0.0, False),
            ],
            id="list-with-spaces",
        ),
        pytest.param("ttft_p95:+20%", [Rule("ttft_p95", "+", 20.0, True)], id="ttft"),
    ],
)
def test_rules_parse(text: str, expected: list[Rule]) -> None:
    assert parse_rules(text) == expected


@pytest.mark.parametrize(
    ("text", "named"),
    [
        pytest.param("p95", "'p95'", id="no-limit"),
        pytest.param("p95:+ten%", "'p95:+ten%'", id="not-a-number"),
        pytest.param("latency:+10%", "unknown metric 'latency'", id="unknown-metric"),
        pytest.param("p95:+10%,oops", "'oops'", id="bad-second-part"),
        pytest.param("p95:*10%", "'p95:*10%'", id="bad-sign"),
        pytest.param("", "empty", id="empty"),
    ],
)
def test_bad_rules_name_the_bad_part(text: str, named: str) -> None:
    with pytest.raises(ReportInputError, match=re.escape(named)):
        parse_rules(text)


@pytest.mark.parametrize(
    ("rule", "baseline", "current", "regressed"),
    [
        pytest.param("p95:+10%", 1.0, 1.09, False, id="rise-within-limit"),
        pytest.param("p95:+10%", 1.0, 1.11, True, id="rise-beyond-limit"),
        pytest.param("p95:+10%", 1.0, 0.5, False, id="drop-is-fine-for-a-rise-rule"),
        pytest.param("efficiency:-5%", 0.9, 0.85, True, id="drop-beyond-limit"),
        pytest.param("efficiency:-5%", 0.9, 0.86, False, id="drop-within-limit"),
        pytest.param("failed:+0", 2, 3, True, id="count-rises"),
        pytest.param("failed:+0", 2, 2, False, id="count-stays"),
        pytest.param("failed:+10%", 0, 1, True, id="relative-from-zero"),
        pytest.param("p95:+10%", 1.0, 1.1, False, id="exactly-at-limit"),
    ],
)
def test_rule_decisions(rule: str, baseline: float, current: float, regressed: bool) -> None:
    assert parse_rules(rule)[0].regressed(baseline, current) is regressed


def test_a_20_percent_slowdown_fails_the_default_gate(build: Build, write: Write) -> None:
    baseline = write(build(faults=True), "baseline")
    current = write(build(faults=True, slowdown=1.2), "current")
    result = gate(baseline, current, None)
    assert result.exit_code == 1
    failing = [
        line for line in result.markdown.splitlines() if "❌" in line and line.startswith("|")
    ]
    assert failing and all("efficiency" in line for line in failing)
    assert any("-16.7%" in line for line in failing)  # 1/1.2 - 1
    assert "❌ 3 regression(s)" in result.markdown  # efficiency of each of the 3 modes


@pytest.mark.parametrize("seed", [pytest.param(s, id=f"seed-{s}") for s in (1, 2, 3)])
def test_a_rerun_with_3_percent_noise_passes(build: Build, write: Write, seed: int) -> None:
    baseline = write(build(faults=True, noise=0.03, seed=0), "baseline")
    current = write(build(faults=True, noise=0.03, seed=seed), "current")
    result = gate(baseline, current, None)
    assert result.exit_code == 0, result.markdown
    assert "✅ no regression" in result.markdown


def test_table_reports_median_and_current_spread(build: Build, write: Write) -> None:
    baseline = write(build(modes=("sequential", "async"), reps=3, noise=0.03), "baseline")
    current = write(build(modes=("sequential", "async"), reps=3, noise=0.03, seed=9), "current")
    result = gate(baseline, current, "makespan:+50%")
    header = "| mode | metric | baseline | current (spread) | change | verdict |"
    assert header in result.markdown
    row = next(
        line for line in result.markdown.splitlines() if line.startswith("| async (20 users)")
    )
    assert "makespan (makespan:+50%)" in row
    assert "–" in row.split("|")[4]  # "median (min–max)"


def test_a_mode_missing_from_current_fails(build: Build, write: Write) -> None:
    baseline = write(build(modes=("sequential", "async")), "baseline")
    current = write(build(modes=("sequential",)), "current")
    result = gate(baseline, current, "p95:+25%")
    assert result.exit_code == 1
    assert "| async (20 users) | (all) | present | missing | — | ❌ |" in result.markdown


def test_more_failures_in_current_fail_the_count_rule(build: Build, write: Write) -> None:
    doc = build(modes=("async",), reps=1)
    baseline = write(doc, "baseline")
    doc["runs"][0]["summary"]["counts"]["failed"] = 1
    result = gate(baseline, write(doc, "current"), "failed:+0")
    assert result.exit_code == 1
    assert "| async (20 users) | failed (failed:+0) | 0 | 1 | +1 | ❌ |" in result.markdown


def test_a_metric_lost_in_current_fails_and_one_never_measured_is_skipped(
    build: Build, write: Write
) -> None:
    doc = build(modes=("async",), reps=1)
    baseline = write(doc, "baseline")
    doc["runs"][0]["summary"]["efficiency"] = None
    result = gate(baseline, write(doc, "current"), "efficiency:-10%,ttft_p95:+10%")
    assert result.exit_code == 1
    assert "| efficiency (efficiency:-10%) | 0.98 | missing |" in result.markdown
    assert "➖ no baseline" in result.markdown


def test_malformed_or_incomplete_files_raise(build: Build, write: Write, tmp_path: Path) -> None:
    good = write(build(reps=1), "good")
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ReportInputError, match=r"broken\.json: not JSON"):
        gate(good, broken, None)
    doc = build(reps=1)
    del doc["runs"][0]["summary"]["throughput_rps"]
    with pytest.raises(ReportInputError, match=r"runs\[0\]\.summary\.throughput_rps: missing"):
        gate(write(doc, "incomplete"), good, None)
    with pytest.raises(ReportInputError, match="unknown metric 'speed'"):
        gate(good, good, "speed:-5%")


def test_without_sequential_speedup_is_gated_against_the_first_design(
    build: Build, write: Write
) -> None:
    baseline = write(build(modes=("threaded", "async"), reps=1), "baseline")
    doc = build(modes=("threaded", "async"), reps=1)
    doc["runs"][1]["summary"]["makespan_s"] *= 1.6  # async 1.6× slower, threaded as before
    assert gate(baseline, write(doc, "slower"), "speedup:-15%").exit_code == 1
    assert gate(baseline, baseline, "speedup:-15%").exit_code == 0
