"""mock_gemini: a mock of the Gemini Developer API for load tests (see docs/mock-gemini.md).

    from mock_gemini import MockConfig, start_mock_in_thread
    with start_mock_in_thread(MockConfig()) as mock:
        print(mock.url)

Names are imported on first use, so ``import mock_gemini.config`` stays light (no aiohttp).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_gemini.config import MockConfig, MockConfigError
    from mock_gemini.embedded import MockHandle, serve_mock, start_mock_in_thread

__all__ = ["MockConfig", "MockConfigError", "MockHandle", "serve_mock", "start_mock_in_thread"]
_HOMES = {
    "MockConfig": "mock_gemini.config",
    "MockConfigError": "mock_gemini.config",
    "MockHandle": "mock_gemini.embedded",
    "serve_mock": "mock_gemini.embedded",
    "start_mock_in_thread": "mock_gemini.embedded",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'mock_gemini' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
