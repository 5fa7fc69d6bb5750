"""The regression gate: rule grammar, noise tolerance, real slow-downs, bad input."""

from __future__ import annotations

import math
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


@pytest.mark.parametrize(
    ("metric", "rules", "value", "shown"),
    [
        pytest.param("efficiency", None, math.nan, "NaN", id="efficiency-nan"),
        pytest.param("makespan_s", "makespan:+10%", math.nan, "NaN", id="makespan-nan"),
        pytest.param("makespan_s", "makespan:+10%", math.inf, "∞", id="makespan-inf"),
        pytest.param("latency_s", None, math.nan, "NaN", id="p95-nan"),
        pytest.param(
            "throughput_rps", "throughput:-5%", -math.inf, "-∞", id="throughput-minus-inf"
        ),
    ],
)
def test_a_current_figure_that_is_not_a_number_is_a_regression(
    build: Build, write: Write, metric: str, rules: str | None, value: float, shown: str
) -> None:
    doc = build(modes=("sequential", "async"), reps=3)
    baseline = write(doc, "baseline")
    for run in doc["runs"]:
        if run["mode"] == "async":
            summary = run["summary"]
            if metric == "latency_s":
                summary[metric]["p95"] = value
            else:
                summary[metric] = value
    result = gate(baseline, write(doc, "current"), rules)
    assert result.exit_code == 1, result.markdown
    row = next(line for line in result.markdown.splitlines() if "❌ not a number" in line)
    assert row.startswith("| async (20 users) |")
    assert f"| {', '.join([shown] * 3)} |" in row
    assert "❌ 1 regression(s)" in result.markdown


def test_a_baseline_that_is_not_a_number_is_shown_and_not_compared(
    build: Build, write: Write
) -> None:
    doc = build(modes=("async",), reps=1)
    current = write(doc, "current")
    doc["runs"][0]["summary"]["efficiency"] = math.nan
    result = gate(write(doc, "baseline"), current, "efficiency:-10%")
    assert result.exit_code == 0
    assert "| efficiency (efficiency:-10%) | NaN | 0.98 | — | ➖ no baseline |" in result.markdown


def _closed(build: Build) -> dict[str, Any]:
    return build(modes=("sequential", "async"), reps=1)


def _edit(edit: Callable[[dict[str, Any]], object]) -> Callable[[Build], dict[str, Any]]:
    def make(build: Build) -> dict[str, Any]:
        doc = _closed(build)
        edit(doc)
        return doc

    return make


SHAPES = [
    pytest.param(
        lambda b: b(modes=("sequential", "async"), users=(10,), reps=1),
        "users: [20] vs [10]",
        id="users",
    ),
    pytest.param(
        lambda b: b(modes=("sequential",), reps=1),
        "modes: [sequential, async] vs [sequential]",
        id="modes",
    ),
    pytest.param(
        _edit(lambda d: d["config"]["mock"].update(latency_s=2.0)),
        "mock.latency_s: 1.0 vs 2.0",
        id="mock-latency",
    ),
    pytest.param(
        _edit(lambda d: d["config"].update(service_time_s=0.5)),
        "service_time_s: 1.0 vs 0.5",
        id="service-time",
    ),
    pytest.param(
        lambda b: b(modes=("sequential", "async"), reps=1, rate_rps=20),
        "loop: closed vs open",
        id="open-vs-closed",
    ),
    pytest.param(
        _edit(lambda d: d["config"].update(scenario={"name": "other", "set": []})),
        'scenario: null vs "other"',
        id="scenario",
    ),
]


@pytest.mark.parametrize(("make", "named"), SHAPES)
def test_a_baseline_of_another_shape_is_not_comparable(
    build: Build, write: Write, make: Callable[[Build], dict[str, Any]], named: str
) -> None:
    base_doc = _closed(build)
    base_doc["config"]["scenario"] = None
    baseline = write(base_doc, "baseline")
    current = write(make(build), "current")
    with pytest.raises(ReportInputError, match="not comparable") as caught:
        gate(baseline, current, None)
    message = str(caught.value)
    assert "\n" not in message
    assert named in message


def test_keys_an_older_baseline_lacks_are_not_differences(build: Build, write: Write) -> None:
    doc = _closed(build)
    baseline = write(doc, "baseline")
    doc["config"]["stream"] = False  # the baseline predates the key
    doc["config"]["mock"]["seed"] = 0
    assert gate(baseline, write(doc, "current"), None).exit_code == 0


def test_the_cli_exits_1_on_nan_and_2_on_another_shape(
    build: Build, write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    from harness.cli import main

    doc = _closed(build)
    baseline = write(doc, "baseline")
    doc["runs"][1]["summary"]["efficiency"] = math.nan
    nan = write(doc, "nan")
    assert main(["regress", "--baseline", str(baseline), "--current", str(nan)]) == 1
    assert "❌ not a number" in capsys.readouterr().out
    other = write(build(modes=("sequential", "async"), users=(10,), reps=1), "other")
    assert main(["regress", "--baseline", str(baseline), "--current", str(other)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "not comparable" in err[0] and "users: [20] vs [10]" in err[0]


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


def test_an_open_loop_design_falling_behind_fails_on_latency_from_the_intended_start(
    build: Build, write: Write
) -> None:
    doc = build(modes=("threaded", "async"), reps=1, rate_rps=20)
    baseline = write(doc, "baseline")
    doc["runs"][1]["summary"]["latency_from_intended_s"]["p99"] *= 3  # async left late
    result = gate(baseline, write(doc, "current"), "intended_p99:+25%,p95:+25%")
    assert result.exit_code == 1
    row = next(line for line in result.markdown.splitlines() if "❌" in line)
    assert row.startswith("| async (20 req/s (poisson), ≤ 256 in flight) | intended_p99")
    assert "+200.0%" in row


def test_another_protocol_is_another_shape(build: Build, write: Write) -> None:
    baseline = write(build(reps=1), "gemini")
    doc = build(reps=1)
    doc["config"]["target"]["api"] = "openai"
    with pytest.raises(ReportInputError, match="api: "):
        gate(baseline, write(doc, "openai"), None)
