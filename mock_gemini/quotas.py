"""Per-(API key, model) quotas in sliding windows, like Gemini's RPM, TPM and RPD limits.

    tracker = QuotaTracker(QuotaConfig(rpm=2))
    tracker.admit("k", "gemini-2.5-flash", 10, now_s=0.0)   # None: admitted and counted
    tracker.admit("k", "gemini-2.5-flash", 10, now_s=1.0)   # None
    tracker.admit("k", "gemini-2.5-flash", 10, now_s=5.0)   # QuotaDenial(..., retry_delay_s=55.0)

An admitted request counts in a window during ``[t, t + window)``; a denied one is not
counted. ``retry_delay_s`` is exact: a client that waits that long is admitted (if no one
else got in first).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from mock_gemini.config_error import MockConfigError

MINUTE_S = 60.0
DAY_S = 86_400.0
# An entry expires this much early, so that ``now + retry_delay_s`` admits despite float
# rounding (t + 60 - now + now can land one ulp short of t + 60).
_EXPIRY_SLACK_S = 1e-9

# Real ids carry the tier as a suffix; the mock presents itself as the free tier.
RPM_QUOTA_ID = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
TPM_QUOTA_ID = "GenerateContentInputTokensPerModelPerMinute-FreeTier"
RPD_QUOTA_ID = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
REQUESTS_METRIC = "generativelanguage.googleapis.com/generate_content_requests"
INPUT_TOKENS_METRIC = "generativelanguage.googleapis.com/generate_content_input_token_count"


@dataclass(frozen=True)
class QuotaConfig:
    """Limits per key and model; None means unlimited."""

    rpm: int | None = None
    tpm: int | None = None
    rpd: int | None = None

    def __post_init__(self) -> None:
        for name in ("rpm", "tpm", "rpd"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or value < 1):
                raise MockConfigError(f"key {name!r} must be an integer ≥ 1, got {value!r}")


@dataclass(frozen=True)
class QuotaDenial:
    """Why a request was refused (for the 429 body) and when to come back."""

    quota_id: str
    metric: str
    limit: int
    retry_delay_s: float


@dataclass
class _Window:
    """Admitted (time, amount) entries of one limit, oldest first, with their running sum."""

    length_s: float
    entries: deque[tuple[float, int]] = field(default_factory=deque)
    total: int = 0

    def prune(self, now_s: float) -> None:
        while self.entries and self.entries[0][0] + self.length_s <= now_s + _EXPIRY_SLACK_S:
            self.total -= self.entries.popleft()[1]

    def wait_s(self, amount: int, limit: int, now_s: float) -> float | None:
        """None if ``amount`` fits now; else seconds until enough old entries expire."""
        excess = self.total + amount - limit
        if excess <= 0:
            return None
        if amount > limit:
            return self.length_s  # Never fits; say "a full window" rather than lie "soon".
        for time_s, counted in self.entries:
            excess -= counted
            if excess <= 0:
                return time_s + self.length_s - now_s
        return self.length_s  # Unreachable: the entries sum past the excess.

    def add(self, amount: int, now_s: float) -> None:
        self.entries.append((now_s, amount))
        self.total += amount


@dataclass
class _Usage:
    minute_requests: _Window = field(default_factory=lambda: _Window(MINUTE_S))
    minute_tokens: _Window = field(default_factory=lambda: _Window(MINUTE_S))
    day_requests: _Window = field(default_factory=lambda: _Window(DAY_S))


class QuotaTracker:
    """Counts admitted requests per (key, model) and refuses those over a limit.

    Not thread-safe: one event loop owns it.
    """

    def __init__(self, config: QuotaConfig) -> None:
        self._config = config
        self._usage: dict[tuple[str, str], _Usage] = {}

    def reset(self) -> None:
        """Forget every counted request (for ``POST /_mock/reset``)."""
        self._usage.clear()

    def admit(self, key: str, model: str, input_tokens: int, now_s: float) -> QuotaDenial | None:
        """Admit and count the request, or return the denial with the longest wait."""
        cfg = self._config
        if cfg.rpm is None and cfg.tpm is None and cfg.rpd is None:
            return None
        usage = self._usage.setdefault((key, model), _Usage())
        checks = [
            (usage.minute_requests, 1, cfg.rpm, RPM_QUOTA_ID, REQUESTS_METRIC),
            (usage.minute_tokens, input_tokens, cfg.tpm, TPM_QUOTA_ID, INPUT_TOKENS_METRIC),
            (usage.day_requests, 1, cfg.rpd, RPD_QUOTA_ID, REQUESTS_METRIC),
        ]
        denials: list[QuotaDenial] = []
        for window, amount, limit, quota_id, metric in checks:
            window.prune(now_s)
            wait_s = None if limit is None else window.wait_s(amount, limit, now_s)
            if wait_s is not None and limit is not None:
                denials.append(QuotaDenial(quota_id, metric, limit, wait_s))
        if denials:
            # Every limit must have room, so the honest wait is the longest one.
            return max(denials, key=lambda d: d.retry_delay_s)
        for window, amount, limit, *_ in checks:
            if limit is not None:
                window.add(amount, now_s)
        return None
