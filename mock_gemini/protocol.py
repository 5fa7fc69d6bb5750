"""Gemini JSON shapes: the error bodies of gemini-api.md §5 and the answer bodies of §4.

Pure functions and one exception, no I/O. A handler raises ``ApiError`` and the
app turns it into the Google error body::

    raise model_not_found("gemini-9-ultra", "v1beta", "generateContent")
    error.body()  # {"error": {"code": 404, "message": "models/gemini-9-ultra is ...", ...}}
"""

from __future__ import annotations

import functools
import json
import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mock_gemini.tools import FunctionCall

JSON_CONTENT_TYPE = "application/json; charset=UTF-8"
ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"
QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
HELP = "type.googleapis.com/google.rpc.Help"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
RATE_LIMITS_URL = "https://ai.google.dev/gemini-api/docs/rate-limits"

STATUS_BY_CODE: dict[int, str] = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "DEADLINE_EXCEEDED",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
MESSAGE_BY_CODE: dict[int, str] = {
    500: (
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting"
    ),
    502: "Bad Gateway.",
    503: "The model is overloaded. Please try again later.",
    504: "Deadline expired before operation could complete.",
}
NO_KEY_MESSAGE = (
    "Method doesn't allow unregistered callers (callers without established identity). "
    "Please use API Key or other form of API consumer identity to call this API."
)
BAD_KEY_MESSAGE = "API key not valid. Please pass a valid API key."
QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. "
    "For more information on this error, head to: " + RATE_LIMITS_URL + "."
)


class ApiError(Exception):
    """A Google API error: ``ApiError(404, "NOT_FOUND", "models/x is not found ...")``."""

    def __init__(
        self, code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(f"{code} {status}: {message}")
        self.code = code
        self.status = status
        self.message = message
        self.details = details

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors raised in the parsing worker process cross back to the server pickled.
        return (ApiError, (self.code, self.status, self.message, self.details))

    def body(self) -> dict[str, Any]:
        """The ``{"error": {...}}`` object of gemini-api.md §5."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}

    def body_bytes(self, wrap_in_list: bool = False) -> bytes:
        """The body as JSON bytes; ``wrap_in_list`` for JSON-array streams and OpenAI routes."""
        body: Any = [self.body()] if wrap_in_list else self.body()
        return json.dumps(body).encode()


def status_error(code: int, message: str | None = None) -> ApiError:
    """The plain error for an HTTP status: ``status_error(503)`` is "The model is overloaded"."""
    status = STATUS_BY_CODE.get(code, "UNKNOWN")
    return ApiError(code, status, message or MESSAGE_BY_CODE.get(code, f"HTTP {code}."))


def invalid_argument(message: str, field: str | None = None) -> ApiError:
    """A 400 INVALID_ARGUMENT, with a BadRequest field violation when ``field`` is given."""
    details = None
    if field is not None:
        violation = {"field": field, "description": message} if field else {"description": message}
        details = [{"@type": BAD_REQUEST, "fieldViolations": [violation]}]
    return ApiError(400, "INVALID_ARGUMENT", message, details)


def no_key_error() -> ApiError:
    """403 for a request that carries no API key at all."""
    return ApiError(403, "PERMISSION_DENIED", NO_KEY_MESSAGE)


def invalid_key_error() -> ApiError:
    """400 API_KEY_INVALID for a key outside the configured set."""
    details: list[dict[str, Any]] = [
        {
            "@type": ERROR_INFO,
            "reason": "API_KEY_INVALID",
            "domain": "googleapis.com",
            "metadata": {"service": "generativelanguage.googleapis.com"},
        },
        {
            "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
            "locale": "en-US",
            "message": BAD_KEY_MESSAGE,
        },
    ]
    return ApiError(400, "INVALID_ARGUMENT", BAD_KEY_MESSAGE, details)


def model_not_found(model: str, version: str, method: str) -> ApiError:
    """404 for an unknown model id (or one that does not support ``method``)."""
    name = model if "/" in model else f"models/{model}"
    message = (
        f"{name} is not found for API version {version}, or is not supported for {method}. "
        "Call ListModels to see the list of available models and their supported methods."
    )
    return ApiError(404, "NOT_FOUND", message)


def route_not_found(path: str) -> ApiError:
    """404 for a path the mock does not serve."""
    return ApiError(404, "NOT_FOUND", f"The requested URL {path} was not found on this server.")


def method_not_allowed(method: str, path: str) -> ApiError:
    """405 for a known path called with the wrong HTTP method."""
    return ApiError(405, "METHOD_NOT_ALLOWED", f"Method {method} is not allowed for {path}.")


def unknown_field_error(name: str, at: str) -> ApiError:
    """400 for an unknown request field, worded as the real API (strict mode only)."""
    where = f" at '{at}'" if at else ""
    message = f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'
    return invalid_argument(message, at)


def invalid_value_error(at: str, expected: str, value: Any) -> ApiError:
    """400 for a field of the wrong JSON type: ``invalid_value_error("contents", "list", 3)``."""
    shown = json.dumps(value)[:80] if _is_jsonable(value) else repr(value)[:80]
    message = f"Invalid JSON payload received. Invalid value at '{at}' ({expected}), {shown}"
    return invalid_argument(message, at)


def missing_field_error(request_type: str, field: str) -> ApiError:
    """400 for a required field left out, e.g. contents of a GenerateContentRequest."""
    description = f"{field} is not specified"
    message = f"* {request_type}.{field}: {description}\n"
    violation = {"field": field, "description": description}
    details = [{"@type": BAD_REQUEST, "fieldViolations": [violation]}]
    return ApiError(400, "INVALID_ARGUMENT", message, details)


def malformed_json_error(detail: str) -> ApiError:
    """400 for a body that is not a JSON object."""
    return invalid_argument(f"Invalid JSON payload received. {detail}", "")


def body_too_large_error(limit_bytes: int) -> ApiError:
    """400 for a body over the configured size limit, worded as the real API."""
    return ApiError(
        400, "INVALID_ARGUMENT", f"Request payload size exceeds the limit: {limit_bytes} bytes."
    )


TOO_MANY_STATES = (
    "The specified schema produces a constraint that has too many states for serving.  "
    "Typical causes of this error are schemas with lots of text (for example, very long "
    "property or enum names), schemas with long array length limits (especially when nested), "
    "or schemas using complex value matchers (for example, integers or numbers with "
    "minimum/maximum bounds or strings with complex formats like date-time)"
)


def too_many_states_error(field: str, detail: str) -> ApiError:
    """400 for a response schema whose answer would be too big; ``field`` is its snake path."""
    return invalid_argument(f"{TOO_MANY_STATES}. {field}: {detail}", field)


def nesting_too_deep_error(limit: int) -> ApiError:
    """400 for a JSON body nested deeper than ``limit`` (the protobuf parser's limit)."""
    return malformed_json_error(f"Message too deep. Max recursion depth is {limit}.")


def too_many_error(field: str, count: int, limit: int) -> ApiError:
    """400 for a repeated field with more than ``limit`` entries (batches, stop sequences)."""
    message = f"* {field}: at most {limit} entries are allowed, got {count}.\n"
    return invalid_argument(message, field)


def body_timeout_error(timeout_s: float) -> ApiError:
    """408 for a request body that did not arrive whole within ``timeout_s`` seconds."""
    return ApiError(
        408, "DEADLINE_EXCEEDED", f"The request body did not arrive within {timeout_s:g} s."
    )


def bad_http_error(detail: str) -> ApiError:
    """400 for bytes that are not a well-formed HTTP/1.1 request (from the wire parser)."""
    return invalid_argument(f"Malformed HTTP request: {detail}")


def format_duration(seconds: float) -> str:
    """A google.protobuf.Duration string, rounded UP to the millisecond: 26 -> "26s"."""
    whole, frac = divmod(_millis(seconds), 1000)
    return f"{whole}s" if frac == 0 else f"{whole}.{frac:03d}".rstrip("0") + "s"


def _millis(seconds: float) -> int:
    return max(0, math.ceil(round(seconds * 1000, 6)))


def quota_error(
    *, metric: str, quota_id: str, limit: int, model: str, retry_delay_s: float
) -> ApiError:
    """429 RESOURCE_EXHAUSTED shaped like the real one: QuotaFailure, Help and RetryInfo.

    As the real API does (shared/fixtures/gemini/error_429_quota.json: message "Please
    retry in 26.4s.", ``retryDelay`` "26s"), the message carries the precise wait (rounded
    up to the millisecond) and ``RetryInfo.retryDelay`` only its whole seconds.
    """
    message = (
        f"{QUOTA_MESSAGE}\n* Quota exceeded for metric: {metric}, limit: {limit}, "
        f"model: {model}\nPlease retry in {format_duration(retry_delay_s)}."
    )
    delay = f"{_millis(retry_delay_s) // 1000}s"  # whole seconds of the same rounded wait
    violation = {
        "quotaMetric": metric,
        "quotaId": quota_id,
        "quotaDimensions": {"location": "global", "model": model},
        "quotaValue": str(limit),
    }
    details: list[dict[str, Any]] = [
        {"@type": QUOTA_FAILURE, "violations": [violation]},
        {
            "@type": HELP,
            "links": [
                {"description": "Learn more about Gemini API quotas", "url": RATE_LIMITS_URL}
            ],
        },
        {"@type": RETRY_INFO, "retryDelay": delay},
    ]
    return ApiError(429, "RESOURCE_EXHAUSTED", message, details)


def _is_jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | list | dict) or value is None


# ---- answers (gemini-api.md §4) ---------------------------------------------------------

_BLOCKED_RATINGS = [
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": "NEGLIGIBLE"},
]


def usage_metadata(
    prompt: int, candidates: int, thoughts: int, final: bool = True
) -> dict[str, Any]:
    """usageMetadata with ``totalTokenCount = prompt + candidates + thoughts``.

    A stream's middle chunks (``final=False``) carry no ``candidatesTokenCount``, as the
    real API's (shared/fixtures/gemini/stream_alt_sse.txt): ``{"promptTokenCount": 12,
    "totalTokenCount": 12}``; only the last chunk counts the output.
    """
    if not final:
        middle: dict[str, Any] = {"promptTokenCount": prompt, "totalTokenCount": prompt + thoughts}
        if thoughts:
            middle["thoughtsTokenCount"] = thoughts
        return middle
    usage: dict[str, Any] = {
        "promptTokenCount": prompt,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt + candidates + thoughts,
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt}]
    return usage


class GeminiShaper:
    """Builds GenerateContentResponse objects of one answer (same id in every chunk)."""

    def __init__(self, model_version: str, response_id: str) -> None:
        self.model_version = model_version
        self.response_id = response_id

    def chunk(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]:
        """One response object; ``text`` None is a blocked (SAFETY) candidate."""
        candidate: dict[str, Any]
        if text is None:
            candidate = {"finishReason": finish, "index": 0, "safetyRatings": _BLOCKED_RATINGS}
        else:
            candidate = {"content": {"parts": [{"text": text}], "role": "model"}}
            if finish:
                candidate["finishReason"] = finish
            candidate["index"] = 0
        return {
            "candidates": [candidate],
            "usageMetadata": usage_metadata(prompt, candidates, thoughts, finish is not None),
            "modelVersion": self.model_version,
            "responseId": self.response_id,
        }

    full = chunk

    def calls_full(
        self, calls: tuple[FunctionCall, ...], prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]:
        """A non-streamed function-call answer (the same object as the stream's one chunk)."""
        return self.calls(calls, prompt, candidates, thoughts)[0]

    def calls(
        self, calls: tuple[FunctionCall, ...], prompt: int, candidates: int, thoughts: int
    ) -> list[dict[str, Any]]:
        """A function-call answer: one object, one ``functionCall`` part per call.

        A stream sends it as its single chunk (the real API does not split a call).
        """
        parts = [{"functionCall": {"name": c.name, "args": c.args()}} for c in calls]
        content = {"parts": parts, "role": "model"}
        candidate: dict[str, Any] = {"content": content, "finishReason": "STOP", "index": 0}
        return [
            {
                "candidates": [candidate],
                "usageMetadata": usage_metadata(prompt, candidates, thoughts),
                "modelVersion": self.model_version,
                "responseId": self.response_id,
            }
        ]

    def full_body(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> bytes:
        """The non-streamed answer as JSON bytes (cached apart from the responseId)."""
        # Only short answers are cached: an answer to a big schema may be a megabyte.
        short = len(text or "") <= CACHED_ANSWER_CHARS
        around = _body_around_id if short else _fresh_body_around_id
        head, tail = around(self.model_version, text, finish, prompt, candidates, thoughts)
        return head + self.response_id.encode() + tail


def _fresh_body_around_id(
    model_version: str, text: str | None, finish: str | None, prompt: int, candidates: int,
    thoughts: int,
) -> tuple[bytes, bytes]:  # fmt: skip
    # Load tests repeat the same answer thousands of times: serialise it once.
    marker = "\x00id\x00"
    obj = GeminiShaper(model_version, marker).chunk(text, finish, prompt, candidates, thoughts)
    head, _, tail = json.dumps(obj).partition(json.dumps(marker)[1:-1])
    return head.encode(), tail.encode()


CACHED_ANSWER_CHARS = 64 * 1024
_body_around_id = functools.lru_cache(maxsize=1024)(_fresh_body_around_id)
