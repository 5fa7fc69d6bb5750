"""Where and from what a run came: machine facts, tool version and git commit.

machine_info()   # {"cpu_count": 2, "python": "3.11.7", "platform": "Linux-…", "hostname": None}
git_commit()     # "abc123…" or None outside a git checkout
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

TOOL_NAME = "llm-loadharness"


def machine_info() -> dict[str, Any]:
    """CPU count, Python version and platform; the hostname is left out on purpose."""
    return {
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "hostname": None,
    }


def tool_info() -> dict[str, str]:
    """The tool's name and installed version (``"unknown"`` when not installed)."""
    try:
        version = importlib.metadata.version(TOOL_NAME)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {"name": TOOL_NAME, "version": version}


def git_commit(cwd: Path | None = None, *, timeout_s: float = 5.0) -> str | None:
    """``git rev-parse HEAD`` in ``cwd`` (this package's checkout by default); None on failure."""
    where = cwd if cwd is not None else Path(__file__).resolve().parent
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    return commit if done.returncode == 0 and commit else None
