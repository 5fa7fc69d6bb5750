"""Scenario files: one TOML file (plus ``--set`` overrides) → one checked :class:`Scenario`.

    scenario = load_scenario(Path("scenarios/ci.toml"), ["workload.users=5", "mock.latency=0.2"])
    plan = scenario.plan(["scenarios/ci.toml"], OutputOptions())   # then runner.execute(plan)

A scenario file has a one-line ``description`` and the tables ``[workload]``,
``[designs]``, ``[mock]`` *or* ``[target]``, ``[resilience]`` and ``[output]``
(docs/scenarios.md). Unknown tables or keys and values of the wrong kind raise a
:class:`ConfigError` whose one line names the file, the key and what was expected.
"""

from __future__ import annotations

import copy
import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.gemini import APIS
from harness.generators import REGISTRY
from harness.generators.load import Arrival, OpenLoad, parse_arrival
from harness.logs import is_secret_name
from harness.measure.slo import Slo, parse_slo
from harness.resilience.config import ResilienceConfig
from harness.run.defaults import CALIBRATION_MODES, DEFAULT_MOCK_LATENCY_S, CalibrationMode
from harness.run.inputs import read_toml
from harness.run.plan import CompareSpec, OutputOptions, RunPlan
from harness.run.targets import TargetKind, TargetSpec
from harness.run.workload import DATA_KEYS, workload_from_table
from mock_gemini.config import MockConfig, MockConfigError

# The keys of each table this module checks itself; [mock] and [resilience] are checked
# by the readers they belong to (MockConfig.from_mapping, ResilienceConfig.from_mapping).
OPEN_LOOP_KEYS = ("rate_rps", "arrival", "requests", "duration_s", "max_in_flight", "arrival_seed")
KEYS: Mapping[str, tuple[str, ...]] = {
    "workload": (
        *("users", "requests_per_user", "repetitions", "max_output_tokens", "lag_warn_ms"),
        *OPEN_LOOP_KEYS,
        "slo",
        *DATA_KEYS,
    ),
    "designs": ("modes", "workers", "concurrency", "seed_limits", "secondary", "stream"),
    "target": ("kind", "base_url", "model", "api_version", "reset_upstream", "api"),
    "output": ("report", "raw_records", "calibration"),
    "thresholds": ("checks",),
}
TOP_LEVEL = (
    *("description", "workload", "designs", "mock", "target", "resilience", "output"),
    "thresholds",
)
TARGET_KINDS: tuple[TargetKind, ...] = ("mock", "base-url", "gemini")
API_VERSIONS = ("v1", "v1beta", "v1alpha")
DEFAULT_MODES = ("sequential", "threaded", "async")


@dataclass(frozen=True)
class Scenario:
    """A checked scenario: what to run, where, and whether to write the report."""

    path: Path
    description: str
    spec: CompareSpec
    target: TargetSpec
    mock: MockConfig | None
    report: bool
    calibration: CalibrationMode = "auto"
    sets: tuple[str, ...] = ()
    thresholds: tuple[str, ...] = ()  # [thresholds] checks, parsed by cli (reports.thresholds)

    @property
    def name(self) -> str:
        """The file's stem: ``scenarios/ci.toml`` → ``ci``."""
        return self.path.stem

    def plan(self, argv: Sequence[str], output: OutputOptions) -> RunPlan:
        """The :class:`RunPlan` for ``runner.execute`` (``argv`` is recorded as given)."""
        return RunPlan(
            "run", list(argv), self.spec, self.target, self.mock, output, self.record(),
            calibration=self.calibration, thresholds=self.thresholds,
        )  # fmt: skip

    def record(self) -> dict[str, Any]:
        """What the results file keeps about the scenario (``--set`` values of keys hidden)."""
        return {
            "name": self.name,
            "file": str(self.path),
            "description": self.description,
            "set": [_redacted(item) for item in self.sets],
        }


def load_scenario(path: Path, sets: Sequence[str] = ()) -> Scenario:
    """Read ``path``, apply each ``--set key=value`` in order, and check the result."""
    table = read_toml(path)
    if "service" in table:
        raise ConfigError(
            f"{path}: a service scenario ([service] table): run it with "
            f"`python -m harness load {path}`"
        )
    try:
        table = apply_sets(table, sets)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    overridden = frozenset(parse_set(item)[0] for item in sets)
    return Checker(path, overridden).scenario(table, tuple(sets))


# ---- --set key=value ----------------------------------------------------------------------


def parse_set(text: str) -> tuple[str, Any]:
    """``"workload.users=5"`` → ``("workload.users", 5)``.

    The value is read as a TOML value (``5``, ``0.2``, ``true``, ``[1, 5]``,
    ``{ "503" = 0.1 }``, ``"text"``); anything that is not TOML is kept as a string,
    so ``mock.schedule=outage:4-9:503`` and ``designs.modes=async,threaded`` work bare.
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    parts = key.split(".")
    if not sep or not all(part.strip() for part in parts):
        raise ConfigError(
            f"--set {text!r}: expected KEY=VALUE with a dotted key, like workload.users=5"
        )
    return key, parse_value(raw.strip())


def parse_value(raw: str) -> Any:
    """A TOML value, or the text itself when it is not one: ``parse_value("[1, 5]")`` → [1, 5]."""
    try:
        return tomllib.loads(f"value = {raw}")["value"]
    except tomllib.TOMLDecodeError:
        return raw


def apply_sets(table: Mapping[str, Any], sets: Sequence[str]) -> dict[str, Any]:
    """A copy of ``table`` with each ``key=value`` set (missing tables are created)."""
    out = copy.deepcopy(dict(table))
    for item in sets:
        key, value = parse_set(item)
        *path, last = key.split(".")
        node = out
        for depth, part in enumerate(path):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                where = ".".join(path[: depth + 1])
                raise ConfigError(f"--set {item!r}: {where} is a value, not a table")
        node[last] = value
    return out


def _redacted(item: str) -> str:
    key, _, _ = item.partition("=")
    return f"{key}=<hidden>" if is_secret_name(key) else item


# ---- checking -----------------------------------------------------------------------------


class Checker:
    """Checks one scenario table; every message starts with the file and the dotted key."""

    def __init__(self, path: Path, overridden: frozenset[str] = frozenset()) -> None:
        self.path = path
        self.overridden = overridden

    def fail(self, key: str, expected: str, value: Any) -> ConfigError:
        """``scenarios/x.toml: workload.users: expected a positive integer, got 0``."""
        origin = " (from --set)" if key in self.overridden else ""
        shown = "<hidden>" if is_secret_name(key) else repr(value)  # never echo a credential
        return ConfigError(f"{self.path}: {key}{origin}: expected {expected}, got {shown}")

    def scenario(self, table: Mapping[str, Any], sets: tuple[str, ...]) -> Scenario:
        self.known(table, "", TOP_LEVEL)
        sections = {name: self.section(table, name) for name in (*KEYS, "mock", "resilience")}
        target = self.target(sections["target"])
        spec = self.spec(sections)
        return Scenario(
            path=self.path,
            description=self.description(table.get("description", "")),
            spec=spec,
            target=target,
            mock=self.mock(sections["mock"], target, "mock" in table),
            report=self.boolean(sections["output"], "output", "report", True),
            calibration=self.calibration(sections["output"].get("calibration", "auto")),
            sets=sets,
            thresholds=self.checks(sections["thresholds"].get("checks", [])),
        )

    def known(self, table: Mapping[str, Any], prefix: str, allowed: Sequence[str]) -> None:
        for key, value in table.items():
            if key not in allowed:
                name = f"{prefix}{key}"
                raise self.fail(name, f"a known key ({', '.join(allowed)})", value)

    def section(self, table: Mapping[str, Any], name: str) -> dict[str, Any]:
        value = table.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"a table [{name}]", value)
        if name in KEYS:
            self.known(value, f"{name}.", KEYS[name])
        return value

    def checks(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail("thresholds.checks", "a list of checks like 'latency_p99<=2s'", value)
        return tuple(value)

    def slo(self, value: Any) -> Slo | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail("workload.slo", "criteria text like 'latency<=2s'", value)
        return parse_slo(value, f"{self.path}: workload.slo")

    def description(self, value: Any) -> str:
        if not isinstance(value, str) or "\n" in value.strip():
            raise self.fail("description", "one line of text", value)
        return value.strip()

    # -- typed values --

    def integer(self, table: Mapping[str, Any], section: str, key: str, default: int) -> int:
        value = table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(f"{section}.{key}", "a positive integer", value)
        return value

    def optional_integer(self, table: Mapping[str, Any], section: str, key: str) -> int | None:
        return self.integer(table, section, key, 1) if key in table else None

    def optional_number(self, table: Mapping[str, Any], section: str, key: str) -> float | None:
        if key not in table:
            return None
        value = table[key]
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not (number and math.isfinite(value) and value > 0):
            raise self.fail(f"{section}.{key}", "a positive number", value)
        return float(value)

    def boolean(self, table: Mapping[str, Any], section: str, key: str, default: bool) -> bool:
        value = table.get(key, default)
        if not isinstance(value, bool):
            raise self.fail(f"{section}.{key}", "true or false", value)
        return value

    def string(self, table: Mapping[str, Any], section: str, key: str, default: str) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(f"{section}.{key}", "a non-empty string", value)
        return value

    def users(self, value: Any) -> tuple[int, ...]:
        """An integer, a list of them (a sweep), or the text ``"1,5,10"``."""
        values = value if isinstance(value, list) else [value]
        if isinstance(value, str):
            values = [parse_value(part.strip()) for part in value.split(",")]
        ok = values and all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in values
        )
        if not ok or len(set(values)) != len(values):
            raise self.fail(
                "workload.users", "a positive integer or a list of distinct ones", value
            )
        return tuple(values)

    def modes(self, value: Any) -> tuple[str, ...]:
        """A list of design names, or the text ``"sequential,async"``."""
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        known = ", ".join(REGISTRY)
        if not isinstance(value, list) or not value:
            raise self.fail("designs.modes", f"a non-empty list of designs ({known})", value)
        for mode in value:
            if mode not in REGISTRY:
                raise self.fail("designs.modes", f"designs from {known}", mode)
        return tuple(value)

    # -- sections --

    def open_load(self, workload: Mapping[str, Any]) -> OpenLoad | None:
        """Open-loop arrivals when ``rate_rps`` is given (then no users, requests_per_user)."""
        given = [key for key in OPEN_LOOP_KEYS if key in workload]
        if not given:
            return None
        if "rate_rps" not in workload:
            raise self.fail(
                f"workload.{given[0]}", "workload.rate_rps beside it", workload[given[0]]
            )
        for key in ("users", "requests_per_user"):
            if key in workload:
                raise self.fail(
                    f"workload.{key}", "no closed-loop key with rate_rps", workload[key]
                )
        if "requests" not in workload and "duration_s" not in workload:
            expected = "workload.requests or workload.duration_s beside it"
            raise self.fail("workload.rate_rps", expected, workload["rate_rps"])
        return OpenLoad(
            rate_rps=self.optional_number(workload, "workload", "rate_rps") or 1.0,
            arrival=self.arrival(workload.get("arrival", "poisson")),
            requests=self.optional_integer(workload, "workload", "requests"),
            duration_s=self.optional_number(workload, "workload", "duration_s"),
            max_in_flight=self.optional_integer(workload, "workload", "max_in_flight"),
            seed=self.seed(workload.get("arrival_seed", 0)),
        )

    def seed(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.fail("workload.arrival_seed", "an integer >= 0", value)
        return value

    def lag_warn_ms(self, value: Any) -> float:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not (number and math.isfinite(value) and value >= 0):
            raise self.fail("workload.lag_warn_ms", "a number of milliseconds >= 0", value)
        return float(value)

    def calibration(self, value: Any) -> CalibrationMode:
        for mode in CALIBRATION_MODES:
            if value == mode:
                return mode
        raise self.fail("output.calibration", " or ".join(map(repr, CALIBRATION_MODES)), value)

    def arrival(self, value: Any) -> Arrival:
        expected = "'constant', 'poisson' or 'gamma:cv=C'"
        if not isinstance(value, str):
            raise self.fail("workload.arrival", expected, value)
        try:
            return parse_arrival(value)
        except ConfigError:
            raise self.fail("workload.arrival", expected, value) from None

    def spec(self, sections: Mapping[str, dict[str, Any]]) -> CompareSpec:
        workload, designs = sections["workload"], sections["designs"]
        resilience = ResilienceConfig.from_mapping(
            sections["resilience"], f"{self.path}: [resilience]"
        )
        open_load = self.open_load(workload)
        users = (open_load.users or 1,) if open_load else self.users(workload.get("users", 20))
        spec = CompareSpec(
            modes=self.modes(designs.get("modes", list(DEFAULT_MODES))),
            users=users,
            requests_per_user=self.integer(workload, "workload", "requests_per_user", 1),
            workers=self.optional_integer(designs, "designs", "workers"),
            concurrency=self.optional_integer(designs, "designs", "concurrency"),
            seed_limits=self.boolean(designs, "designs", "seed_limits", False),
            repetitions=self.integer(workload, "workload", "repetitions", 1),
            resilience=resilience,
            max_output_tokens=self.integer(workload, "workload", "max_output_tokens", 2048),
            secondary=self.boolean(designs, "designs", "secondary", False),
            stream=self.boolean(designs, "designs", "stream", False),
            open_load=open_load,
            raw_records=self.boolean(sections["output"], "output", "raw_records", True),
            late_threshold_s=self.lag_warn_ms(workload.get("lag_warn_ms", 10.0)) / 1000.0,
            slo=self.slo(workload.get("slo")),
            workload=workload_from_table(workload, self.path),
        )
        spec.validate()
        return spec

    def target(self, table: Mapping[str, Any]) -> TargetSpec:
        kind = table.get("kind", "mock")
        if kind not in TARGET_KINDS:
            raise self.fail("target.kind", " or ".join(map(repr, TARGET_KINDS)), kind)
        base_url = table.get("base_url")
        if base_url is not None and (kind == "mock" or not isinstance(base_url, str)):
            expected = "no base_url with kind 'mock'" if kind == "mock" else "a URL string"
            raise self.fail("target.base_url", expected, base_url)
        if kind == "base-url" and base_url is None:
            raise self.fail("target.base_url", "a URL when kind = 'base-url'", None)
        version = self.string(table, "target", "api_version", "v1beta")
        if version not in API_VERSIONS:
            raise self.fail("target.api_version", " or ".join(API_VERSIONS), version)
        model = self.string(table, "target", "model", "gemini-2.5-flash")
        reset = self.boolean(table, "target", "reset_upstream", False)
        api = self.string(table, "target", "api", "gemini")
        if api not in APIS:
            raise self.fail("target.api", " or ".join(map(repr, APIS)), api)
        if reset and kind != "base-url":
            raise self.fail("target.reset_upstream", "only with kind = 'base-url'", reset)
        return TargetSpec(kind, base_url, model, version, reset, api)

    def mock(self, table: dict[str, Any], target: TargetSpec, given: bool) -> MockConfig | None:
        if target.kind != "mock":
            if given:
                raise self.fail("mock", "no [mock] table when target.kind is not 'mock'", table)
            return None
        if "latency" not in table and "latency_dist" not in table:
            table = {**table, "latency": DEFAULT_MOCK_LATENCY_S}
        try:
            return MockConfig.from_mapping(table, source=f"{self.path}: [mock]")
        except MockConfigError as exc:
            raise ConfigError(str(exc)) from None
