"""Bad input files and out-of-range flags: one line naming what was wrong, exit 2, at once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _files(tmp: Path) -> dict[str, tuple[Path, str]]:
    latin = tmp / "latin.toml"
    latin.write_bytes(b'description = "caf\xe9"\n')
    deep = tmp / "deep.toml"
    deep.write_text("a = " + "[" * 2000 + "]" * 2000 + "\n")
    fifo = tmp / "fifo.toml"
    os.mkfifo(fifo)
    big = tmp / "big.toml"
    big.write_text("# " + "x" * (2 << 20) + "\n")
    nested = tmp / "nested.toml"
    nested.write_text('description = "x"\n[designs]\nmodes = [["async"]]\n')
    return {
        "not-utf8": (latin, "not UTF-8 (byte 0xe9 at offset 18)"),
        "deep": (deep, "nested too deep"),
        "fifo": (fifo, "not a regular file"),
        "dev-zero": (Path("/dev/zero"), "not a regular file"),
        "directory": (tmp, "not a regular file"),
        "too-big": (big, "at most 1048576 are read"),
        "list-for-a-string": (nested, "designs.modes: expected designs"),
        "missing": (tmp / "nowhere.toml", "cannot read: No such file or directory"),
    }


FILE_CASES = ("not-utf8", "deep", "fifo", "dev-zero", "directory", "too-big", "missing")


@pytest.mark.parametrize(
    ("command", "case"),
    [pytest.param("run", case, id=f"run-{case}") for case in (*FILE_CASES, "list-for-a-string")]
    + [pytest.param("compare --config", case, id=f"mock-config-{case}") for case in FILE_CASES],
)
def test_a_bad_input_file_is_one_line_and_exit_2(
    case: str, command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, message = _files(tmp_path)[case]
    code = main([*command.split(), str(path), "--no-report", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert str(path) in err and message in err, err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param("compare --rate 20 --requests 20 --max-in-flight 100000 --modes threaded",
                     "asks for 100,000 threads", id="threads-open-loop"),
        pytest.param("compare --users 5000 --modes threaded", "asks for 5,000 threads",
                     id="threads-closed-loop"),
        pytest.param("compare --max-output-tokens -1", "--max-output-tokens", id="tokens"),
        pytest.param("compare --modes async,async", "'async' given twice", id="twice"),
        pytest.param("compare --breaker-open-s inf", "open_s", id="open-forever"),
        pytest.param("compare --timeout nan", "attempt_timeout_s", id="nan-timeout"),
        pytest.param("compare --requests-per-user 100000000", "at most 10,000,000",
                     id="too-many-requests"),
        pytest.param("compare --rate 1000 --duration 50000", "about 50,000,000 requests",
                     id="endless-open-loop"),
        pytest.param("calibrate --rate-users 0", "--rate-users", id="calibrate-users"),
        pytest.param("bench-self --locust-seconds nan", "--locust-seconds", id="nan-seconds"),
        pytest.param("bench-self --locust-seconds 0", "--locust-seconds", id="zero-seconds"),
    ],
)  # fmt: skip
def test_out_of_range_flags_fail_before_any_work(argv: str, message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness", *argv.split(), "--no-progress"]
        if argv.startswith("compare") else [sys.executable, "-m", "harness", *argv.split()],
        capture_output=True, text=True, timeout=30, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
