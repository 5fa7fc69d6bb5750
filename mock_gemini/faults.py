"""Injected faults: which kinds exist, how a spec parses, and the seeded per-request draw.

picker = FaultPicker(dict([parse_fault("503=0.1"), parse_fault("hang=0.01")]), seed=7)
picker.pick()   # FaultKind.UNAVAILABLE about 10 % of the time, None about 89 %
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from mock_gemini.config_error import MockConfigError, parse_number

# Rounding slack so that e.g. 0.1 + 0.2 + 0.7 is accepted as summing to 1.
_SUM_SLACK = 1e-9


class FaultKind(StrEnum):
    """What the server does instead of a normal answer; the value is the spec name."""

    RATE_LIMIT = "429"
    INTERNAL = "500"
    UNAVAILABLE = "503"
    DEADLINE = "504"
    HANG = "hang"
    RESET = "reset"
    STREAM_ERROR = "stream_error"
    STREAM_CUT = "stream_cut"
    MALFORMED = "malformed"
    SAFETY = "safety"


def fault_kind(name: object) -> FaultKind:
    """The FaultKind named ``name`` ("503", 503, "hang"), or MockConfigError naming it.

    >>> fault_kind(503)
    <FaultKind.UNAVAILABLE: '503'>
    """
    try:
        return FaultKind(str(name).strip().lower())
    except ValueError:
        known = ", ".join(kind.value for kind in FaultKind)
        raise MockConfigError(f"unknown fault kind {name!r} (known: {known})") from None


def fault_probability(kind: FaultKind, value: object) -> float:
    """Check one probability: a number in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MockConfigError(f"fault {kind.value!r}: probability must be a number, got {value!r}")
    p = parse_number(value, f"fault {kind.value!r}") if isinstance(value, str) else float(value)
    if not (math.isfinite(p) and 0.0 <= p <= 1.0):
        raise MockConfigError(f"fault {kind.value!r}: probability must be in [0, 1], got {value!r}")
    return p


def parse_fault(spec: str) -> tuple[FaultKind, float]:
    """Parse ``KIND=P``.

    >>> parse_fault("hang=0.01")
    (<FaultKind.HANG: 'hang'>, 0.01)
    """
    name, eq, value = spec.partition("=")
    if not eq:
        raise MockConfigError(f"fault {spec!r}: expected KIND=PROBABILITY, e.g. '503=0.1'")
    kind = fault_kind(name)
    return kind, fault_probability(kind, value.strip())


def validate_faults(faults: Mapping[Any, Any]) -> dict[FaultKind, float]:
    """Normalise kind names and check each p in [0, 1] and their sum ≤ 1.

    >>> validate_faults({"503": 0.1, "hang": 0.01})
    {<FaultKind.UNAVAILABLE: '503'>: 0.1, <FaultKind.HANG: 'hang'>: 0.01}
    """
    result: dict[FaultKind, float] = {}
    for name, value in faults.items():
        kind = fault_kind(name)
        result[kind] = fault_probability(kind, value)
    total = math.fsum(result.values())
    if total > 1.0 + _SUM_SLACK:
        listed = ", ".join(f"{k.value}={p:g}" for k, p in result.items())
        raise MockConfigError(f"fault probabilities sum to {total:g} > 1 ({listed})")
    return result


class FaultPicker:
    """One seeded draw per request: a fault kind with its configured probability, else None.

    The same faults and seed give the same sequence of picks.

    >>> picker = FaultPicker({FaultKind.UNAVAILABLE: 1.0}, seed=0)
    >>> picker.pick()
    <FaultKind.UNAVAILABLE: '503'>
    """

    def __init__(self, faults: Mapping[FaultKind, float], seed: int) -> None:
        checked = validate_faults(faults)
        # Fixed enum order, so the draw→kind mapping does not depend on dict order.
        self._bounds: list[tuple[float, FaultKind]] = []
        cumulative = 0.0
        for kind in FaultKind:
            if checked.get(kind, 0.0) > 0.0:
                cumulative += checked[kind]
                self._bounds.append((cumulative, kind))
        self._rng = random.Random(seed)

    def pick(self) -> FaultKind | None:
        """Draw once; returns the fault to inject or None for a normal answer."""
        if not self._bounds:
            return None
        u = self._rng.random()
        for bound, kind in self._bounds:
            if u < bound:
                return kind
        return None
