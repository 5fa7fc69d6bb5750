"""Data-driven requests: a prompt (or chat contents) as given, answered as plain text.

    req = PromptRequest(text="Summarise the French revolution.", max_output_tokens=300)
    http = build_prompt_request(target, req, stream=False, max_output_tokens=2048)
    answer = text_answer(obj)     # recipes=(); MAX_TOKENS is a normal end here

The recipe workload asks for JSON recipes and treats an answer cut by maxOutputTokens as
unusable; a data workload asks for text of a length it chose, so the cut is the answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import BlockedAnswerError, MalformedAnswerError
from harness.gemini.answer import BLOCKED_REASONS, GeminiAnswer, first_candidate


@dataclass(frozen=True)
class PromptRequest:
    """One request of a data workload: ``text``, or ``contents_json`` (a Gemini contents list
    as JSON text, so the request stays hashable); ``max_output_tokens`` overrides the run's."""

    text: str | None = None
    contents_json: str | None = None
    max_output_tokens: int | None = None

    def contents(self) -> list[Any]:
        if self.contents_json is not None:
            decoded: list[Any] = json.loads(self.contents_json)
            return decoded
        return [{"role": "user", "parts": [{"text": self.text or ""}]}]


def prompt_payload(
    req: PromptRequest, max_output_tokens: int, temperature: float
) -> dict[str, Any]:
    """The generateContent body: the contents and a plain-text generation config."""
    tokens = req.max_output_tokens or max_output_tokens
    return {
        "contents": req.contents(),
        "generationConfig": {"temperature": temperature, "maxOutputTokens": tokens},
    }


def text_answer(obj: Mapping[str, Any]) -> GeminiAnswer:
    """The answer of a decoded 200 body as text (no recipes); raises for blocked or empty."""
    candidate = first_candidate(obj)
    return _answer(candidate.get("finishReason"), obj.get("usageMetadata"), obj)


def text_answer_from_events(events: Sequence[Mapping[str, Any]]) -> GeminiAnswer:
    """One text answer from a whole SSE stream: finish reason and usage from the last events."""
    if not events:
        raise MalformedAnswerError("stream ended without any event", status=200)
    with_candidates = [e for e in events if isinstance(e.get("candidates"), list)]
    if not with_candidates:
        first_candidate(events[-1])  # raises Blocked (promptFeedback) or Malformed
    finish = None
    for event in reversed(with_candidates):
        finish = first_candidate(event).get("finishReason") if event["candidates"] else None
        if finish:
            break
    return _answer(finish, events[-1].get("usageMetadata"), events[-1])


def _answer(finish: Any, usage: Any, obj: Mapping[str, Any]) -> GeminiAnswer:
    if finish in BLOCKED_REASONS:
        raise BlockedAnswerError(
            f"answer blocked: finishReason {finish}", status=200, reason=finish
        )
    usage = usage if isinstance(usage, Mapping) else {}
    version = obj.get("modelVersion")
    return GeminiAnswer(
        recipes=(),
        prompt_tokens=_count(usage.get("promptTokenCount")),
        output_tokens=_count(usage.get("candidatesTokenCount")),
        thoughts_tokens=_count(usage.get("thoughtsTokenCount")),
        finish_reason=finish if isinstance(finish, str) else None,
        model_version=version if isinstance(version, str) else None,
    )


def _count(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)
