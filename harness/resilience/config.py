"""The resilience settings of a run: one frozen tree, presets, and a checked reader.

Split from :mod:`harness.resilience.policy` (which re-exports it) to keep both short::

    cfg = ResilienceConfig.from_mapping({"preset": "seed", "retry": {"max_attempts": 2}},
                                        "scenario.toml [resilience]")
    cfg.to_dict()  # JSON-ready, reads back with from_mapping
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, get_args, get_origin, get_type_hints

from harness.errors import ConfigError
from harness.resilience.breaker import SEED_BREAKER, BreakerConfig
from harness.resilience.retry import RetryConfig

MAX_WAIT_S = 86_400.0  # any timeout, deadline or open time: at most a day


@dataclass(frozen=True)
class ResilienceConfig:
    """Per-attempt timeout, per-request deadline, retry, breaker and fallback switch.

    ``deadline_s`` bounds a request's primary path (attempts and retry waits, not
    fallbacks); ``fallback=False`` ignores any fallbacks the caller passes.
    """

    attempt_timeout_s: float = 30.0
    deadline_s: float = 60.0
    retry: RetryConfig = field(default_factory=RetryConfig)
    breaker: BreakerConfig = field(default_factory=BreakerConfig)
    fallback: bool = True

    def __post_init__(self) -> None:
        for key in ("attempt_timeout_s", "deadline_s"):
            value = getattr(self, key)
            if not 0 < value <= MAX_WAIT_S:  # NaN and infinity fail too
                raise ConfigError(f"{key} must be > 0 and <= {MAX_WAIT_S:g} s, got {value!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str) -> ResilienceConfig:
        """Read a ``[resilience]`` table (TOML/JSON); bad keys or values → ConfigError.

        An optional ``preset`` key names the base; other keys override it, with
        ``retry`` and ``breaker`` as sub-tables. ``"none"`` stands for a null
        optional number (TOML has no null).
        """
        try:
            return _parse(data)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that :meth:`from_mapping` reads back to an equal config."""
        return dataclasses.asdict(self)


PRESETS: Mapping[str, ResilienceConfig] = types.MappingProxyType(
    {
        "default": ResilienceConfig(),
        # The seed: a 30 s timeout, no retries, its 3-failures/30 s breaker, fallbacks.
        "seed": ResilienceConfig(
            attempt_timeout_s=30.0, retry=RetryConfig(max_attempts=1), breaker=SEED_BREAKER
        ),
        "none": ResilienceConfig(
            retry=RetryConfig(max_attempts=1), breaker=BreakerConfig.disabled(), fallback=False
        ),
    }
)


def preset(name: str) -> ResilienceConfig:
    """``preset("seed")``; an unknown name → ConfigError listing the choices."""
    if not (isinstance(name, str) and name in PRESETS):
        raise ConfigError(f"preset must be one of {', '.join(PRESETS)}, got {name!r}")
    return PRESETS[name]


_SECTIONS = ("retry", "breaker")
_KINDS = {bool: "true or false", int: "an integer", float: "a number"}


def _parse(data: Mapping[str, Any]) -> ResilienceConfig:
    _require_table(data, "resilience")
    base = preset(data.get("preset", "default"))
    top = {k: v for k, v in data.items() if k != "preset" and k not in _SECTIONS}
    changes = _checked(ResilienceConfig, top, prefix="")
    for section in _SECTIONS:
        if section in data:
            changes[section] = _section(getattr(base, section), data[section], section)
    return dataclasses.replace(base, **changes)


def _section(base: Any, data: Any, name: str) -> Any:
    _require_table(data, name)
    changes = _checked(type(base), data, prefix=f"{name}.")
    try:
        return dataclasses.replace(base, **changes)
    except ConfigError as exc:  # the section's own range checks name the bare key
        raise ConfigError(f"{name}.{exc}") from None


def _require_table(data: Any, key: str) -> None:
    if not isinstance(data, Mapping):
        raise ConfigError(f"{key} must be a table, got {data!r}")


def _checked(cls: type, data: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    hints = get_type_hints(cls)
    known = [name for name in hints if name not in _SECTIONS]
    changes = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(
                f"unknown key {prefix}{key} = {value!r}; expected one of {', '.join(known)}"
            )
        changes[key] = _coerce(f"{prefix}{key}", hints[key], value)
    return changes


def _coerce(key: str, hint: Any, value: Any) -> Any:
    """``value`` as the field type ``hint`` wants, or ConfigError naming key and value."""
    if get_origin(hint) is Literal:
        if value in get_args(hint):
            return value
        raise ConfigError(f"{key} must be one of {get_args(hint)}, got {value!r}")
    optional = type(None) in get_args(hint)
    if optional and value in (None, "none"):
        return None
    kind = float if optional else hint
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is bool and isinstance(value, bool):
        return value
    if kind is int and is_number and float(value).is_integer():
        return int(value)
    if kind is float and is_number:
        return float(value)
    suffix = " or none" if optional else ""
    raise ConfigError(f"{key} must be {_KINDS.get(kind, str(kind))}{suffix}, got {value!r}")
