"""Sliding-window quotas with exact retry delays, driven by explicit clock values."""

from __future__ import annotations

import random

import pytest

from mock_gemini.config_error import MockConfigError
from mock_gemini.quotas import (
    INPUT_TOKENS_METRIC,
    REQUESTS_METRIC,
    RPD_QUOTA_ID,
    RPM_QUOTA_ID,
    TPM_QUOTA_ID,
    QuotaConfig,
    QuotaDenial,
    QuotaTracker,
)

MODEL = "gemini-2.5-flash"


def test_rpm_denies_the_extra_request_until_the_oldest_leaves() -> None:
    tracker = QuotaTracker(QuotaConfig(rpm=2))
    assert tracker.admit("k", MODEL, 10, now_s=0.0) is None
    assert tracker.admit("k", MODEL, 10, now_s=1.0) is None
    denial = tracker.admit("k", MODEL, 10, now_s=5.0)
    assert denial == QuotaDenial(RPM_QUOTA_ID, REQUESTS_METRIC, 2, 55.0)
    assert tracker.admit("k", MODEL, 10, now_s=59.999) is not None
    assert tracker.admit("k", MODEL, 10, now_s=60.0) is None
    # The request from t=1 still counts until t=61.
    denial = tracker.admit("k", MODEL, 10, now_s=60.5)
    assert denial is not None
    assert denial.retry_delay_s == pytest.approx(0.5)


def test_denied_requests_are_not_counted() -> None:
    tracker = QuotaTracker(QuotaConfig(rpm=1))
    assert tracker.admit("k", MODEL, 1, now_s=0.0) is None
    for tick in range(1, 50):
        assert tracker.admit("k", MODEL, 1, now_s=float(tick)) is not None
    assert tracker.admit("k", MODEL, 1, now_s=60.0) is None


def test_quotas_are_per_key_and_per_model() -> None:
    tracker = QuotaTracker(QuotaConfig(rpm=1))
    assert tracker.admit("k1", MODEL, 1, now_s=0.0) is None
    assert tracker.admit("k2", MODEL, 1, now_s=0.0) is None
    assert tracker.admit("k1", "gemini-2.5-pro", 1, now_s=0.0) is None
    assert tracker.admit("k1", MODEL, 1, now_s=0.0) is not None


def test_tpm_counts_input_tokens_and_waits_for_enough_to_expire() -> None:
    tracker = QuotaTracker(QuotaConfig(tpm=100))
    assert tracker.admit("k", MODEL, 60, now_s=0.0) is None
    assert tracker.admit("k", MODEL, 30, now_s=10.0) is None
    assert tracker.admit("k", MODEL, 10, now_s=15.0) is None  # exactly at the limit
    # 50 more need 50 to expire: the 60 from t=0 leave at t=60.
    denial = tracker.admit("k", MODEL, 50, now_s=20.0)
    assert denial == QuotaDenial(TPM_QUOTA_ID, INPUT_TOKENS_METRIC, 100, 40.0)
    assert tracker.admit("k", MODEL, 50, now_s=60.0) is None


def test_tpm_waits_past_several_entries_when_needed() -> None:
    tracker = QuotaTracker(QuotaConfig(tpm=100))
    for t in (0.0, 1.0, 2.0, 3.0):
        assert tracker.admit("k", MODEL, 25, now_s=t) is None
    denial = tracker.admit("k", MODEL, 70, now_s=4.0)
    assert denial is not None
    assert denial.retry_delay_s == pytest.approx(62.0 - 4.0)  # three entries must leave


def test_request_larger_than_tpm_is_never_admitted() -> None:
    tracker = QuotaTracker(QuotaConfig(tpm=100))
    for now_s in (0.0, 1000.0):
        denial = tracker.admit("k", MODEL, 101, now_s=now_s)
        assert denial is not None
        assert denial.quota_id == TPM_QUOTA_ID


def test_rpd_uses_a_day_window() -> None:
    tracker = QuotaTracker(QuotaConfig(rpd=1))
    assert tracker.admit("k", MODEL, 1, now_s=0.0) is None
    denial = tracker.admit("k", MODEL, 1, now_s=3600.0)
    assert denial == QuotaDenial(RPD_QUOTA_ID, REQUESTS_METRIC, 1, 86_400.0 - 3600.0)
    assert tracker.admit("k", MODEL, 1, now_s=86_400.0) is None


def test_when_several_limits_deny_the_longest_wait_is_reported() -> None:
    tracker = QuotaTracker(QuotaConfig(rpm=1, rpd=1))
    assert tracker.admit("k", MODEL, 1, now_s=0.0) is None
    denial = tracker.admit("k", MODEL, 1, now_s=30.0)
    assert denial is not None
    assert (denial.quota_id, denial.retry_delay_s) == (RPD_QUOTA_ID, 86_400.0 - 30.0)


def test_waiting_the_retry_delay_is_always_enough_and_never_too_much() -> None:
    tracker = QuotaTracker(QuotaConfig(rpm=3, tpm=500))
    rng = random.Random(11)
    now_s, admitted = 0.0, 0
    for _ in range(300):
        tokens = rng.randint(1, 200)
        denial = tracker.admit("k", MODEL, tokens, now_s)
        if denial is None:
            admitted += 1
            now_s += rng.uniform(0.0, 10.0)
            continue
        assert denial.retry_delay_s > 0
        assert tracker.admit("k", MODEL, tokens, now_s + denial.retry_delay_s * 0.999) is not None
        now_s += denial.retry_delay_s
        assert tracker.admit("k", MODEL, tokens, now_s) is None
        admitted += 1
    assert admitted > 100


def test_reset_forgets_usage() -> None:
    tracker = QuotaTracker(QuotaConfig(rpm=1))
    assert tracker.admit("k", MODEL, 1, now_s=0.0) is None
    tracker.reset()
    assert tracker.admit("k", MODEL, 1, now_s=1.0) is None


def test_unlimited_admits_everything() -> None:
    tracker = QuotaTracker(QuotaConfig())
    assert all(tracker.admit("k", MODEL, 10**6, now_s=0.0) is None for _ in range(1000))


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"rpm": 0}, id="rpm-zero"),
        pytest.param({"tpm": -5}, id="tpm-negative"),
        pytest.param({"rpd": True}, id="rpd-bool"),
    ],
)
def test_bad_limits_rejected_naming_the_key(kwargs: dict[str, int]) -> None:
    ((key, value),) = kwargs.items()
    with pytest.raises(MockConfigError, match=f"key '{key}' must be an integer ≥ 1, got {value}"):
        QuotaConfig(**kwargs)
