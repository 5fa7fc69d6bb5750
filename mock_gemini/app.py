"""The aiohttp application: control routes, then one catch-all that serves the Gemini API.

    server = await start_server(MockConfig(), host="127.0.0.1", port=0)
    server.url          # "http://127.0.0.1:41234"
    await server.close()

Every API path is recognised by its tail (``/v1beta/models/{m}:generateContent``), so
any prefix a client puts in its base URL works.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from mock_gemini.config import MockConfig
from mock_gemini.control import STATE_KEY, add_control_routes, stats_snapshot
from mock_gemini.generation import ConnectionDropped
from mock_gemini.peer_routes import ALL_HANDLERS, peer_route
from mock_gemini.peers import health
from mock_gemini.protocol import (
    JSON_CONTENT_TYPE,
    ApiError,
    method_not_allowed,
    route_not_found,
    status_error,
)
from mock_gemini.routing import classify
from mock_gemini.state import MockState
from mock_gemini.wire import MockRunner

logger = logging.getLogger("mock_gemini")
SHUTDOWN_GRACE_S = 1.0  # a mock need not wait for hung answers when it stops
LISTEN_BACKLOG = 4096  # thousands of clients connect at once; the default 128 drops SYNs
_JSON_HEADERS = {"Content-Type": JSON_CONTENT_TYPE}


def create_app(config: MockConfig) -> web.Application:
    """A new application with its own state built from ``config``."""
    # client_max_size=0: the handlers enforce config.max_body_bytes with a Google error body.
    app = web.Application(client_max_size=0)
    app[STATE_KEY] = MockState(config, clock=time.monotonic)
    add_control_routes(app)
    app.router.add_get("/health", health)
    app.router.add_route("*", "/{tail:.*}", dispatch)
    app.on_cleanup.append(_stop_workers)
    return app


async def _stop_workers(app: web.Application) -> None:
    await app[STATE_KEY].offloader.close()


def error_response(error: ApiError, wrap_in_list: bool) -> web.Response:
    """The Google error body (``[...]``-wrapped for JSON-array streams and OpenAI routes)."""
    return web.Response(
        status=error.code, body=error.body_bytes(wrap_in_list), headers=_JSON_HEADERS
    )


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Route, answer and count one API request; never a traceback to the client."""
    state = request.app[STATE_KEY]
    route = peer_route(classify(request.path), request)
    name = route.name if route is not None else "unknown"
    wrap = False
    status: int | str = 500
    started_s = state.stats.begin()
    try:
        if route is None:
            raise route_not_found(request.path)
        wrap = route.openai or (
            route.name == "streamGenerateContent" and request.query.get("alt") != "sse"
        )
        if request.method != route.http_method:
            raise method_not_allowed(request.method, request.path)
        response = await ALL_HANDLERS[route.name](state, request, route)
        status = response.status
        return response
    except ApiError as error:
        status = error.code
        return error_response(error, wrap)
    except ConnectionDropped as dropped:
        status = dropped.outcome
        raise asyncio.CancelledError from None  # the transport is gone: end quietly
    except (asyncio.CancelledError, ConnectionError):
        status = "cancelled"  # the client went away
        raise
    except Exception:
        logger.exception("mock_gemini: unexpected error on %s %s", request.method, request.path)
        return error_response(status_error(500), wrap)
    finally:
        state.stats.end(name, status, started_s)


@dataclass
class RunningServer:
    """A started server: its runner, state and address."""

    runner: web.AppRunner
    state: MockState
    host: str
    port: int

    @property
    def url(self) -> str:
        """Base URL for clients: ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def config(self) -> MockConfig:
        """The settings in force."""
        return self.state.config

    def stats(self) -> dict[str, Any]:
        """The ``GET /_mock/stats`` dict (call it on the server's event loop)."""
        return stats_snapshot(self.state)

    def update_config(self, changes: Mapping[str, Any]) -> MockConfig:
        """Apply ``config.updated(changes)``, like ``PUT /_mock/config``; returns the new one."""
        self.state.apply(self.state.config.updated(changes))
        return self.state.config

    def reset(self) -> None:
        """Clear stats and quotas and restart the schedule clock."""
        self.state.reset()

    async def close(self) -> None:
        """Stop listening and close open connections (in-flight answers get a short grace)."""
        await self.runner.cleanup()


async def start_server(config: MockConfig, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Build the app and listen on ``host:port`` (0 picks a free port)."""
    app = create_app(config)
    # handler_cancellation: a client that gives up frees its capacity slot and ends a hang.
    runner = MockRunner(
        app, access_log=None, handler_cancellation=True, shutdown_timeout=SHUTDOWN_GRACE_S
    )
    await runner.setup()
    site = web.TCPSite(runner, host, port, backlog=LISTEN_BACKLOG)
    await site.start()
    sockets = runner.addresses
    bound_port = int(sockets[0][1]) if sockets else port
    return RunningServer(runner, app[STATE_KEY], host, bound_port)
