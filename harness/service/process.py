"""Run ``python -m harness serve`` as a child process and learn its URL from its first line.

For tests, benchmarks and locustfiles (it imports neither FastAPI nor locust)::

    with ServiceProcess(["--mode", "threaded", "--upstream", mock.url]) as service:
        print(service.url)          # http://127.0.0.1:41234
    service.stderr_text()           # its log, after (or while) it runs
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import IO

from harness.errors import ConfigError

_READY = re.compile(r"^recipe service \((?P<mode>\w+)\) listening on (?P<url>http://\S+)$")


class ServiceProcess:
    """A recipe service child on an ephemeral port; ``url`` is set once the block is entered."""

    def __init__(self, args: Sequence[str] = (), startup_timeout_s: float = 30.0) -> None:
        self.command = [sys.executable, "-m", "harness", "serve", "--port", "0", *args]
        self._timeout_s = startup_timeout_s
        self._proc: subprocess.Popen[str] | None = None
        self._stderr: IO[str] | None = None
        self.url = ""
        self.mode = ""
        self.returncode: int | None = None

    def __enter__(self) -> ServiceProcess:
        # stderr goes to a file: a pipe nobody drains could block the child.
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self._proc = subprocess.Popen(
            self.command, stdout=subprocess.PIPE, stderr=self._stderr, text=True
        )
        line = self._first_line(self._proc)
        match = _READY.match(line.strip())
        if match is None:
            self.stop()
            last = self.stderr_text().strip().splitlines()
            reason = last[-1] if last else line.strip() or "no output"
            raise ConfigError(f"recipe service did not start: {reason}")
        self.url, self.mode = match["url"], match["mode"]
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
        self.stop()
