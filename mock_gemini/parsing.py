"""Request bodies: casing normalisation, strict field checks and the parsed generate request.

google-genai sends mixtures of lowerCamelCase and snake_case (``"thinkingConfig":
{"thinking_budget": 0}``), so every known message is normalised to camelCase.
User-named keys (schema property names, function arguments) are left alone::

    req = parse_generate_request({"contents": [{"parts": [{"text": "hi"}]}]}, strict=False)
    req.prompt_tokens  # 1
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from mock_gemini.content import count_tokens, part_tokens
from mock_gemini.enums import enum_names
from mock_gemini.protocol import (
    invalid_value_error,
    missing_field_error,
    too_many_error,
    unknown_field_error,
)
from mock_gemini.schema_limits import SchemaCost, check_schema
from mock_gemini.tools import ToolSpec, tool_spec

FREE = "free"  # a value the mock keeps as sent (user-named keys inside)
SCHEMA = "schema"  # an OpenAPI-subset Schema: keys normalised, property names kept
_MESSAGES: dict[str, dict[str, str | None]] = {
    "GenerateContentRequest": {
        "model": None,
        "contents": "Content",
        "systemInstruction": "Content",
        "generationConfig": "GenerationConfig",
        "safetySettings": "SafetySetting",
        "tools": "Tool",
        "toolConfig": "ToolConfig",
        "cachedContent": None,
        "labels": FREE,
    },
    "Content": {"role": None, "parts": "Part"},
    "Part": {
        "text": None,
        "inlineData": "Blob",
        "fileData": "FileData",
        "functionCall": FREE,
        "functionResponse": FREE,
        "executableCode": FREE,
        "codeExecutionResult": FREE,
        "thought": None,
        "thoughtSignature": None,
        "videoMetadata": FREE,
        "mediaResolution": FREE,
        "partMetadata": FREE,
    },
    "Blob": {"mimeType": None, "data": None, "displayName": None},
    "FileData": {"mimeType": None, "fileUri": None, "displayName": None},
    "GenerationConfig": {
        "stopSequences": None,
        "responseMimeType": None,
        "responseSchema": SCHEMA,
        "responseJsonSchema": FREE,
        "responseModalities": "enum:Modality",
        "candidateCount": None,
        "maxOutputTokens": None,
        "temperature": None,
        "topP": None,
        "topK": None,
        "seed": None,
        "presencePenalty": None,
        "frequencyPenalty": None,
        "responseLogprobs": None,
        "logprobs": None,
        "enableEnhancedCivicAnswers": None,
        "speechConfig": FREE,
        "thinkingConfig": "ThinkingConfig",
        "imageConfig": FREE,
        "mediaResolution": "enum:MediaResolution",
    },
    "ThinkingConfig": {"includeThoughts": None, "thinkingBudget": None, "thinkingLevel": None},
    "SafetySetting": {
        "category": "enum:HarmCategory",
        "threshold": "enum:HarmBlockThreshold",
        "method": None,
    },
    "Tool": {
        "functionDeclarations": "FunctionDeclaration",
        "googleSearchRetrieval": FREE,
        "codeExecution": FREE,
        "googleSearch": FREE,
        "urlContext": FREE,
        "computerUse": FREE,
        "fileSearch": FREE,
        "googleMaps": FREE,
        "retrieval": FREE,
        "enterpriseWebSearch": FREE,
    },
    "FunctionDeclaration": {
        "name": None,
        "description": None,
        "parameters": SCHEMA,
        "parametersJsonSchema": FREE,
        "response": SCHEMA,
        "responseJsonSchema": FREE,
        "behavior": None,
    },
    "ToolConfig": {"functionCallingConfig": "FunctionCallingConfig", "retrievalConfig": FREE},
    "FunctionCallingConfig": {"mode": "enum:Mode", "allowedFunctionNames": None},
    "CountTokensRequest": {
        "contents": "Content",
        "generateContentRequest": "GenerateContentRequest",
    },
    "EmbedContentRequest": {
        "model": None,
        "content": "Content",
        "taskType": "enum:TaskType",
        "title": None,
        "outputDimensionality": None,
    },
    "BatchEmbedContentsRequest": {"requests": "EmbedContentRequest"},
}
# An answer bigger than this takes more than a few ms to compose: it is done in a worker.
HEAVY_SCHEMA = SchemaCost(values=256, chars=64 * 1024)
KEPT_TEXT_CHARS = 64 * 1024  # of a longer prompt or text, this much and a digest are kept
MAX_STOP_SEQUENCES = 5  # as the real API: more is a 400
MAX_BATCH_REQUESTS = 100  # batchEmbedContents, as the real API: more is a 400
_SCHEMA_NAMED_MAPS = frozenset({"properties", "$defs", "definitions", "defs"})
_camel_cache: dict[str, str] = {}


def camel(key: str) -> str:
    """``"max_output_tokens"`` -> ``"maxOutputTokens"``; camelCase keys pass unchanged."""
    cached = _camel_cache.get(key)
    if cached is None:
        head, *rest = key.split("_")
        cached = head + "".join(word[:1].upper() + word[1:] for word in rest) if rest else key
        if len(_camel_cache) < 4096:  # bounded: keys come from clients
            _camel_cache[key] = cached
    return cached


def _snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def normalise(message: str, data: Any, strict: bool, at: str = "") -> dict[str, Any]:
    """``data`` as the ``message`` type with camelCase keys; unknown keys raise when strict."""
    if not isinstance(data, dict):
        raise invalid_value_error(_snake(at) or message, "TYPE_MESSAGE", data)
    fields = _MESSAGES[message]
    out: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = camel(raw_key)
        if key not in fields:
            if strict:
                raise unknown_field_error(raw_key, _snake(at))
            out[key] = value
            continue
        out[key] = _normalise_value(fields[key], value, strict, _join(at, key))
    return out


def _normalise_value(kind: str | None, value: Any, strict: bool, at: str) -> Any:
    if kind is None or kind == FREE or value is None:
        return value
    if kind == SCHEMA:
        return normalise_schema(value)
    if kind.startswith("enum:"):
        return enum_names(kind[5:], value)
    if isinstance(value, list):
        return [normalise(kind, item, strict, f"{at}[{i}]") for i, item in enumerate(value)]
    return normalise(kind, value, strict, at)


def _join(at: str, key: str) -> str:
    # camelCase on the hot path; errors convert the whole path with _snake().
    return f"{at}.{key}" if at else key


def normalise_schema(schema: Any) -> Any:
    """A Schema with camelCase keywords; names under ``properties`` are kept as sent."""
    if isinstance(schema, list):
        return [normalise_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for raw_key, value in schema.items():
        key = camel(raw_key) if not raw_key.startswith("$") else raw_key
        if key in _SCHEMA_NAMED_MAPS and isinstance(value, dict):
            out[key] = {name: normalise_schema(sub) for name, sub in value.items()}
        elif key in ("enum", "required", "propertyOrdering", "example", "default"):
            out[key] = value
        elif key == "type":
            out[key] = enum_names("Type", value)
        else:
            out[key] = normalise_schema(value)
    return out


@dataclass(frozen=True)
class GenerateRequest:
    """What the mock needs from a GenerateContentRequest (already normalised)."""

    prompt_text: str
    prompt_tokens: int
    max_output_tokens: int | None = None
    response_mime_type: str | None = None
    schema_json: str | None = None  # responseSchema or responseJsonSchema, canonical JSON
    seed: int | None = None
    thinking_budget: int | None = None
    stop_sequences: tuple[str, ...] = ()
    tools: ToolSpec | None = None  # function declarations, mode and conversation state
    heavy: bool = False  # composing the answer would block for more than a few ms
    min_output_tokens: int | None = None  # OpenAI peers: min_tokens / ignore_eos (peers.py)


def is_heavy(cost: SchemaCost) -> bool:
    """Whether an answer to a schema of this cost should be composed off the event loop."""
    return cost.values > HEAVY_SCHEMA.values or cost.chars > HEAVY_SCHEMA.chars


def kept_text(text: str) -> str:
    """``text``, or of a longer one its first KEPT_TEXT_CHARS and a digest of the whole.

    Answers and embeddings read this, so a 20 MiB prompt is never copied or cached whole,
    and two long prompts differing anywhere still get different answers.
    """
    if len(text) <= KEPT_TEXT_CHARS:
        return text
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return f"{text[:KEPT_TEXT_CHARS]}\n[{len(text)} characters, blake2b {digest}]"


def parse_generate_request(body: Any, strict: bool) -> GenerateRequest:
    """The generate request from a decoded JSON body; raises ApiError (400) when invalid."""
    data = normalise("GenerateContentRequest", body, strict)
    contents = data.get("contents")
    if not contents:
        raise missing_field_error("GenerateContentRequest", "contents")
    text, tokens = contents_text_and_tokens(data)
    config = data.get("generationConfig") or {}
    if not isinstance(config, dict):
        raise invalid_value_error("generation_config", "TYPE_MESSAGE", config)
    schema_json, cost = _schema_json(config)
    return GenerateRequest(
        prompt_text=kept_text(text),
        prompt_tokens=tokens,
        max_output_tokens=_opt_int(config, "maxOutputTokens", "generation_config"),
        response_mime_type=_opt_str(config, "responseMimeType"),
        schema_json=schema_json,
        seed=_opt_int(config, "seed", "generation_config"),
        thinking_budget=_thinking_budget(config),
        stop_sequences=_stop_sequences(config),
        tools=tool_spec(data) if data.get("tools") else None,
        heavy=is_heavy(cost),
    )


def contents_text_and_tokens(data: dict[str, Any]) -> tuple[str, int]:
    """All prompt text (system instruction first) and its token count (see content.py)."""
    texts: list[str] = []
    tokens = 0
    system = data.get("systemInstruction")
    contents = data.get("contents") or []
    if not isinstance(contents, list):
        raise invalid_value_error("contents", "TYPE_LIST", contents)
    for index, content in enumerate([system, *contents] if system else contents):
        parts = content.get("parts") or []
        if not isinstance(parts, list):
            raise invalid_value_error(f"contents[{index}].parts", "TYPE_LIST", parts)
        for part in parts:
            text = part.get("text")
            if text is not None and not isinstance(text, str):
                raise invalid_value_error(f"contents[{index}].parts.text", "TYPE_STRING", text)
            if text:
                texts.append(text)
            tokens += part_tokens(part)
    tools = data.get("tools")
    if tools:  # declarations are billed as prompt input, like the real API
        tokens += count_tokens(json.dumps(tools))
    return "\n".join(texts), tokens


def _opt_int(config: dict[str, Any], key: str, at: str) -> int | None:
    value = config.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise invalid_value_error(f"{at}.{_snake(key)}", "TYPE_INT32", value)
    try:
        return int(float(value))
    except (ValueError, OverflowError):  # not a number, or 1e400 (infinite)
        raise invalid_value_error(f"{at}.{_snake(key)}", "TYPE_INT32", value) from None


def _opt_str(config: dict[str, Any], key: str) -> str | None:
    value = config.get(key)
    return value if isinstance(value, str) else None


def _schema_json(config: dict[str, Any]) -> tuple[str | None, SchemaCost]:
    key = "responseSchema" if config.get("responseSchema") else "responseJsonSchema"
    schema = config.get(key)
    if schema is None:
        return None, SchemaCost(0, 0)
    cost = check_schema(schema, f"generation_config.{_snake(key)}")
    return json.dumps(schema, sort_keys=True), cost


def _thinking_budget(config: dict[str, Any]) -> int | None:
    thinking = config.get("thinkingConfig")
    if not isinstance(thinking, dict):
        return None
    return _opt_int(thinking, "thinkingBudget", "generation_config.thinking_config")


def _stop_sequences(config: dict[str, Any]) -> tuple[str, ...]:
    stops = config.get("stopSequences")
    if not isinstance(stops, list):
        return ()
    if len(stops) > MAX_STOP_SEQUENCES:
        raise too_many_error("generation_config.stop_sequences", len(stops), MAX_STOP_SEQUENCES)
    return tuple(stop for stop in stops if isinstance(stop, str) and stop)


def count_request_tokens(body: Any, strict: bool) -> int:
    """Tokens of a countTokens body: ``{contents}`` or ``{generateContentRequest: {...}}``."""
    data = normalise("CountTokensRequest", body, strict)
    inner = data.get("generateContentRequest")
    if isinstance(inner, dict):
        return contents_text_and_tokens(inner)[1]
    if data.get("contents") is None:
        raise missing_field_error("CountTokensRequest", "contents")
    return contents_text_and_tokens(data)[1]


def embed_texts(body: Any, strict: bool, batch: bool) -> list[tuple[str, int | None]]:
    """(text, outputDimensionality) per embedding request, single or batch."""
    if batch:
        listed = body.get("requests") if isinstance(body, dict) else None
        if isinstance(listed, list) and len(listed) > MAX_BATCH_REQUESTS:  # before any work
            raise too_many_error("requests", len(listed), MAX_BATCH_REQUESTS)
        data = normalise("BatchEmbedContentsRequest", body, strict)
        requests = data.get("requests")
        if not requests or not isinstance(requests, list):
            raise missing_field_error("BatchEmbedContentsRequest", "requests")
    else:
        requests = [normalise("EmbedContentRequest", body, strict)]
    out: list[tuple[str, int | None]] = []
    for index, request in enumerate(requests):
        content = request.get("content")
        if not isinstance(content, dict):
            raise missing_field_error("EmbedContentRequest", f"requests[{index}].content")
        text = contents_text_and_tokens({"contents": [content]})[0]
        out.append((kept_text(text), _opt_int(request, "outputDimensionality", "requests")))
    return out
