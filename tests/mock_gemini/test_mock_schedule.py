"""Outage and brownout windows: parsing, half-open bounds, overlaps."""

from __future__ import annotations

import pytest

from mock_gemini.config_error import MockConfigError
from mock_gemini.schedule import ScheduleState, Window, parse_window, schedule_at


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("outage:5-15:503", Window("outage", 5.0, 15.0, status=503), id="outage"),
        pytest.param("outage:5-15:429", Window("outage", 5.0, 15.0, status=429), id="outage-429"),
        pytest.param("outage:0-1", Window("outage", 0.0, 1.0, status=503), id="default-503"),
        pytest.param("outage:1-2:418", Window("outage", 1.0, 2.0, status=418), id="any-4xx"),
        pytest.param("brownout:20-30:3", Window("brownout", 20.0, 30.0, factor=3.0), id="brown"),
        pytest.param(
            "Brownout: 0.5-1.5 : 1.5", Window("brownout", 0.5, 1.5, factor=1.5), id="spaces"
        ),
    ],
)
def test_parse_window(spec: str, expected: Window) -> None:
    window = parse_window(spec)
    assert window == expected
    assert parse_window(window.spec()) == window


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        pytest.param("outage:15-5:503", "need 0 ≤ start < end", id="reversed"),
        pytest.param("outage:5-5:503", "need 0 ≤ start < end", id="empty"),
        pytest.param("foo:1-2:3", "expected 'outage:START-END:STATUS'", id="unknown-kind"),
        pytest.param("outage:5-15:200", "status must be a 4xx or 5xx", id="status-200"),
        pytest.param("outage:5-15:abc", "status must be an HTTP code, got 'abc'", id="status-text"),
        pytest.param("brownout:1-2:0.5", "factor must be ≥ 1", id="factor-below-one"),
        pytest.param("brownout:1-2", "needs a FACTOR", id="factor-missing"),
        pytest.param("outage:a-2:503", "'a' is not a number", id="start-text"),
        pytest.param("outage:5:503", "expected START-END", id="no-dash"),
        pytest.param("outage:1-2:503:9", "expected 'outage:START-END:STATUS'", id="too-many"),
    ],
)
def test_bad_window_names_the_spec(spec: str, fragment: str) -> None:
    with pytest.raises(MockConfigError) as info:
        parse_window(spec)
    assert repr(spec) in str(info.value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("elapsed_s", "status"),
    [
        pytest.param(4.999, None, id="before"),
        pytest.param(5.0, 500, id="at-start"),
        pytest.param(14.999, 500, id="just-before-end"),
        pytest.param(15.0, None, id="at-end"),
    ],
)
def test_windows_are_half_open(elapsed_s: float, status: int | None) -> None:
    state = schedule_at([parse_window("outage:5-15:500")], elapsed_s)
    assert state == ScheduleState(outage_status=status, slow_factor=1.0)


def test_brownout_slows_only_inside_its_window() -> None:
    windows = [parse_window("brownout:20-30:3")]
    assert schedule_at(windows, 19.9).slow_factor == 1.0
    assert schedule_at(windows, 20.0).slow_factor == 3.0
    assert schedule_at(windows, 30.0).slow_factor == 1.0


def test_overlapping_outage_wins_and_brownouts_multiply() -> None:
    windows = [
        parse_window("brownout:0-100:2"),
        parse_window("brownout:10-20:3"),
        parse_window("outage:15-30:504"),
        parse_window("outage:18-40:429"),
    ]
    assert schedule_at(windows, 12.0) == ScheduleState(outage_status=None, slow_factor=6.0)
    assert schedule_at(windows, 16.0).outage_status == 504
    assert schedule_at(windows, 19.0).outage_status == 504  # the first listed outage wins
    assert schedule_at(windows, 35.0) == ScheduleState(outage_status=429, slow_factor=2.0)


def test_empty_schedule_is_normal() -> None:
    assert schedule_at([], 1e9) == ScheduleState(outage_status=None, slow_factor=1.0)
