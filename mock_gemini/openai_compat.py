"""The OpenAI-compatible surface (gemini-api.md §7): chat completions and the model list.

gen, model, stream = parse_chat_request({"model": "gemini-2.5-flash",
                                         "messages": [{"role": "user", "content": "hi"}]})
OpenAIShaper("gemini-2.5-flash", "id1", created=0).full("Hello", "STOP", 3, 2, 0)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from mock_gemini.content import count_tokens
from mock_gemini.openai_tools import openai_tool_spec, tool_calls
from mock_gemini.parsing import MAX_STOP_SEQUENCES, GenerateRequest, is_heavy, kept_text
from mock_gemini.peers import LENGTH_FIELDS, length_floor
from mock_gemini.protocol import (
    invalid_argument,
    invalid_value_error,
    missing_field_error,
    too_many_error,
)
from mock_gemini.schema_limits import SchemaCost, check_schema

if TYPE_CHECKING:
    from mock_gemini.tools import FunctionCall

_FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter"}
_CALL_ID_PREFIX = "call_"
_KNOWN_FIELDS = frozenset(
    {
        "model", "messages", "stream", "stream_options", "temperature", "top_p", "max_tokens",
        "max_completion_tokens", "n", "stop", "response_format", "tools", "tool_choice",
        "reasoning_effort", "extra_body", "seed", "presence_penalty", "frequency_penalty",
        "user", "logprobs", "top_logprobs", "parallel_tool_calls", "metadata", "store",
    }
) | LENGTH_FIELDS  # fmt: skip


def parse_chat_request(body: Any, strict: bool) -> tuple[GenerateRequest, str, bool]:
    """(generate request, model id, stream?) from a chat.completions body."""
    if not isinstance(body, dict):
        raise invalid_value_error("", "TYPE_MESSAGE", body)
    if strict:
        unknown = sorted(set(body) - _KNOWN_FIELDS)
        if unknown:
            raise invalid_argument(f'Unknown name "{unknown[0]}": Cannot find field.', "")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise missing_field_error("ChatCompletionRequest", "model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise missing_field_error("ChatCompletionRequest", "messages")
    text = "\n".join(_message_text(m, i) for i, m in enumerate(messages))
    tools = openai_tool_spec(body, messages) if body.get("tools") else None
    prompt_tokens = count_tokens(text)
    if tools is not None:  # declarations are billed as input, like the Gemini route
        prompt_tokens += count_tokens(json.dumps(body["tools"]))
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)):
        raise invalid_value_error("max_tokens", "TYPE_INT32", max_tokens)
    mime, schema, cost = _response_format(body.get("response_format"))
    stops = body.get("stop")
    stop_list = [stops] if isinstance(stops, str) else stops if isinstance(stops, list) else []
    if len(stop_list) > MAX_STOP_SEQUENCES:
        raise too_many_error("stop", len(stop_list), MAX_STOP_SEQUENCES)
    gen = GenerateRequest(
        prompt_text=kept_text(text),
        prompt_tokens=prompt_tokens,
        max_output_tokens=max_tokens,
        response_mime_type=mime,
        schema_json=schema,
        seed=body.get("seed") if isinstance(body.get("seed"), int) else None,
        stop_sequences=tuple(s for s in stop_list if isinstance(s, str) and s),
        tools=tools,
        heavy=is_heavy(cost),
        min_output_tokens=length_floor(body),
    )
    return gen, model.removeprefix("models/"), bool(body.get("stream"))


def _message_text(message: Any, index: int) -> str:
    if not isinstance(message, dict):
        raise invalid_value_error(f"messages[{index}]", "TYPE_MESSAGE", message)
    content = message.get("content")
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):  # [{"type": "text", "text": "..."}, {"type": "image_url"}]
        return "\n".join(
            part.get("text", "") for part in content if isinstance(part, dict) and "text" in part
        )
    raise invalid_value_error(f"messages[{index}].content", "TYPE_STRING", content)


def _response_format(value: Any) -> tuple[str | None, str | None, SchemaCost]:
    none = SchemaCost(0, 0)
    if not isinstance(value, dict):
        return None, None, none
    kind = value.get("type")
    if kind == "json_schema":
        spec = value.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        cost = check_schema(schema, "response_format.json_schema.schema")
        return "application/json", json.dumps(schema, sort_keys=True) if schema else None, cost
    if kind == "json_object":
        return "application/json", None, none
    return None, None, none


class OpenAIShaper:
    """Builds chat.completion and chat.completion.chunk objects of one answer."""

    def __init__(self, model: str, response_id: str, created: int) -> None:
        self.model = model
        self.response_id = response_id
        self.created = created

    def _envelope(self, obj_type: str, choice: dict[str, Any]) -> dict[str, Any]:
        return {
            "choices": [choice],
            "created": self.created,
            "id": self.response_id,
            "model": self.model,
            "object": obj_type,
        }

    @staticmethod
    def _usage(prompt: int, candidates: int, thoughts: int) -> dict[str, int]:
        return {
            "completion_tokens": candidates + thoughts,
            "prompt_tokens": prompt,
            "total_tokens": prompt + candidates + thoughts,
        }

    def full(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]:
        """A non-streamed chat.completion."""
        choice = {
            "finish_reason": _FINISH.get(finish or "STOP", "stop"),
            "index": 0,
            "message": {"content": text, "role": "assistant"},
        }
        obj = self._envelope("chat.completion", choice)
        obj["usage"] = self._usage(prompt, candidates, thoughts)
        return obj

    def full_body(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> bytes:
        """The non-streamed chat.completion as JSON bytes."""
        return json.dumps(self.full(text, finish, prompt, candidates, thoughts)).encode()

    def chunk(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]:
        """One chat.completion.chunk; the last one has finish_reason and usage."""
        delta: dict[str, Any] = {"role": "assistant"}
        if text:
            delta["content"] = text
        choice: dict[str, Any] = {"delta": delta, "finish_reason": None, "index": 0}
        obj = self._envelope("chat.completion.chunk", choice)
        if finish is not None:
            choice["finish_reason"] = _FINISH.get(finish, "stop")
            obj["usage"] = self._usage(prompt, candidates, thoughts)
        return obj

    def calls_full(
        self, calls: tuple[FunctionCall, ...], prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]:
        """A chat.completion whose message holds ``tool_calls`` (finish_reason "tool_calls")."""
        message = {
            "content": None,
            "role": "assistant",
            "tool_calls": tool_calls(calls, self._call_prefix()),
        }
        choice = {"finish_reason": "tool_calls", "index": 0, "message": message}
        obj = self._envelope("chat.completion", choice)
        obj["usage"] = self._usage(prompt, candidates, thoughts)
        return obj

    def calls(
        self, calls: tuple[FunctionCall, ...], prompt: int, candidates: int, thoughts: int
    ) -> list[dict[str, Any]]:
        """Stream chunks: one ``delta.tool_calls`` piece per call (with its ``index``),
        then a last chunk with finish_reason "tool_calls" and usage."""
        chunks = []
        for index, entry in enumerate(tool_calls(calls, self._call_prefix())):
            delta = {"role": "assistant", "tool_calls": [{"index": index, **entry}]}
            chunks.append(self._envelope("chat.completion.chunk", _choice(delta, None)))
        last = self._envelope("chat.completion.chunk", _choice({}, "tool_calls"))
        last["usage"] = self._usage(prompt, candidates, thoughts)
        return [*chunks, last]

    def _call_prefix(self) -> str:
        return f"{_CALL_ID_PREFIX}{self.response_id}_"


def _choice(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
    return {"delta": delta, "finish_reason": finish, "index": 0}


def model_list(names: list[str], created: int) -> dict[str, Any]:
    """The OpenAI-style ``GET /v1beta/openai/models`` answer."""
    return {"object": "list", "data": [model_entry(name, created) for name in names]}


def model_entry(name: str, created: int) -> dict[str, Any]:
    """One OpenAI-style model object."""
    return {"id": name, "object": "model", "created": created, "owned_by": "google"}
