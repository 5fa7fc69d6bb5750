"""Every mock setting, declared once: the dataclass, its TOML/JSON keys and its CLI flags.

TOML keys are the CLI flag names with ``_`` (``--tokens-per-s`` → ``tokens_per_s``)::

    latency_dist = "lognormal:median=0.5,sigma=0.4"   # or: latency = 0.5
    faults = { "503" = 0.1, hang = 0.01 }
    schedule = ["outage:5-15:503"]
    rpm = 60

    config = MockConfig.from_toml("mock.toml")
    config = config_from_args(parser.parse_args())   # the file, then flags override
"""

from __future__ import annotations

import argparse
import difflib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mock_gemini.config_error import MockConfigError
from mock_gemini.faults import FaultKind, parse_fault, validate_faults
from mock_gemini.latency import Distribution, parse_distribution
from mock_gemini.quotas import QuotaConfig
from mock_gemini.schedule import Window, parse_window
from mock_gemini.templates import TemplateSet, load_templates
from mock_gemini.tomlfile import read_toml

__all__ = [
    "MockConfig",
    "MockConfigError",
    "add_mock_arguments",
    "config_from_args",
]


@dataclass
class MockConfig:
    """The mock server's behaviour. Construct directly, from TOML, a mapping or the CLI."""

    latency: Distribution = field(default_factory=lambda: Distribution.fixed(0.0))
    tokens_per_s: float = 0.0
    thinking_tokens: int = 0
    faults: dict[FaultKind, float] = field(default_factory=dict)
    schedule: list[Window] = field(default_factory=list)
    quotas: QuotaConfig = field(default_factory=QuotaConfig)
    max_concurrency: int | None = None
    max_queue: int | None = None
    api_keys: frozenset[str] | None = None
    strict: bool = False
    seed: int = 0
    max_body_bytes: int = 20 * 1024 * 1024
    hang_max_s: float = 300.0
    body_timeout_s: float = 10.0
    extra_models: list[str] = field(default_factory=list)
    auto_call_rate: float = 0.0
    response_templates: str | None = None
    fill_max_tokens: bool = False  # plain-text answers run to maxOutputTokens (MAX_TOKENS)
    templates: TemplateSet = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.faults = validate_faults(self.faults)
        if not (0.0 <= self.auto_call_rate <= 1.0):
            raise MockConfigError(
                f"key 'auto_call_rate' must be in [0, 1], got {self.auto_call_rate!r}"
            )
        self.templates = load_templates(self.response_templates)
        if self.api_keys is not None:
            self.api_keys = frozenset(self.api_keys)
            if not self.api_keys or "" in self.api_keys:
                raise MockConfigError("key 'api_keys' needs non-empty keys (omit it to allow any)")
        _check_min("tokens_per_s", self.tokens_per_s, 0)
        _check_min("thinking_tokens", self.thinking_tokens, 0)
        _check_min("max_concurrency", self.max_concurrency, 1)
        _check_min("max_queue", self.max_queue, 0)
        _check_min("max_body_bytes", self.max_body_bytes, 1)
        _check_min("hang_max_s", self.hang_max_s, 0)
        _check_min("body_timeout_s", self.body_timeout_s, 0.001)

    @classmethod
    def from_toml(cls, path: str | Path) -> MockConfig:
        """Read a TOML file; errors start with the file name: "mock.toml: unknown key 'x'"."""
        data = read_toml(Path(path))  # bounded, regular, UTF-8 (mock_gemini.tomlfile)
        templates = data.get("response_templates")
        if isinstance(templates, str) and not Path(templates).is_absolute():
            data["response_templates"] = str(Path(path).parent / templates)  # beside the file
        return cls.from_mapping(data, source=str(path))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "config") -> MockConfig:
        """Build from TOML/JSON-shaped data: ``MockConfig.from_mapping({"rpm": 60})``."""
        try:
            return cls(**_convert_mapping(data))
        except MockConfigError as exc:
            raise MockConfigError(f"{source}: {exc}") from None

    def to_dict(self, include_secrets: bool = False) -> dict[str, Any]:
        """JSON-safe settings in the same keys ``from_mapping`` reads.

        API keys are hidden (``"<2 keys hidden>"``) unless ``include_secrets``.
        """
        keys: Any = None
        if self.api_keys is not None:
            hidden = f"<{len(self.api_keys)} keys hidden>"
            keys = sorted(self.api_keys) if include_secrets else hidden
        return {
            "latency": self.latency.spec(),
            "tokens_per_s": self.tokens_per_s,
            "thinking_tokens": self.thinking_tokens,
            "fill_max_tokens": self.fill_max_tokens,
            "faults": {kind.value: p for kind, p in self.faults.items()},
            "schedule": [window.spec() for window in self.schedule],
            "rpm": self.quotas.rpm,
            "tpm": self.quotas.tpm,
            "rpd": self.quotas.rpd,
            "max_concurrency": self.max_concurrency,
            "max_queue": self.max_queue,
            "api_keys": keys,
            "strict": self.strict,
            "seed": self.seed,
            "max_body_bytes": self.max_body_bytes,
            "hang_max_s": self.hang_max_s,
            "body_timeout_s": self.body_timeout_s,
            "extra_models": list(self.extra_models),
            "auto_call_rate": self.auto_call_rate,
            "response_templates": self.response_templates,
        }

    def updated(self, changes: Mapping[str, Any], source: str = "update") -> MockConfig:
        """A new, validated config with ``changes`` (TOML/JSON keys) applied.

        Each given key replaces the old value whole: ``cfg.updated({"faults": {}})``
        clears every fault. ``latency`` and ``latency_dist`` replace each other.
        """
        base = self.to_dict(include_secrets=True)
        if "latency" in changes or "latency_dist" in changes:
            del base["latency"]
        return MockConfig.from_mapping({**base, **changes}, source=source)


def _check_min(key: str, value: float | None, minimum: float) -> None:
    if value is not None and not (math.isfinite(value) and value >= minimum):
        raise MockConfigError(f"key {key!r} must be ≥ {minimum}, got {value!r}")


# ---- mapping (TOML / JSON) → constructor arguments -------------------------------------


class _WrongType(Exception):
    """A value of the wrong type; carries what was expected ("an integer")."""


def _integer(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _WrongType("an integer")
    return value


def _optional_integer(value: Any) -> int | None:
    return None if value is None else _integer(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _WrongType("a number")
    return float(value)


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _WrongType("true or false")
    return value


def _strings(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _WrongType("a list of strings")
    return value


def _optional_string(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _WrongType("a string (a file path)")
    return value


def _latency(value: Any) -> Distribution:
    if isinstance(value, str):
        return parse_distribution(value)
    return Distribution.fixed(_number(value))


def _latency_dist(value: Any) -> Distribution:
    if not isinstance(value, str):
        raise _WrongType("a distribution spec string")
    return parse_distribution(value)


def _faults(value: Any) -> dict[FaultKind, float]:
    if not isinstance(value, Mapping):
        raise _WrongType('a table like { "503" = 0.1 }')
    return validate_faults(value)


def _schedule(value: Any) -> list[Window]:
    return [parse_window(spec) for spec in _strings([value] if isinstance(value, str) else value)]


def _api_keys(value: Any) -> frozenset[str] | None:
    return None if value is None else frozenset(_strings(value))


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "latency": _latency,
    "latency_dist": _latency_dist,
    "tokens_per_s": _number,
    "thinking_tokens": _integer,
    "faults": _faults,
    "schedule": _schedule,
    "rpm": _optional_integer,
    "tpm": _optional_integer,
    "rpd": _optional_integer,
    "max_concurrency": _optional_integer,
    "max_queue": _optional_integer,
    "api_keys": _api_keys,
    "strict": _boolean,
    "seed": _integer,
    "max_body_bytes": _integer,
    "hang_max_s": _number,
    "body_timeout_s": _number,
    "extra_models": _strings,
    "auto_call_rate": _number,
    "response_templates": _optional_string,
    "fill_max_tokens": _boolean,
}
_QUOTA_KEYS = ("rpm", "tpm", "rpd")


def _convert_value(key: str, value: Any) -> Any:
    try:
        return _CONVERTERS[key](value)
    except _WrongType as exc:
        raise MockConfigError(f"key {key!r} expects {exc}, got {value!r}") from None
    except MockConfigError as exc:
        raise MockConfigError(f"key {key!r}: {exc}") from None


def _convert_mapping(data: Mapping[str, Any]) -> dict[str, Any]:
    for key in data:
        if key not in _CONVERTERS:
            close = difflib.get_close_matches(str(key), _CONVERTERS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise MockConfigError(f"unknown key {key!r}{hint}")
    if "latency" in data and "latency_dist" in data:
        raise MockConfigError("give only one of 'latency' and 'latency_dist'")
    values = {key: _convert_value(key, value) for key, value in data.items()}
    if "latency_dist" in values:
        values["latency"] = values.pop("latency_dist")
    quotas = {key: values.pop(key) for key in _QUOTA_KEYS if key in values}
    values["quotas"] = QuotaConfig(**quotas)
    return values


# ---- command line -------------------------------------------------------------------------


def _cli_type(parse: Callable[[str], Any], name: str) -> Callable[[str], Any]:
    """Wrap a parser so argparse reports its MockConfigError as "argument --x: message"."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except MockConfigError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name
    return convert


def _bounded(kind: type[int] | type[float], minimum: float) -> Callable[[str], Any]:
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise MockConfigError(f"expects {kind.__name__}, got {text!r}") from None
        if not (math.isfinite(value) and value >= minimum):
            raise MockConfigError(f"must be ≥ {minimum}, got {text!r}")
        return value

    return _cli_type(parse, kind.__name__)


def add_mock_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Declare every mock flag on ``parser`` (or an argument group of it)."""
    add = parser.add_argument
    add("--config", metavar="FILE.toml", help="mock settings file; flags override it")
    add("--latency", metavar="SECONDS", type=_bounded(float, 0), help="fixed time to first token")
    add("--latency-dist", metavar="SPEC", type=_cli_type(_dist_spec, "spec"),
        help='time to first token, e.g. "lognormal:median=0.5,sigma=0.4"')  # fmt: skip
    add("--tokens-per-s", metavar="N", type=_bounded(float, 0), help="output speed; 0 = instant")
    add("--thinking-tokens", metavar="N", type=_bounded(int, 0), help="thought tokens per answer")
    add("--fault", metavar="KIND=P", action="append", type=_cli_type(parse_fault, "fault"),
        help="inject a fault with probability P, e.g. 503=0.1 (repeatable)")  # fmt: skip
    add("--schedule", metavar="SPEC", action="append", type=_cli_type(_window_spec, "window"),
        help='"outage:5-15:503" or "brownout:20-30:3" (repeatable)')  # fmt: skip
    add("--rpm", metavar="N", type=_bounded(int, 1), help="requests per minute per key and model")
    add("--tpm", metavar="N", type=_bounded(int, 1), help="input tokens per minute per key/model")
    add("--rpd", metavar="N", type=_bounded(int, 1), help="requests per day per key and model")
    add("--max-concurrency", metavar="N", type=_bounded(int, 1), help="requests served at once")
    add("--max-queue", metavar="N", type=_bounded(int, 0), help="waiting requests before 503")
    add("--api-key", metavar="KEY", action="append", help="accepted API key (repeatable)")
    add("--strict", action=argparse.BooleanOptionalAction, help="reject unknown request fields")
    add("--seed", metavar="N", type=int, help="seed of latency and fault draws")
    add("--max-body-bytes", metavar="N", type=_bounded(int, 1), help="largest request body")
    add("--hang-max-s", metavar="SECONDS", type=_bounded(float, 0), help="longest 'hang' fault")
    add("--body-timeout-s", metavar="SECONDS", type=_bounded(float, 0.001),
        help="longest wait for a whole request body before a 408")  # fmt: skip
    add("--extra-model", metavar="NAME", action="append", help="add a model (repeatable)")
    add("--auto-call-rate", metavar="P", type=_bounded(float, 0),
        help="chance of a function call under mode AUTO when no rule asks for one")  # fmt: skip
    add("--response-templates", metavar="FILE.toml",
        help="answers by prompt regex and model (docs/mock-gemini.md)")  # fmt: skip
    add("--fill-max-tokens", action="store_true", default=None,
        help="plain-text answers run to the request's maxOutputTokens (finishReason "
             "MAX_TOKENS), so an output-length workload is realised")  # fmt: skip


def _dist_spec(text: str) -> str:
    return parse_distribution(text).spec()


def _window_spec(text: str) -> str:
    return parse_window(text).spec()


# Flag dest → config key, for flags whose parsed value is already in config form.
_FLAG_KEYS = {
    "tokens_per_s": "tokens_per_s",
    "thinking_tokens": "thinking_tokens",
    "fill_max_tokens": "fill_max_tokens",
    "schedule": "schedule",
    "rpm": "rpm",
    "tpm": "tpm",
    "rpd": "rpd",
    "max_concurrency": "max_concurrency",
    "max_queue": "max_queue",
    "api_key": "api_keys",
    "strict": "strict",
    "seed": "seed",
    "max_body_bytes": "max_body_bytes",
    "hang_max_s": "hang_max_s",
    "body_timeout_s": "body_timeout_s",
    "extra_model": "extra_models",
    "auto_call_rate": "auto_call_rate",
    "response_templates": "response_templates",
}


def config_from_args(ns: argparse.Namespace) -> MockConfig:
    """The ``--config`` file (if any), then every given flag on top.

    ``--fault`` adds to or overrides the file's faults kind by kind; list flags
    (``--schedule``, ``--api-key``, ``--extra-model``) replace the file's list.
    """
    path = getattr(ns, "config", None)
    base = MockConfig.from_toml(path) if path else MockConfig()
    changes = flag_changes(ns, base)
    return base.updated(changes, source="command line") if changes else base


def flag_changes(ns: argparse.Namespace, base: MockConfig) -> dict[str, Any]:
    """The settings the mock's flags in ``ns`` change over ``base`` (only the given ones)."""
    latency, dist = getattr(ns, "latency", None), getattr(ns, "latency_dist", None)
    if latency is not None and dist is not None:
        raise MockConfigError(
            f"command line: give only one of --latency ({latency}) and --latency-dist ({dist!r})"
        )
    changes: dict[str, Any] = {"latency": latency} if latency is not None else {}
    if dist is not None:
        changes["latency_dist"] = dist
    for dest, key in _FLAG_KEYS.items():
        if getattr(ns, dest, None) is not None:
            changes[key] = getattr(ns, dest)
    flag_faults = getattr(ns, "fault", None)
    if flag_faults:
        old = {kind.value: p for kind, p in base.faults.items()}
        changes["faults"] = old | {kind.value: p for kind, p in flag_faults}
    return changes
