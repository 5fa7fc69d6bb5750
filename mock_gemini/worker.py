"""``python -m mock_gemini.worker``: runs the mock's CPU-heavy calls, one at a time.

The server (``offload.Offloader``) writes calls to this process's stdin and reads the
answers on its stdout. A frame is an 8-byte big-endian length and that many bytes. A call
is two frames: a pickled ``(function, args)`` and a body (often empty), run as
``function(body, *args)`` when the body is not empty, else ``function(*args)``; the
answer is one frame, a pickled ``(True, result)`` or ``(False, exception)``. The body
travels unpickled, so the server streams a request body's chunks without joining them. It is a plain
child process rather than a multiprocessing pool so that nothing of the parent program
(its ``__main__``, its threads) is re-run or copied. It ends at end of input.
"""

from __future__ import annotations

import pickle
import signal
import struct
import sys
from typing import IO, Any

HEADER = struct.Struct(">Q")


def read_frame(stream: IO[bytes]) -> bytes | None:
    """One frame's payload, or None at end of input."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    return stream.read(HEADER.unpack(header)[0])


def frame(payload: bytes) -> bytes:
    """``payload`` with its length header."""
    return HEADER.pack(len(payload)) + payload


def answer(payload: bytes, body: bytes) -> bytes:
    """Run one pickled call (on ``body`` when there is one); its outcome, pickled."""
    try:
        fn, args = pickle.loads(payload)
        outcome: tuple[bool, Any] = (True, fn(body, *args) if body else fn(*args))
    except Exception as exc:
        outcome = (False, exc)
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an exception that does not pickle: send its text
        return pickle.dumps((False, RuntimeError(f"{type(exc).__name__}: {exc}")))


def main() -> int:
    """Serve calls from stdin until it closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group: the server decides
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (payload := read_frame(stdin)) is not None:
        body = read_frame(stdin)
        if body is None:
            break
        stdout.write(frame(answer(payload, body)))
        stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
