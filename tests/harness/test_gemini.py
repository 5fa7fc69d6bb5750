"""The sans-IO Gemini protocol against real-shaped bodies (tests/fixtures/gemini)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import (
    BadKeyError,
    BlockedAnswerError,
    ClientError,
    ConfigError,
    MalformedAnswerError,
    OverloadedError,
    RateLimitedError,
    ServerError,
    UpstreamError,
)
from harness.gemini import (
    GEMINI_BASE_URL,
    SseDecoder,
    Target,
    answer_from_chunks,
    build_generate_request,
    chunk_from_event,
    error_from_response,
    parse_generate_response,
    parse_retry_delay_s,
)
from harness.recipes import RECIPE_SCHEMA, RecipeRequest, build_prompt

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gemini"
KEY = "AIzaSy-test-key-0123456789"
REQUEST = RecipeRequest(("chicken", "rice", "garlic"), "Asian")


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()  # a missing fixture fails the test


def answer_body(text: str, finish: str = "STOP", **extra: Any) -> bytes:
    candidate = {"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": finish}
    return json.dumps({"candidates": [candidate], **extra}).encode()


RECIPE_JSON = json.dumps(
    [
        {
            "title": "Egg Fried Rice",
            "ingredients": ["egg", "rice"],
            "steps": ["Fry."],
            "prep_time_minutes": 5,
            "cook_time_minutes": 10,
            "servings": 1,
        }
    ]
)

# --- requests ------------------------------------------------------------------------------


def test_request_targets_generate_content_with_the_key_header() -> None:
    http = build_generate_request(Target(GEMINI_BASE_URL, KEY), REQUEST)

    assert http.method == "POST"
    assert http.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert http.headers["x-goog-api-key"] == KEY
    assert http.headers["Content-Type"] == "application/json"
    assert KEY not in http.url


def test_request_body_carries_prompt_and_generation_config() -> None:
    target = Target("http://127.0.0.1:9", KEY)

    http = build_generate_request(target, REQUEST, max_output_tokens=512, temperature=0.2)
    body = json.loads(http.body)

    assert body["contents"] == [{"role": "user", "parts": [{"text": build_prompt(REQUEST)}]}]
    assert body["generationConfig"] == {
        "temperature": 0.2,
        "maxOutputTokens": 512,
        "responseMimeType": "application/json",
        "responseSchema": RECIPE_SCHEMA,
    }


@pytest.mark.parametrize(
    ("target", "stream", "url"),
    [
        pytest.param(
            Target("http://127.0.0.1:8000/", "k"),
            False,
            "http://127.0.0.1:8000/v1beta/models/gemini-2.5-flash:generateContent",
            id="trailing-slash",
        ),
        pytest.param(
            Target("http://proxy/gemini/", "k", model="models/gemini-2.0-flash", api_version="v1"),
            False,
            "http://proxy/gemini/v1/models/gemini-2.0-flash:generateContent",
            id="prefix-version-model",
        ),
        pytest.param(
            Target("http://127.0.0.1:8000", "k"),
            True,
            "http://127.0.0.1:8000/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
            id="stream",
        ),
    ],
)
def test_request_url(target: Target, stream: bool, url: str) -> None:
    assert build_generate_request(target, REQUEST, stream=stream).url == url


@pytest.mark.parametrize(
    ("build", "named"),
    [
        pytest.param(lambda: Target("127.0.0.1:8000", KEY), "base_url", id="no-scheme"),
        pytest.param(lambda: Target("http://h", KEY, model=" "), "model", id="empty-model"),
        pytest.param(
            lambda: build_generate_request(Target("http://h", KEY), REQUEST, temperature=3.0),
            "temperature",
            id="temperature",
        ),
        pytest.param(
            lambda: build_generate_request(Target("http://h", KEY), REQUEST, max_output_tokens=0),
            "max_output_tokens",
            id="max-output-tokens",
        ),
    ],
)
def test_bad_settings_raise_config_error_naming_them(build: Any, named: str) -> None:
    with pytest.raises(ConfigError, match=named) as caught:
        build()
    assert KEY not in str(caught.value)


def test_key_never_shows_in_repr_or_str() -> None:
    target = Target(GEMINI_BASE_URL, KEY)
    http = build_generate_request(target, REQUEST)

    for text in (repr(target), str(target), repr(http), str(http)):
        assert KEY not in text
    assert "x-goog-api-key" in repr(http)


def test_authorization_header_is_hidden_too() -> None:
    http = build_generate_request(Target(GEMINI_BASE_URL, KEY), REQUEST)
    other = type(http)("GET", "http://h", {"Authorization": f"Bearer {KEY}"}, b"")

    assert KEY not in repr(other)


# --- answers -------------------------------------------------------------------------------


def test_generate_content_fixture_parses_to_one_recipe_with_usage() -> None:
    answer = parse_generate_response(200, {}, fixture_bytes("generate_content.json"))

    assert [r.title for r in answer.recipes] == ["Garlic Chicken Fried Rice"]
    assert answer.recipes[0].ingredients == ("chicken", "rice", "garlic", "soy sauce")
    assert (answer.prompt_tokens, answer.output_tokens, answer.thoughts_tokens) == (86, 92, 52)
    assert answer.finish_reason == "STOP"
    assert answer.model_version == "gemini-2.5-flash"


def test_text_parts_are_joined_and_thoughts_skipped() -> None:
    half = len(RECIPE_JSON) // 2
    parts = [
        {"text": "I should suggest rice.", "thought": True},
        {"text": RECIPE_JSON[:half]},
        {"text": RECIPE_JSON[half:]},
    ]
    body = json.dumps({"candidates": [{"content": {"parts": parts}, "finishReason": "STOP"}]})

    answer = parse_generate_response(200, {}, body.encode())

    assert [r.title for r in answer.recipes] == ["Egg Fried Rice"]
    assert answer.prompt_tokens is None


def test_object_with_recipes_list_is_accepted() -> None:
    body = answer_body(json.dumps({"recipes": json.loads(RECIPE_JSON)}))

    assert parse_generate_response(200, {}, body).recipes[0].servings == 1


@pytest.mark.parametrize(
    ("body", "error", "match"),
    [
        pytest.param(b"<html>oops</html>", MalformedAnswerError, "not JSON", id="html-body"),
        pytest.param(answer_body("Sure! Here are"), MalformedAnswerError, "not JSON", id="prose"),
        pytest.param(answer_body("[]"), MalformedAnswerError, "no list", id="empty-list"),
        pytest.param(answer_body('{"a": 1}'), MalformedAnswerError, "no list", id="wrong-obj"),
        pytest.param(b'{"candidates": []}', MalformedAnswerError, "no candidates", id="none"),
        pytest.param(answer_body("", "OTHER"), MalformedAnswerError, "no text", id="no-text"),
        pytest.param(
            answer_body(RECIPE_JSON[:40], "MAX_TOKENS"),
            MalformedAnswerError,
            "MAX_TOKENS",
            id="truncated",
        ),
        pytest.param(
            answer_body(RECIPE_JSON.replace('"servings": 1', '"servings": "one"')),
            MalformedAnswerError,
            r"recipes\[0\]\.servings",
            id="bad-field",
        ),
    ],
)
def test_unusable_200_is_malformed(body: bytes, error: type[UpstreamError], match: str) -> None:
    with pytest.raises(error, match=match) as caught:
        parse_generate_response(200, {}, body)
    assert not isinstance(caught.value, BlockedAnswerError)
    assert caught.value.retryable is False


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        pytest.param(answer_body("", "SAFETY"), "SAFETY", id="safety"),
        pytest.param(answer_body("", "RECITATION"), "RECITATION", id="recitation"),
        pytest.param(answer_body("", "PROHIBITED_CONTENT"), "PROHIBITED_CONTENT", id="prohibited"),
        pytest.param(
            b'{"promptFeedback": {"blockReason": "SAFETY"}}', "SAFETY", id="prompt-blocked"
        ),
    ],
)
def test_blocked_answer(body: bytes, reason: str) -> None:
    with pytest.raises(BlockedAnswerError) as caught:
        parse_generate_response(200, {}, body)
    assert caught.value.reason == reason


# --- errors --------------------------------------------------------------------------------

ERROR_CASES = [
    pytest.param(
        "error_400_api_key_invalid.json", 400, BadKeyError, "INVALID_ARGUMENT", id="400-key"
    ),
    pytest.param("error_400_unknown_field.json", 400, ClientError, "INVALID_ARGUMENT", id="400"),
    pytest.param("error_403_no_key.json", 403, BadKeyError, "PERMISSION_DENIED", id="403"),
    pytest.param("error_404_model.json", 404, ClientError, "NOT_FOUND", id="404"),
    pytest.param("error_429_quota.json", 429, RateLimitedError, "RESOURCE_EXHAUSTED", id="429"),
    pytest.param("error_503_overloaded.json", 503, OverloadedError, "UNAVAILABLE", id="503"),
]


@pytest.mark.parametrize(("name", "status", "error", "reason"), ERROR_CASES)
def test_error_fixtures_map_to_the_tree(
    name: str, status: int, error: type[UpstreamError], reason: str
) -> None:
    body = fixture_bytes(name)

    mapped = error_from_response(status, {}, body)

    assert type(mapped) is error
    assert (mapped.status, mapped.reason) == (status, reason)
    assert str(mapped) == json.loads(body)["error"]["message"]
    with pytest.raises(error):
        parse_generate_response(status, {"content-type": "application/json"}, body)


@pytest.mark.parametrize(("name", "status", "error", "reason"), ERROR_CASES)
def test_list_wrapped_error_maps_the_same(
    name: str, status: int, error: type[UpstreamError], reason: str
) -> None:
    body = b"[" + fixture_bytes(name) + b"]"

    assert type(error_from_response(status, {}, body)) is error


def test_quota_fixture_gives_the_message_s_precise_delay() -> None:
    # RetryInfo says "26s" (rounded down), the message "Please retry in 26.4s.".
    mapped = error_from_response(429, {}, fixture_bytes("error_429_quota.json"))

    assert isinstance(mapped, RateLimitedError)
    assert mapped.retry_delay_s == pytest.approx(26.4)
    assert mapped.retryable


def test_a_shorter_retry_after_header_does_not_shorten_the_wait() -> None:
    mapped = error_from_response(429, {"Retry-After": "3"}, fixture_bytes("error_429_quota.json"))

    assert isinstance(mapped, RateLimitedError)
    assert mapped.retry_delay_s == pytest.approx(26.4)


def _quota_body(message: str) -> bytes:
    error = {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED"}
    return json.dumps({"error": error}).encode()


@pytest.mark.parametrize(
    ("headers", "body", "delay_s"),
    [
        pytest.param({"retry-after": "7"}, b"", 7.0, id="header-seconds"),
        pytest.param({"Retry-After": "1.5"}, b"busy", 1.5, id="header-fraction"),
        pytest.param(
            {
                "Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT",
                "Date": "Wed, 21 Oct 2026 07:28:00 GMT",
            },
            b"",
            30.0,
            id="header-date-vs-date",
        ),
        pytest.param({"Retry-After": "Wed, 21 Oct 2026 07:28:30 GMT"}, b"", None, id="date-alone"),
        pytest.param({"Retry-After": "whenever"}, b"", None, id="header-garbage"),
        pytest.param({}, _quota_body("Quota. Please retry in 38.86s."), 38.86, id="message"),
        pytest.param({}, _quota_body("Quota exceeded."), None, id="no-hint"),
    ],
)
def test_rate_limit_delay_sources(
    headers: dict[str, str], body: bytes, delay_s: float | None
) -> None:
    mapped = error_from_response(429, headers, body)

    assert isinstance(mapped, RateLimitedError)
    assert mapped.retry_delay_s == (pytest.approx(delay_s) if delay_s is not None else None)


@pytest.mark.parametrize(
    ("status", "error"),
    [
        pytest.param(500, ServerError, id="500"),
        pytest.param(502, ServerError, id="502"),
        pytest.param(504, ServerError, id="504"),
        pytest.param(599, ServerError, id="599"),
        pytest.param(503, OverloadedError, id="503"),
        pytest.param(401, BadKeyError, id="401"),
        pytest.param(403, BadKeyError, id="403"),
        pytest.param(400, ClientError, id="400"),
        pytest.param(418, ClientError, id="418"),
        pytest.param(429, RateLimitedError, id="429"),
    ],
)
def test_non_json_body_maps_by_status(status: int, error: type[UpstreamError]) -> None:
    mapped = error_from_response(status, {}, b"<html>Bad Gateway</html>")

    assert type(mapped) is error
    assert mapped.status == status
    assert mapped.reason is None
    assert str(status) in str(mapped)
    assert "html" not in str(mapped)


def test_retryable_follows_the_tree() -> None:
    retryable = {s: error_from_response(s, {}, b"").retryable for s in (400, 404, 429, 500, 503)}

    assert retryable == {400: False, 404: False, 429: True, 500: True, 503: True}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("26s", 26.0, id="whole"),
        pytest.param("0.5s", 0.5, id="half"),
        pytest.param("1.500s", 1.5, id="protobuf-nanos"),
        pytest.param("38.86s", 38.86, id="message-form"),
        pytest.param("1m", 60.0, id="minutes"),
        pytest.param("250ms", 0.25, id="milliseconds"),
        pytest.param("120", 120.0, id="bare-seconds"),
        pytest.param(" 3s ", 3.0, id="spaces"),
        pytest.param("", None, id="empty"),
        pytest.param("-1s", None, id="negative"),
        pytest.param("soon", None, id="words"),
        pytest.param("1e400s", None, id="overflow"),
    ],
)
def test_parse_retry_delay(text: str, seconds: float | None) -> None:
    assert parse_retry_delay_s(text) == (pytest.approx(seconds) if seconds is not None else None)


def test_errors_never_carry_the_key() -> None:
    names = [str(p.values[0]) for p in ERROR_CASES]
    errors = [error_from_response(int(n[6:9]), {}, fixture_bytes(n)) for n in names]

    for error in errors:
        assert KEY not in str(error) and KEY not in repr(error)


# --- streaming -----------------------------------------------------------------------------


def _decode_all(chunks: list[bytes]) -> list[dict[str, Any]]:
    decoder = SseDecoder()
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.flush()


def test_sse_fixture_decodes_to_three_events() -> None:
    events = _decode_all([fixture_bytes("stream_alt_sse.txt")])

    assert len(events) == 3
    assert {e["responseId"] for e in events} == {"x1b0aOy9Bsm8vdIPx6bJmQ0"}


@settings(database=None, max_examples=150)
@given(cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=30))
def test_sse_decoding_ignores_how_the_body_is_split(cuts: list[int]) -> None:
    body = (FIXTURES / "stream_alt_sse.txt").read_bytes()
    points = sorted({c % (len(body) + 1) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]

    assert _decode_all(chunks) == _decode_all([body])


def test_sse_with_bare_newlines_and_a_missing_final_blank_line() -> None:
    body = fixture_bytes("stream_alt_sse.txt")
    bare = body.replace(b"\r\n", b"\n").rstrip(b"\n")

    assert _decode_all([bare]) == _decode_all([body])


def test_sse_ignores_comments_other_fields_and_done() -> None:
    body = b': keep-alive\r\nevent: message\r\nid: 1\r\ndata: {"a": 1}\r\n\r\ndata: [DONE]\r\n\r\n'

    assert _decode_all([body]) == [{"a": 1}]


def test_sse_joins_multi_line_data() -> None:
    assert _decode_all([b'data: {"a":\ndata: 2}\n\n']) == [{"a": 2}]


def test_sse_error_event_raises_mapped_error_after_earlier_events() -> None:
    body = fixture_bytes("stream_alt_sse.txt").split(b"\r\n\r\n")[0] + b"\r\n\r\n"
    error = json.loads(fixture_bytes("error_503_overloaded.json"))
    decoder = SseDecoder()

    with pytest.raises(OverloadedError) as caught:
        decoder.feed(body + b"data: " + json.dumps(error).encode() + b"\r\n\r\n")

    assert caught.value.status == 503
    assert len(decoder.received) == 1


def test_sse_bad_event_is_malformed() -> None:
    with pytest.raises(MalformedAnswerError, match="not JSON"):
        SseDecoder().feed(b"data: {oops\n\n")


def test_chunks_carry_text_cumulative_tokens_and_finish() -> None:
    chunks = [chunk_from_event(e) for e in _decode_all([fixture_bytes("stream_alt_sse.txt")])]

    assert "".join(c.text for c in chunks) == (
        "Garlic chicken fried rice: cook the rice, brown the chicken with garlic, "
        "then fry everything with soy sauce."
    )
    assert [c.tokens for c in chunks] == [None, None, 24]
    assert [c.finish_reason for c in chunks] == [None, None, "STOP"]


def test_prose_stream_is_malformed_as_recipes() -> None:
    events = _decode_all([fixture_bytes("stream_alt_sse.txt")])

    with pytest.raises(MalformedAnswerError, match="not JSON"):
        answer_from_chunks(events)


def _stream_event(text: str, finish: str | None, tokens: int | None) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": [{"text": text}], "role": "model"}}
    if finish:
        candidate["finishReason"] = finish
    usage: dict[str, Any] = {"promptTokenCount": 40}
    if tokens is not None:
        usage["candidatesTokenCount"] = tokens
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": "gemini-2.5-flash"}


def test_answer_from_json_stream_joins_text_and_takes_last_usage() -> None:
    thirds = [RECIPE_JSON[:10], RECIPE_JSON[10:50], RECIPE_JSON[50:]]
    events = [
        _stream_event(thirds[0], None, 3),
        _stream_event(thirds[1], None, 20),
        _stream_event(thirds[2], "STOP", 61),
    ]

    answer = answer_from_chunks(events)

    assert [r.title for r in answer.recipes] == ["Egg Fried Rice"]
    assert (answer.prompt_tokens, answer.output_tokens) == (40, 61)
    assert answer.finish_reason == "STOP"
    assert answer.model_version == "gemini-2.5-flash"


@pytest.mark.parametrize(
    ("events", "error"),
    [
        pytest.param([], MalformedAnswerError, id="no-events"),
        pytest.param([_stream_event("", "SAFETY", None)], BlockedAnswerError, id="safety"),
        pytest.param(
            [{"promptFeedback": {"blockReason": "OTHER"}}], BlockedAnswerError, id="prompt-block"
        ),
        pytest.param(
            [_stream_event(RECIPE_JSON[:30], "MAX_TOKENS", 8)], MalformedAnswerError, id="cut"
        ),
    ],
)
def test_unusable_streams(events: list[dict[str, Any]], error: type[Exception]) -> None:
    with pytest.raises(error):
        answer_from_chunks(events)
