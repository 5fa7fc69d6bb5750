"""One exception tree for the whole harness.

    HarnessError
    ├── ConfigError                 bad input from a user: CLI, scenario, results file (exit 2)
    │   └── MissingApiKeyError      --target gemini without GEMINI_API_KEY / GOOGLE_API_KEY
    ├── UpstreamError               a call to the model failed; ``retryable``: may a retry help?
    │   ├── RateLimitedError        429, ``retry_delay_s``: longest of RetryInfo, Retry-After, text
    │   ├── OverloadedError         503 UNAVAILABLE
    │   ├── ServerError             500 / 502 / 504 and other 5xx
    │   ├── ClientError             other 4xx (400, 404, ...), never retried
    │   │   └── BadKeyError         400 API_KEY_INVALID or 403 PERMISSION_DENIED
    │   ├── UpstreamTimeoutError    no (complete) answer within the per-attempt timeout
    │   ├── ConnectionFailedError   refused, reset or cut connection
    │   ├── MalformedAnswerError    a 200 whose body is not a valid answer (bad JSON, no recipes)
    │   │   └── BlockedAnswerError  finishReason SAFETY / RECITATION with no usable text
    │   └── CircuitOpenError       the breaker refused the call; the network was not touched
    ├── InvariantError              a run lost or duplicated a request record
    └── RegressionError             the regression gate found a slow-down (exit 1)

    KeyboardInterrupt
    └── Interrupted                 SIGINT, SIGTERM or SIGHUP stopped a run (exit 128 + signal);
                                    carries what was measured so far (``partial``, ``document``)

Messages never contain an API key: build them from status, reason and
Google's message only.
"""

from __future__ import annotations

import signal
from typing import Any


class HarnessError(Exception):
    """Root of every error the harness raises on purpose."""


class ConfigError(HarnessError):
    """Bad input: the message names what was wrong (file, key, value)."""


class MissingApiKeyError(ConfigError):
    """The real Gemini target was asked for without a key in the environment."""


class UpstreamError(HarnessError):
    """A call to the model failed.

    >>> UpstreamError("boom", status=500).status
    500
    """

    retryable: bool = False

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.reason = reason


class RateLimitedError(UpstreamError):
    """429: the quota is exhausted; wait at least ``retry_delay_s`` when it is known."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        reason: str | None = None,
        retry_delay_s: float | None = None,
    ):
        super().__init__(message, status=status, reason=reason)
        self.retry_delay_s = retry_delay_s


class OverloadedError(UpstreamError):
    """503: the model is overloaded."""

    retryable = True


class ServerError(UpstreamError):
    """500, 502, 504 or another 5xx."""

    retryable = True


class ClientError(UpstreamError):
    """4xx other than 429: the request itself is wrong; retrying cannot help."""


class BadKeyError(ClientError):
    """The key is missing (403) or not valid (400 API_KEY_INVALID)."""


class UpstreamTimeoutError(UpstreamError):
    """No complete answer within the per-attempt timeout."""

    retryable = True


class ConnectionFailedError(UpstreamError):
    """The connection was refused, reset or cut before a complete answer."""

    retryable = True


class MalformedAnswerError(UpstreamError):
    """A 200 answer that does not parse into recipes."""


class BlockedAnswerError(MalformedAnswerError):
    """The model blocked the answer (finishReason SAFETY, RECITATION, ...)."""


class CircuitOpenError(UpstreamError):
    """The circuit breaker is open: the call failed fast without touching the network."""


class InvariantError(HarnessError):
    """Requests submitted != records produced, or a request id appeared twice."""


class RegressionError(HarnessError):
    """The regression gate found at least one metric worse than its rule allows."""


class Interrupted(KeyboardInterrupt):
    """A signal stopped the run. Not a :class:`HarnessError`: like Ctrl-C it unwinds everything.

    ``partial`` is the interrupted design's run so far (set where it was running), and
    ``document`` the results document of everything measured (set by the runner), so the
    command can still write them. The exit status is ``128 + signum`` (130 for SIGINT).
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.partial: Any = None
        self.document: dict[str, Any] | None = None

    @property
    def exit_status(self) -> int:
        return 128 + self.signum
