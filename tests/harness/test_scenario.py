"""Scenario files: what a TOML file and its --set overrides turn into, and the one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.run.plan import OutputOptions
from harness.run.scenario import apply_sets, load_scenario, parse_set, parse_value

FULL = """\
# A full scenario.
description = "A full scenario."

[workload]
users = [1, 5, 10]
requests_per_user = 3
repetitions = 2

[designs]
modes = ["threaded", "async"]
workers = 4
concurrency = 2

[mock]
latency = 0.3
rpm = 60
schedule = ["outage:4-9:503"]

[resilience]
preset = "seed"
[resilience.retry]
max_attempts = 2

[output]
report = false
"""


def _write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_file_becomes_the_run_it_describes(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, FULL))
    spec = scenario.spec
    assert (spec.modes, spec.users, spec.requests_per_user) == (
        ("threaded", "async"),
        (1, 5, 10),
        3,
    )
    assert (spec.repetitions, spec.workers, spec.concurrency) == (2, 4, 2)
    assert spec.resilience.retry.max_attempts == 2
    assert spec.resilience.breaker.window_calls == 3  # from the seed preset
    assert scenario.mock is not None
    assert scenario.mock.latency.mean_s() == pytest.approx(0.3)
    assert scenario.mock.quotas.rpm == 60
    assert [w.spec() for w in scenario.mock.schedule] == ["outage:4-9:503"]
    assert scenario.report is False
    assert scenario.description == "A full scenario."


def test_an_empty_file_is_compares_default_run(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, ""))
    assert scenario.spec.users == (20,)
    assert scenario.spec.modes == ("sequential", "threaded", "async")
    assert scenario.mock is not None and scenario.mock.latency.mean_s() == 1.0
    assert scenario.target.kind == "mock" and scenario.report is True


def test_the_plan_records_the_scenario_and_its_overrides(tmp_path: Path) -> None:
    path = _write(tmp_path, FULL, "outage.toml")
    scenario = load_scenario(path, ["workload.users=2", "mock.api_keys=['k1']"])
    plan = scenario.plan(["outage.toml", "--set", "workload.users=2"], OutputOptions())
    assert plan.command == "run" and plan.spec.users == (2,)
    assert plan.scenario == {
        "name": "outage",
        "file": str(path),
        "description": "A full scenario.",
        "set": ["workload.users=2", "mock.api_keys=<hidden>"],
    }


SETS = [
    pytest.param("workload.users=5", ("workload.users", 5), id="integer"),
    pytest.param("mock.latency=0.2", ("mock.latency", 0.2), id="float"),
    pytest.param("workload.users=[1, 5]", ("workload.users", [1, 5]), id="toml-list"),
    pytest.param("output.report=false", ("output.report", False), id="boolean"),
    pytest.param("mock.schedule=outage:4-9:503", ("mock.schedule", "outage:4-9:503"), id="bare"),
    pytest.param('target.model="gemini-2.5-pro"', ("target.model", "gemini-2.5-pro"), id="quoted"),
    pytest.param('mock.faults={"503"=0.1}', ("mock.faults", {"503": 0.1}), id="inline-table"),
    pytest.param(" designs.modes = async ", ("designs.modes", "async"), id="spaces"),
]


@pytest.mark.parametrize(("text", "expected"), SETS)
def test_set_values_are_read_as_toml_or_kept_as_text(text: str, expected: object) -> None:
    assert parse_set(text) == expected


def test_sets_apply_in_order_and_create_missing_tables() -> None:
    table = {"workload": {"users": 10}}
    out = apply_sets(table, ["workload.users=3", "resilience.retry.max_attempts=2",
                             "workload.users=4"])  # fmt: skip
    assert out == {"workload": {"users": 4}, "resilience": {"retry": {"max_attempts": 2}}}
    assert table == {"workload": {"users": 10}}  # the file's table is untouched


def test_sets_change_the_run(tmp_path: Path) -> None:
    sets = ["workload.users=1,5", "designs.modes=async,sequential", "mock.latency=0.2",
            "resilience.retry.max_attempts=2", "resilience.breaker.enabled=false"]  # fmt: skip
    scenario = load_scenario(_write(tmp_path, FULL), sets)
    assert scenario.spec.users == (1, 5)
    assert scenario.spec.modes == ("async", "sequential")
    assert scenario.mock is not None and scenario.mock.latency.mean_s() == pytest.approx(0.2)
    assert scenario.mock.quotas.rpm == 60  # the rest of [mock] stays
    assert scenario.spec.resilience.retry.max_attempts == 2
    assert scenario.spec.resilience.breaker.enabled is False


def test_parse_value_keeps_non_toml_text() -> None:
    assert parse_value("lognormal:median=0.5,sigma=0.4") == "lognormal:median=0.5,sigma=0.4"


BAD_FILES = [
    pytest.param("[workload]\nusers = 0\n", "workload.users", "positive integer", id="zero-users"),
    pytest.param("[workload]\nusers = [5, 5]\n", "workload.users", "distinct", id="dup-users"),
    pytest.param('[workload]\nusers = "many"\n', "workload.users", "got 'many'", id="text-users"),
    pytest.param(
        "[workload]\nrequests_per_user = 1.5\n",
        "workload.requests_per_user",
        "positive integer",
        id="float-requests",
    ),
    pytest.param(
        "[workload]\nrepetitions = true\n",
        "workload.repetitions",
        "positive integer",
        id="bool-repetitions",
    ),
    pytest.param("[workload]\nuser = 5\n", "workload.user", "known key", id="unknown-key"),
    pytest.param("[workloads]\nusers = 5\n", "workloads", "known key", id="unknown-section"),
    pytest.param("workload = 5\n", "workload", "a table [workload]", id="section-not-table"),
    pytest.param('[designs]\nmodes = ["fast"]\n', "designs.modes", "'fast'", id="unknown-mode"),
    pytest.param("[designs]\nmodes = []\n", "designs.modes", "non-empty", id="no-modes"),
    pytest.param(
        '[designs]\nseed_limits = "yes"\n',
        "designs.seed_limits",
        "true or false",
        id="bool-as-text",
    ),
    pytest.param("[designs]\nworkers = 0\n", "designs.workers", "positive", id="zero-workers"),
    pytest.param('[target]\nkind = "cloud"\n', "target.kind", "'base-url'", id="bad-kind"),
    pytest.param('[target]\nkind = "base-url"\n', "target.base_url", "a URL", id="no-url"),
    pytest.param(
        '[target]\nbase_url = "http://x"\n', "target.base_url", "kind 'mock'", id="url-with-mock"
    ),
    pytest.param(
        '[target]\napi_version = "v2"\n', "target.api_version", "v1beta", id="bad-version"
    ),
    pytest.param(
        '[target]\nkind = "gemini"\n[mock]\nlatency = 1\n',
        "mock",
        "no [mock] table",
        id="mock-with-gemini",
    ),
    pytest.param('[mock]\nlatency = "slow"\n', "[mock]", "latency", id="bad-mock-value"),
    pytest.param("[mock]\nrpmm = 5\n", "[mock]", "did you mean 'rpm'", id="unknown-mock-key"),
    pytest.param(
        "[resilience.retry]\nmax_attempts = 0\n",
        "[resilience]",
        "retry.max_attempts",
        id="bad-resilience",
    ),
    pytest.param('[output]\nreport = "no"\n', "output.report", "true or false", id="bad-report"),
    pytest.param(
        'description = """two\nlines"""\n', "description", "one line", id="two-line-description"
    ),
    pytest.param("[workload\n", "invalid TOML", "", id="bad-toml"),
]


@pytest.mark.parametrize(("text", "key", "expected"), BAD_FILES)
def test_bad_files_name_the_file_the_key_and_what_was_expected(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert key in message and expected in message


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario(tmp_path / "nope.toml")
    assert str(info.value).startswith(f"{tmp_path / 'nope.toml'}: cannot read")


BAD_SETS = [
    pytest.param("workload.users", "expected KEY=VALUE", id="no-equals"),
    pytest.param("workload..users=3", "expected KEY=VALUE", id="empty-part"),
    pytest.param("=3", "expected KEY=VALUE", id="no-key"),
    pytest.param("workload.users.max=3", "workload.users is a value", id="into-a-value"),
]


@pytest.mark.parametrize(("item", "needle"), BAD_SETS)
def test_malformed_sets_are_config_errors(tmp_path: Path, item: str, needle: str) -> None:
    path = _write(tmp_path, "[workload]\nusers = 2\n")
    with pytest.raises(ConfigError) as info:
        load_scenario(path, [item])
    assert str(info.value).startswith(f"{path}: --set ") and needle in str(info.value)


def test_an_error_from_a_set_value_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"workload\.users \(from --set\): expected"):
        load_scenario(_write(tmp_path, FULL), ["workload.users=-1"])


OPEN_LOOP = """\
[workload]
rate_rps = 8.0
arrival = "gamma:cv=2"
duration_s = 14
max_in_flight = 20
arrival_seed = 3
lag_warn_ms = 25

[designs]
stream = true

[output]
raw_records = false
calibration = "off"
"""


def test_rate_rps_makes_an_open_loop_run(tmp_path: Path) -> None:
    spec = load_scenario(_write(tmp_path, OPEN_LOOP)).spec
    load = spec.open_load
    assert load is not None
    assert (load.rate_rps, load.arrival.describe(), load.duration_s) == (8.0, "gamma:cv=2", 14.0)
    assert (load.requests, load.max_in_flight, load.seed) == (None, 20, 3)
    assert spec.stream is True and spec.raw_records is False
    assert spec.late_threshold_s == pytest.approx(0.025)


def test_output_calibration_reaches_the_plan(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, OPEN_LOOP))
    assert scenario.plan([], OutputOptions()).calibration == "off"
    assert load_scenario(_write(tmp_path, "", "plain.toml")).calibration == "auto"


def test_without_rate_rps_the_run_is_closed_loop(tmp_path: Path) -> None:
    spec = load_scenario(_write(tmp_path, "[workload]\nusers = 3\n")).spec
    assert spec.open_load is None and spec.users == (3,)


BAD_OPEN_LOOP = [
    pytest.param(
        "[workload]\nrate_rps = 5\n", "workload.rate_rps", "workload.requests or", id="unbounded"
    ),
    pytest.param(
        "[workload]\nrequests = 5\n",
        "workload.requests",
        "rate_rps beside it",
        id="requests-without-rate",
    ),
    pytest.param(
        "[workload]\nrate_rps = 5\nrequests = 5\nusers = 3\n",
        "workload.users",
        "no closed-loop key",
        id="users-with-rate",
    ),
    pytest.param(
        "[workload]\nrate_rps = 0\nrequests = 5\n",
        "workload.rate_rps",
        "a positive number",
        id="zero-rate",
    ),
    pytest.param(
        '[workload]\nrate_rps = 5\nrequests = 5\narrival = "burst"\n',
        "workload.arrival",
        "'poisson'",
        id="unknown-arrival",
    ),
    pytest.param("[designs]\nstream = 1\n", "designs.stream", "true or false", id="bad-stream"),
    pytest.param(
        "[workload]\nrate_rps = 5\nrequests = 5\narrival_seed = -1\n",
        "workload.arrival_seed",
        ">= 0",
        id="negative-seed",
    ),
    pytest.param(
        "[workload]\nlag_warn_ms = -1\n", "workload.lag_warn_ms", ">= 0", id="negative-lag"
    ),
    pytest.param(
        '[output]\ncalibration = "always"\n', "output.calibration", "'cached'", id="bad-calibration"
    ),
]


@pytest.mark.parametrize(("text", "key", "expected"), BAD_OPEN_LOOP)
def test_bad_open_loop_settings_name_the_key(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_scenario(path)
    message = str(info.value)
    assert message.startswith(f"{path}: {key}: ") and expected in message
