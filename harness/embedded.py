"""Start ``mock_gemini`` for one run, on an ephemeral loopback port, and stop it after.

The mock runs in a child process (``python -m mock_gemini --port 0``): it then shares
neither the GIL nor the CPU and memory figures with the generators being measured.

    with EmbeddedMock(["--latency", "1"]) as mock:
        print(mock.url)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import TracebackType

from harness.errors import ConfigError

_PREFIX = "mock_gemini listening on "


class EmbeddedMock:
    """A mock server process; ``url`` is known once the context is entered."""

    def __init__(self, mock_args: Sequence[str] = (), startup_timeout_s: float = 20.0):
        self._args = [sys.executable, "-m", "mock_gemini", "--host", "127.0.0.1", "--port", "0"]
        self._args += list(mock_args)
        self._timeout_s = startup_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def __enter__(self) -> EmbeddedMock:
        # stderr goes to a file: a pipe nobody drains could block the child.
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._proc = subprocess.Popen(
            self._args, stdout=subprocess.PIPE, stderr=self._stderr, text=True
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
        """Terminate the process and wait for it (kill after 5 s)."""
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(5)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._stderr.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
