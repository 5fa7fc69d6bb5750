"""Run the mock inside a test or program: on the current event loop, or in its own thread.

async with serve_mock(MockConfig(latency=Distribution.fixed(0.1))) as server:
    ...  # server.url, server.stats(), server.update_config({"faults": {"503": 0.5}})

with start_mock_in_thread(MockConfig()) as mock:   # own event loop, daemon thread
    requests.post(f"{mock.url}/v1beta/models/gemini-2.5-flash:generateContent", ...)
    mock.stats()["total"]
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from types import TracebackType
from typing import Any, TypeVar

from mock_gemini.app import RunningServer, start_server
from mock_gemini.config import MockConfig

T = TypeVar("T")
START_TIMEOUT_S = 30.0
CALL_TIMEOUT_S = 10.0


@asynccontextmanager
async def serve_mock(
    config: MockConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[RunningServer]:
    """Serve on the running loop for the ``async with`` body; stops on exit."""
    server = await start_server(config or MockConfig(), host, port)
    try:
        yield server
    finally:
        await server.close()


class MockHandle:
    """A mock serving from a daemon thread with its own event loop. Stop it with ``stop()``."""

    def __init__(self, config: MockConfig | None, host: str, port: int) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._server: RunningServer | None = None
        self._thread = threading.Thread(
            target=self._run, args=(config or MockConfig(), host, port), daemon=True,
            name="mock_gemini",
        )  # fmt: skip
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT_S):
            raise RuntimeError(f"mock_gemini did not start within {START_TIMEOUT_S} s")
        if self._error is not None:
            raise self._error

    def _run(self, config: MockConfig, host: str, port: int) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            self._server = loop.run_until_complete(start_server(config, host, port))
        except BaseException as exc:  # handed to the constructor's caller
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
            loop.run_until_complete(self._server.close())
        finally:
            _cancel_leftovers(loop)
            loop.close()

    @property
    def url(self) -> str:
        """Base URL for clients: ``http://127.0.0.1:PORT``."""
        assert self._server is not None
        return self._server.url

    def _call(self, fn: Callable[[RunningServer], T]) -> T:
        server = self._server
        assert server is not None

        async def call() -> T:
            return fn(server)

        return asyncio.run_coroutine_threadsafe(call(), self._loop).result(CALL_TIMEOUT_S)

    def stats(self) -> dict[str, Any]:
        """The ``GET /_mock/stats`` dict, read on the server's loop."""
        return self._call(lambda server: server.stats())

    def update_config(self, changes: Mapping[str, Any]) -> MockConfig:
        """Apply ``config.updated(changes)``; raises MockConfigError when invalid."""
        return self._call(lambda server: server.update_config(changes))

    def reset(self) -> None:
        """Clear stats and quotas and restart the schedule clock."""
        self._call(lambda server: server.reset())

    def stop(self) -> None:
        """Stop serving and join the thread. Idempotent."""
        if self._thread.is_alive() and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(START_TIMEOUT_S)

    def __enter__(self) -> MockHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_mock_in_thread(
    config: MockConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> MockHandle:
    """Start a mock in a daemon thread; returns once it listens (``handle.url``)."""
    return MockHandle(config, host, port)


def _cancel_leftovers(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        gathered: Awaitable[Any] = asyncio.gather(*tasks, return_exceptions=True)
        loop.run_until_complete(gathered)
    loop.run_until_complete(loop.shutdown_asyncgens())
