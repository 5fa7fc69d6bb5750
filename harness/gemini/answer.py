"""Turning a decoded Gemini answer into recipes (shared by plain and streamed calls).

Callers normally go through :mod:`harness.gemini`::

    answer = answer_from_response_obj(json.loads(body))
    answer.recipes[0].title
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard

from harness.errors import BlockedAnswerError, MalformedAnswerError, UpstreamError
from harness.recipes import Recipe

# finishReason values meaning "the model refused or was stopped by a filter".
BLOCKED_REASONS = frozenset(
    {"SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY", "LANGUAGE"}
)


@dataclass(slots=True)  # read-only; slots, not frozen: built once per request
class GeminiAnswer:
    """A parsed 200 answer: the recipes and what the model reported about them."""

    recipes: tuple[Recipe, ...]
    prompt_tokens: int | None
    output_tokens: int | None
    thoughts_tokens: int | None
    finish_reason: str | None
    model_version: str | None


def answer_from_response_obj(obj: Mapping[str, Any]) -> GeminiAnswer:
    """The :class:`GeminiAnswer` of one decoded GenerateContentResponse."""
    candidate = first_candidate(obj)
    usage = obj.get("usageMetadata") or {}
    return answer_from_parts(
        text=candidate_text(candidate),
        finish_reason=_str_or_none(candidate.get("finishReason")),
        usage=usage if isinstance(usage, Mapping) else {},
        model_version=_str_or_none(obj.get("modelVersion")),
    )


def answer_from_parts(
    *, text: str, finish_reason: str | None, usage: Mapping[str, Any], model_version: str | None
) -> GeminiAnswer:
    """Build the answer from the model's text and metadata (shared by plain and streamed)."""
    return GeminiAnswer(
        recipes=recipes_from_text(text, finish_reason),
        prompt_tokens=_int_or_none(usage.get("promptTokenCount")),
        output_tokens=_int_or_none(usage.get("candidatesTokenCount")),
        thoughts_tokens=_int_or_none(usage.get("thoughtsTokenCount")),
        finish_reason=finish_reason,
        model_version=model_version,
    )


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    # Decoded JSON objects are dicts: test the exact type first, since an ABC check
    # (isinstance(x, Mapping)) costs ~0.5 µs and these run on every answer.
    return type(value) is dict or isinstance(value, Mapping)


def first_candidate(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    candidates = obj.get("candidates")
    if type(candidates) is list and candidates and _is_mapping(candidates[0]):
        return candidates[0]
    feedback = obj.get("promptFeedback")
    block = feedback.get("blockReason") if _is_mapping(feedback) else None
    if block:
        raise BlockedAnswerError(f"prompt blocked: blockReason {block}", status=200, reason=block)
    raise MalformedAnswerError("answer has no candidates", status=200)


def candidate_text(candidate: Mapping[str, Any]) -> str:
    """The candidate's visible text: its text parts joined, thought summaries skipped."""
    content = candidate.get("content")
    parts = content.get("parts") if _is_mapping(content) else None
    if type(parts) is not list:
        return ""
    if len(parts) == 1:  # the usual answer: one plain text part, no generator needed
        return parts[0]["text"] if _visible_text(parts[0]) else ""
    return "".join(part["text"] for part in parts if _visible_text(part))


def _visible_text(part: object) -> bool:
    return _is_mapping(part) and type(part.get("text")) is str and not part.get("thought")


def recipes_from_text(text: str, finish_reason: str | None) -> tuple[Recipe, ...]:
    """Recipes from the model's JSON text: a list, or an object with a ``recipes`` list."""
    if not text.strip():
        if finish_reason in BLOCKED_REASONS:
            raise BlockedAnswerError(
                f"answer blocked: finishReason {finish_reason}", status=200, reason=finish_reason
            )
        raise MalformedAnswerError(f"answer has no text (finishReason {finish_reason})", status=200)
    try:
        decoded = json.loads(text)
    except ValueError as exc:
        raise _undecodable(finish_reason, exc) from exc
    if isinstance(decoded, Mapping):
        decoded = decoded.get("recipes")
    if not isinstance(decoded, list) or not decoded:
        raise MalformedAnswerError("answer JSON holds no list of recipes", status=200)
    return tuple(
        Recipe.from_json(item, where=f"recipes[{index}]") for index, item in enumerate(decoded)
    )


def _undecodable(finish_reason: str | None, exc: ValueError) -> UpstreamError:
    if finish_reason == "MAX_TOKENS":
        return MalformedAnswerError(
            f"answer JSON cut short by maxOutputTokens (finishReason MAX_TOKENS): {exc}",
            status=200,
            reason="MAX_TOKENS",
        )
    if finish_reason in BLOCKED_REASONS:
        return BlockedAnswerError(
            f"answer blocked: finishReason {finish_reason}", status=200, reason=finish_reason
        )
    return MalformedAnswerError(f"answer text is not JSON: {exc}", status=200)


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None
