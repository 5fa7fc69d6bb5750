"""Per-request SLOs: parsing and which records are good (known answers)."""

from __future__ import annotations

import pytest

from harness.errors import ConfigError
from harness.measure.record import RequestRecord
from harness.measure.slo import parse_slo, slo_summary


def _record(latency_s: float, ttft_s: float | None = None, outcome: str = "ok") -> RequestRecord:
    return RequestRecord(
        request_id=0, user=0, mode="async", intended_start_s=0.0, start_s=0.0,
        first_byte_s=None, end_s=latency_s, latency_s=latency_s, ttft_s=ttft_s,
        outcome=outcome, status=200, error=None, attempts=1, retry_wait_s=0.0,  # type: ignore[arg-type]
        breaker_state_at_start=None, prompt_tokens=None, output_tokens=None,
    )  # fmt: skip


def test_parse_units_and_text() -> None:
    slo = parse_slo("latency<=2s, ttft<500ms")
    assert slo.text == "latency<=2s,ttft<0.5s"
    assert slo.needs_stream


def test_good_means_ok_and_every_criterion() -> None:
    slo = parse_slo("latency<=1s,ttft<=0.2s")
    assert slo.is_good(_record(0.9, 0.1))
    assert not slo.is_good(_record(1.1, 0.1))  # too slow
    assert not slo.is_good(_record(0.9, None))  # no TTFT: no claim
    assert not slo.is_good(_record(0.9, 0.1, outcome="fallback"))  # not a real answer
    records = [_record(0.5, 0.1), _record(2.0, 0.1), _record(0.5, 0.3)]
    assert slo_summary(records, slo, 2.0) == {"slo_good": 1, "slo_goodput_rps": 0.5}


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("latency<=2s,latency<=1s", id="twice"),
        pytest.param("latency<=0s", id="zero"),
        pytest.param("latency<=2h", id="unit"),
        pytest.param("", id="empty"),
    ],
)
def test_bad_slo_is_one_line(text: str) -> None:
    with pytest.raises(ConfigError, match="--slo"):
        parse_slo(text)
