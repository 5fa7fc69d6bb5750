"""Reading a TOML file a user gives: bounded, checked, one-line errors, never blocking.

    table = read_toml(Path("mock.toml"))     # dict, or MockConfigError naming the file

A file must be a regular file (not a FIFO, a device like ``/dev/zero`` or a directory),
at most :data:`MAX_INPUT_BYTES`, UTF-8, valid TOML and nested at most
:data:`MAX_NESTING` deep; anything else raises :class:`MockConfigError` whose message
starts with the path. The file's kind is checked on a non-blocking descriptor before
anything is read. ``harness`` reads its scenario files through this module too.
"""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path
from typing import Any

from mock_gemini.config_error import MockConfigError

MAX_INPUT_BYTES = 1 << 20  # a scenario or config is a few kB; 1 MiB is generous
MAX_NESTING = 16  # tables and arrays inside one another; shipped files use 3


def read_text(path: Path, max_bytes: int = MAX_INPUT_BYTES) -> str:
    """The file's text: a regular UTF-8 file of at most ``max_bytes`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError as exc:
        raise MockConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise MockConfigError(f"{path}: not a regular file (expected a TOML file)")
        if info.st_size > max_bytes:
            raise MockConfigError(f"{path}: {info.st_size} bytes; at most {max_bytes} are read")
        data = os.read(fd, max_bytes + 1)
    except OSError as exc:
        raise MockConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MockConfigError(
            f"{path}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None


def read_toml(path: Path) -> dict[str, Any]:
    """The file as a dict; every problem is a MockConfigError naming the file."""
    text = read_text(path)
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MockConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise MockConfigError(f"{path}: nested too deep; at most {MAX_NESTING} levels") from None
    depth = nesting(table)
    if depth > MAX_NESTING:
        raise MockConfigError(f"{path}: nested {depth} deep; at most {MAX_NESTING} levels")
    return table


def nesting(value: object) -> int:
    """How deep tables and arrays sit inside one another (a scalar is 0, ``{}`` is 1)."""
    if isinstance(value, dict):
        return 1 + max((nesting(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((nesting(v) for v in value), default=0)
    return 0
