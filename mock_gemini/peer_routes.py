"""The routes peers' tools assume beyond the OpenAI-compatible ones: ``/v1/completions``
(legacy text completions), and ``GET /v1/models`` for an OpenAI client (``peers.py``)."""

from __future__ import annotations

import time

from aiohttp import web

from mock_gemini.bodies import read_body
from mock_gemini.generation import OPENAI_SSE, serve_generation
from mock_gemini.handlers import HANDLERS, Handler, api_key, parse_body
from mock_gemini.peers import CompletionShaper, bearer_only, parse_completion_request
from mock_gemini.protocol import model_not_found
from mock_gemini.routing import Route, for_openai_client
from mock_gemini.state import MockState


async def openai_completions(
    state: MockState, request: web.Request, route: Route
) -> web.StreamResponse:
    """``POST /v1/completions``: ``prompt`` → ``choices[0].text``, streamed or not."""
    key = api_key(state, request)
    chunks = await read_body(request, state.config.max_body_bytes, state.config.body_timeout_s)
    gen, model, stream = await parse_body(state, chunks, parse_completion_request)
    if not state.catalogue.supports(model, "generateContent"):
        state.catalogue.warn_unknown(model)
        raise model_not_found(model, route.version, "generateContent")
    shaper = CompletionShaper(model, state.response_id(), int(time.time()))
    framing = OPENAI_SSE if stream else None
    return await serve_generation(state, request, gen, key, model, shaper, framing)


ALL_HANDLERS: dict[str, Handler] = {**HANDLERS, "openai.completions": openai_completions}


def peer_route(route: Route | None, request: web.Request) -> Route | None:
    """``route``, or its OpenAI form when an OpenAI client asks ``GET /v1/models``."""
    if route is None or route.version != "v1" or not route.name.startswith("models."):
        return route
    return for_openai_client(route) if bearer_only(request.headers, request.query) else route
