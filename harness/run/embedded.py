"""Start ``mock_gemini`` for one run, on an ephemeral loopback port, and stop it after.

The mock runs in a child process (``python -m mock_gemini --port 0``): it then shares
neither the GIL nor the CPU and memory figures with the generators being measured.

    with EmbeddedMock({"latency": 1.0}) as mock:
        print(mock.url)
"""

from __future__ import annotations

import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from harness.run.child import ChildServer

_READY = re.compile(r"^mock_gemini listening on (?P<url>http://\S+)$")


class EmbeddedMock(ChildServer):
    """A mock server process with these settings; ``url`` is known once the block is entered."""

    def __init__(self, config: Mapping[str, Any] | None = None, startup_timeout_s: float = 20.0):
        self._dir = tempfile.TemporaryDirectory(prefix="harness-mock-")
        config_path = write_mock_toml(dict(config or {}), Path(self._dir.name) / "mock.toml")
        command = [sys.executable, "-m", "mock_gemini", "--host", "127.0.0.1", "--port", "0"]
        command += ["--config", str(config_path)]
        super().__init__(command, _READY, "embedded mock", startup_timeout_s)

    def close(self) -> None:
        super().close()
        self._dir.cleanup()


def write_mock_toml(config: Mapping[str, Any], path: Path) -> Path:
    """Write the mock's settings (``MockConfig.to_dict()``) as TOML for the child process."""
    lines = [f"{key} = {_toml_value(value)}" for key, value in config.items() if value is not None]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f'"{k}" = {_toml_value(v)}' for k, v in value.items()) + "}"
    raise ConfigError(f"mock setting of unsupported type {type(value).__name__}")
