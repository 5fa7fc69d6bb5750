"""Keys never leave: not in output, results, summary, report or error lines, however given."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.logs import redact_url, url_secrets
from harness.run.embedded import EmbeddedMock

ROOT = Path(__file__).resolve().parents[2]
PASSWORD, QUERY_KEY, TOKEN = "pw-not-for-eyes", "qk-not-for-eyes", "tk-not-for-eyes"


@pytest.mark.parametrize(
    ("url", "secrets", "redacted"),
    [
        pytest.param(f"https://me:{PASSWORD}@h/", [PASSWORD], "https://me:***@h/", id="userinfo"),
        pytest.param(f"https://{TOKEN}@h/", [TOKEN], "https://***@h/", id="token-as-user"),
        pytest.param(f"http://h/v1?key={QUERY_KEY}&x=1", [QUERY_KEY], "http://h/v1?key=***&x=1",
                     id="key-param"),
        pytest.param("http://127.0.0.1:8080", [], "http://127.0.0.1:8080", id="clean"),
    ],
)  # fmt: skip
def test_url_secrets_are_found_and_redacted(url: str, secrets: list[str], redacted: str) -> None:
    assert url_secrets(url) == secrets
    assert redact_url(url) == redacted


@pytest.fixture(scope="module")
def mock_port() -> Iterator[int]:
    with EmbeddedMock({"latency": 0.01}) as mock:
        yield int(mock.url.rsplit(":", 1)[1])


def _harness(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness", *argv], capture_output=True, text=True, timeout=120,
        cwd=ROOT,
    )  # fmt: skip


def test_a_key_inside_base_url_reaches_no_output(mock_port: int, tmp_path: Path) -> None:
    url = f"http://me:{PASSWORD}@127.0.0.1:{mock_port}"
    out = tmp_path / "run"
    done = _harness("compare", "--base-url", url, "--users", "2", "--modes", "sequential,async",
                    "--out", str(out), "--calibration", "off", "-v")  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = "".join(p.read_text(errors="replace") for p in out.iterdir() if p.suffix != ".png")
    for text in (done.stdout, done.stderr, written):
        assert PASSWORD not in text
    assert "me:***@127.0.0.1" in (out / "results.json").read_text()
    assert (out / "report.html").is_file() and (out / "summary.md").is_file()


def test_a_bad_url_error_line_hides_its_key() -> None:
    done = _harness("compare", "--base-url", f"ftp://h/?key={QUERY_KEY}", "--users", "1")
    assert done.returncode == 2
    assert QUERY_KEY not in done.stderr and "key=***" in done.stderr


def test_set_never_echoes_a_key_value() -> None:
    done = _harness("run", "scenarios/ci.toml", "--set", f"target.api_key={TOKEN}")
    assert done.returncode == 2
    assert TOKEN not in done.stderr and "<hidden>" in done.stderr
