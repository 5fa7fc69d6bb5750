"""What one recipe service process is: its mode, upstream, limits and resilience policy.

settings = ServiceSettings(Target("http://127.0.0.1:9000", "key"), mode="async")
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.errors import ConfigError
from harness.gemini import Target
from harness.resilience.config import ResilienceConfig
from harness.service import DEFAULT_MAX_BODY_BYTES, MODES, ServiceMode


@dataclass(frozen=True)
class ServiceSettings:
    """Settings of one service process; nothing here is read from the environment.

    ``concurrency`` caps async mode (its semaphore and connection pool);
    ``workers`` sizes threaded mode (the thread limiter, the batch pool and the upstream
    connection pool); ``max_body_bytes`` caps every request body (larger → 413).
    """

    target: Target
    mode: ServiceMode = "async"
    concurrency: int = 100
    workers: int = 100
    resilience: ResilienceConfig = field(default_factory=ResilienceConfig)
    max_output_tokens: int = 2048
    secondary: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        for key in ("concurrency", "workers", "max_output_tokens", "max_body_bytes"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{key} must be an integer >= 1, got {value!r}")

    @property
    def limit(self) -> int:
        """How many generations this mode can have in flight at once."""
        return {"async": self.concurrency, "threaded": self.workers, "blocking": 1}[self.mode]
