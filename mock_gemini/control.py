"""The control API under ``/_mock/`` (no API key needed; not counted in the stats).

GET  /_mock/config    the settings as JSON (the keys of the TOML file)
PUT  /_mock/config    {"faults": {"503": 0.2}} -> applies config.updated(changes)
GET  /_mock/stats     requests by route and status, in flight, per-second timeline
POST /_mock/reset     clears stats and quotas, restarts the schedule clock
GET  /_mock/metrics   Prometheus text format
GET  /_mock/prompts   the prompt texts of the latest generation requests (up to 1,000), oldest first
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from mock_gemini.bodies import MAX_CONTROL_BODY_BYTES, read_body
from mock_gemini.config import MockConfigError
from mock_gemini.protocol import ApiError
from mock_gemini.state import MockState

STATE_KEY = web.AppKey("mock_gemini_state", MockState)
_PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def add_control_routes(app: web.Application) -> None:
    """Register the ``/_mock/`` routes on ``app`` (before the catch-all API route)."""
    app.router.add_get("/_mock/config", get_config)
    app.router.add_put("/_mock/config", put_config)
    app.router.add_get("/_mock/stats", get_stats)
    app.router.add_post("/_mock/reset", post_reset)
    app.router.add_get("/_mock/metrics", get_metrics)
    app.router.add_get("/_mock/prompts", get_prompts)


def _json(obj: Any, status: int = 200) -> web.Response:
    return web.json_response(obj, status=status)


def _bad_request(message: str) -> web.Response:
    error = {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}
    return _json({"error": error}, status=400)


async def get_config(request: web.Request) -> web.Response:
    """The current settings."""
    return _json(request.app[STATE_KEY].config.to_dict())


async def put_config(request: web.Request) -> web.Response:
    """Apply changes; each key replaces its old value whole. Bad input -> 400 with the reason."""
    state = request.app[STATE_KEY]
    try:
        chunks = await read_body(request, MAX_CONTROL_BODY_BYTES, state.config.body_timeout_s)
        changes = json.loads(b"".join(chunks) or b"{}")
    except ApiError as error:
        return _json(error.body(), status=error.code)
    except RecursionError:
        return _bad_request("body is nested too deeply")
    except ValueError as exc:
        return _bad_request(f"body is not JSON: {exc}")
    if not isinstance(changes, dict):
        return _bad_request(f"body must be a JSON object of settings, got {changes!r:.80}")
    try:
        state.apply(state.config.updated(changes))
    except MockConfigError as exc:
        return _bad_request(str(exc))
    return _json(state.config.to_dict())


def stats_snapshot(state: MockState) -> dict[str, Any]:
    """The stats plus the capacity and schedule state right now."""
    snapshot = state.stats.snapshot()
    schedule = state.schedule_now()
    snapshot["capacity"] = {"in_use": state.limiter.in_use, "queued": state.limiter.queued}
    snapshot["schedule"] = {
        "elapsed_s": round(state.elapsed_s(), 3),
        "outage_status": schedule.outage_status,
        "slow_factor": schedule.slow_factor,
    }
    return snapshot


async def get_stats(request: web.Request) -> web.Response:
    """Counters since start or reset, and the event loop serving them (``--loop``)."""
    snapshot = stats_snapshot(request.app[STATE_KEY])
    loop = type(asyncio.get_running_loop())
    snapshot["event_loop"] = f"{loop.__module__}.{loop.__qualname__}"
    return _json(snapshot)


async def post_reset(request: web.Request) -> web.Response:
    """Clear stats and quotas; the schedule starts again from 0."""
    request.app[STATE_KEY].reset()
    return _json({"reset": True})


async def get_metrics(request: web.Request) -> web.Response:
    """Prometheus exposition of the counters."""
    text = request.app[STATE_KEY].stats.prometheus()
    return web.Response(body=text.encode(), headers={"Content-Type": _PROMETHEUS_TYPE})


async def get_prompts(request: web.Request) -> web.Response:
    """What the latest generation requests asked, oldest first (cleared by reset)."""
    return _json({"prompts": list(request.app[STATE_KEY].prompts)})
