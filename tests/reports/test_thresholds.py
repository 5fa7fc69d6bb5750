"""Threshold text → check, with units: known answers; bad text names itself."""

from __future__ import annotations

import pytest

from reports.errors import ReportInputError
from reports.sweep import slo_limits
from reports.thresholds import parse_threshold, show_value


@pytest.mark.parametrize(
    ("text", "metric", "op", "limit"),
    [
        pytest.param("latency_p99<=2s", "latency_p99", "<=", 2.0, id="seconds"),
        pytest.param("latency_p50 < 50ms", "latency_p50", "<", 0.05, id="milliseconds"),
        pytest.param("ttft_p95<=0.5", "ttft_p95", "<=", 0.5, id="bare-seconds"),
        pytest.param("ok_share>=99%", "ok_share", ">=", 0.99, id="percent"),
        pytest.param("ok_share>=0.99", "ok_share", ">=", 0.99, id="fraction"),
        pytest.param("goodput_rps>12.5", "goodput_rps", ">", 12.5, id="rate"),
    ],
)
def test_parse(text: str, metric: str, op: str, limit: float) -> None:
    check = parse_threshold(text)
    assert (check.metric, check.op) == (metric, op)
    assert check.limit == pytest.approx(limit)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("goodput_rps>10ms", id="time-unit-on-a-rate"),
        pytest.param("latency_p99<=2%", id="percent-on-a-time"),
        pytest.param("latency_p99==2s", id="op"),
        pytest.param("latency_p99<=fast", id="value"),
        pytest.param("p99<=2s", id="metric"),
    ],
)
def test_bad_text_names_itself(text: str) -> None:
    with pytest.raises(ReportInputError, match="--threshold") as caught:
        parse_threshold(text)
    assert "\n" not in str(caught.value)


def test_values_are_shown_in_their_unit() -> None:
    assert show_value(0.1234, "time") == "123 ms"
    assert show_value(2.5, "time") == "2.5 s"
    assert show_value(0.995, "share") == "99.5 %"
    assert show_value(12.34, "rate") == "12.3/s"
    assert show_value(None, "rate") == "no value"


def test_slo_limits_for_the_sweep_plot() -> None:
    assert slo_limits("latency<=0.5s,ttft<0.2s,tpot<=0.01s") == {"latency": 0.5, "ttft": 0.2}
    assert slo_limits(None) == {}
