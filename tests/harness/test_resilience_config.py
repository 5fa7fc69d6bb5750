"""Reading resilience settings: presets, overrides, round trip, errors naming key and value."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.resilience.config import PRESETS, ResilienceConfig, preset


def test_config_reads_a_scenario_table_over_a_preset() -> None:
    data = {
        "preset": "seed",
        "deadline_s": 45,
        "retry": {"max_attempts": 4, "jitter": "none", "budget_ratio": "none"},
        "breaker": {"slow_call_s": 2.5, "enabled": True},
    }
    cfg = ResilienceConfig.from_mapping(data, "scenario.toml")
    assert cfg.deadline_s == 45.0
    assert cfg.attempt_timeout_s == PRESETS["seed"].attempt_timeout_s
    assert (cfg.retry.max_attempts, cfg.retry.jitter, cfg.retry.budget_ratio) == (4, "none", None)
    assert (cfg.breaker.slow_call_s, cfg.breaker.open_s) == (2.5, 30.0)


@pytest.mark.parametrize(
    "name", [pytest.param(name, id=name) for name in ("default", "seed", "none")]
)
def test_config_round_trips_through_a_dict(name: str) -> None:
    unlimited = replace(PRESETS[name], retry=replace(PRESETS[name].retry, budget_ratio=None))
    for cfg in (PRESETS[name], unlimited):
        assert ResilienceConfig.from_mapping(cfg.to_dict(), "results.json") == cfg


@pytest.mark.parametrize(
    ("data", "words"),
    [
        pytest.param({"timeout": 3}, ["scenario.toml", "timeout", "3"], id="unknown-key"),
        pytest.param({"retry": {"tries": 3}}, ["retry.tries", "3"], id="unknown-nested-key"),
        pytest.param({"deadline_s": "soon"}, ["deadline_s", "'soon'"], id="not-a-number"),
        pytest.param({"deadline_s": 0}, ["deadline_s", "0"], id="out-of-range"),
        pytest.param({"fallback": "yes"}, ["fallback", "'yes'"], id="not-a-bool"),
        pytest.param({"retry": {"max_attempts": 2.5}}, ["retry.max_attempts", "2.5"], id="not-int"),
        pytest.param({"retry": {"max_attempts": 0}}, ["retry.max_attempts", "0"], id="bad-int"),
        pytest.param({"retry": {"jitter": "some"}}, ["retry.jitter", "'some'"], id="jitter"),
        pytest.param({"breaker": {"open_s": True}}, ["breaker.open_s", "True"], id="bool-number"),
        pytest.param({"breaker": 5}, ["breaker", "5"], id="section-not-table"),
        pytest.param({"preset": "fast"}, ["preset", "'fast'", "seed"], id="unknown-preset"),
    ],
)
def test_bad_config_names_source_key_and_value(data: dict[str, Any], words: list[str]) -> None:
    with pytest.raises(ConfigError) as info:
        ResilienceConfig.from_mapping(data, "scenario.toml")
    message = str(info.value)
    assert message.startswith("scenario.toml: ")
    assert "\n" not in message
    assert all(word in message for word in words), message


def test_preset_lookup_names_the_choices() -> None:
    assert preset("seed").retry.max_attempts == 1
    with pytest.raises(ConfigError, match="default, seed, none, got 'fast'"):
        preset("fast")
