"""``--api openai`` end to end: compare against the embedded mock and against a running
OpenAI-compatible server, a scenario's ``target.api``, and ``--target gemini --api openai``
against aioresponses standing in for Gemini's compatible endpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yarl
from aioresponses import aioresponses

from harness.cli import main
from harness.gemini import GEMINI_BASE_URL
from harness.generators.base import Workload
from harness.resilience.config import preset
from harness.run.design import run_mode
from harness.run.embedded import EmbeddedMock
from harness.run.plan import CompareSpec
from harness.run.targets import TargetSpec, open_target

QUICK = ["--latency", "0.02", "--calibration", "off", "--no-progress", "--no-report"]
KEY = "fake-real-target-key-000000000000000"
COMPAT_URL = f"{GEMINI_BASE_URL}/v1beta/openai/chat/completions"


def _document(out: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((out / "results.json").read_text())


def test_compare_with_the_embedded_mock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    argv = ["compare", "--api", "openai", "--users", "3", "--stream", *QUICK, "--out", str(out)]
    assert main(argv) == 0
    assert "verdict: " in capsys.readouterr().out
    document = _document(out)
    assert document["config"]["target"]["api"] == "openai"
    assert document["config"]["target"]["base_url"].endswith("/v1beta/openai")
    for run in document["runs"]:
        assert run["summary"]["counts"]["ok"] == 3, run["mode"]
        assert run["summary"]["ttft_s"]["p50"] > 0


def test_compare_against_any_openai_compatible_base_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    with EmbeddedMock({"latency": 0.02}) as mock:
        argv = ["compare", "--api", "openai", "--base-url", f"{mock.url}/v1",
                "--model", "gemini-2.5-flash-lite", "--users", "2", "--modes", "async,sdk",
                *QUICK, "--out", str(out)]  # fmt: skip
        assert main(argv) == 0
    capsys.readouterr()
    document = _document(out)
    target = document["config"]["target"]
    assert (target["kind"], target["api"]) == ("base-url", "openai")
    assert {run["mode"]: run["summary"]["counts"]["ok"] for run in document["runs"]} == {
        "async": 2,
        "sdk": 2,
    }


def test_a_scenario_file_sets_target_api(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        '[workload]\nusers = 2\n[designs]\nmodes = ["async"]\n'
        '[target]\nkind = "mock"\napi = "openai"\n[mock]\nlatency = 0.02\n'
        '[output]\nreport = false\ncalibration = "off"\n'
    )
    out = tmp_path / "run"
    assert main(["run", str(scenario), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    document = _document(out)
    assert document["config"]["target"]["api"] == "openai"
    assert document["runs"][0]["summary"]["counts"]["ok"] == 2


def _completion() -> str:
    recipes = [{"title": "Egg rice", "cuisine": "Asian", "ingredients": ["egg", "rice"],
                "steps": ["cook"], "prep_time_minutes": 5, "cook_time_minutes": 5,
                "servings": 1}]  # fmt: skip
    return json.dumps({
        "object": "chat.completion", "model": "gemini-2.5-flash",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": json.dumps(recipes)}}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 34, "total_tokens": 46},
    })  # fmt: skip


def _run_async(users: int, resilience: str = "none") -> list:  # type: ignore[type-arg]
    spec = TargetSpec("gemini", api="openai")
    with open_target(spec, env={"GEMINI_API_KEY": KEY}) as target:
        compare = CompareSpec(("async",), (users,), resilience=preset(resilience))
        return run_mode("async", target, Workload(users), users, compare).records


def test_target_gemini_api_openai_uses_the_compatible_endpoint_with_a_bearer_key() -> None:
    with aioresponses() as mocked:
        mocked.post(COMPAT_URL, status=200, body=_completion(), content_type="application/json")
        (record,) = _run_async(1)
        (call,) = mocked.requests[("POST", yarl.URL(COMPAT_URL))]
    assert (record.outcome, record.prompt_tokens, record.output_tokens) == ("ok", 12, 34)
    assert call.kwargs["headers"]["Authorization"] == f"Bearer {KEY}"
    body = json.loads(call.kwargs["data"])
    assert body["model"] == "gemini-2.5-flash" and body["response_format"]["type"] == "json_schema"


def test_an_openai_429_with_retry_after_is_waited_out_then_retried() -> None:
    error = {"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}}
    with aioresponses() as mocked:
        mocked.post(COMPAT_URL, status=429, body=json.dumps(error),
                    headers={"Retry-After": "0.2"}, content_type="application/json")  # fmt: skip
        mocked.post(COMPAT_URL, status=200, body=_completion(), content_type="application/json")
        (record,) = _run_async(1, resilience="default")
    assert (record.outcome, record.attempts) == ("ok", 2)
    assert record.retry_wait_s >= 0.2
    assert KEY not in json.dumps(record.to_dict())
