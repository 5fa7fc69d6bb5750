"""Help a user can act on: every flag explained, a description per command, examples, version."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_flag_has_help(command: str) -> None:
    parser = _subparsers()[command]
    missing = [a.option_strings or a.dest for a in parser._actions if not a.help]
    assert not missing, missing


def test_each_command_has_its_own_description() -> None:
    descriptions = [p.description for p in _subparsers().values()]
    assert len(set(descriptions)) == len(descriptions)


def test_compare_help_shows_defaults_and_examples() -> None:
    text = _subparsers()["compare"].format_help()
    assert "(default: 20)" in text  # --users
    assert "examples:" in text and "python -m harness compare --users 20" in text


def test_version() -> None:
    done = subprocess.run([sys.executable, "-m", "harness", "--version"], capture_output=True,
                          text=True, timeout=30, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0 and done.stdout.startswith("python -m harness 0.")
