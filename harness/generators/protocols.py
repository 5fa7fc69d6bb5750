"""The wire protocol a run speaks, chosen once from ``target.api``: Gemini or OpenAI.

Every design builds, sends and parses through the :class:`WireProtocol` of its target, so
no design branches on the API::

    protocol = protocol_for(target)           # GEMINI or OPENAI
    req = protocol.build(target, recipe_request, stream=False, max_output_tokens=2048)
    answer = protocol.answered(http_response)  # or raises the mapped UpstreamError

Both protocols give the same :class:`~harness.generators.common.Answered` (recipes, token
counts, stream marks), so records, metrics and reports are protocol-blind. The ``sdk``
design is the official client of the protocol (google-genai or openai), named here too.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.errors import ConfigError
from harness.gemini import HttpRequest, Target, build_generate_request
from harness.generators.common import (
    Answered,
    answered,
    answered_stream,
    answered_text,
    service_time_s,
)
from harness.generators.transport import HttpResponse, StreamedResponse
from harness.openai import (
    ChatSseDecoder,
    answer_from_chunks,
    build_chat_request,
    cumulative_tokens,
    error_from_response,
    parse_chat_response,
)

if TYPE_CHECKING:
    from harness.generators.base import Generator
    from harness.generators.common import GeneratorOptions

Build = Callable[..., HttpRequest]  # build(target, recipe_request, *, stream, max_output_tokens)


@dataclass(frozen=True)
class WireProtocol:
    """One protocol: how to build a request and read its answer, plain or streamed."""

    name: str
    build: Build
    answered: Callable[[HttpResponse], Answered]
    answered_stream: Callable[[StreamedResponse], Answered]
    sdk: tuple[str, str]  # (module, class) of the design that uses the official client
    # A data workload's answers are text, not recipes (None: not offered by this protocol)
    answered_text: Callable[[HttpResponse], Answered] | None = None
    answered_text_stream: Callable[[StreamedResponse], Answered] | None = None


def readers(
    protocol: WireProtocol, text: bool
) -> tuple[Callable[[HttpResponse], Answered], Callable[[StreamedResponse], Answered]]:
    """(plain, streamed) answer readers: recipes, or text for a data workload.

    Raises ConfigError when the protocol has no text readers (data workloads are Gemini's).
    """
    if not text:
        return protocol.answered, protocol.answered_stream
    if protocol.answered_text is None or protocol.answered_text_stream is None:
        raise ConfigError(
            f"--prompts / --prompt-tokens / --output-tokens: not offered with --api {protocol.name}"
        )
    return protocol.answered_text, protocol.answered_text_stream


def openai_answered(resp: HttpResponse) -> Answered:
    """A chat.completion answer into recipes, or raise the mapped :class:`UpstreamError`."""
    answer = parse_chat_response(resp.status, resp.headers, resp.body)
    return Answered(answer, resp.status, resp.first_byte_s, (), service_time_s(resp.headers))


def openai_answered_stream(resp: StreamedResponse) -> Answered:
    """Decode chat.completion.chunk events piece by piece, each stamped with its piece's time."""
    if resp.status != 200:
        raise error_from_response(resp.status, resp.headers, resp.body)
    decoder = ChatSseDecoder()
    marks: list[tuple[float, int]] = []
    for time_s, data in resp.pieces:
        _mark(marks, time_s, decoder.feed(data))
    end_s = resp.pieces[-1][0] if resp.pieces else resp.first_byte_s
    _mark(marks, end_s, decoder.flush())
    answer = answer_from_chunks(decoder.received)
    service_s = service_time_s(resp.headers)
    return Answered(answer, resp.status, resp.first_byte_s, tuple(marks), service_s)


def _mark(marks: list[tuple[float, int]], time_s: float, events: list[dict[str, Any]]) -> None:
    for event in events:
        marks.append((time_s, cumulative_tokens(event, marks[-1][1] if marks else 0)))


GEMINI = WireProtocol(
    "gemini",
    build_generate_request,
    answered,
    answered_stream,
    ("harness.generators.sdk", "SdkGenerator"),
    answered_text,
    functools.partial(answered_stream, text=True),
)
OPENAI = WireProtocol(
    "openai",
    build_chat_request,
    openai_answered,
    openai_answered_stream,
    ("harness.generators.sdk_openai", "OpenAISdkGenerator"),
)
PROTOCOLS: Mapping[str, WireProtocol] = {"gemini": GEMINI, "openai": OPENAI}


def protocol_for(target: Target) -> WireProtocol:
    """The protocol of ``target.api`` (a Target validates its api when built)."""
    return PROTOCOLS[target.api]


def sdk_generator(target: Target, options: GeneratorOptions) -> Generator:
    """The ``sdk`` design for this target: its protocol's official client."""
    module, name = protocol_for(target).sdk
    factory: Any = getattr(importlib.import_module(module), name)
    generator: Generator = factory(target, options)
    return generator
