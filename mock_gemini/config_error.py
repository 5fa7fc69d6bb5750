"""The one exception for bad mock settings, shared by every model module.

It lives apart from ``config.py`` so that ``latency``, ``faults`` and friends can raise it
without importing the config module that imports them. ``config.MockConfigError`` is the
same class.
"""

from __future__ import annotations

import math


class MockConfigError(ValueError):
    """A mock setting is invalid; the one-line message names the key or spec and the value.

    For example ``MockConfigError("mock.toml: key 'rpm' expects an integer, got 'abc'")``.
    """


def parse_number(text: str, what: str) -> float:
    """Parse a finite float or raise MockConfigError naming ``what``.

    >>> parse_number("0.5", "spec 'fixed:0.5'")
    0.5
    """
    try:
        value = float(text)
    except ValueError:
        raise MockConfigError(f"{what}: {text!r} is not a number") from None
    if not math.isfinite(value):
        raise MockConfigError(f"{what}: {text!r} is not a finite number")
    return value


def format_number(value: float) -> str:
    """Shortest text that parses back to ``value`` ("0.5", "3", "1e-05").

    >>> format_number(3.0), format_number(0.25)
    ('3', '0.25')
    """
    return repr(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)
