"""What other benchmarking tools expect of an OpenAI-compatible server (vLLM's surface).

Locust, GuideLLM, AIPerf, vLLM bench and genai-bench assume the OpenAI routes at the root
(``/v1/chat/completions``, ``/v1/completions``, ``/v1/models``, ``/v1/embeddings``), a
``/health`` route, and vLLM's length controls (``min_tokens``; ``ignore_eos``: keep
generating until ``max_tokens``). This module holds those pieces::

    min_tokens = length_floor(body)          # None, or the fewest output tokens
    answer = pad_answer(answer, min_tokens)  # at least that many tokens
"""

from __future__ import annotations

import json
import time
from typing import Any

from aiohttp import web

from mock_gemini.content import Answer, count_tokens
from mock_gemini.parsing import GenerateRequest
from mock_gemini.protocol import invalid_value_error, missing_field_error

_FILLER = " and then"  # what a model says past its end of sequence (4 characters a token)
_FINISH = {"STOP": "stop", "MAX_TOKENS": "length", "SAFETY": "content_filter"}
LENGTH_FIELDS = frozenset({"min_tokens", "ignore_eos"})


def length_floor(body: dict[str, Any]) -> int | None:
    """The fewest output tokens the request asks for: ``max_tokens`` with ``ignore_eos``,
    else ``min_tokens``; None when neither (or not integers).

    >>> length_floor({"max_tokens": 64, "ignore_eos": True})
    64
    """
    limit = _count(body.get("max_completion_tokens", body.get("max_tokens")))
    if body.get("ignore_eos") is True and limit is not None:
        return limit
    return _count(body.get("min_tokens"))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def pad_answer(answer: Answer, tokens: int | None) -> Answer:
    """``answer`` lengthened to at least ``tokens`` output tokens (4 characters a token),
    its finish reason kept. Function calls and empty (blocked) answers are left alone."""
    if tokens is None or answer.calls or answer.output_tokens >= tokens or not answer.text:
        return answer
    want = tokens * 4
    text = answer.text + (_FILLER * (want // len(_FILLER) + 1))[: want - len(answer.text)]
    return Answer(text, count_tokens(text), answer.finish_reason)


def parse_completion_request(body: Any) -> tuple[GenerateRequest, str, bool]:
    """(generate request, model id, stream?) from a legacy ``/v1/completions`` body."""
    if not isinstance(body, dict):
        raise invalid_value_error("", "TYPE_MESSAGE", body)
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise missing_field_error("CompletionRequest", "model")
    prompt = body.get("prompt")
    if isinstance(prompt, list):
        prompt = "\n".join(p for p in prompt if isinstance(p, str))
    if not isinstance(prompt, str):
        raise missing_field_error("CompletionRequest", "prompt")
    max_tokens = body.get("max_tokens", 16)  # OpenAI's default for legacy completions
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int)):
        raise invalid_value_error("max_tokens", "TYPE_INT32", max_tokens)
    gen = GenerateRequest(
        prompt_text=prompt,
        prompt_tokens=count_tokens(prompt),
        max_output_tokens=max_tokens,
        seed=body.get("seed") if isinstance(body.get("seed"), int) else None,
        min_output_tokens=length_floor(body),
    )
    return gen, model.removeprefix("models/"), bool(body.get("stream"))


class CompletionShaper:
    """Builds ``text_completion`` objects (the legacy API: ``choices[0].text``)."""

    def __init__(self, model: str, response_id: str, created: int) -> None:
        self.model = model
        self.response_id = response_id
        self.created = created

    def _envelope(self, text: str | None, finish: str | None) -> dict[str, Any]:
        choice = {"finish_reason": finish, "index": 0, "logprobs": None, "text": text or ""}
        return {
            "choices": [choice],
            "created": self.created,
            "id": self.response_id,
            "model": self.model,
            "object": "text_completion",
        }

    @staticmethod
    def _usage(prompt: int, candidates: int, thoughts: int) -> dict[str, int]:
        completion = candidates + thoughts
        return {
            "completion_tokens": completion,
            "prompt_tokens": prompt,
            "total_tokens": prompt + completion,
        }

    def full(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]:
        obj = self._envelope(text, _FINISH.get(finish or "STOP", "stop"))
        obj["usage"] = self._usage(prompt, candidates, thoughts)
        return obj

    def full_body(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> bytes:
        return json.dumps(self.full(text, finish, prompt, candidates, thoughts)).encode()

    def chunk(
        self, text: str | None, finish: str | None, prompt: int, candidates: int, thoughts: int
    ) -> dict[str, Any]:
        obj = self._envelope(text, None if finish is None else _FINISH.get(finish, "stop"))
        if finish is not None:
            obj["usage"] = self._usage(prompt, candidates, thoughts)
        return obj

    def calls(self, calls: Any, prompt: int, candidates: int, thoughts: int) -> list[Any]:
        return []  # legacy completions have no tools

    def calls_full(self, calls: Any, prompt: int, candidates: int, thoughts: int) -> Any:
        return self.full("", "STOP", prompt, candidates, thoughts)


def bearer_only(headers: Any, query: Any) -> bool:
    """The caller authenticates the OpenAI way (``Authorization: Bearer``), not Google's
    (``x-goog-api-key`` or ``?key=``): ``GET /v1/models`` then answers the OpenAI list."""
    auth = headers.get("Authorization", "")
    return (
        auth[:7].lower() == "bearer " and not headers.get("x-goog-api-key") and "key" not in query
    )


async def health(request: web.Request) -> web.Response:
    """``GET /health``: 200 ``{"status": "ok"}`` (vLLM, TGI and the tools' readiness probe)."""
    return web.json_response({"status": "ok", "time": int(time.time())})
