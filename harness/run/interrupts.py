"""Signals as exceptions: SIGINT, SIGTERM and SIGHUP unwind a run so nothing is lost.

    with signals_raise():
        ...   # a signal raises harness.errors.Interrupted(signum) in the main thread

The exception unwinds every ``with`` block on its way (the embedded mock and service are
stopped, temporary directories removed, the progress display restores the cursor); the
runner catches it to keep what was measured, and the command writes it and exits with
``128 + signum``. A second signal while results are being written is ignored: the
writes are atomic and short.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from harness.errors import Interrupted

SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _raise(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def signals_raise() -> Iterator[None]:
    """Install the raising handlers (main thread only; elsewhere a no-op), then restore."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, _raise) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def signals_ignored() -> Iterator[None]:
    """While results are written: a further signal waits until the files are whole."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
