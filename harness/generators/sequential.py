"""The seed's "before": one ``requests.Session``, one call after another."""

from __future__ import annotations

import functools

import requests

from harness.gemini import Target, build_generate_request
from harness.generators.base import PlannedRequest, RequestRecord, RunContext, Workload
from harness.generators.common import (
    Answered,
    GeneratorOptions,
    answered,
    run_one_sync,
    static_fallback,
)
from harness.resilience.policy import CallResult
from harness.transport import send_sync


class SyncCaller:
    """One request through one ``requests.Session`` under the run's policy."""

    def __init__(self, target: Target, options: GeneratorOptions, session: requests.Session):
        self.target = target
        self.options = options
        self.session = session

    def call(self, planned: PlannedRequest, ctx: RunContext) -> CallResult[Answered]:
        req = build_generate_request(
            self.target, planned.recipe_request, max_output_tokens=self.options.max_output_tokens
        )

        def attempt(timeout_s: float) -> Answered:
            return answered(send_sync(self.session, req, timeout_s, ctx.clock))

        def fallback() -> Answered:
            return static_fallback(planned.recipe_request)

        return ctx.policy.call_sync(attempt, fallbacks=[fallback])


def new_session(pool_size: int = 1) -> requests.Session:
    """A session whose connection pool holds ``pool_size`` connections to the one host."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class SequentialGenerator:
    """Every request waits for the one before it: the cap is 1 whatever the users."""

    mode = "sequential"

    def __init__(self, target: Target, options: GeneratorOptions):
        self.concurrency_cap = 1
        self._caller = SyncCaller(target, options, new_session())

    def run(self, workload: Workload, ctx: RunContext) -> list[RequestRecord]:
        records: list[RequestRecord] = []
        # Users arrive together at t=0; request k of a user is due when its request k-1 ended.
        due_s = [0.0] * workload.users
        for planned in sorted(workload, key=lambda p: (p.sequence, p.user)):
            call = functools.partial(self._caller.call, planned, ctx)
            record = run_one_sync(planned, self.mode, ctx, due_s[planned.user], call)
            due_s[planned.user] = record.end_s
            records.append(record)
        return records

    def close(self) -> None:
        self._caller.session.close()
