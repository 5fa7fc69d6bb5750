"""benchmarks/bench_instructions.py: its measured clients run, and it reads callgrind's total.

The valgrind runs themselves take minutes; here each client runs plain against a real
mock, and the orchestration runs against a stand-in ``valgrind`` that prints a total.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from harness.run.embedded import EmbeddedMock

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_instructions.py"


def _module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_instructions", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def mock_url() -> Iterator[str]:
    with EmbeddedMock({"latency": 0.0}) as mock:
        yield mock.url


@pytest.mark.parametrize("client", ["bare-aiohttp", "async"])
def test_each_measured_client_completes_its_requests(mock_url: str, client: str) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--client", client, "--url", mock_url, "--requests", "128"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_instructions_per_request_from_two_runs(
    tmp_path: Path, mock_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "valgrind"  # prints a total that grows by 1,000 per request
    fake.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do case $prev in --requests) n=$a;; esac; prev=$a; done\n'
        'echo "==1== Collected : $((5000000 + n * 1000))" >&2\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    module = _module()
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    low = module.instructions("async", mock_url, 64, tmp_path)
    high = module.instructions("async", mock_url, 1088, tmp_path)
    assert (high - low) / (1088 - 64) == 1000
