"""The seed's "sync threaded": a ``ThreadPoolExecutor`` of ``requests`` sessions, one per thread."""

from __future__ import annotations

import functools
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from harness.gemini import Target
from harness.generators.base import Load, PlannedRequest, RequestRecord, RunContext
from harness.generators.common import GeneratorOptions, run_one_sync
from harness.generators.load import OpenLoad
from harness.generators.pacing import drive_open_sync
from harness.generators.sequential import SyncCaller, new_session


class ThreadedGenerator:
    """Each user is a task on a pool of ``options.concurrency`` threads (``--workers``)."""

    mode = "threaded"

    def __init__(self, target: Target, options: GeneratorOptions):
        self.concurrency_cap = options.concurrency
        self._target = target
        self._options = options
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None

    def warm_up(self) -> None:
        """Start every worker thread with its session before the run's clock starts.

        A pool spawns threads lazily, one per submit, each competing for the GIL with the
        next submit: 20 threads took ~65 ms, 1,000 took seconds, all counted as the design's
        time. The seed's pool is built once at start-up too, so this is set-up, not load.
        """
        cap = self.concurrency_cap
        pool = ThreadPoolExecutor(cap, thread_name_prefix="harness")
        barrier = threading.Barrier(cap + 1)

        def ready() -> None:
            self._caller()
            barrier.wait()  # each thread holds its task until all exist: cap distinct threads

        futures = [pool.submit(ready) for _ in range(cap)]
        barrier.wait()
        for future in futures:
            future.result()
        self._pool = pool

    def _caller(self) -> SyncCaller:
        caller: SyncCaller | None = getattr(self._local, "caller", None)
        if caller is None:
            session = new_session()
            with self._lock:
                self._sessions.append(session)
            caller = SyncCaller(self._target, self._options, session)
            self._local.caller = caller
        return caller

    def _one(self, ctx: RunContext, planned: PlannedRequest, intended_s: float) -> RequestRecord:
        call = functools.partial(self._caller().call, planned, ctx)
        return run_one_sync(planned, self.mode, ctx, intended_s, call)

    def _user(self, requests_of_user: list[PlannedRequest], ctx: RunContext) -> list[RequestRecord]:
        records: list[RequestRecord] = []
        due_s = 0.0  # users arrive at t=0; a later request is due when the previous one ended
        for planned in requests_of_user:
            record = self._one(ctx, planned, due_s)
            due_s = record.end_s
            if ctx.keep_records:
                records.append(record)
        return records

    def run(self, workload: Load, ctx: RunContext) -> list[RequestRecord]:
        pool, self._pool = self._pool, None
        pool = pool or ThreadPoolExecutor(self.concurrency_cap, thread_name_prefix="harness")
        try:
            if isinstance(workload, OpenLoad):
                run_one = functools.partial(self._one, ctx)
                cap = self.concurrency_cap
                records = drive_open_sync(workload, ctx, run_one, executor=pool, cap=cap)
            else:
                futures = [pool.submit(self._user, user, ctx) for user in workload.by_user()]
                records = [record for future in futures for record in future.result()]
        except BaseException:
            # Interrupted: queued users end their requests at once (ctx.stop), and nobody
            # waits for the threads still blocked in a socket read.
            ctx.stop.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return records

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        with self._lock:
            for session in self._sessions:
                session.close()
            self._sessions.clear()
