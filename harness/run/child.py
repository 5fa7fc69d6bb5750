"""A server in a child process that announces its URL on its first stdout line.

The mock (``python -m mock_gemini``) and the recipe service (``python -m harness serve``)
both start on port 0 and print where they listen; this class starts such a child, waits
for that line, and stops it::

    with ChildServer(["python", "-m", "mock_gemini", "--port", "0"], MOCK_READY, "mock") as c:
        print(c.url)
"""

from __future__ import annotations

import ctypes
import re
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import IO, Self

from harness.errors import ConfigError

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent() -> None:
    """In the child, before exec: the kernel sends it SIGTERM when its parent dies.

    So a mock or service never outlives the harness that started it, even when the harness
    is killed with SIGKILL and runs no clean-up (prctl(2), PR_SET_PDEATHSIG).
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class ChildServer:
    """Start ``command``; its first line must match ``ready`` (a pattern with a ``url`` group)."""

    def __init__(
        self, command: Sequence[str], ready: re.Pattern[str], what: str, timeout_s: float = 30.0
    ) -> None:
        self.command = list(command)
        self._ready = ready
        self._what = what
        self._timeout_s = timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self.url = ""
        self.match: re.Match[str] | None = None
        self.returncode: int | None = None

    def __enter__(self) -> Self:
        # stderr goes to a file: a pipe nobody drains could block the child.
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._proc = subprocess.Popen(
            self.command,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            preexec_fn=die_with_parent if sys.platform == "linux" else None,
        )
        line = self._first_line(self._proc).strip()
        self.match = self._ready.match(line)
        if self.match is None:
            self.stop()
            last = self.stderr_text().strip().splitlines()
            reason = last[-1] if last else line or "no output"
            self.close()
            raise ConfigError(f"{self._what} did not start: {reason}")
        self.url = self.match["url"]
        return self

    def _first_line(self, proc: subprocess.Popen[str]) -> str:
        stdout = proc.stdout
        assert stdout is not None
        box: list[str] = []
        reader = threading.Thread(target=lambda: box.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self._timeout_s)
        return box[0] if box else ""

    def stderr_text(self) -> str:
        """Everything the child wrote on stderr so far."""
        if self._stderr is None or self._stderr.closed:
            return ""
        self._stderr.flush()
        self._stderr.seek(0)
        return self._stderr.read()

    def stop(self, timeout_s: float = 10.0) -> int | None:
        """SIGTERM (SIGKILL after ``timeout_s``), wait; returns the exit status. Idempotent."""
        proc, self._proc = self._proc, None
        if proc is None:
            return self.returncode
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        self.returncode = proc.returncode
        return self.returncode

    def close(self) -> None:
        """Stop the child and drop its captured stderr."""
        self.stop()
        if self._stderr is not None:
            self._stderr.close()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
