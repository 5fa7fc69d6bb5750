"""Where a command writes: checked before the work starts, written whole or not at all.

    out_dir = writable_dir(Path("runs/x"), "--out")       # ConfigError now, not after the run
    writable_file(Path("gate.md"), "--summary")
    write_atomic(Path("gate.md"), text, "--summary")       # never a half-written file

A failure is one :class:`~harness.errors.ConfigError` line naming the flag, the path and
the reason (exit 2).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from harness.errors import ConfigError


def writable_dir(path: Path, flag: str) -> Path:
    """Create ``path`` (and parents) if needed and prove a file can be written in it."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(f"{flag} {path}: cannot write there: {exc.strerror or exc}") from None
    return path


def writable_file(path: Path, flag: str) -> Path:
    """``path`` can be (re)placed: not a directory, in a directory we can write to."""
    if path.is_dir():
        raise ConfigError(f"{flag} {path}: is a directory; expected a file name")
    writable_dir(path.parent if str(path.parent) else Path("."), flag)
    return path


def write_atomic(path: Path, text: str, flag: str) -> Path:
    """Write ``text`` beside ``path`` and rename it over: readers never see half a file."""
    temporary = None
    try:
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.", delete=False
        ) as handle:
            temporary = Path(handle.name)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise ConfigError(f"{flag} {path}: cannot write: {exc.strerror or exc}") from None
    return path
