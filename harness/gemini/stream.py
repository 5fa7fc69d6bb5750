"""Server-sent events from ``streamGenerateContent?alt=sse``, decoded without I/O.

Feed the body as it arrives, in chunks of any size; each complete event comes
back as a decoded JSON object::

    decoder = SseDecoder()
    events = []
    for data in body_chunks:
        events += decoder.feed(data)   # raises the mapped UpstreamError on an error event
    events += decoder.flush()
    answer = answer_from_chunks(events)
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import MalformedAnswerError
from harness.gemini.answer import (
    GeminiAnswer,
    answer_from_parts,
    candidate_text,
    first_candidate,
)
from harness.gemini.errors import error_from_response


def _decode_event(data: str) -> dict[str, Any]:
    try:
        event = json.loads(data)
    except ValueError as exc:
        raise MalformedAnswerError(f"stream event is not JSON: {exc}", status=200) from exc
    if not isinstance(event, dict):
        raise MalformedAnswerError("stream event is not a JSON object", status=200)
    error = event.get("error")
    if isinstance(error, Mapping):
        code = error.get("code")
        status = code if isinstance(code, int) and not isinstance(code, bool) else 500
        raise error_from_response(status, {}, data.encode())
    return event


class SseDecoder:
    """Incremental SSE decoder: events end at a blank line; ``\\n`` or ``\\r\\n`` line ends.

    ``received`` keeps every event decoded so far, so the events before an
    error event are still available after :meth:`feed` raised. ``decode_event`` turns one
    event's data into a JSON object (or raises): another protocol's decoder replaces it.
    """

    decode_event = staticmethod(_decode_event)

    def __init__(self) -> None:
        self._pending = b""
        self._data_lines: list[str] = []
        self.received: list[dict[str, Any]] = []

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """Decode what ``data`` completes; returns the events finished by it, in order."""
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        events: list[dict[str, Any]] = []
        for line in lines:
            event = self._line(line.removesuffix(b"\r").decode("utf-8", errors="replace"))
            if event is not None:
                events.append(event)
        return events

    def flush(self) -> list[dict[str, Any]]:
        """End of body: dispatch a last event that lacked its closing blank line."""
        events = self.feed(b"\n") if self._pending else []
        event = self._line("")
        return [*events, event] if event is not None else events

    def _line(self, line: str) -> dict[str, Any] | None:
        if line:
            if line.startswith("data:"):
                self._data_lines.append(line[5:].removeprefix(" "))
            # Other fields (event:, id:, retry:) and ":" comments carry nothing for us.
            return None
        data, self._data_lines = "\n".join(self._data_lines), []
        if not data or data == "[DONE]":
            return None
        event = self.decode_event(data)
        self.received.append(event)
        return event


@dataclass(frozen=True)
class StreamChunk:
    """What one event adds: its text, the cumulative output tokens so far, the finish reason."""

    text: str
    tokens: int | None
    finish_reason: str | None


def chunk_from_event(obj: Mapping[str, Any]) -> StreamChunk:
    """The text and counts of one decoded event.

    >>> chunk_from_event({"candidates": [{"content": {"parts": [{"text": "Hi"}]}}]}).text
    'Hi'
    """
    candidates = obj.get("candidates")
    candidate = candidates[0] if isinstance(candidates, list) and candidates else {}
    if not isinstance(candidate, Mapping):
        candidate = {}
    usage = obj.get("usageMetadata")
    tokens = usage.get("candidatesTokenCount") if isinstance(usage, Mapping) else None
    reason = candidate.get("finishReason")
    return StreamChunk(
        text=candidate_text(candidate),
        tokens=tokens if isinstance(tokens, int) and not isinstance(tokens, bool) else None,
        finish_reason=reason if isinstance(reason, str) else None,
    )


def answer_from_chunks(events: Sequence[Mapping[str, Any]]) -> GeminiAnswer:
    """One answer from a whole stream: the text of all events, usage from the last one."""
    if not events:
        raise MalformedAnswerError("stream ended without any event", status=200)
    chunks = [chunk_from_event(event) for event in events]
    if not any(isinstance(event.get("candidates"), list) for event in events):
        first_candidate(events[-1])  # raises Blocked (promptFeedback) or Malformed
    finish = next((c.finish_reason for c in reversed(chunks) if c.finish_reason), None)
    usage = events[-1].get("usageMetadata")
    version = events[-1].get("modelVersion")
    return answer_from_parts(
        text="".join(chunk.text for chunk in chunks),
        finish_reason=finish,
        usage=usage if isinstance(usage, Mapping) else {},
        model_version=version if isinstance(version, str) else None,
    )
