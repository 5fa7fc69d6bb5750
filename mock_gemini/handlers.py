"""One handler per Gemini route: authenticate, read, validate, answer.

Each takes ``(state, request, route)`` and returns a response or raises ApiError; the app's
dispatcher turns errors into Google error bodies and counts everything.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mock_gemini import content
from mock_gemini.generation import ARRAY, OPENAI_SSE, SSE, serve_generation
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
    body_too_large_error,
    invalid_key_error,
    malformed_json_error,
    model_not_found,
    no_key_error,
)
from mock_gemini.routing import Route
from mock_gemini.state import MockState

Handler = Callable[[MockState, web.Request, Route], Awaitable[web.StreamResponse]]
_JSON_HEADERS = {"Content-Type": JSON_CONTENT_TYPE}
DEFAULT_EMBED_DIMENSIONS = 768
MAX_EMBED_DIMENSIONS = 3072
CACHED_BODIES = 1024
CACHED_BODY_MAX_BYTES = 64 * 1024
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


async def read_body(request: web.Request, limit_bytes: int) -> bytes:
    """The raw body; 400 when larger than ``limit_bytes``."""
    length = request.content_length
    if length is not None and length > limit_bytes:
        raise body_too_large_error(limit_bytes)
    if length is not None:
        return await request.read()
    parts: list[bytes] = []  # chunked upload: count as it comes
    size = 0
    async for part in request.content.iter_any():
        size += len(part)
        if size > limit_bytes:
            raise body_too_large_error(limit_bytes)
        parts.append(part)
    return b"".join(parts)


def decode_json(raw: bytes) -> Any:
    """The decoded JSON body; 400 when it is not JSON."""
    try:
        return json.loads(raw)
    except UnicodeDecodeError:
        raise malformed_json_error("Invalid UTF-8 in the request body.") from None
    except ValueError as exc:
        raise malformed_json_error(f"Unexpected token at position {_pos(exc)}.") from None


async def read_json(request: web.Request, limit_bytes: int) -> Any:
    """The decoded JSON body; 400 when larger than ``limit_bytes`` or not JSON."""
    return decode_json(await read_body(request, limit_bytes))


def parse_cached(state: MockState, raw: bytes) -> GenerateRequest:
    """The parsed generate request; identical bodies (load tests) are parsed once."""
    strict = state.config.strict
    key = (strict, raw)
    gen = state.parsed.get(key)
    if gen is None:
        gen = parse_generate_request(decode_json(raw), strict)
        if len(raw) <= CACHED_BODY_MAX_BYTES:
            if len(state.parsed) >= CACHED_BODIES:
                state.parsed.clear()
            state.parsed[key] = gen
    return gen


def _pos(exc: ValueError) -> int:
    return getattr(exc, "pos", 0)


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
    raw = await read_body(request, state.config.max_body_bytes)
    _check_model(state, route, "generateContent")
    gen = parse_cached(state, raw)
    model = _model_id(route)
    shaper = GeminiShaper(model, state.response_id())
    framing = None
    if route.name == "streamGenerateContent":
        framing = SSE if request.query.get("alt") == "sse" else ARRAY
    return await serve_generation(state, request, gen, key, model, shaper, framing)


async def count_tokens(state: MockState, request: web.Request, route: Route) -> web.StreamResponse:
    """``:countTokens`` with ``{contents}`` or ``{generateContentRequest}``."""
    api_key(state, request)
    body = await read_json(request, state.config.max_body_bytes)
    _check_model(state, route, "countTokens")
    total = count_request_tokens(body, state.config.strict)
    details = [{"modality": "TEXT", "tokenCount": total}]
    return json_response({"totalTokens": total, "promptTokensDetails": details})


async def embed(state: MockState, request: web.Request, route: Route) -> web.StreamResponse:
    """``:embedContent`` and ``:batchEmbedContents``: a deterministic unit vector per text."""
    api_key(state, request)
    body = await read_json(request, state.config.max_body_bytes)
    _check_model(state, route, "embedContent")
    batch = route.name == "batchEmbedContents"
    assert route.model is not None
    default = state.catalogue.embedding_dimensions(route.model, DEFAULT_EMBED_DIMENSIONS)
    vectors = [
        {"values": list(content.embedding(text, _dimensions(dims, default), state.config.seed))}
        for text, dims in embed_texts(body, state.config.strict, batch)
    ]
    return json_response({"embeddings": vectors} if batch else {"embedding": vectors[0]})


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
    body = await read_json(request, state.config.max_body_bytes)
    gen, model, stream = parse_chat_request(body, state.config.strict)
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
    body = await read_json(request, state.config.max_body_bytes)
    model, texts, dims, encoding = embedding_inputs(body)
    if not state.catalogue.supports(model, "embedContent"):
        state.catalogue.warn_unknown(model)
        raise model_not_found(model, route.version, "embedContent")
    default = state.catalogue.embedding_dimensions(model, DEFAULT_EMBED_DIMENSIONS)
    size = _dimensions(dims, default)
    vectors = [content.embedding(text, size, state.config.seed) for text in texts]
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
