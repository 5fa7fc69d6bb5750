"""The client conformance tier: popular clients, unchanged, against the real mock.

One mock per test module serves on 127.0.0.1, port 0, from its own thread (the clients
under test are sync and async). Every test runs with the clients' telemetry and remote
lookups switched off by environment, and with outbound connections limited to loopback:
a client that tries the internet fails its test instead of hanging.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from mock_gemini.config import MockConfig
from mock_gemini.embedded import MockHandle, start_mock_in_thread

QUIET_ENV = {
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # else litellm fetches its price list at import
    "LITELLM_TELEMETRY": "False",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_TRACING": "false",
    "OTEL_SDK_DISABLED": "true",
    "HF_HUB_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
CLEARED_ENV = ("GOOGLE_API_KEY", "GEMINI_API_KEY", "OPENAI_API_KEY", "GOOGLE_GEMINI_BASE_URL")


@pytest.fixture(scope="module")
def mock() -> Iterator[MockHandle]:
    """A default mock (no latency, no faults, any key) for the module's tests."""
    with start_mock_in_thread(MockConfig(), "127.0.0.1", 0) as handle:
        yield handle


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Quiet, offline clients: telemetry off, no stray keys, loopback-only connections."""
    for name, value in QUIET_ENV.items():
        monkeypatch.setenv(name, value)
    for name in CLEARED_ENV:
        monkeypatch.delenv(name, raising=False)
    real_connect = socket.socket.connect

    def connect(sock: socket.socket, address: Any) -> Any:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
            raise ConnectionRefusedError(f"test tier is offline: refused {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


def _loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
