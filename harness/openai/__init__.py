"""The OpenAI chat-completions protocol without I/O: build a request, parse an answer,
decode a stream, map an error — the second implementation beside :mod:`harness.gemini`.

Any OpenAI-compatible server (vLLM, TGI, llama.cpp, Ollama, Gemini's own compatible
endpoint, mock_gemini's ``/v1beta/openai`` and ``/v1``) is reached through a
:class:`~harness.gemini.Target` whose ``base_url`` ends where ``/chat/completions``
begins (``http://host:8000/v1``)::

    target = Target("http://127.0.0.1:8000/v1", "key", model="my-model", api="openai")
    http = build_chat_request(target, RecipeRequest(("chicken", "rice")))
    # ... send http.method / http.url / http.headers / http.body, read the answer ...
    answer = parse_chat_response(status, headers, body)  # or raises UpstreamError

The answer is the same ``GeminiAnswer`` the Gemini path gives (recipes, token counts),
so everything downstream is protocol-blind. Streams (``stream=True``) are SSE chunks:
:class:`ChatSseDecoder`, then :func:`answer_from_chunks`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from harness.errors import ConfigError, MalformedAnswerError
from harness.gemini import GeminiAnswer, HttpRequest, Target
from harness.openai.answer import (
    answer_from_chunks,
    answer_from_completion,
    chunk_text,
    cumulative_tokens,
)
from harness.openai.errors import error_from_response
from harness.openai.stream import ChatSseDecoder
from harness.recipes import RECIPE_SCHEMA, RecipeRequest, build_prompt

__all__ = [
    "GEMINI_OPENAI_PATH",
    "ChatSseDecoder",
    "TokenField",
    "answer_from_chunks",
    "build_chat_request",
    "chat_url",
    "chunk_text",
    "cumulative_tokens",
    "error_from_response",
    "parse_chat_response",
    "recipes_json_schema",
]

GEMINI_OPENAI_PATH = "/v1beta/openai"  # Gemini's (and mock_gemini's) compatible endpoint
TokenField = Literal["max_tokens", "max_completion_tokens"]
ResponseFormat = Literal["json_schema", "json_object"]


def chat_url(target: Target) -> str:
    """``{base}/chat/completions``.

    >>> chat_url(Target("http://h:8000/v1/", "k"))
    'http://h:8000/v1/chat/completions'
    """
    return f"{target.base_url.rstrip('/')}/chat/completions"


def _json_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Gemini's OpenAPI subset (``"OBJECT"``, ``propertyOrdering``) as plain JSON Schema."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "propertyOrdering":
            continue
        if key == "type" and isinstance(value, str):
            out[key] = value.lower()
        elif key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _json_schema(sub) for name, sub in value.items()}
        elif key == "items" and isinstance(value, Mapping):
            out[key] = _json_schema(value)
        else:
            out[key] = value
    if out.get("type") == "object":
        out["additionalProperties"] = False
    return out


def recipes_json_schema() -> dict[str, Any]:
    """``{"recipes": [recipe, …]}`` as a strict JSON Schema (structured outputs want an
    object at the root; :func:`~harness.gemini.answer.recipes_from_text` reads both)."""
    return {
        "type": "object",
        "properties": {"recipes": _json_schema(RECIPE_SCHEMA)},
        "required": ["recipes"],
        "additionalProperties": False,
    }


_RESPONSE_FORMATS: dict[str, dict[str, Any]] = {
    "json_schema": {
        "type": "json_schema",
        "json_schema": {"name": "recipes", "strict": True, "schema": recipes_json_schema()},
    },
    "json_object": {"type": "json_object"},
}


def build_chat_request(
    target: Target,
    req: RecipeRequest,
    *,
    stream: bool = False,
    max_output_tokens: int = 2048,
    temperature: float = 0.7,
    token_field: TokenField = "max_tokens",
    response_format: ResponseFormat = "json_schema",
) -> HttpRequest:
    """The ``POST {base}/chat/completions`` call for one recipe request.

    ``token_field``: ``max_tokens`` (every compatible server) or ``max_completion_tokens``
    (OpenAI's newer name). A stream asks for usage in its last chunk
    (``stream_options.include_usage``), which the record's token counts need.

    >>> build_chat_request(Target("http://h/v1", "k"), RecipeRequest(("egg",))).url
    'http://h/v1/chat/completions'
    """
    if max_output_tokens < 1:
        raise ConfigError(f"max_output_tokens {max_output_tokens!r}: must be >= 1")
    if not 0.0 <= temperature <= 2.0:
        raise ConfigError(f"temperature {temperature!r}: must be within [0, 2]")
    payload: dict[str, Any] = {
        "model": target.model.removeprefix("models/"),
        "messages": [{"role": "user", "content": build_prompt(req)}],
        "temperature": temperature,
        token_field: max_output_tokens,
        "response_format": _RESPONSE_FORMATS[response_format],
    }
    if stream:
        payload["stream"] = True
        payload["stream_options"] = {"include_usage": True}
    headers = {"Authorization": f"Bearer {target.api_key}", "Content-Type": "application/json"}
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HttpRequest("POST", chat_url(target), headers, body)


def parse_chat_response(status: int, headers: Mapping[str, str], body: bytes) -> GeminiAnswer:
    """Recipes from a chat.completion answer, or raise the mapped UpstreamError.

    A non-200 raises :func:`error_from_response`; a 200 that does not hold recipes
    raises MalformedAnswerError (BlockedAnswerError for ``content_filter``).
    """
    if status != 200:
        raise error_from_response(status, headers, body)
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedAnswerError(f"response body is not JSON: {exc}", status=200) from exc
    if not isinstance(obj, Mapping):
        raise MalformedAnswerError("response body is not a JSON object", status=200)
    return answer_from_completion(obj)
