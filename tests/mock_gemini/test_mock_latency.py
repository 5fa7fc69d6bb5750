"""Latency distributions: seeded samples match their analytic shape; plans add up."""

from __future__ import annotations

import random
import statistics

import pytest

from mock_gemini.config_error import MockConfigError
from mock_gemini.latency import Distribution, parse_distribution, plan_generation

N_SAMPLES = 1_000


def samples(spec: str, seed: int = 1234) -> list[float]:
    dist = parse_distribution(spec)
    rng = random.Random(seed)
    return [dist.sample(rng) for _ in range(N_SAMPLES)]


@pytest.mark.parametrize(
    ("spec", "expected_median_s", "tolerance"),
    [
        pytest.param("lognormal:median=0.5,sigma=0.4", 0.5, 0.05, id="lognormal"),
        pytest.param("pareto:scale=0.3,alpha=2.5", 0.3 * 2 ** (1 / 2.5), 0.05, id="pareto"),
        pytest.param("exponential:mean=0.5", 0.5 * 0.6931, 0.08, id="exponential"),
        pytest.param("uniform:low=0.2,high=0.8", 0.5, 0.05, id="uniform"),
        pytest.param("normal:mean=0.5,std=0.1", 0.5, 0.03, id="normal"),
    ],
)
def test_sample_median_matches_configured_median(
    spec: str, expected_median_s: float, tolerance: float
) -> None:
    assert parse_distribution(spec).median_s() == pytest.approx(expected_median_s, rel=1e-3)
    assert statistics.median(samples(spec)) == pytest.approx(expected_median_s, rel=tolerance)


@pytest.mark.parametrize(
    ("spec", "expected_mean_s", "tolerance"),
    [
        pytest.param("exponential:mean=0.5", 0.5, 0.10, id="exponential"),
        pytest.param("uniform:low=0.2,high=0.8", 0.5, 0.03, id="uniform"),
        pytest.param("lognormal:median=0.5,sigma=0.4", 0.5 * 1.0833, 0.05, id="lognormal"),
        pytest.param("pareto:scale=0.3,alpha=2.5", 0.5, 0.10, id="pareto"),
    ],
)
def test_sample_mean_matches_configured_mean(
    spec: str, expected_mean_s: float, tolerance: float
) -> None:
    assert parse_distribution(spec).mean_s() == pytest.approx(expected_mean_s, rel=1e-3)
    assert statistics.fmean(samples(spec)) == pytest.approx(expected_mean_s, rel=tolerance)


def test_uniform_stays_within_bounds() -> None:
    drawn = samples("uniform:low=0.2,high=0.8")
    assert 0.2 <= min(drawn) < 0.25
    assert 0.75 < max(drawn) <= 0.8


def test_pareto_never_below_scale() -> None:
    assert min(samples("pareto:scale=0.3,alpha=2.5")) >= 0.3


def test_normal_is_clamped_at_zero_and_mean_accounts_for_it() -> None:
    spec = "normal:mean=0.05,std=0.1"
    drawn = samples(spec)
    assert min(drawn) == 0.0
    assert drawn.count(0.0) > N_SAMPLES // 5  # P(X < 0) ≈ 0.31
    expected = parse_distribution(spec).mean_s()
    assert expected > 0.05  # clamping raises the mean
    assert statistics.fmean(drawn) == pytest.approx(expected, rel=0.08)


def test_fixed_is_constant() -> None:
    assert set(samples("0.25")) == {0.25}


def test_same_seed_same_samples_other_seed_differs() -> None:
    spec = "lognormal:median=0.5,sigma=0.4"
    assert samples(spec, seed=7) == samples(spec, seed=7)
    assert samples(spec, seed=7) != samples(spec, seed=8)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param("0.5", Distribution.fixed(0.5), id="bare-number"),
        pytest.param("fixed:0.5", Distribution.fixed(0.5), id="fixed"),
        pytest.param("fixed:seconds=0.5", Distribution.fixed(0.5), id="fixed-named"),
        pytest.param(
            " LogNormal: sigma=0.4 , median=0.5 ",
            Distribution("lognormal", {"median": 0.5, "sigma": 0.4}),
            id="spaces-case-order",
        ),
    ],
)
def test_parse_accepts_spellings(spec: str, expected: Distribution) -> None:
    assert parse_distribution(spec) == expected


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param("fixed:0.5", id="fixed"),
        pytest.param("uniform:low=0.2,high=0.8", id="uniform"),
        pytest.param("normal:mean=0.5,std=0.1", id="normal"),
        pytest.param("lognormal:median=0.5,sigma=0.4", id="lognormal"),
        pytest.param("exponential:mean=0.5", id="exponential"),
        pytest.param("pareto:scale=0.3,alpha=2.5", id="pareto"),
    ],
)
def test_spec_round_trips(spec: str) -> None:
    assert parse_distribution(spec).spec() == spec
    assert parse_distribution(parse_distribution(spec).spec()) == parse_distribution(spec)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        pytest.param("gamma:k=1", "unknown latency distribution 'gamma'", id="unknown-kind"),
        pytest.param("lognormal:median=0.5", "takes median, sigma", id="missing-param"),
        pytest.param("uniform:low=0.8,high=0.2", "low must be ≤ high", id="low-above-high"),
        pytest.param("normal:mean=0.5,std=-1", "std must be ≥ 0", id="negative-std"),
        pytest.param("pareto:scale=0.3,alpha=0", "alpha must be > 0", id="zero-alpha"),
        pytest.param("exponential:mean=abc", "'abc' is not a number", id="not-a-number"),
        pytest.param("exponential:0.5", "expected NAME=VALUE", id="no-name"),
        pytest.param("-1", "seconds must be ≥ 0", id="negative-fixed"),
        pytest.param("fixed:nan", "not a finite number", id="nan"),
    ],
)
def test_bad_spec_error_names_the_spec(spec: str, fragment: str) -> None:
    with pytest.raises(MockConfigError) as info:
        parse_distribution(spec)
    message = str(info.value)
    assert repr(spec) in message
    assert fragment in message
    assert "\n" not in message


def plan_tokens(plan_chunks: list[tuple[float, int]]) -> list[int]:
    return [tokens for _, tokens in plan_chunks]


@pytest.mark.parametrize(
    "output_tokens",
    [pytest.param(1, id="one"), pytest.param(3, id="three"), pytest.param(250, id="many")],
)
def test_chunks_sum_to_output_and_start_small(output_tokens: int) -> None:
    plan = plan_generation(Distribution.fixed(0.1), 100.0, output_tokens, 0, random.Random(0))
    tokens = plan_tokens(plan.chunks)
    assert sum(tokens) == output_tokens
    assert tokens[0] == min(3, output_tokens)
    assert all(0 < n <= 20 for n in tokens)
    assert plan.chunks[0][0] == 0.0


def test_zero_output_tokens_still_yields_one_chunk() -> None:
    plan = plan_generation(Distribution.fixed(0.1), 100.0, 0, 0, random.Random(0))
    assert plan.chunks == [(0.0, 0)]
    assert plan.total_s == pytest.approx(0.1)


def test_total_is_latency_plus_output_and_thinking_time() -> None:
    plan = plan_generation(Distribution.fixed(0.5), 50.0, 100, 40, random.Random(0))
    assert plan.total_s == pytest.approx(0.5 + 100 / 50 + 40 / 50)
    # Thinking and the first chunk's tokens come before the first chunk is sent.
    assert plan.ttft_s == pytest.approx(0.5 + 40 / 50 + 3 / 50)
    assert plan.ttft_s + sum(delay for delay, _ in plan.chunks) == pytest.approx(plan.total_s)


def test_later_chunk_delays_follow_tokens_per_s() -> None:
    plan = plan_generation(Distribution.fixed(0.0), 20.0, 43, 0, random.Random(0))
    assert plan.chunks == [(0.0, 3), (pytest.approx(1.0), 20), (pytest.approx(1.0), 20)]


def test_slow_factor_multiplies_every_wait() -> None:
    args = (parse_distribution("lognormal:median=0.5,sigma=0.4"), 40.0, 90, 10)
    normal = plan_generation(*args, rng=random.Random(3))
    slow = plan_generation(*args, rng=random.Random(3), slow_factor=3.0)
    assert slow.ttft_s == pytest.approx(3 * normal.ttft_s)
    assert slow.total_s == pytest.approx(3 * normal.total_s)
    assert [d for d, _ in slow.chunks] == pytest.approx([3 * d for d, _ in normal.chunks])


def test_zero_tokens_per_s_means_no_generation_time() -> None:
    plan = plan_generation(Distribution.fixed(0.2), 0.0, 500, 1000, random.Random(0))
    assert plan.ttft_s == pytest.approx(0.2)
    assert plan.total_s == pytest.approx(0.2)
    assert all(delay == 0.0 for delay, _ in plan.chunks)


def test_plan_latency_is_seeded() -> None:
    dist = parse_distribution("exponential:mean=0.5")
    first = [plan_generation(dist, 10, 5, 0, random.Random(9)).ttft_s for _ in range(3)]
    assert len(set(first)) == 1


def test_negative_tokens_per_s_rejected() -> None:
    with pytest.raises(MockConfigError, match="tokens_per_s"):
        plan_generation(Distribution.fixed(0), -1.0, 5, 0, random.Random(0))
