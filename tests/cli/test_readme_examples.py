"""Every ``compare``, ``run`` and ``sweep`` example of the README runs, scaled down, and
what it prints is sensible: no efficiency above 1.02, no speed claim without real answers,
no claim above what the bound allows, open loop described by rates.

The commands are read from README.md itself, so an example added there is tested here.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
# Not run here: the real Gemini API is out of reach of tests (tests/harness/test_real_target.py
# covers that target against recorded answers).
SKIPPED = ("--target gemini",)
SCENARIO_SETS = {
    "seed-claims": ["workload.users=[2,4]", "mock.latency=0.05"],
    "outage": ["workload.duration_s=3", "mock.latency=0.02", 'mock.schedule=["outage:1-2:503"]',
               "resilience.breaker.open_s=0.5"],
    "ci": ["workload.users=3", "mock.latency=0.05"],
}  # fmt: skip
SCALE = {  # flag → scaled value (a function of the README's value)
    "--users": lambda v: "1,2,4" if "," in v else str(min(int(v), 4)),
    "--requests-per-user": lambda v: str(min(int(v), 2)),
    "--latency": lambda v: "0.05",
    "--latency-dist": lambda v: re.sub(r"median=[\d.]+", "median=0.05", v),
    "--tokens-per-s": lambda v: "2000",
    "--duration": lambda v: "1.5",
    "--rate": lambda v: str(min(float(v), 20.0)),
    "--schedule": lambda v: re.sub(r"outage:[\d.]+-[\d.]+", "outage:0.3-0.8", v),
    "--breaker-open-s": lambda v: "0.3",
}


def readme_commands(prefix: str) -> Iterator[list[str]]:
    """Shell lines of the README's ``sh`` blocks that start with ``prefix`` (comments cut)."""
    blocks = re.findall(r"```sh\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    for block in blocks:
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                words = words[1:]  # VAR=value prefixes
            if " ".join(words).startswith(prefix):
                yield words[len(prefix.split()) :]


def _scaled(argv: list[str]) -> list[str]:
    out, i = [], 0
    while i < len(argv):
        flag = argv[i]
        if flag in SCALE and i + 1 < len(argv):
            out += [flag, SCALE[flag](argv[i + 1])]
            i += 2
            continue
        out.append(flag)
        i += 1
    command = out[0]
    unset = not {"--latency", "--latency-dist", "--base-url"} & set(out)
    if command == "load":
        out += ["--requests-per-user", "2"] if "--rate" not in out else []
    if command in ("compare", "sweep", "load") and unset:
        out += ["--latency", "0.05"]  # the embedded mock's 1 s default, scaled
    if command == "run":
        name = Path(out[1]).stem
        out += [arg for item in SCENARIO_SETS.get(name, []) for arg in ("--set", item)]
    return out


EXAMPLES = [
    pytest.param(argv, id=" ".join(argv)[:80])
    for argv in readme_commands("python -m harness")
    if argv
    and argv[0] in ("compare", "run", "sweep", "load")
    and not any(skip in " ".join(argv) for skip in SKIPPED)
]


def test_the_readme_has_examples_of_each_command() -> None:
    commands = {argv[0] for argv in (p.values[0] for p in EXAMPLES)}
    assert commands == {"compare", "run", "sweep", "load"}
    assert len(EXAMPLES) >= 12


@pytest.fixture(scope="module")
def readme_mock() -> Iterator[str]:
    """The README's own ``python -m mock_gemini --port 8080 …`` line, scaled, on port 0,
    met during its outage (the README's ``outage:30-60:503`` window, made to cover the test):
    the case where every design got only fallbacks and the verdict once claimed 62.8×."""
    (argv,) = [a for a in readme_commands("python -m mock_gemini") if "--port" in a][:1]
    scaled = _scaled(["mock", *argv])[1:]
    scaled[scaled.index("--port") + 1] = "0"
    scaled[scaled.index("--schedule") + 1] = "outage:0-600:503"
    proc = subprocess.Popen(
        [sys.executable, "-m", "mock_gemini", "--host", "127.0.0.1", *scaled],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        yield url.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _sensible(document: dict[str, Any]) -> None:
    runs = document["runs"]
    open_loop = bool(document["config"].get("open_loop"))
    for run in runs:
        summary = run["summary"]
        assert summary["invariant_ok"], run["mode"]
        efficiency = summary.get("efficiency")
        assert efficiency is None or efficiency <= 1.02, (run["mode"], efficiency)
        if open_loop:
            assert summary["bound_s"] is None and summary["efficiency"] is None
            assert summary["offered_rps"] > 0
    for verdict in document["verdicts"]:
        ranking = verdict["ranking"]
        shares = [r["ok_share"] for r in ranking if r["ok_share"] is not None]
        if shares and min(shares) < 0.95:
            assert not verdict["comparable"]
            assert "faster" not in verdict["text"] and "slower" not in verdict["text"]
            assert "not comparable" in verdict["text"]
        if open_loop:
            assert "users" not in verdict["text"] and "faster" not in verdict["text"]
        if verdict["comparable"] and not open_loop:
            assert verdict["reference"] in {r["mode"] for r in ranking}


@pytest.mark.parametrize("argv", EXAMPLES)
def test_readme_example_is_sensible(
    argv: list[str], tmp_path: Path, readme_mock: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scaled = [readme_mock if a == "http://127.0.0.1:8080" else a for a in _scaled(argv)]
    out = tmp_path / "run"
    extra = ["--calibration", "off"] if scaled[0] in ("compare", "sweep") else []
    code = main([*scaled, "--out", str(out), "--no-report", "--no-progress", *extra])
    printed = capsys.readouterr().out
    assert code == 0
    document = json.loads((out / "results.json").read_text())
    _sensible(document)
    if scaled[0] == "load":
        assert document["diagnosis"]["design"] in ("serialised", "capped", "follows-load")
        return
    if readme_mock in scaled:  # every answer a 503 → fallbacks only: no speed claim
        assert not document["verdict"]["comparable"]
        assert "not comparable" in document["verdict"]["text"]
    if "--json" in scaled:
        assert json.loads(printed)["verdict"]["text"] == document["verdict"]["text"]
    else:
        assert f"verdict: {document['verdict']['text']}" in printed
