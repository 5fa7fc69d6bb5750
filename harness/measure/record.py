"""The one record: every request submitted ends as exactly one :class:`RequestRecord`.

Every design, the service and the folds produce and read this shape; the results
document stores it as a JSON object per request (docs/results-format.md)::

    record.latency_s, record.outcome      # 0.512, "ok"
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Outcome = Literal["ok", "fallback", "failed"]


# Hot-path value classes are ``slots=True`` rather than ``frozen=True``: a frozen
# dataclass sets each field through ``object.__setattr__`` (5 µs for a record against
# 1 µs), paid once per request. Treat them as read-only all the same.
@dataclass(slots=True)
class RequestRecord:
    """One request's fate (read-only). Times are monotonic seconds since the run's start."""

    request_id: int
    user: int
    mode: str
    intended_start_s: float
    start_s: float
    first_byte_s: float | None
    end_s: float
    latency_s: float
    ttft_s: float | None
    outcome: Outcome
    status: int | None
    error: str | None
    attempts: int
    retry_wait_s: float
    breaker_state_at_start: str | None
    prompt_tokens: int | None
    output_tokens: int | None
    # Streaming only (None otherwise): see harness.measure.metrics.token_timing.
    itl_s: float | None = None
    tpot_s: float | None = None
    output_tps: float | None = None
    # The upstream's account of its service time for the answer that counted (mock_gemini's
    # X-Mock-Service-Time header): the bound and the timing error use it. None otherwise.
    service_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)
