"""The real-API target, with aioresponses standing in for generativelanguage.googleapis.com."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aioresponses import aioresponses

from harness.gemini import GEMINI_BASE_URL
from harness.generators.base import Workload
from harness.resilience.config import preset
from harness.run.design import run_mode
from harness.run.plan import CompareSpec
from harness.run.targets import TargetSpec, api_key_from_env, open_target

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "gemini"
KEY = "fake-real-target-key-000000000000000"
URL = f"{GEMINI_BASE_URL}/v1beta/models/gemini-2.5-flash:generateContent"


def _fixture(name: str) -> str:
    return (FIXTURES / name).read_text()  # a missing fixture fails the test


def _run_async(users: int) -> list:  # type: ignore[type-arg]
    with open_target(TargetSpec("gemini"), env={"GEMINI_API_KEY": KEY}) as target:
        spec = CompareSpec(("async",), (users,), resilience=preset("none"))
        return run_mode("async", target, Workload(users), users, spec).records


def test_sends_the_right_url_headers_and_body_and_parses_the_answer() -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=200, body=_fixture("generate_content.json"),
                    content_type="application/json")  # fmt: skip
        records = _run_async(1)
        (call,) = mocked.requests[("POST", __import__("yarl").URL(URL))]
    assert records[0].outcome == "ok"
    assert (records[0].prompt_tokens, records[0].output_tokens) == (86, 92)
    headers = call.kwargs["headers"]
    assert headers["x-goog-api-key"] == KEY
    assert headers["Content-Type"] == "application/json"
    body = json.loads(call.kwargs["data"])
    assert "chicken" in body["contents"][0]["parts"][0]["text"]
    config = body["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["responseSchema"]["type"] == "ARRAY"


def test_a_real_429_is_mapped_and_the_key_stays_out_of_the_record() -> None:
    with aioresponses() as mocked:
        mocked.post(URL, status=429, body=_fixture("error_429_quota.json"),
                    content_type="application/json")  # fmt: skip
        (record,) = _run_async(1)
    assert (record.outcome, record.error, record.status) == ("failed", "RateLimitedError", 429)
    assert KEY not in json.dumps(record.to_dict())


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({"GEMINI_API_KEY": "g"}, "g", id="gemini"),
        pytest.param({"GOOGLE_API_KEY": "o", "GEMINI_API_KEY": "g"}, "o", id="google-wins"),
    ],
)
def test_key_from_environment(env: dict[str, str], expected: str) -> None:
    assert api_key_from_env(env) == expected
