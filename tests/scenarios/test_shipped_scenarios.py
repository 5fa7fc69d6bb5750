"""Every shipped scenario parses, documents itself, and does what it says at reduced scale.

Each run goes through ``python -m harness run scenarios/NAME.toml --set ...``: the same
file and command a user runs, made small with --set (mock latencies of tens of ms).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from harness.errors import ConfigError
from harness.run.scenario import load_scenario
from harness.run.service_spec import read_service_scenario, spec_from_table

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
SHIPPED = ("seed-claims", "baseline", "outage", "rate-limit", "heavy-tail", "capacity", "ci")


def _run(name: str, tmp_path: Path, sets: Sequence[str]) -> dict[str, Any]:
    out = tmp_path / name
    args = [arg for item in sets for arg in ("--set", item)]
    proc = subprocess.run(
        [sys.executable, "-m", "harness", "run", str(SCENARIOS / f"{name}.toml"), *args,
         "--out", str(out), "--no-report", "--no-progress"],
        capture_output=True, text=True, timeout=100,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads((out / "results.json").read_text())
    assert all(run["summary"]["invariant_ok"] for run in data["runs"])
    return data


def _by_mode(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run["mode"]: run for run in data["runs"]}


def test_every_shipped_scenario_is_here() -> None:
    assert {path.stem for path in SCENARIOS.glob("*.toml")} >= set(SHIPPED)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_each_file_loads_and_its_first_line_is_its_description(path: Path) -> None:
    first_line = path.read_text(encoding="utf-8").splitlines()[0]
    table = read_service_scenario(path) if "[service]" in path.read_text() else None
    if table is not None:  # a service spec: `python -m harness load` reads it
        spec_from_table(table["service"], str(path), path.parent)
        assert first_line == f"# {table['description']}"
        with pytest.raises(ConfigError, match="run it with `python -m harness load"):
            load_scenario(path)
        return
    scenario = load_scenario(path)
    assert scenario.description and first_line == f"# {scenario.description}"


def test_seed_claims_measures_the_seeds_caps(tmp_path: Path) -> None:
    data = _run("seed-claims", tmp_path, ["workload.users=[2,4]", "mock.latency=0.05"])
    caps = {(r["mode"], r["users"]): r["concurrency_cap"] for r in data["runs"]}
    assert caps == {(m, u): c for u in (2, 4) for m, c in
                    (("sequential", 1), ("threaded", 5), ("async", 3))}  # fmt: skip
    async_4 = next(r for r in data["runs"] if (r["mode"], r["users"]) == ("async", 4))
    assert async_4["summary"]["bound_s"] == pytest.approx(2 * 0.05)  # ceil(4/3) · S
    assert data["config"]["resilience"]["retry"]["max_attempts"] == 1  # the seed's policy


def test_baseline_is_healthy_and_repeated(tmp_path: Path) -> None:
    sets = ["workload.users=4", "workload.repetitions=2", "mock.latency=0.05"]
    data = _run("baseline", tmp_path, sets)
    assert len(data["runs"]) == 3 * 2
    for run in data["runs"]:
        counts = run["summary"]["counts"]
        assert counts["ok"] == counts["submitted"] == 8 and run["summary"]["amplification"] == 1


def test_outage_opens_and_closes_every_designs_breaker(tmp_path: Path) -> None:
    # No retries here: a retrying sequential design would spend the short outage in backoff.
    sets = ["workload.rate_rps=20", "workload.duration_s=3.5", "mock.latency=0.05",
            "mock.schedule=outage:1-2:503", "resilience.breaker.open_s=0.4",
            "resilience.retry.max_attempts=1"]  # fmt: skip
    data = _run("outage", tmp_path, sets)
    assert set(_by_mode(data)) == {"sequential", "threaded", "async"}
    for mode, run in _by_mode(data).items():
        moves = [(t["from"], t["to"]) for t in run["breaker_transitions"]]
        assert ("closed", "open") in moves, (mode, moves)
        assert ("open", "half_open") in moves, (mode, moves)
        assert moves[-1] == ("half_open", "closed"), (mode, moves)
        assert run["summary"]["counts"]["fast_fail"] > 0


def test_rate_limit_never_retries_before_the_retry_delay(tmp_path: Path) -> None:
    # 4 requests fit the quota; the other 2 are told to come back in ~60 s, beyond the
    # 5 s deadline, so the policy gives up at once instead of retrying early.
    sets = ["mock.rpm=4", "workload.users=3", "workload.requests_per_user=2",
            "mock.latency=0.01", "resilience.deadline_s=5"]  # fmt: skip
    data = _run("rate-limit", tmp_path, sets)
    for mode, run in _by_mode(data).items():
        limited = [r for r in run["records"] if r["status"] == 429]
        assert len(limited) == 2, mode
        assert all(r["error"] == "RateLimitedError" and r["attempts"] == 1 for r in limited)
        assert all(r["outcome"] == "fallback" and r["retry_wait_s"] == 0 for r in limited)
        assert run["summary"]["counts"]["ok"] == 4 and run["summary"]["amplification"] == 1


def test_heavy_tail_has_a_tail(tmp_path: Path) -> None:
    sets = ["workload.users=4", "workload.requests_per_user=5",
            'mock.latency_dist="pareto:scale=0.02,alpha=1.5"']  # fmt: skip
    data = _run("heavy-tail", tmp_path, sets)
    assert data["config"]["mock"]["latency"] == "pareto:scale=0.02,alpha=1.5"
    for mode, run in _by_mode(data).items():
        latency = run["summary"]["latency_s"]
        assert latency["max"] > 3 * latency["p50"], (mode, latency)


def test_capacity_rejects_the_overflow_of_the_concurrent_designs(tmp_path: Path) -> None:
    sets = ["workload.users=6", "workload.requests_per_user=2", "mock.latency=0.05",
            "mock.max_concurrency=2", "mock.max_queue=1"]  # fmt: skip
    runs = _by_mode(_run("capacity", tmp_path, sets))
    assert runs["sequential"]["summary"]["amplification"] == 1  # one at a time: never rejected
    for mode in ("threaded", "async"):
        assert runs[mode]["summary"]["amplification"] > 1, mode
        statuses = {r["status"] for r in runs[mode]["records"]}
        assert 200 in statuses, mode


def test_ci_runs_three_designs(tmp_path: Path) -> None:
    data = _run("ci", tmp_path, ["workload.repetitions=1", "mock.latency=0.05"])
    assert [r["mode"] for r in data["runs"]] == ["sequential", "threaded", "async"]
    assert all(r["summary"]["counts"]["ok"] == 20 for r in data["runs"])
