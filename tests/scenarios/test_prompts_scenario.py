"""The shipped data-workload scenario: scenarios/prompts.toml with scenarios/prompts.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.cli import main
from harness.run.scenario import load_scenario
from harness.run.workload import read_prompts

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_prompts_scenario_sends_the_file_and_checks_its_thresholds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "run"
    sets = ["workload.users=2", "mock.latency=0.01", "mock.tokens_per_s=50000",
            "output.calibration=off"]  # fmt: skip
    argv = ["run", str(SCENARIOS / "prompts.toml"), *[a for s in sets for a in ("--set", s)]]
    assert main([*argv, "--no-report", "--no-progress", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "✓ ok_share>=99%" in printed and "✗" not in printed
    document = json.loads((out / "results.json").read_text())
    assert document["config"]["workload"]["data"]["prompts"] == 8
    prompts = read_prompts(SCENARIOS / "prompts.jsonl")
    for run in document["runs"]:
        for record in run["records"]:
            asked = prompts[record["request_id"] % len(prompts)].max_output_tokens
            assert record["outcome"] == "ok"
            if asked is not None:  # the mock ran the answer to the length the row asked
                assert record["output_tokens"] == asked


def test_prompts_scenario_paths_are_relative_to_the_file() -> None:
    scenario = load_scenario(SCENARIOS / "prompts.toml")
    assert scenario.spec.workload is not None
    assert scenario.spec.workload.source == str(SCENARIOS / "prompts.jsonl")
    assert scenario.thresholds == ("ok_share>=99%", "latency_p99<=3s")
