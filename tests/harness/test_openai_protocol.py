"""The sans-IO OpenAI chat-completions protocol (harness.openai): pure functions only."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness.errors import (
    BadKeyError,
    BlockedAnswerError,
    ClientError,
    MalformedAnswerError,
    OverloadedError,
    RateLimitedError,
    ServerError,
)
from harness.gemini import Target
from harness.generators.protocols import GEMINI, OPENAI, openai_answered_stream, protocol_for
from harness.generators.transport import StreamedResponse
from harness.openai import (
    ChatSseDecoder,
    answer_from_chunks,
    build_chat_request,
    error_from_response,
    parse_chat_response,
)
from harness.recipes import RecipeRequest

TARGET = Target("http://h:8000/v1/", "sk-test", "my-model", api="openai")
RECIPES = [
    {
        "title": "Rice bowl",
        "cuisine": "Asian",
        "ingredients": ["rice", "egg"],
        "steps": ["cook", "eat"],
        "prep_time_minutes": 5,
        "cook_time_minutes": 10,
        "servings": 2,
    }
]


def _completion(content: str, finish: str = "stop", **usage: Any) -> bytes:
    obj = {
        "id": "c1",
        "object": "chat.completion",
        "model": "my-model",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish,
            }
        ],
        "usage": usage or {"prompt_tokens": 11, "completion_tokens": 22, "total_tokens": 33},
    }
    return json.dumps(obj).encode()


def test_the_request_is_a_chat_completion_with_a_recipes_schema() -> None:
    http = build_chat_request(TARGET, RecipeRequest(("egg", "rice")), max_output_tokens=99)
    assert (http.method, http.url) == ("POST", "http://h:8000/v1/chat/completions")
    assert http.headers["Authorization"] == "Bearer sk-test"
    assert "sk-test" not in repr(http)
    body = json.loads(http.body)
    assert body["model"] == "my-model" and body["max_tokens"] == 99
    assert "Ingredients: egg, rice" in body["messages"][0]["content"]
    schema = body["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["recipes"]["type"] == "array"
    assert schema["properties"]["recipes"]["items"]["type"] == "object"
    assert "stream" not in body


def test_a_stream_asks_for_usage_and_the_token_field_is_selectable() -> None:
    req = RecipeRequest(("egg",))
    http = build_chat_request(
        TARGET, req, stream=True, token_field="max_completion_tokens", response_format="json_object"
    )
    body = json.loads(http.body)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_completion_tokens"] == 2048 and "max_tokens" not in body
    assert body["response_format"] == {"type": "json_object"}


def test_recipes_and_usage_from_a_completion() -> None:
    answer = parse_chat_response(200, {}, _completion(json.dumps({"recipes": RECIPES})))
    assert answer.recipes[0].title == "Rice bowl"
    assert (answer.prompt_tokens, answer.output_tokens, answer.finish_reason) == (11, 22, "STOP")
    bare_list = parse_chat_response(200, {}, _completion(json.dumps(RECIPES)))
    assert bare_list.recipes == answer.recipes


def test_reasoning_tokens_are_not_output_tokens() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 30,
             "completion_tokens_details": {"reasoning_tokens": 10}}  # fmt: skip
    answer = parse_chat_response(200, {}, _completion(json.dumps(RECIPES), **usage))
    assert (answer.output_tokens, answer.thoughts_tokens) == (20, 10)


def test_cut_and_filtered_answers() -> None:
    with pytest.raises(MalformedAnswerError) as cut:
        parse_chat_response(200, {}, _completion('{"recipes": [', finish="length"))
    assert cut.value.reason == "MAX_TOKENS"
    with pytest.raises(BlockedAnswerError):
        parse_chat_response(200, {}, _completion("", finish="content_filter"))
    with pytest.raises(MalformedAnswerError):
        parse_chat_response(200, {}, b'{"choices": []}')


def _openai_error(message: str, kind: str, code: str | None) -> bytes:
    return json.dumps({"error": {"message": message, "type": kind, "code": code}}).encode()


def test_openai_429_honours_retry_after_and_retry_after_ms() -> None:
    body = _openai_error("Rate limit reached", "requests", "rate_limit_exceeded")
    err = error_from_response(429, {"Retry-After": "2"}, body)
    assert isinstance(err, RateLimitedError)
    assert (err.retry_delay_s, err.reason, str(err)) == (2.0, "rate_limit_exceeded",
                                                         "Rate limit reached")  # fmt: skip
    assert error_from_response(429, {"retry-after-ms": "2500"}, body).retry_delay_s == 2.5
    assert error_from_response(429, {}, body).retry_delay_s is None


def test_gemini_compatible_error_bodies_are_read_too() -> None:
    google = [{"error": {"code": 429, "message": "Please retry in 1.5s.",
                         "status": "RESOURCE_EXHAUSTED", "details": [
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1s"}]}}]  # fmt: skip
    err = error_from_response(429, {}, json.dumps(google).encode())
    assert isinstance(err, RateLimitedError)
    assert (err.retry_delay_s, err.reason) == (1.5, "RESOURCE_EXHAUSTED")


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (401, _openai_error("bad key", "invalid_request_error", "invalid_api_key"), BadKeyError),
        (400, _openai_error("bad key", "invalid_request_error", "invalid_api_key"), BadKeyError),
        (404, _openai_error("no model", "invalid_request_error", "model_not_found"), ClientError),
        (500, b"oops", ServerError),
        (503, b"", OverloadedError),
    ],
)
def test_status_classes(status: int, body: bytes, cls: type) -> None:
    err = error_from_response(status, {}, body)
    assert type(err) is cls and err.status == status


def _sse(*events: object) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)


def _chunk(text: str | None, finish: str | None = None) -> dict[str, Any]:
    delta = {"content": text} if text is not None else {}
    return {"object": "chat.completion.chunk", "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}  # fmt: skip


def test_a_stream_of_deltas_then_a_usage_chunk() -> None:
    text = json.dumps(RECIPES)
    usage = {"object": "chat.completion.chunk", "choices": [],
             "usage": {"prompt_tokens": 7, "completion_tokens": 40}}  # fmt: skip
    wire = _sse(_chunk(text[:10]), _chunk(text[10:]), _chunk(None, "stop"), usage)
    wire += b"data: [DONE]\n\n"
    pieces = [(0.1 + i * 0.01, wire[i * 50 : (i + 1) * 50]) for i in range(len(wire) // 50 + 1)]
    got = openai_answered_stream(StreamedResponse(200, {}, pieces, 0.1))
    assert got.answer.recipes[0].title == "Rice bowl"
    assert (got.answer.prompt_tokens, got.answer.output_tokens) == (7, 40)
    assert [tokens for _, tokens in got.marks] == [1, 2, 2, 40]


def test_an_error_event_mid_stream_raises_the_mapped_error() -> None:
    decoder = ChatSseDecoder()
    decoder.feed(_sse(_chunk("[{")))
    with pytest.raises(RateLimitedError):
        decoder.feed(_sse({"error": {"message": "slow down", "type": "x",
                                     "code": "rate_limit_exceeded"}}))  # fmt: skip
    with pytest.raises(ServerError):
        ChatSseDecoder().feed(_sse({"error": {"message": "boom", "code": 500}}))
    assert len(decoder.received) == 1
    with pytest.raises(MalformedAnswerError):
        answer_from_chunks([])


def test_the_protocol_is_chosen_once_from_the_target() -> None:
    assert protocol_for(TARGET) is OPENAI
    assert protocol_for(Target("http://h", "k")) is GEMINI
    with pytest.raises(Exception, match="api"):
        Target("http://h", "k", api="soap")
