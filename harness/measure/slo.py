"""Per-request SLOs: which requests were good, and the goodput they make.

    slo = parse_slo("latency<=2s,ttft<=500ms")
    slo.is_good(record)            # ok answer, and every criterion holds
    slo_summary(records, slo, 10.0)   # {"slo_good": 7, "slo_goodput_rps": 0.7}

A criterion is ``NAME OP VALUE[unit]`` over one request's own figure: ``latency``
(``latency_s``), ``ttft``, ``tpot``, ``itl`` (streamed runs only); ops ``<=``, ``<``;
units ``s`` (the default) or ``ms``. Percentiles of a run (``latency_p99<=2s``) are
thresholds (``--threshold``), not SLOs. A request that lacks the figure is not good:
no figure, no claim.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from harness.errors import ConfigError
from harness.measure.record import RequestRecord

FIELDS = {"latency": "latency_s", "ttft": "ttft_s", "tpot": "tpot_s", "itl": "itl_s"}
STREAM_ONLY = frozenset({"ttft", "tpot", "itl"})
_OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, "<": operator.lt}
_UNITS = {"s": 1.0, "ms": 0.001, "": 1.0}
_CRITERION = re.compile(r"^\s*([a-z_0-9]+)\s*(<=|<|>=|>|==|=)\s*([0-9.eE+-]+)\s*([a-z%]*)\s*$")


@dataclass(frozen=True)
class Criterion:
    """``latency <= 2.0`` seconds, over one request."""

    name: str
    op: str
    limit_s: float

    @property
    def text(self) -> str:
        return f"{self.name}{self.op}{self.limit_s:g}s"

    def holds(self, record: RequestRecord) -> bool:
        value = getattr(record, FIELDS[self.name])
        return value is not None and _OPS[self.op](value, self.limit_s)


@dataclass(frozen=True)
class Slo:
    """Every criterion a good request meets."""

    criteria: tuple[Criterion, ...]

    @property
    def text(self) -> str:
        return ",".join(c.text for c in self.criteria)

    @property
    def needs_stream(self) -> bool:
        return any(c.name in STREAM_ONLY for c in self.criteria)

    def is_good(self, record: RequestRecord) -> bool:
        return record.outcome == "ok" and all(c.holds(record) for c in self.criteria)


def parse_criterion(text: str, where: str = "--slo") -> Criterion:
    """``"ttft<=500ms"`` → ``Criterion("ttft", "<=", 0.5)``; else a one-line ConfigError."""
    match = _CRITERION.match(text)
    if match is None:
        raise ConfigError(f"{where}: expected NAME<=VALUE like latency<=2s, got {text!r}")
    name, op, raw, unit = match.groups()
    if name not in FIELDS:
        hint = " (percentiles are --threshold checks)" if "_p" in name else ""
        known = ", ".join(FIELDS)
        raise ConfigError(f"{where}: unknown per-request figure {name!r}{hint}; known: {known}")
    if op not in _OPS:
        raise ConfigError(f"{where}: {text!r}: a per-request SLO is an upper limit (<= or <)")
    if unit not in _UNITS:
        raise ConfigError(f"{where}: {text!r}: unit {unit!r}; expected s or ms")
    try:
        value = float(raw) * _UNITS[unit]
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{where}: {text!r}: expected a positive number of seconds")
    return Criterion(name, op, value)


def parse_slo(text: str, where: str = "--slo") -> Slo:
    """``"latency<=2s,ttft<=0.5s"`` → an :class:`Slo` (each name at most once)."""
    parts = [part for part in text.split(",") if part.strip()]
    if not parts:
        raise ConfigError(f"{where}: expected criteria like latency<=2s,ttft<=0.5s, got {text!r}")
    criteria = tuple(parse_criterion(part, where) for part in parts)
    names = [c.name for c in criteria]
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: each figure at most once, got {text!r}")
    return Slo(criteria)


def slo_summary(
    records: Sequence[RequestRecord], slo: Slo, makespan_s: float | None
) -> dict[str, int | float | None]:
    """The summary keys: good requests and good requests per second of makespan."""
    good = sum(1 for record in records if slo.is_good(record))
    rate = good / makespan_s if makespan_s else None
    return {"slo_good": good, "slo_goodput_rps": rate}
