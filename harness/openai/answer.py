"""Turning a decoded chat.completion (or its stream of chunks) into recipes.

The answer is the same :class:`~harness.gemini.answer.GeminiAnswer` the Gemini path
builds, so records, summaries and reports do not know which protocol answered::

    answer = answer_from_completion(json.loads(body))
    answer.recipes[0].title
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from harness.errors import MalformedAnswerError
from harness.gemini.answer import GeminiAnswer, recipes_from_text
from harness.openai.errors import error_from_response, error_object, status_of

# OpenAI's finish_reason in Gemini's words, so "cut short" and "blocked" read the same.
FINISH_REASONS = {
    "stop": "STOP",
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "tool_calls": "STOP",
    "function_call": "STOP",
}


def finish_reason(value: object) -> str | None:
    """``"length"`` → ``"MAX_TOKENS"``; an unknown string is kept upper-cased; else None."""
    if not isinstance(value, str):
        return None
    return FINISH_REASONS.get(value, value.upper())


def first_choice(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """``choices[0]``, or raise: an error object maps to its exception, else malformed."""
    choices = obj.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        return choices[0]
    if isinstance(obj.get("error"), Mapping):
        raise error_from_response(status_of(obj["error"]), {}, json.dumps(obj).encode())
    raise MalformedAnswerError("answer has no choices", status=200)


def message_text(message: object) -> str:
    """A message's (or delta's) ``content``: a string, or a list of text parts joined."""
    if not isinstance(message, Mapping):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, Mapping) and isinstance(part.get("text"), str)
        )
    return ""


def answer_from_completion(obj: Mapping[str, Any]) -> GeminiAnswer:
    """The answer of one decoded ``chat.completion`` (or legacy ``text_completion``)."""
    choice = first_choice(obj)
    text = message_text(choice.get("message"))
    if not text and isinstance(choice.get("text"), str):
        text = choice["text"]
    return answer_from_parts(text, finish_reason(choice.get("finish_reason")), obj)


def answer_from_parts(text: str, finish: str | None, obj: Mapping[str, Any]) -> GeminiAnswer:
    """Recipes from the text; token counts from ``obj["usage"]``; model from ``obj["model"]``."""
    usage = obj.get("usage")
    usage = usage if isinstance(usage, Mapping) else {}
    completion = _count(usage.get("completion_tokens"))
    details = usage.get("completion_tokens_details")
    reasoning = _count(details.get("reasoning_tokens")) if isinstance(details, Mapping) else None
    if completion is not None and reasoning:
        completion = max(completion - reasoning, 0)  # output tokens, as Gemini counts them
    model = obj.get("model")
    return GeminiAnswer(
        recipes=recipes_from_text(text, finish),
        prompt_tokens=_count(usage.get("prompt_tokens")),
        output_tokens=completion,
        thoughts_tokens=reasoning,
        finish_reason=finish,
        model_version=model if isinstance(model, str) else None,
    )


def chunk_text(event: Mapping[str, Any]) -> str:
    """The text one ``chat.completion.chunk`` adds (``choices[0].delta.content``)."""
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], Mapping):
        return ""
    choice = choices[0]
    text = message_text(choice.get("delta"))
    if not text and isinstance(choice.get("text"), str):  # legacy completions stream
        return str(choice["text"])
    return text


def chunk_tokens(event: Mapping[str, Any]) -> int | None:
    """The output tokens a chunk reports (only the usage chunk does), else None."""
    usage = event.get("usage")
    return _count(usage.get("completion_tokens")) if isinstance(usage, Mapping) else None


def cumulative_tokens(event: Mapping[str, Any], previous: int) -> int:
    """Output tokens so far: the usage chunk's count, else one per chunk with text."""
    tokens = chunk_tokens(event)
    if tokens is not None:
        return max(tokens, previous)
    return previous + (1 if chunk_text(event) else 0)


def answer_from_chunks(events: Sequence[Mapping[str, Any]]) -> GeminiAnswer:
    """One answer from a whole stream: the deltas' text, usage from the chunk that has it."""
    if not events:
        raise MalformedAnswerError("stream ended without any event", status=200)
    finish = None
    usage_event: Mapping[str, Any] = {}
    for event in events:
        choices = event.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
            finish = finish_reason(choices[0].get("finish_reason")) or finish
        if isinstance(event.get("usage"), Mapping):
            usage_event = event
    text = "".join(chunk_text(event) for event in events)
    model = events[-1].get("model")
    return answer_from_parts(text, finish, {"usage": usage_event.get("usage"), "model": model})


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


__all__ = [
    "answer_from_chunks",
    "answer_from_completion",
    "chunk_text",
    "cumulative_tokens",
    "error_object",
    "finish_reason",
]
