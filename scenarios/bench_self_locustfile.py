"""The Locust side of ``python -m harness bench-self``: FastHttpUser posting one fixed request.

Run by bench-self as a subprocess (never imported by the harness: Locust patches the
process with gevent). It reads the request to send from environment variables:

    BENCH_PATH=/v1beta/models/gemini-2.5-flash:generateContent BENCH_BODY_FILE=/tmp/body.json \\
        locust -f scenarios/bench_self_locustfile.py --headless -u 64 -r 1000 -t 8s --host URL
"""

from __future__ import annotations

import os
from pathlib import Path

from locust import FastHttpUser, constant, task

PATH = os.environ.get("BENCH_PATH", "/v1beta/models/gemini-2.5-flash:generateContent")
_BODY_FILE = os.environ.get("BENCH_BODY_FILE")
BODY = Path(_BODY_FILE).read_bytes() if _BODY_FILE else b"{}"
HEADERS = {"x-goog-api-key": "bench-self", "Content-Type": "application/json"}


class GenerateUser(FastHttpUser):
    """Each user posts the same generateContent request back to back (no think time)."""

    wait_time = constant(0)

    @task
    def generate(self) -> None:
        self.client.post(PATH, data=BODY, headers=HEADERS)
