"""The rooms of ``harness/`` and the one-way arrows between them (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROTOCOLS = ("gemini", "openai")  # the sans-IO protocol rooms, side by side
# room → rooms it may import from (besides itself); the bottom rooms import no room
ALLOWED = {
    "cli": {"run", "service", "generators", "resilience", *PROTOCOLS, "measure", "base", "reports"},
    "service": {"run", "generators", "resilience", *PROTOCOLS, "measure", "base"},
    "run": {"generators", "resilience", *PROTOCOLS, "measure", "base"},
    "generators": {"resilience", *PROTOCOLS, "measure", "base"},
    "resilience": {"measure", "base"},
    "gemini": {"base"},
    # the second protocol shares gemini's Target, HttpRequest, answer type and recipe parsing
    "openai": {"gemini", "base"},
    "measure": {"base"},
    "base": {"base"},
}
BASE_MODULES = {"errors", "recipes", "logs", "__init__", "__main__"}


def _room(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] == "reports":
        return "reports"
    if parts[0] != "harness":
        return None
    if len(parts) > 1 and parts[1] == "__main__":
        return "cli"
    if len(parts) == 1 or parts[1] in BASE_MODULES:
        return "base"
    return parts[1]


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _module_of(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def test_no_module_left_at_the_top_of_harness_that_belongs_to_a_room() -> None:
    top = {p.stem for p in (ROOT / "harness").glob("*.py")}
    assert top <= BASE_MODULES


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, id=str(p.relative_to(ROOT))) for p in sorted(ROOT.glob("harness/**/*.py"))],
)
def test_imports_run_one_way(path: Path) -> None:
    room = _room(_module_of(path))
    assert room is not None
    for name in _imports(path):
        target = _room(name)
        if target is None or target == room:
            continue
        assert target in ALLOWED[room], f"{_module_of(path)} ({room}) imports {name} ({target})"


@pytest.mark.parametrize("package", ["mock_gemini", "reports"])
def test_lower_packages_import_nothing_from_harness(package: str) -> None:
    for path in sorted((ROOT / package).glob("**/*.py")):
        forbidden = {"harness"} | ({"reports"} if package == "mock_gemini" else set())
        for name in _imports(path):
            assert name.split(".")[0] not in forbidden, f"{path} imports {name}"


def test_locust_is_imported_only_by_locustfiles() -> None:
    for package in ("harness", "mock_gemini", "reports"):
        for path in (ROOT / package).glob("**/*.py"):
            assert not any(n.split(".")[0] == "locust" for n in _imports(path)), path


HEAVY = ("aiohttp", "numpy", "matplotlib", "requests", "google.genai", "fastapi", "uvicorn",
         "rich", "psutil", "orjson", "reports")  # fmt: skip


@pytest.mark.parametrize(
    "command",
    [
        "compare",
        "run",
        "sweep",
        "load",
        "report",
        "regress",
        "serve",
        "calibrate",
        "bench-self",
        None,
    ],
)
def test_help_imports_nothing_heavy(command: str | None) -> None:
    """``--help`` of any sub-command parses without the libraries a run needs."""
    argv = [command, "--help"] if command else ["--help"]
    code = (
        "import sys\nfrom harness.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT
    )
    assert "HEAVY []" in done.stderr, done.stderr
    assert "usage: python -m harness" in done.stdout
