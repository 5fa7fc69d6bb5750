"""The OpenAI-compatible surface's function calling and embeddings (gemini-api.md §9, §7).

``tools: [{type: "function", function: {name, parameters}}]`` and ``tool_choice`` map onto
the Gemini modes: ``"auto"`` → AUTO, ``"required"`` → ANY, ``"none"`` → NONE,
``{"type": "function", "function": {"name": N}}`` → ANY limited to N;
``parallel_tool_calls: false`` allows one call. A ``tool`` message last in the
conversation answers the calls (AUTO then answers with text)::

    spec = openai_tool_spec({"tools": [...], "tool_choice": "required"}, messages)
    tool_calls_message(calls, "call_")   # [{"id", "type": "function", "function": {...}}]
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any

from mock_gemini.protocol import (
    invalid_argument,
    invalid_value_error,
    missing_field_error,
    too_many_error,
)
from mock_gemini.tools import FunctionCall, FunctionDecl, ToolSpec

_CHOICES = {"auto": "AUTO", "required": "ANY", "any": "ANY", "none": "NONE"}


def openai_tool_spec(body: dict[str, Any], messages: list[Any]) -> ToolSpec | None:
    """The ToolSpec of a chat.completions body, or None when it declares no function."""
    functions = _functions(body.get("tools"))
    if not functions:
        return None
    mode, allowed = _choice(body.get("tool_choice"))
    called, answered, latest = _conversation(messages)
    return ToolSpec(
        functions=tuple(functions),
        mode=mode,
        allowed=allowed,
        called=called,
        answered=answered,
        latest_text=latest,
        parallel=body.get("parallel_tool_calls") is not False,
    )


def _functions(tools: Any) -> list[FunctionDecl]:
    found = []
    for tool in tools if isinstance(tools, list) else ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            schema = function.get("parameters")
            text = json.dumps(schema, sort_keys=True) if schema else None
            found.append(FunctionDecl(function["name"], text))
    return found


def _choice(choice: Any) -> tuple[str, tuple[str, ...]]:
    if isinstance(choice, str):
        return _CHOICES.get(choice.lower(), "AUTO"), ()
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if isinstance(name, str):
            return "ANY", (name,)
    return "AUTO", ()


def _conversation(messages: list[Any]) -> tuple[tuple[str, ...], bool, str]:
    called: list[str] = []
    for message in messages:
        for call in message.get("tool_calls") or () if isinstance(message, dict) else ():
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("name"), str):
                called.append(function["name"])
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    answered = last.get("role") in ("tool", "function")
    content = last.get("content")
    latest = content if isinstance(content, str) and not answered else ""
    if isinstance(content, list) and not answered:
        latest = "\n".join(p.get("text", "") for p in content if isinstance(p, dict))
    return tuple(called), answered, latest


def tool_calls(calls: tuple[FunctionCall, ...], id_prefix: str) -> list[dict[str, Any]]:
    """``message.tool_calls`` entries: ``{"id", "type": "function", "function": {...}}``."""
    return [
        {
            "id": f"{id_prefix}{index}",
            "type": "function",
            "function": {"name": call.name, "arguments": call.args_json},
        }
        for index, call in enumerate(calls)
    ]


# ---- embeddings -----------------------------------------------------------------------------


MAX_EMBED_INPUTS = 2048
MAX_EMBED_DIMENSIONS = 3072  # the largest output_dimensionality Gemini embeddings offer


def embedding_inputs(body: Any) -> tuple[str, list[str], int | None, str]:
    """(model, input texts, dimensions, encoding_format) of a ``POST .../embeddings`` body."""
    if not isinstance(body, dict):
        raise invalid_value_error("", "TYPE_MESSAGE", body)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise missing_field_error("EmbeddingRequest", "model")
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) else raw
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise invalid_value_error("input", "TYPE_STRING or list of strings", raw)
    if len(texts) > MAX_EMBED_INPUTS:  # OpenAI's own limit on one request's inputs
        raise too_many_error("input", len(texts), MAX_EMBED_INPUTS)
    dims = body.get("dimensions")
    if dims is not None and (isinstance(dims, bool) or not isinstance(dims, int) or dims < 1):
        raise invalid_value_error("dimensions", "TYPE_INT32", dims)
    if dims is not None and dims > MAX_EMBED_DIMENSIONS:
        raise invalid_argument(f"dimensions must be at most {MAX_EMBED_DIMENSIONS}.", "dimensions")
    encoding = body.get("encoding_format") or "float"
    return model.removeprefix("models/"), texts, dims, str(encoding)


def embedding_list(
    vectors: list[tuple[float, ...]], model: str, prompt_tokens: int, encoding: str
) -> dict[str, Any]:
    """The OpenAI ``{"object": "list", "data": [...], "usage": {...}}`` answer.

    ``encoding`` "base64" packs each vector as little-endian float32, as the OpenAI SDK
    asks by default and decodes itself.
    """
    data = [
        {"object": "embedding", "index": i, "embedding": _encoded(vector, encoding)}
        for i, vector in enumerate(vectors)
    ]
    usage = {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens}
    return {"object": "list", "data": data, "model": model, "usage": usage}


def _encoded(vector: tuple[float, ...], encoding: str) -> Any:
    if encoding != "base64":
        return list(vector)
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
