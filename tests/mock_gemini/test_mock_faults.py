"""Fault specs validate; the seeded picker injects each fault at its configured rate."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from mock_gemini.config_error import MockConfigError
from mock_gemini.faults import FaultKind, FaultPicker, parse_fault, validate_faults

N_DRAWS = 20_000


def draws(faults: dict[FaultKind, float], seed: int, n: int = N_DRAWS) -> list[FaultKind | None]:
    picker = FaultPicker(faults, seed=seed)
    return [picker.pick() for _ in range(n)]


def test_each_fault_appears_at_its_rate() -> None:
    faults = {
        FaultKind.UNAVAILABLE: 0.10,
        FaultKind.RATE_LIMIT: 0.05,
        FaultKind.INTERNAL: 0.20,
        FaultKind.HANG: 0.01,
    }
    counts = Counter(draws(faults, seed=42))
    expected: dict[FaultKind | None, float] = {kind: p for kind, p in faults.items()}
    expected[None] = 1 - sum(faults.values())
    for kind, p in expected.items():
        four_sigma = 4 * math.sqrt(N_DRAWS * p * (1 - p))
        assert abs(counts[kind] - N_DRAWS * p) <= four_sigma, (kind, counts[kind])
    assert set(counts) == set(expected)


def test_same_seed_same_sequence_other_seed_differs() -> None:
    faults = {FaultKind.UNAVAILABLE: 0.3, FaultKind.RESET: 0.2}
    assert draws(faults, seed=5, n=500) == draws(faults, seed=5, n=500)
    assert draws(faults, seed=5, n=500) != draws(faults, seed=6, n=500)


def test_sequence_does_not_depend_on_mapping_order() -> None:
    one = {FaultKind.UNAVAILABLE: 0.3, FaultKind.RESET: 0.2}
    other = {FaultKind.RESET: 0.2, FaultKind.UNAVAILABLE: 0.3}
    assert draws(one, seed=1, n=500) == draws(other, seed=1, n=500)


def test_probabilities_summing_to_one_always_fault() -> None:
    picked = set(draws({FaultKind.SAFETY: 0.5, FaultKind.MALFORMED: 0.5}, seed=0, n=2_000))
    assert picked == {FaultKind.SAFETY, FaultKind.MALFORMED}


@pytest.mark.parametrize(
    "faults",
    [pytest.param({}, id="none"), pytest.param({FaultKind.HANG: 0.0}, id="zero")],
)
def test_no_or_zero_faults_never_fault(faults: dict[FaultKind, float]) -> None:
    assert set(draws(faults, seed=0, n=1_000)) == {None}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("503=0.1", (FaultKind.UNAVAILABLE, 0.1), id="status"),
        pytest.param("hang=0.01", (FaultKind.HANG, 0.01), id="hang"),
        pytest.param(" Stream_Cut = 1 ", (FaultKind.STREAM_CUT, 1.0), id="spaces-case"),
        pytest.param("429=0", (FaultKind.RATE_LIMIT, 0.0), id="zero"),
    ],
)
def test_parse_fault(spec: str, expected: tuple[FaultKind, float]) -> None:
    assert parse_fault(spec) == expected


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        pytest.param("teapot=0.1", "unknown fault kind 'teapot'", id="unknown-kind"),
        pytest.param("503=1.5", "must be in [0, 1], got '1.5'", id="above-one"),
        pytest.param("503=-0.1", "must be in [0, 1], got '-0.1'", id="negative"),
        pytest.param("503=lots", "'lots' is not a number", id="not-a-number"),
        pytest.param("503", "expected KIND=PROBABILITY", id="no-probability"),
    ],
)
def test_bad_fault_spec_names_the_problem(spec: str, fragment: str) -> None:
    with pytest.raises(MockConfigError) as info:
        parse_fault(spec)
    assert fragment in str(info.value)


def test_unknown_kind_message_lists_the_known_kinds() -> None:
    with pytest.raises(MockConfigError) as info:
        validate_faults({"404": 0.1})
    assert "'404'" in str(info.value)
    assert "stream_error" in str(info.value)


def test_sum_above_one_rejected_by_validation_and_picker() -> None:
    faults = {FaultKind.UNAVAILABLE: 0.6, FaultKind.INTERNAL: 0.5}
    with pytest.raises(MockConfigError, match=r"sum to 1\.1"):
        validate_faults(faults)
    with pytest.raises(MockConfigError, match=r"sum to 1\.1"):
        FaultPicker(faults, seed=0)


def test_validate_accepts_names_and_float_rounding() -> None:
    checked = validate_faults({"503": 0.1, 500: 0.2, "hang": 0.7})
    assert checked == {FaultKind.UNAVAILABLE: 0.1, FaultKind.INTERNAL: 0.2, FaultKind.HANG: 0.7}


def test_boolean_probability_rejected() -> None:
    with pytest.raises(MockConfigError, match="must be a number, got True"):
        validate_faults({"503": True})
