"""Workloads from data: prompt files and token shapes drive a run; the mock sees them.

A mock on 127.0.0.1 (port 0) logs the prompts it receives (``GET /_mock/prompts``);
``--fill-max-tokens`` makes its plain-text answers run to each request's maxOutputTokens.
"""

from __future__ import annotations

import json
import statistics
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.run.embedded import EmbeddedMock
from harness.run.workload import parse_tokens, workload_spec

QUICK = ["--calibration", "off", "--no-progress", "--no-report"]
PROMPTS = ["Say hello to the first user.", "Describe a red bicycle.", "Name three rivers."]


def _received(url: str) -> list[str]:
    with urllib.request.urlopen(f"{url}/_mock/prompts", timeout=10) as answer:
        prompts: list[str] = json.load(answer)["prompts"]
    return prompts


def _records(out: Path) -> list[dict[str, Any]]:
    document = json.loads((out / "results.json").read_text())
    return [record for run in document["runs"] for record in run["records"]]


def _run_against_mock(argv: list[str], tmp_path: Path) -> tuple[list[str], Path]:
    out = tmp_path / "run"
    with EmbeddedMock({"latency": 0.01}) as mock:
        assert main([*argv, *QUICK, "--base-url", mock.url, "--out", str(out)]) == 0
        return _received(mock.url), out


def test_jsonl_prompts_reach_the_mock_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prompts.jsonl"
    lines = [{"text": PROMPTS[0]}, {"text": PROMPTS[1], "max_output_tokens": 12},
             {"contents": [{"role": "user", "parts": [{"text": PROMPTS[2]}]}]}]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    argv = ["compare", "--users", "1", "--requests-per-user", "6", "--modes", "sequential",
            "--prompts", str(path)]  # fmt: skip
    received, out = _run_against_mock(argv, tmp_path)
    assert received == PROMPTS * 2
    records = _records(out)
    assert [r["outcome"] for r in records] == ["ok"] * 6  # text answers, one cut at 12 tokens
    assert [r["output_tokens"] for r in records if r["request_id"] % 3 == 1] == [12, 12]


def test_csv_prompts_by_column_at_random_with_a_seed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "prompts.csv"
    path.write_text("id,question\n" + "".join(f'{i},"{p}"\n' for i, p in enumerate(PROMPTS)))
    argv = ["compare", "--users", "1", "--requests-per-user", "8", "--modes", "sequential",
            "--prompts", str(path), "--prompt-column", "question", "--prompt-order", "random",
            "--prompt-seed", "7"]  # fmt: skip
    received, _ = _run_against_mock(argv, tmp_path)
    spec = workload_spec(prompts_file=str(path), column="question", order="random", seed=7,
                         prompt_tokens=None, output_tokens=None)  # fmt: skip
    assert spec is not None
    assert received == [request.text for request in spec.requests(8)]
    assert set(received) <= set(PROMPTS) and len(set(received)) > 1


def test_a_normal_output_distribution_is_realised(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["compare", "--users", "40", "--requests-per-user", "5", "--modes", "async",
            "--latency", "0.005", "--fill-max-tokens", "--output-tokens", "normal:480,240",
            "--prompt-tokens", "fixed:100", "--prompt-seed", "3", *QUICK,
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    records = sorted(_records(out), key=lambda r: r["request_id"])
    spec = workload_spec(prompts_file=None, column="prompt", order="sequential", seed=3,
                         prompt_tokens="fixed:100", output_tokens="normal:480,240")  # fmt: skip
    assert spec is not None
    asked = [request.max_output_tokens for request in spec.requests(200)]
    assert [r["outcome"] for r in records] == ["ok"] * 200  # MAX_TOKENS is the normal end
    assert [r["output_tokens"] for r in records] == asked  # every length as drawn
    prompt_tokens = {r["prompt_tokens"] for r in records}  # 100 + the mock's per-turn count
    assert len(prompt_tokens) == 1 and 100 <= prompt_tokens.pop() <= 104
    tokens = [r["output_tokens"] for r in records]
    assert statistics.fmean(tokens) == pytest.approx(480, rel=0.10)
    assert statistics.stdev(tokens) == pytest.approx(240, rel=0.15)


def test_the_recipe_workload_still_falls_back_on_max_tokens(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    argv = ["compare", "--users", "2", "--modes", "async", "--latency", "0.01",
            "--max-output-tokens", "10", *QUICK, "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    assert {r["outcome"] for r in _records(out)} == {"fallback"}


@pytest.mark.parametrize(
    ("extra", "names"),
    [
        pytest.param(["--prompts", "missing.jsonl"], "missing.jsonl", id="no-file"),
        pytest.param(["--output-tokens", "normal:480"], "--output-tokens", id="bad-dist"),
        pytest.param(["--prompt-tokens", "uniform:9-3"], "uniform:9-3", id="reversed"),
        pytest.param(
            ["--prompt-order", "shuffled", "--prompt-tokens", "fixed:3"], "shuffled", id="order"
        ),
        pytest.param(["--output-tokens", "fixed:5", "--modes", "sdk"], "sdk", id="sdk"),
    ],
)
def test_bad_workload_flags_are_one_line_exit_2(
    extra: list[str], names: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["compare", "--users", "1", *QUICK, *extra, "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and names in err


def test_bad_prompt_lines_name_the_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text('{"text": "fine"}\n{"text": ""}\n')
    argv = ["compare", "--users", "1", *QUICK, "--prompts", str(path), "--out", str(tmp_path / "r")]
    assert main(argv) == 2
    assert f"{path}:2" in capsys.readouterr().err
    csv_path = tmp_path / "p.csv"
    csv_path.write_text("prompt\nhello\n")
    argv[-3:-2] = [str(csv_path)]
    argv += ["--prompt-column", "question"]
    assert main(argv) == 2
    assert "'question'" in capsys.readouterr().err


def test_token_draws_follow_their_shape() -> None:
    import random

    rng = random.Random(1)
    assert {parse_tokens("fixed:7", "f").draw(rng) for _ in range(5)} == {7}
    draws = [parse_tokens("uniform:3-5", "f").draw(rng) for _ in range(200)]
    assert set(draws) == {3, 4, 5}
    clipped = [parse_tokens("normal:10,50,5,12", "f").draw(rng) for _ in range(200)]
    assert min(clipped) == 5 and max(clipped) == 12
