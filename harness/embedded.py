"""Start ``mock_gemini`` for one run, on an ephemeral loopback port, and stop it after.

The mock runs in a child process (``python -m mock_gemini --port 0``): it then shares
neither the GIL nor the CPU and memory figures with the generators being measured.

    with EmbeddedMock({"latency": 1.0}) as mock:
        print(mock.url)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from harness.errors import ConfigError

_PREFIX = "mock_gemini listening on "


class EmbeddedMock:
    """A mock server process; ``url`` is known once the context is entered."""

    def __init__(self, config: Mapping[str, Any] | None = None, startup_timeout_s: float = 20.0):
        self._config = dict(config or {})
        self._args = [sys.executable, "-m", "mock_gemini", "--host", "127.0.0.1", "--port", "0"]
        self._timeout_s = startup_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> EmbeddedMock:
        self._dir = tempfile.TemporaryDirectory(prefix="harness-mock-")
        config_path = write_mock_toml(self._config, Path(self._dir.name) / "mock.toml")
        # stderr goes to a file: a pipe nobody drains could block the child.
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._proc = subprocess.Popen(
            [*self._args, "--config", str(config_path)],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        line = self._first_line(self._proc)
        if not line.startswith(_PREFIX):
            self.stop()
            raise ConfigError(f"embedded mock did not start: {line.strip() or 'no output'}")
        self.url = line[len(_PREFIX) :].strip()
        return self

    def _first_line(self, proc: subprocess.Popen[str]) -> str:
        stdout = proc.stdout
        assert stdout is not None
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self._timeout_s)
        if box and box[0]:
            return box[0]
        proc.kill()
        proc.wait()
        self._stderr.seek(0)
        err = self._stderr.read().strip().splitlines()
        return err[-1] if err else ""

    def stop(self) -> None:
        """Terminate the process (kill after 5 s), wait for it, remove its files. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self._stderr.close()
        self._dir.cleanup()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


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
