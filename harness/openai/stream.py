"""Server-sent ``chat.completion.chunk`` events, decoded without I/O.

The framing is the same as Gemini's SSE (``data: {...}`` then a blank line, ending with
``data: [DONE]``), so the decoder is Gemini's with OpenAI's error events::

    decoder = ChatSseDecoder()
    for data in body_chunks:
        decoder.feed(data)      # raises the mapped UpstreamError on an error event
    decoder.flush()
    answer = answer_from_chunks(decoder.received)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from harness.errors import MalformedAnswerError
from harness.gemini.stream import SseDecoder
from harness.openai.errors import error_from_response, status_of


def decode_chat_event(data: str) -> dict[str, Any]:
    """One event's JSON object; an ``{"error": …}`` event raises the mapped error."""
    try:
        event = json.loads(data)
    except ValueError as exc:
        raise MalformedAnswerError(f"stream event is not JSON: {exc}", status=200) from exc
    if not isinstance(event, dict):
        raise MalformedAnswerError("stream event is not a JSON object", status=200)
    error = event.get("error")
    if isinstance(error, Mapping):
        raise error_from_response(status_of(error), {}, data.encode())
    return event


class ChatSseDecoder(SseDecoder):
    """:class:`SseDecoder` for chat-completions streams (OpenAI error events)."""

    decode_event = staticmethod(decode_chat_event)
