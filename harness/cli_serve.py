"""serve: the seed's recipe API (FastAPI + uvicorn) in one of three modes, for Locust.

    python -m harness serve --mode threaded --port 0 --latency 0.5
    # recipe service (threaded) listening on http://127.0.0.1:41234

By default the upstream is an embedded mock (the shared mock flags apply);
``--upstream URL`` uses a running mock, ``--target gemini`` the real API.
Ctrl-C or SIGTERM stops the server, then the embedded mock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING

from harness.cli_common import (
    add_resilience_arguments,
    add_target_arguments,
    mock_config,
    resilience_config,
    target_spec,
)
from harness.errors import ConfigError
from harness.gemini import Target
from harness.logs import configure_logging
from harness.service.settings import MODES, ServiceSettings
from harness.targets import open_target

if TYPE_CHECKING:
    import uvicorn

READY_PREFIX = "recipe service"
SHUTDOWN_GRACE_S = 5


class _Stop(BaseException):
    """Raised by our SIGINT/SIGTERM handler once uvicorn has shut down (or before it runs)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("service")
    add = group.add_argument
    add(
        "--mode",
        choices=MODES,
        default="async",
        help="async | threaded | blocking (the seed's before)",
    )
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--port", type=int, default=8000, help="port to listen on; 0 = any free port")
    add("--concurrency", type=int, default=100, help="async: semaphore and pool (default 100)")
    add("--workers", type=int, default=100, help="threaded: worker threads (default 100)")
    add("--max-output-tokens", type=int, default=2048)
    add("--upstream", metavar="URL", dest="base_url", help="a running mock (same as --base-url)")
    add("-v", "--verbose", action="store_true", help="log every generation (INFO)")
    add("--log-json", action="store_true", help="log lines as JSON")
    add_target_arguments(parser)
    add_resilience_arguments(parser)


def settings_from_args(ns: argparse.Namespace, target: Target) -> ServiceSettings:
    """The service settings the flags describe, for ``target``; bad values → ConfigError."""
    return ServiceSettings(
        target=target,
        mode=ns.mode,
        concurrency=ns.concurrency,
        workers=ns.workers,
        resilience=resilience_config(ns),
        max_output_tokens=ns.max_output_tokens,
        secondary=ns.secondary,
    )


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket; port 0 picks a free one (read it back with getsockname)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be within 0..65535, got {port!r}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise ConfigError(f"--host {host!r}: {exc.strerror or exc}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"--port {port}: cannot listen on {host}: {exc.strerror or exc}"
        ) from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def main(ns: argparse.Namespace, argv: list[str]) -> int:
    spec = target_spec(ns)
    mock = mock_config(ns) if spec.kind == "mock" else None
    # Check every setting before anything starts (the target comes later).
    settings = settings_from_args(ns, Target("http://127.0.0.1", "unset"))
    sock = listen(ns.host, ns.port)
    try:
        with _stop_on_signals(), open_target(spec, mock) as target:
            configure_logging(ns.verbose, ns.log_json, secrets=[target.api_key])
            settings = dataclasses.replace(settings, target=target)
            started = serve(settings, sock, on_ready=lambda: _announce(settings.mode, sock))
    except _Stop:
        print("recipe service stopped", file=sys.stderr)
        return 0
    finally:
        sock.close()
    if not started:
        print("error: the recipe service failed to start (see the log above)", file=sys.stderr)
        return 1
    return 0


def _announce(mode: str, sock: socket.socket) -> None:
    print(f"{READY_PREFIX} ({mode}) listening on {url_of(sock)}", flush=True)


def serve(settings: ServiceSettings, sock: socket.socket, on_ready: Callable[[], None]) -> bool:
    """Run uvicorn on ``sock`` until stopped; ``on_ready`` runs once startup is complete.

    Returns False when the app failed to start.
    """
    import uvicorn  # here, not at import: ``python -m harness --help`` stays fast

    from harness.service.app import create_app

    config = uvicorn.Config(
        create_app(settings),
        log_level="warning",
        access_log=False,
        loop="asyncio",
        timeout_graceful_shutdown=SHUTDOWN_GRACE_S,
    )
    return asyncio.run(_serve(uvicorn.Server(config), sock, on_ready))


async def _serve(server: uvicorn.Server, sock: socket.socket, on_ready: Callable[[], None]) -> bool:
    task = asyncio.ensure_future(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if server.started:
        on_ready()
    await task
    return bool(server.started)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM end in :class:`_Stop`; uvicorn re-raises them after its shutdown."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
