"""Run ``python -m harness serve`` as a child process and learn its URL from its first line.

For tests, benchmarks and locustfiles (it imports neither FastAPI nor locust)::

    with ServiceProcess(["--mode", "threaded", "--upstream", mock.url]) as service:
        print(service.url)          # http://127.0.0.1:41234
    service.stderr_text()           # its log, after (or while) it runs

:class:`LocalStack` runs an embedded mock and a service on it, as a locustfile does
when no ``--host`` is given.
"""

from __future__ import annotations

import contextlib
import math
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from harness.errors import ConfigError
from harness.run.child import ChildServer
from harness.run.embedded import EmbeddedMock

_READY = re.compile(r"^recipe service \((?P<mode>\w+)\) listening on (?P<url>http://\S+)$")


class ServiceProcess(ChildServer):
    """A recipe service child on an ephemeral port; ``url`` is set once the block is entered."""

    def __init__(self, args: Sequence[str] = (), startup_timeout_s: float = 30.0) -> None:
        command = [sys.executable, "-m", "harness", "serve", "--port", "0", *args]
        super().__init__(command, _READY, "recipe service", startup_timeout_s)

    @property
    def mode(self) -> str:
        return self.match["mode"] if self.match else ""

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()  # keep stderr readable after the block (tests read the service's log)


@dataclass(frozen=True)
class StackOptions:
    """What a :class:`LocalStack` runs: the mock's latency and 503 rate, the service's mode.

    ``mode=None`` runs the mock alone (for Gemini-speaking load).
    """

    mode: str | None = "async"
    mock_latency_s: float = 0.5
    mock_fault_rate: float = 0.0
    mock_tokens_per_s: float = 0.0
    service_args: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not (math.isfinite(self.mock_latency_s) and self.mock_latency_s >= 0):
            raise ConfigError(f"mock latency must be >= 0 s, got {self.mock_latency_s!r}")
        if not 0.0 <= self.mock_fault_rate <= 1.0:
            raise ConfigError(
                f"mock fault rate must be within [0, 1], got {self.mock_fault_rate!r}"
            )

    def mock_config(self) -> dict[str, Any]:
        config: dict[str, Any] = {
            "latency": self.mock_latency_s,
            "tokens_per_s": self.mock_tokens_per_s,
        }
        if self.mock_fault_rate > 0:
            config["faults"] = {"503": self.mock_fault_rate}
        return config


class LocalStack:
    """An embedded mock and (unless ``mode`` is None) a recipe service using it.

    ``ensure`` (re)starts both when the options changed and returns the URL to load::

        stack = LocalStack()
        url = stack.ensure(StackOptions("threaded", mock_latency_s=0.5))
        stack.stop()
    """

    def __init__(self) -> None:
        self.options: StackOptions | None = None
        self.url = ""
        self._running: contextlib.ExitStack | None = None

    def ensure(self, options: StackOptions) -> str:
        if self._running is not None and options == self.options:
            return self.url
        self.stop()
        running = contextlib.ExitStack()
        with running:
            mock = running.enter_context(EmbeddedMock(options.mock_config()))
            url = mock.url
            if options.mode is not None:
                args = ["--mode", options.mode, "--upstream", mock.url, *options.service_args]
                url = running.enter_context(ServiceProcess(args)).url
            self._running, self.options, self.url = running.pop_all(), options, url
        return url

    def stop(self) -> None:
        """Stop the service, then the mock. Idempotent."""
        running, self._running = self._running, None
        self.url, self.options = "", None
        if running is not None:
            running.close()
