"""One handler per Gemini route: authenticate, read, validate, answer.

Each takes ``(state, request, route)`` and returns a response or raises ApiError; the app's
dispatcher turns errors into Google error bodies and counts everything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web

from mock_gemini import content
from mock_gemini.bodies import decode_and_parse, decode_json, joined, read_body
from mock_gemini.content import embeddings_body
from mock_gemini.generation import ARRAY, OPENAI_SSE, SSE, serve_generation
from mock_gemini.offload import OFFLOAD_BODY_BYTES
from mock_gemini.openai_compat import OpenAIShaper, model_entry, model_list, parse_chat_request
from mock_gemini.openai_tools import embedding_inputs, embedding_list
from mock_gemini.parsing import (
    GenerateRequest,
    count_request_tokens,
    embed_texts,
    parse_generate_request,
)
from mock_gemini.protocol import (
    JSON_CONTENT_TYPE,
    GeminiShaper,
    invalid_key_error,
    model_not_found,
    no_key_error,
)
from mock_gemini.routing import Route
from mock_gemini.state import MockState

Handler = Callable[[MockState, web.Request, Route], Awaitable[web.StreamResponse]]
T = TypeVar("T")
_JSON_HEADERS = {"Content-Type": JSON_CONTENT_TYPE}
DEFAULT_EMBED_DIMENSIONS = 768
MAX_EMBED_DIMENSIONS = 3072
CACHED_BODIES = 1024
CACHED_BODY_MAX_BYTES = 64 * 1024
OFFLOAD_EMBED_VALUES = 4 * MAX_EMBED_DIMENSIONS  # more vector values are drawn in a worker
MODELS_CREATED = 1_700_000_000  # a fixed 'created' time for OpenAI model objects


def json_response(obj: Any, status: int = 200) -> web.Response:
    """A JSON answer with Google's content type."""
    return web.Response(status=status, body=json.dumps(obj).encode(), headers=_JSON_HEADERS)


def api_key(state: MockState, request: web.Request) -> str:
    """The caller's key (header, ?key= or Bearer); raises 403 when absent, 400 when refused."""
    headers = request.headers
    key = headers.get("x-goog-api-key")
    if not key:
        auth = headers.get("Authorization", "")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else request.query.get("key")
    if not key:
        raise no_key_error()
    allowed = state.config.api_keys
    if allowed is not None and key not in allowed:
        raise invalid_key_error()
    return key


async def parse_body(
    state: MockState, chunks: list[bytes], parser: Callable[..., T], *args: Any
) -> T:
    """``parser(decoded body, *args)``; a large body is decoded and parsed in a worker."""
    if sum(map(len, chunks)) > OFFLOAD_BODY_BYTES:
        return await state.offloader.run_on_body(chunks, decode_and_parse, parser, *args)
    return parser(decode_json(joined(chunks)), *args)


def parse_cached(state: MockState, chunks: list[bytes]) -> GenerateRequest | None:
    """The parsed generate request of a small body (parsed once for identical bodies, as load
    tests send); None for a large one, which ``parse_body`` hands to a worker."""
    strict = state.config.strict
    if len(chunks) != 1 or len(chunks[0]) > CACHED_BODY_MAX_BYTES:
        return None
    key = (strict, chunks[0])
    gen = state.parsed.get(key)
    if gen is None:
        gen = parse_generate_request(decode_json(chunks[0]), strict)
        if len(state.parsed) >= CACHED_BODIES:
            state.parsed.clear()
        state.parsed[key] = gen
    return gen


def _model_id(route: Route) -> str:
    assert route.model is not None
    return route.model.removeprefix("models/")


def _check_model(state: MockState, route: Route, method: str) -> None:
    assert route.model is not None
    if not state.catalogue.supports(route.model, route.name):
        state.catalogue.warn_unknown(route.model)
        raise model_not_found(route.model, route.version, method)


async def generate(state: MockState, request: web.Request, route: Route) -> web.StreamResponse:
    """``:generateContent`` and ``:streamGenerateContent`` (SSE with alt=sse, else an array)."""
    key = api_key(state, request)
    chunks = await read_body(request, state.config.max_body_bytes, state.config.body_timeout_s)
    _check_model(state, route, "generateContent")
    gen = parse_cached(state, chunks)  # not awaited: the hot path of load tests
    if gen is None:
        gen = await parse_body(state, chunks, parse_generate_request, state.config.strict)
    model = _model_id(route)
    shaper = GeminiShaper(model, state.response_id())
    framing = None
    if route.name == "streamGenerateContent":
        framing = SSE if request.query.get("alt") == "sse" else ARRAY
    return await serve_generation(state, request, gen, key, model, shaper, framing)


async def count_tokens(state: MockState, request: web.Request, route: Route) -> web.StreamResponse:
    """``:countTokens`` with ``{contents}`` or ``{generateContentRequest}``."""
    api_key(state, request)
    chunks = await read_body(request, state.config.max_body_bytes, state.config.body_timeout_s)
    _check_model(state, route, "countTokens")
    total = await parse_body(state, chunks, count_request_tokens, state.config.strict)
    details = [{"modality": "TEXT", "tokenCount": total}]
    return json_response({"totalTokens": total, "promptTokensDetails": details})


async def embed(state: MockState, request: web.Request, route: Route) -> web.StreamResponse:
    """``:embedContent`` and ``:batchEmbedContents``: a deterministic unit vector per text."""
    api_key(state, request)
    chunks = await read_body(request, state.config.max_body_bytes, state.config.body_timeout_s)
    _check_model(state, route, "embedContent")
    batch = route.name == "batchEmbedContents"
    assert route.model is not None
    default = state.catalogue.embedding_dimensions(route.model, DEFAULT_EMBED_DIMENSIONS)
    texts = await parse_body(state, chunks, embed_texts, state.config.strict, batch)
    wanted = [(text, _dimensions(dims, default)) for text, dims in texts]
    seed = state.config.seed
    if sum(dims for _, dims in wanted) > OFFLOAD_EMBED_VALUES:
        body = await state.offloader.run(embeddings_body, wanted, seed, batch)
    else:
        body = embeddings_body(wanted, seed, batch)
    return web.Response(body=body, headers=_JSON_HEADERS)


def _dimensions(requested: int | None, default: int) -> int:
    if requested is None or requested <= 0:
        return default
    return min(requested, MAX_EMBED_DIMENSIONS)


async def list_models(state: MockState, request: web.Request, route: Route) -> web.StreamResponse:
    """``GET models`` / ``GET tunedModels`` with pageSize and pageToken."""
    api_key(state, request)
    tuned = route.name.startswith("tunedModels")
    query = request.query
    page, token = state.catalogue.page(query.get("pageSize"), query.get("pageToken"), tuned)
    answer: dict[str, Any] = {"tunedModels" if tuned else "models": page}
    if token:
        answer["nextPageToken"] = token
    return json_response(answer)


async def get_model(state: MockState, request: web.Request, route: Route) -> web.StreamResponse:
    """``GET models/{m}`` / ``GET tunedModels/{id}``."""
    api_key(state, request)
    assert route.model is not None
    model = state.catalogue.get(route.model)
    if model is None:
        raise model_not_found(route.model, route.version, "get")
    return json_response(model)


async def openai_chat(state: MockState, request: web.Request, route: Route) -> web.StreamResponse:
    """``POST v1beta/openai/chat/completions``, streamed or not."""
    key = api_key(state, request)
    chunks = await read_body(request, state.config.max_body_bytes, state.config.body_timeout_s)
    gen, model, stream = await parse_body(state, chunks, parse_chat_request, state.config.strict)
    if not state.catalogue.supports(model, "generateContent"):
        state.catalogue.warn_unknown(model)
        raise model_not_found(model, route.version, "generateContent")
    shaper = OpenAIShaper(model, state.response_id(), int(time.time()))
    framing = OPENAI_SSE if stream else None
    return await serve_generation(state, request, gen, key, model, shaper, framing)


async def openai_embeddings(
    state: MockState, request: web.Request, route: Route
) -> web.StreamResponse:
    """``POST v1beta/openai/embeddings``: one deterministic unit vector per input text."""
    api_key(state, request)
    chunks = await read_body(request, state.config.max_body_bytes, state.config.body_timeout_s)
    model, texts, dims, encoding = await parse_body(state, chunks, embedding_inputs)
    if not state.catalogue.supports(model, "embedContent"):
        state.catalogue.warn_unknown(model)
        raise model_not_found(model, route.version, "embedContent")
    default = state.catalogue.embedding_dimensions(model, DEFAULT_EMBED_DIMENSIONS)
    size = _dimensions(dims, default)
    if len(texts) * size > OFFLOAD_EMBED_VALUES:  # a big batch: computed off the event loop
        vectors = await state.offloader.run(content.embeddings, texts, size, state.config.seed)
    else:
        vectors = content.embeddings(texts, size, state.config.seed)
    tokens = sum(content.count_tokens(text) for text in texts)
    return json_response(embedding_list(vectors, model, tokens, encoding))


async def openai_models(state: MockState, request: web.Request, route: Route) -> web.StreamResponse:
    """``GET v1beta/openai/models`` (and ``.../models/{id}``)."""
    api_key(state, request)
    created = MODELS_CREATED
    if route.model is None:
        names = [n for n in state.catalogue.ids() if n.startswith("models/")]
        return json_response(model_list(names, created))
    name = route.model if route.model.startswith("models/") else f"models/{route.model}"
    if state.catalogue.get(name) is None:
        raise model_not_found(name, route.version, "get")
    return json_response(model_entry(name, created))


HANDLERS: dict[str, Handler] = {
    "generateContent": generate,
    "streamGenerateContent": generate,
    "countTokens": count_tokens,
    "embedContent": embed,
    "batchEmbedContents": embed,
    "models.list": list_models,
    "tunedModels.list": list_models,
    "models.get": get_model,
    "tunedModels.get": get_model,
    "openai.chat": openai_chat,
    "openai.embeddings": openai_embeddings,
    "openai.models": openai_models,
    "openai.models.get": openai_models,
}
