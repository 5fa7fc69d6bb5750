"""``harness report A B`` writes a new stamped directory and leaves its sources alone."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from harness.cli import main
from harness.cli.reports import report_dir


def _digest(directory: Path) -> dict[str, str]:
    """Every file under ``directory`` (names and bytes), to tell whether it changed."""
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files
    }


def test_report_of_two_runs_writes_a_stamped_directory_and_leaves_a_unchanged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    quick = ["--users", "2", "--calibration", "off", "--no-progress", "--no-report"]
    assert main(["compare", *quick, "--latency", "0.05", "--out", "a"]) == 0
    assert main(["compare", *quick, "--latency", "0.08", "--out", "b"]) == 0
    before = _digest(tmp_path / "a")
    capsys.readouterr()
    assert main(["report", "a", "b"]) == 0
    printed = capsys.readouterr().out
    assert _digest(tmp_path / "a") == before
    made = [p.name for p in (tmp_path / "runs").iterdir()]
    assert len(made) == 1 and re.fullmatch(r"\d{8}T\d{6}Z-report", made[0]), made
    page = tmp_path / "runs" / made[0] / "report.html"
    assert page.is_file() and (page.parent / "summary.md").is_file()
    assert printed.rstrip().endswith(f"report: {Path('runs') / made[0] / 'report.html'}")


@pytest.mark.parametrize(
    ("out", "sources", "expected"),
    [
        pytest.param("x", 1, "x", id="out-one-source"),
        pytest.param("x", 2, "x", id="out-two-sources"),
        pytest.param(None, 1, None, id="one-source-prints-only"),
    ],
)
def test_report_dir_follows_out_and_the_number_of_sources(
    out: str | None, sources: int, expected: str | None
) -> None:
    found = report_dir(out, sources)
    assert found == (None if expected is None else Path(expected))


def test_a_second_report_in_the_same_second_gets_its_own_directory(tmp_path: Path) -> None:
    first = report_dir(None, 2, tmp_path)
    assert first is not None
    first.mkdir()
    second = report_dir(None, 2, tmp_path)
    assert second is not None and second != first and not second.exists()


def test_a_bad_source_leaves_no_empty_report_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "results.json").write_text("{}")
    assert main(["report", "bad", "bad"]) == 2
    assert not (tmp_path / "runs").exists()
