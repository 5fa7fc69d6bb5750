"""Outputs are checked before the work and written whole: one line, exit 2, nothing half-written."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.measure.files import writable_dir, writable_file, write_atomic

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "reports" / "baselines" / "ci.json"


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("x")
    return path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param("compare --out {file}", "exists and is not a directory", id="out-is-a-file"),
        pytest.param("compare --out {file}/run", "cannot write there", id="out-under-a-file"),
        pytest.param("run scenarios/ci.toml --out {file}", "exists and is not a directory",
                     id="run-out-is-a-file"),
        pytest.param(f"regress --baseline {BASELINE} --current {BASELINE} --summary {{dir}}",
                     "is a directory", id="summary-is-a-directory"),
        pytest.param("calibrate --save {dir}", "is a directory", id="calibrate-save"),
        pytest.param("bench-self --out {dir} --no-locust", "is a directory", id="bench-out"),
        pytest.param("report {dir} --out {file}", "exists and is not a directory",
                     id="report-out"),
    ],
)  # fmt: skip
def test_an_unwritable_output_fails_before_the_work(
    argv: str, message: str, a_file: Path, tmp_path: Path
) -> None:
    words = argv.format(file=a_file, dir=tmp_path).split()
    # A run, a calibration or a self-benchmark takes many seconds: failing within the
    # timeout means nothing was measured first.
    done = subprocess.run(
        [sys.executable, "-m", "harness", *words], capture_output=True, text=True, timeout=12,
        cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_write_atomic_keeps_the_old_file_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "summary.md"
    path.write_text("old")

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(ConfigError, match=r"--summary .*: cannot write: No space left on device"):
        write_atomic(path, "new", "--summary")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.md"]  # no temp left


def test_checks_create_nothing_but_the_directory(tmp_path: Path) -> None:
    out = writable_dir(tmp_path / "a" / "b", "--out")
    assert out.is_dir() and not list(out.iterdir())
    assert writable_file(tmp_path / "x.json", "--save") == tmp_path / "x.json"
    assert not (tmp_path / "x.json").exists()


def test_a_new_run_never_lands_on_an_old_one(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text("{}")
    (tmp_path / "report.html").write_text("the old run's report")
    done = subprocess.run(
        [sys.executable, "-m", "harness", "compare", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2 and "already holds a run" in done.stderr
    assert (tmp_path / "results.json").read_text() == "{}"
