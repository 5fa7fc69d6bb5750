"""The Gemini protocol without I/O: build a request, parse an answer, map an error.

The generators send :class:`HttpRequest` with their own client and hand the
status, headers and body back here; nothing in this module opens a socket or
sleeps::

    target = Target(GEMINI_BASE_URL, api_key)
    http = build_generate_request(target, RecipeRequest(("chicken", "rice")))
    # ... send http.method / http.url / http.headers / http.body, read the answer ...
    answer = parse_generate_response(status, headers, body)  # or raises UpstreamError

Streaming (``stream=True``) answers are server-sent events: feed the body to an
:class:`SseDecoder` as it arrives and turn the events into a
:class:`GeminiAnswer` with :func:`answer_from_chunks`. The parts live in
``gemini_answer`` (answer → recipes), ``gemini_errors`` (status → exception) and
``gemini_stream`` (SSE); this module re-exports what callers need.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import ConfigError, MalformedAnswerError
from harness.gemini.answer import GeminiAnswer, answer_from_response_obj
from harness.gemini.errors import error_from_response, parse_retry_delay_s
from harness.gemini.prompt import PromptRequest, prompt_payload
from harness.gemini.stream import SseDecoder, StreamChunk, answer_from_chunks, chunk_from_event
from harness.recipes import RECIPE_SCHEMA, RecipeRequest, build_prompt

__all__ = [
    "APIS",
    "GEMINI_BASE_URL",
    "GeminiAnswer",
    "HttpRequest",
    "SseDecoder",
    "StreamChunk",
    "Target",
    "answer_from_chunks",
    "build_generate_request",
    "chunk_from_event",
    "error_from_response",
    "parse_generate_response",
    "parse_retry_delay_s",
]

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com"

APIS = ("gemini", "openai")  # the wire protocols a Target may speak
_SECRET_HEADERS = frozenset({"x-goog-api-key", "authorization"})


@dataclass(frozen=True)
class Target:
    """Where to send requests: ``Target("http://127.0.0.1:8000", "key")``; repr hides the key."""

    base_url: str
    api_key: str = field(repr=False)
    model: str = "gemini-2.5-flash"
    api_version: str = "v1beta"
    api: str = "gemini"  # the wire protocol: "gemini", or "openai" (harness.openai)

    def __post_init__(self) -> None:
        if self.api not in APIS:
            raise ConfigError(f"target api {self.api!r}: expected one of {', '.join(APIS)}")
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"target base_url {self.base_url!r}: expected http:// or https://")
        if not self.model.strip():
            raise ConfigError(f"target model {self.model!r}: must not be empty")

    def method_url(self, method: str) -> str:
        """``{base}/{version}/models/{model}:{method}``; a ``models/`` prefix is dropped."""
        model = self.model.removeprefix("models/")
        return f"{self.base_url.rstrip('/')}/{self.api_version}/models/{model}:{method}"


@dataclass(frozen=True, repr=False)
class HttpRequest:
    """One HTTP request to send as is; repr hides the values of credential headers."""

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes

    def __repr__(self) -> str:
        shown = {
            name: "***" if name.lower() in _SECRET_HEADERS else value
            for name, value in self.headers.items()
        }
        return (
            f"HttpRequest(method={self.method!r}, url={self.url!r}, headers={shown!r}, "
            f"body=<{len(self.body)} bytes>)"
        )


def build_generate_request(
    target: Target,
    req: RecipeRequest | PromptRequest,
    *,
    stream: bool = False,
    max_output_tokens: int = 2048,
    temperature: float = 0.7,
) -> HttpRequest:
    """The generateContent (or streamGenerateContent with SSE) call for one recipe request.

    >>> build_generate_request(Target("http://h", "k"), RecipeRequest(("egg",))).url
    'http://h/v1beta/models/gemini-2.5-flash:generateContent'
    """
    if max_output_tokens < 1:
        raise ConfigError(f"max_output_tokens {max_output_tokens!r}: must be >= 1")
    if not 0.0 <= temperature <= 2.0:
        raise ConfigError(f"temperature {temperature!r}: must be within [0, 2]")
    method = "streamGenerateContent?alt=sse" if stream else "generateContent"
    payload = (
        prompt_payload(req, max_output_tokens, temperature)  # a data workload: plain text
        if isinstance(req, PromptRequest)
        else recipe_payload(req, max_output_tokens, temperature)
    )
    headers = {"x-goog-api-key": target.api_key, "Content-Type": "application/json"}
    body = json.dumps(payload, separators=(",", ":")).encode()
    return HttpRequest("POST", target.method_url(method), headers, body)


def recipe_payload(
    req: RecipeRequest, max_output_tokens: int, temperature: float
) -> dict[str, Any]:
    """The recipe workload's body: its prompt, JSON recipes back by the schema."""
    return {
        "contents": [{"role": "user", "parts": [{"text": build_prompt(req)}]}],
        "generationConfig": {
            "temperature": temperature,
            "maxOutputTokens": max_output_tokens,
            "responseMimeType": "application/json",
            "responseSchema": RECIPE_SCHEMA,
        },
    }


def parse_generate_response(status: int, headers: Mapping[str, str], body: bytes) -> GeminiAnswer:
    """Recipes from a generateContent answer, or raise the mapped UpstreamError.

    A non-200 raises :func:`error_from_response`; a 200 that does not hold
    recipes raises MalformedAnswerError (BlockedAnswerError when filtered).
    """
    if status != 200:
        raise error_from_response(status, headers, body)
    try:
        obj = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedAnswerError(f"response body is not JSON: {exc}", status=200) from exc
    if not isinstance(obj, Mapping):
        raise MalformedAnswerError("response body is not a JSON object", status=200)
    if isinstance(obj.get("error"), Mapping):
        raise error_from_response(int(obj["error"].get("code") or 500), headers, body)
    return answer_from_response_obj(obj)
