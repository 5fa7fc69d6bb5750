"""Scheduled outages and brownouts, in seconds since the mock started (or was reset).

    windows = [parse_window("outage:5-15:503"), parse_window("brownout:20-30:3")]
    schedule_at(windows, 7.0)    # ScheduleState(outage_status=503, slow_factor=1.0)
    schedule_at(windows, 25.0)   # ScheduleState(outage_status=None, slow_factor=3.0)

Windows are half-open, ``[start_s, end_s)``. Where windows overlap an outage wins (the
first listed, if several) and brownout factors multiply.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mock_gemini.config_error import MockConfigError, format_number, parse_number

DEFAULT_OUTAGE_STATUS = 503


@dataclass(frozen=True)
class Window:
    """One outage (every request answered with ``status``) or brownout (waits × ``factor``)."""

    kind: Literal["outage", "brownout"]
    start_s: float
    end_s: float
    status: int | None = None
    factor: float = 1.0

    def __post_init__(self) -> None:
        where = f"schedule window {self.spec()!r}"
        if self.kind not in ("outage", "brownout"):
            raise MockConfigError(f"{where}: kind must be outage or brownout")
        if not (math.isfinite(self.end_s) and 0 <= self.start_s < self.end_s):
            raise MockConfigError(f"{where}: need 0 ≤ start < end")
        if self.status is not None and not 400 <= self.status <= 599:
            raise MockConfigError(f"{where}: status must be a 4xx or 5xx code")
        if not (math.isfinite(self.factor) and self.factor >= 1):
            raise MockConfigError(f"{where}: factor must be ≥ 1")

    def spec(self) -> str:
        """The spec ``parse_window`` reads back: "outage:5-15:503"."""
        span = f"{format_number(self.start_s)}-{format_number(self.end_s)}"
        if self.kind == "outage":
            return f"outage:{span}:{self.status or DEFAULT_OUTAGE_STATUS}"
        return f"{self.kind}:{span}:{format_number(self.factor)}"

    def active(self, elapsed_s: float) -> bool:
        """True when ``start_s <= elapsed_s < end_s``."""
        return self.start_s <= elapsed_s < self.end_s


def parse_window(spec: str) -> Window:
    """Parse "outage:START-END[:STATUS]" (status 503 by default) or "brownout:START-END:FACTOR".

    >>> parse_window("brownout:20-30:3")
    Window(kind='brownout', start_s=20.0, end_s=30.0, status=None, factor=3.0)
    """
    where = f"schedule window {spec!r}"
    parts = [part.strip() for part in spec.split(":")]
    kind = parts[0].lower()
    if kind not in ("outage", "brownout") or len(parts) not in (2, 3):
        raise MockConfigError(
            f"{where}: expected 'outage:START-END:STATUS' or 'brownout:START-END:FACTOR'"
        )
    start_text, dash, end_text = parts[1].partition("-")
    if not dash:
        raise MockConfigError(f"{where}: expected START-END seconds, got {parts[1]!r}")
    start_s = parse_number(start_text, where)
    end_s = parse_number(end_text, where)
    if kind == "outage":
        status = _parse_status(parts[2], where) if len(parts) == 3 else DEFAULT_OUTAGE_STATUS
        return Window("outage", start_s, end_s, status=status)
    if len(parts) != 3:
        raise MockConfigError(f"{where}: a brownout needs a FACTOR, e.g. 'brownout:20-30:3'")
    return Window("brownout", start_s, end_s, factor=parse_number(parts[2], where))


def _parse_status(text: str, where: str) -> int:
    if not text.isdigit():
        raise MockConfigError(f"{where}: status must be an HTTP code, got {text!r}")
    return int(text)


@dataclass(frozen=True)
class ScheduleState:
    """What the schedule imposes right now: an outage status (or None) and a slow-down."""

    outage_status: int | None
    slow_factor: float


def schedule_at(windows: Sequence[Window], elapsed_s: float) -> ScheduleState:
    """The state at ``elapsed_s``; pure, so the server passes its own clock.

    >>> schedule_at([parse_window("outage:5-15:500")], 15.0)
    ScheduleState(outage_status=None, slow_factor=1.0)
    """
    active = [w for w in windows if w.active(elapsed_s)]
    outages = [w.status or DEFAULT_OUTAGE_STATUS for w in active if w.kind == "outage"]
    factor = math.prod((w.factor for w in active if w.kind == "brownout"), start=1.0)
    return ScheduleState(outage_status=outages[0] if outages else None, slow_factor=factor)
