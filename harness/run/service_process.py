"""Start a service under test from its spec's command, and know when it is ready.

    with started_service(spec, upstream_url="http://127.0.0.1:9000") as url:
        ...   # http://127.0.0.1:41234, answering its spec's ``ready`` path

Used by ``python -m harness load`` and the generic Locust file
(``scenarios/service_locustfile.py``); it imports no asyncio code.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from typing import Any

from harness.errors import ConfigError
from harness.generators.http import ServiceSpec
from harness.run.child import die_with_parent

BUILTIN_COMMAND = "{python} -m harness serve --port {port} --upstream {upstream_url} --mode {mode}"


@contextlib.contextmanager
def started_service(
    spec: ServiceSpec,
    upstream_url: str | None,
    upstream_env: Sequence[str] = (),
    builtin_mode: str | None = None,
) -> Iterator[str]:
    """Start the spec's command (or the built-in service); yield its URL once it answers.

    ``{port}`` (a free loopback port), ``{upstream_url}``, ``{python}`` and ``{mode}`` are
    filled in the command and the spec's env; each ``upstream_env`` variable is set to the
    upstream's URL. The child dies with this process; ConfigError if it never gets ready.
    """
    port = _free_port()
    values = {
        "port": str(port),
        "upstream_url": upstream_url or "",
        "python": shlex.quote(sys.executable),
        "mode": builtin_mode or "async",
    }
    command = spec.command or BUILTIN_COMMAND
    argv = shlex.split(command.format(**values))
    env = dict(os.environ)
    env.update({k: v.format(**values) for k, v in spec.env.items()})
    env.update({name: upstream_url or "" for name in upstream_env})
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile(mode="w+") as log:
        try:
            proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                preexec_fn=die_with_parent if sys.platform == "linux" else None,
            )  # fmt: skip
        except OSError as exc:
            raise ConfigError(f"--service-cmd: cannot start {argv[0]!r}: {exc.strerror}") from None
        try:
            _wait_ready(proc, url + spec.ready, spec.ready_timeout_s, log)
            yield url
        finally:
            _stop(proc)


def _wait_ready(proc: subprocess.Popen[bytes], url: str, timeout_s: float, log: Any) -> None:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            tail = (log.read().strip().splitlines() or ["no output"])[-1]
            raise ConfigError(f"the service exited ({proc.returncode}) before it was ready: {tail}")
        try:
            with opener.open(url, timeout=2) as answer:
                if answer.status < 500:
                    return
        except urllib.error.HTTPError as exc:
            if exc.code < 500:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise ConfigError(f"the service did not answer {url} within {timeout_s:g} s (service.ready)")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
