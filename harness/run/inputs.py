"""Reading the files a user gives (scenario files): bounded, checked, one-line errors.

    table = read_toml(Path("scenarios/ci.toml"))     # dict, or ConfigError naming the file

One implementation with the mock's own config files (:mod:`mock_gemini.tomlfile`): a
regular UTF-8 file of at most 1 MiB, valid TOML, nested at most 16 deep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.errors import ConfigError
from mock_gemini import tomlfile
from mock_gemini.config_error import MockConfigError


def read_text_file(path: Path) -> str:
    """A regular UTF-8 file of at most 1 MiB, as text; ConfigError naming it otherwise."""
    try:
        return tomlfile.read_text(path)
    except MockConfigError as exc:
        raise ConfigError(str(exc)) from None


def read_toml(path: Path) -> dict[str, Any]:
    """The file as a dict; every problem is a ConfigError naming the file."""
    try:
        return tomlfile.read_toml(path)
    except MockConfigError as exc:
        raise ConfigError(str(exc)) from None
