"""Serve the recipe app with uvicorn on a socket of our own, until a signal stops it.

    sock = listen("127.0.0.1", 0)
    with stop_on_signals():
        serve(settings, sock, on_ready=lambda: print(url_of(sock)))

uvicorn is imported when serving starts, not at import, so ``--help`` stays fast.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING

from harness.errors import ConfigError
from harness.service.settings import ServiceSettings

if TYPE_CHECKING:
    import uvicorn

SHUTDOWN_GRACE_S = 5


class Stopped(BaseException):
    """Raised by our SIGINT/SIGTERM handler once uvicorn has shut down (or before it runs)."""


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
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM end in :class:`Stopped`; uvicorn re-raises them after its shutdown."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise Stopped(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
