"""Load shapes for the locustfiles: a staircase and a spike.

Opt in by importing one into a locustfile (Locust uses any shape class it finds
there), or with ``HARNESS_SHAPE=step|spike`` for ``scenarios/locustfile.py``::

    HARNESS_SHAPE=step STEP_USERS=10 STEP_S=10 STEP_MAX_USERS=50 STEP_DURATION_S=60 \\
        locust --config scenarios/locust.conf --headless

Parameters are class attributes (subclass to change them) or environment variables,
read when the shape is created. A shape ignores ``-u``, ``-r`` and ``-t`` and ends
the run when ``tick`` returns None.
"""

from __future__ import annotations

import math
import os

from locust import LoadTestShape


def _env_number(name: str, default: float) -> float:
    text = os.environ.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a number >= 0, got {text!r}")
    return value


def step_users_at(t_s: float, step_users: int, step_s: float, max_users: int) -> int:
    """Users wanted at ``t_s``: ``step_users`` more every ``step_s``, at most ``max_users``.

    >>> [step_users_at(t, 10, 5.0, 25) for t in (0, 4.9, 5, 10, 99)]
    [10, 10, 20, 25, 25]
    """
    return min(max_users, step_users * (int(t_s // step_s) + 1))


def spike_users_at(t_s: float, base: int, peak: int, spike_at_s: float, spike_s: float) -> int:
    """``peak`` users during ``[spike_at_s, spike_at_s + spike_s)``, ``base`` otherwise.

    >>> [spike_users_at(t, 5, 50, 10.0, 5.0) for t in (0, 10, 14.9, 15)]
    [5, 50, 50, 5]
    """
    return peak if spike_at_s <= t_s < spike_at_s + spike_s else base


class StepLoadShape(LoadTestShape):
    """A staircase: ``STEP_USERS`` more users every ``STEP_S`` s up to ``STEP_MAX_USERS``."""

    step_users = 10
    step_s = 10.0
    max_users = 50
    duration_s = 60.0
    spawn_rate = 10.0

    def __init__(self) -> None:
        super().__init__()
        self.step_users = int(_env_number("STEP_USERS", self.step_users))
        self.step_s = _env_number("STEP_S", self.step_s) or 1.0
        self.max_users = int(_env_number("STEP_MAX_USERS", self.max_users))
        self.duration_s = _env_number("STEP_DURATION_S", self.duration_s)
        self.spawn_rate = _env_number("STEP_SPAWN_RATE", self.spawn_rate) or 1.0

    def tick(self) -> tuple[int, float] | None:
        t_s = self.get_run_time()
        if t_s >= self.duration_s:
            return None
        return step_users_at(t_s, self.step_users, self.step_s, self.max_users), self.spawn_rate


class SpikeLoadShape(LoadTestShape):
    """``SPIKE_BASE_USERS``, jumping to ``SPIKE_USERS`` at ``SPIKE_AT_S`` for ``SPIKE_S`` s."""

    base_users = 10
    spike_users = 50
    spike_at_s = 10.0
    spike_s = 10.0
    duration_s = 40.0
    spawn_rate = 50.0

    def __init__(self) -> None:
        super().__init__()
        self.base_users = int(_env_number("SPIKE_BASE_USERS", self.base_users))
        self.spike_users = int(_env_number("SPIKE_USERS", self.spike_users))
        self.spike_at_s = _env_number("SPIKE_AT_S", self.spike_at_s)
        self.spike_s = _env_number("SPIKE_S", self.spike_s)
        self.duration_s = _env_number("SPIKE_DURATION_S", self.duration_s)
        self.spawn_rate = _env_number("SPIKE_SPAWN_RATE", self.spawn_rate) or 1.0

    def tick(self) -> tuple[int, float] | None:
        t_s = self.get_run_time()
        if t_s >= self.duration_s:
            return None
        users = spike_users_at(
            t_s, self.base_users, self.spike_users, self.spike_at_s, self.spike_s
        )
        return users, self.spawn_rate
