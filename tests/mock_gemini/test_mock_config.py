"""Mock settings from TOML, mappings and flags: parsing, errors, precedence, round-trip."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from mock_gemini.config import MockConfig, MockConfigError, add_mock_arguments, config_from_args
from mock_gemini.faults import FaultKind
from mock_gemini.latency import Distribution, parse_distribution
from mock_gemini.quotas import QuotaConfig
from mock_gemini.schedule import parse_window

FULL_TOML = """\
latency_dist = "lognormal:median=0.5,sigma=0.4"
tokens_per_s = 80
thinking_tokens = 64
faults = { "503" = 0.1, hang = 0.01 }
schedule = ["outage:5-15:503", "brownout:20-30:3"]
rpm = 60
tpm = 100000
rpd = 1000
max_concurrency = 8
max_queue = 16
api_keys = ["key-a", "key-b"]
strict = true
seed = 42
max_body_bytes = 1024
hang_max_s = 2.5
extra_models = ["gemini-test"]
"""

FULL_CONFIG = MockConfig(
    latency=parse_distribution("lognormal:median=0.5,sigma=0.4"),
    tokens_per_s=80.0,
    thinking_tokens=64,
    faults={FaultKind.UNAVAILABLE: 0.1, FaultKind.HANG: 0.01},
    schedule=[parse_window("outage:5-15:503"), parse_window("brownout:20-30:3")],
    quotas=QuotaConfig(rpm=60, tpm=100_000, rpd=1000),
    max_concurrency=8,
    max_queue=16,
    api_keys=frozenset({"key-a", "key-b"}),
    strict=True,
    seed=42,
    max_body_bytes=1024,
    hang_max_s=2.5,
    extra_models=["gemini-test"],
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mock.toml"
    path.write_text(text, encoding="utf-8")
    return path


def parse_flags(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mock-gemini", exit_on_error=True)
    add_mock_arguments(parser.add_argument_group("mock"))
    return parser.parse_args(argv)


def test_toml_file_sets_every_key(tmp_path: Path) -> None:
    assert MockConfig.from_toml(write(tmp_path, FULL_TOML)) == FULL_CONFIG


def test_plain_latency_number_is_a_fixed_distribution() -> None:
    assert MockConfig.from_mapping({"latency": 0.25}).latency == Distribution.fixed(0.25)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        pytest.param("x = 1", "unknown key 'x'", id="unknown-key"),
        pytest.param("rmp = 1", "unknown key 'rmp' (did you mean 'rpm'?)", id="typo"),
        pytest.param('rpm = "abc"', "key 'rpm' expects an integer, got 'abc'", id="string-for-int"),
        pytest.param("rpm = 1.5", "key 'rpm' expects an integer, got 1.5", id="float-for-int"),
        pytest.param("rpm = 0", "key 'rpm' must be an integer ≥ 1, got 0", id="rpm-zero"),
        pytest.param("strict = 1", "key 'strict' expects true or false, got 1", id="int-bool"),
        pytest.param(
            "tokens_per_s = true", "key 'tokens_per_s' expects a number, got True", id="bool-num"
        ),
        pytest.param("max_queue = -1", "key 'max_queue' must be ≥ 0, got -1", id="neg-queue"),
        pytest.param(
            "latency = 0.5\nlatency_dist = 'exponential:mean=0.5'",
            "give only one of 'latency' and 'latency_dist'",
            id="both-latencies",
        ),
        pytest.param(
            "latency_dist = 'gamma:k=2'",
            "key 'latency_dist': latency 'gamma:k=2': unknown latency distribution 'gamma'",
            id="bad-distribution",
        ),
        pytest.param(
            'faults = { "503" = 0.6, "500" = 0.5 }',
            "key 'faults': fault probabilities sum to 1.1 > 1",
            id="faults-over-one",
        ),
        pytest.param(
            "faults = { teapot = 0.1 }",
            "key 'faults': unknown fault kind 'teapot'",
            id="unknown-fault",
        ),
        pytest.param(
            'schedule = ["outage:15-5:503"]',
            "key 'schedule': schedule window 'outage:15-5:503': need 0 ≤ start < end",
            id="bad-window",
        ),
        pytest.param(
            "schedule = [1]", "key 'schedule' expects a list of strings, got [1]", id="window-int"
        ),
        pytest.param("api_keys = []", "key 'api_keys' needs non-empty keys", id="no-keys"),
        pytest.param("rpm = ", "invalid TOML", id="bad-toml"),
    ],
)
def test_file_errors_are_one_line_naming_file_key_and_value(
    tmp_path: Path, toml: str, message: str
) -> None:
    path = write(tmp_path, toml)
    with pytest.raises(MockConfigError) as info:
        MockConfig.from_toml(path)
    text = str(info.value)
    assert text.startswith(f"{path}: ")
    assert message in text
    assert "\n" not in text


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(MockConfigError, match="cannot read"):
        MockConfig.from_toml(tmp_path / "absent.toml")


def test_direct_construction_validates() -> None:
    with pytest.raises(MockConfigError, match="key 'max_concurrency' must be ≥ 1, got 0"):
        MockConfig(max_concurrency=0)


def test_flags_alone() -> None:
    flags = "--latency-dist exponential:mean=0.2 --fault 503=0.2 --fault reset=0.1"
    more = "--schedule outage:1-2 --rpm 5 --api-key k --strict --seed 3"
    ns = parse_flags([*flags.split(), *more.split()])
    config = config_from_args(ns)
    assert config.latency == parse_distribution("exponential:mean=0.2")
    assert config.faults == {FaultKind.UNAVAILABLE: 0.2, FaultKind.RESET: 0.1}
    assert config.schedule == [parse_window("outage:1-2:503")]
    assert (config.quotas.rpm, config.api_keys, config.strict, config.seed) == (
        5,
        frozenset({"k"}),
        True,
        3,
    )


def test_no_flags_no_file_is_the_plain_config() -> None:
    assert config_from_args(parse_flags([])) == MockConfig()


def test_flags_override_the_file_and_the_rest_of_the_file_stays(tmp_path: Path) -> None:
    path = write(tmp_path, FULL_TOML)
    flags = "--rpm 5 --latency 0.1 --fault 500=0.2 --fault 503=0.3 --no-strict"
    ns = parse_flags(["--config", str(path), *flags.split(), "--schedule", "brownout:0-1:2"])
    config = config_from_args(ns)
    assert config.quotas == QuotaConfig(rpm=5, tpm=100_000, rpd=1000)
    assert config.latency == Distribution.fixed(0.1)  # --latency replaces latency_dist
    assert config.faults == {
        FaultKind.UNAVAILABLE: 0.3,
        FaultKind.HANG: 0.01,
        FaultKind.INTERNAL: 0.2,
    }
    assert config.strict is False
    assert config.schedule == [parse_window("brownout:0-1:2")]
    assert (config.seed, config.max_queue, config.api_keys) == (42, 16, FULL_CONFIG.api_keys)


def test_both_latency_flags_is_an_error() -> None:
    ns = parse_flags(["--latency", "0.5", "--latency-dist", "exponential:mean=0.5"])
    with pytest.raises(MockConfigError, match=r"only one of --latency .* and --latency-dist"):
        config_from_args(ns)


def test_flag_faults_pushing_the_sum_over_one_name_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'faults = { "503" = 0.6 }')
    with pytest.raises(MockConfigError, match=r"^command line: key 'faults': .*sum to 1\.2"):
        config_from_args(parse_flags(["--config", str(path), "--fault", "500=0.6"]))


def test_file_errors_surface_through_config_from_args(tmp_path: Path) -> None:
    path = write(tmp_path, "x = 1")
    with pytest.raises(MockConfigError, match="unknown key 'x'"):
        config_from_args(parse_flags(["--config", str(path)]))


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        pytest.param(["--rpm", "abc"], "argument --rpm: expects int, got 'abc'", id="rpm-text"),
        pytest.param(["--rpm", "0"], "argument --rpm: must be ≥ 1, got '0'", id="rpm-zero"),
        pytest.param(["--latency", "-1"], "argument --latency: must be ≥ 0", id="neg-latency"),
        pytest.param(["--fault", "teapot=1"], "unknown fault kind 'teapot'", id="bad-fault"),
        pytest.param(["--schedule", "foo:1-2:3"], "schedule window 'foo:1-2:3'", id="bad-window"),
        pytest.param(["--latency-dist", "gamma"], "argument --latency-dist", id="bad-dist"),
    ],
)
def test_bad_flags_exit_2_with_one_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        parse_flags(argv)
    assert info.value.code == 2
    assert fragment in capsys.readouterr().err


def test_to_dict_is_json_safe_and_round_trips() -> None:
    data = FULL_CONFIG.to_dict(include_secrets=True)
    assert json.loads(json.dumps(data)) == data
    assert data["latency"] == "lognormal:median=0.5,sigma=0.4"
    assert data["faults"] == {"503": 0.1, "hang": 0.01}
    assert data["schedule"] == ["outage:5-15:503", "brownout:20-30:3"]
    assert MockConfig.from_mapping(data) == FULL_CONFIG
    assert MockConfig.from_mapping(MockConfig().to_dict()) == MockConfig()


def test_to_dict_hides_api_keys_by_default() -> None:
    text = json.dumps(FULL_CONFIG.to_dict())
    assert "key-a" not in text
    assert "2 keys hidden" in text


def test_updated_applies_changes_and_keeps_the_rest() -> None:
    changed = FULL_CONFIG.updated({"rpm": 10, "faults": {}, "latency_dist": "fixed:0.1"})
    assert changed.quotas == QuotaConfig(rpm=10, tpm=100_000, rpd=1000)
    assert changed.faults == {}
    assert changed.latency == Distribution.fixed(0.1)
    assert changed.api_keys == FULL_CONFIG.api_keys
    assert FULL_CONFIG.quotas.rpm == 60  # the original is untouched


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        pytest.param({"rpm": 0}, "key 'rpm' must be an integer ≥ 1, got 0", id="bad-value"),
        pytest.param({"nope": 1}, "unknown key 'nope'", id="unknown"),
        pytest.param({"rpm": None, "tpm": "x"}, "key 'tpm' expects an integer", id="bad-type"),
    ],
)
def test_updated_validates(changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(MockConfigError, match=f"^PUT: {fragment}"):
        FULL_CONFIG.updated(changes, source="PUT")


def test_updated_null_lifts_a_limit() -> None:
    changed = FULL_CONFIG.updated({"rpm": None, "max_concurrency": None, "api_keys": None})
    assert changed.quotas.rpm is None
    assert changed.max_concurrency is None
    assert changed.api_keys is None
