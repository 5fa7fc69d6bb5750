"""Open loop: the design's cap and ``--max-in-flight`` are one limit, the smaller one."""

from __future__ import annotations

import pytest

from harness.generators.load import OpenLoad, parse_arrival
from harness.generators.pacing import in_flight_limit


@pytest.mark.parametrize(
    ("cap", "max_in_flight", "limit"),
    [
        pytest.param(5, None, 5, id="cap-alone"),
        pytest.param(None, 8, 8, id="max-in-flight-alone"),
        pytest.param(5, 8, 5, id="cap-smaller"),
        pytest.param(20, 8, 8, id="max-in-flight-smaller"),
        pytest.param(None, None, None, id="neither"),
    ],
)
def test_the_smaller_limit_wins(
    cap: int | None, max_in_flight: int | None, limit: int | None
) -> None:
    load = OpenLoad(100.0, parse_arrival("constant"), requests=10, max_in_flight=max_in_flight)
    assert in_flight_limit(load, cap) == limit
