"""What a service's concurrency design is, told from the outside (the ``load`` command).

The client sees how many requests wait at the service; the embedded mock sees how many
of the service's calls are in flight upstream. Their peaks name the design::

    diagnose(results)["design"]   # "serialised" | "capped" | "follows-load" | "unknown"

- ``serialised``: at most one upstream call at a time while several requests waited: the
  classic blocking call inside an ``async def`` handler (the seed note's whole point);
- ``capped``: the upstream never saw more than N < the service's own concurrency (a thread
  pool or a semaphore of N);
- ``follows-load``: the upstream saw about as many calls as the service had requests.

``added_latency_s`` is the service's median latency minus the mock's mean injected latency:
its own time per request (queueing inside the service included).
"""

from __future__ import annotations

from typing import Any

from reports.load import Results

FOLLOWS_SHARE = 0.8  # upstream peak ≥ this share of the service's: concurrency follows load
ADDED_NOTE_S = 0.05  # below this a service's own time per request is not worth a sentence


def is_service_load(results: Results) -> bool:
    """Whether the document comes from ``python -m harness load``."""
    return (results.config.get("target") or {}).get("kind") == "service"


def diagnose(results: Results) -> dict[str, Any] | None:
    """The diagnosis block of a service load (None for other documents)."""
    if not is_service_load(results) or not results.runs:
        return None
    run = results.runs[0]
    upstream = (results.document or {}).get("upstream")
    service_peak = int(run.summary.get("peak_in_flight") or 0)
    users = None if results.config.get("open_loop") else run.users
    block: dict[str, Any] = {
        "design": "unknown",
        "upstream_peak_in_flight": None,
        "service_peak_in_flight": service_peak,
        "users": users,
        "added_latency_s": None,
        "evidence": "the upstream is not the embedded mock: its concurrency is not seen",
    }
    if not upstream:
        return block
    peak = int(upstream.get("peak_in_flight") or 0)
    block["upstream_peak_in_flight"] = peak
    block["added_latency_s"] = _added_latency_s(run.summary, upstream)
    block["design"], block["evidence"] = _design(peak, service_peak, block["added_latency_s"])
    return block


def _design(peak: int, service_peak: int, added_s: float | None) -> tuple[str, str]:
    if service_peak <= 1:
        return "unknown", "one request at a time reached the service: no concurrency to judge"
    waited = f"while {service_peak} requests were in flight at the service"
    if peak <= 1:
        return "serialised", (
            f"serialises its upstream calls: at most {peak} in flight {waited}; typical of "
            "a blocking call inside an async handler"
        )
    if peak < FOLLOWS_SHARE * service_peak:
        return "capped", (
            f"caps upstream concurrency at {peak} {waited} (a thread pool or a semaphore?)"
        )
    text = f"upstream concurrency follows load: {peak} in flight {waited}"
    if added_s is not None and added_s >= ADDED_NOTE_S:
        text += f"; adds {added_s * 1000:.0f} ms per request of its own"
    return "follows-load", text


def _added_latency_s(summary: dict[str, Any] | Any, upstream: dict[str, Any]) -> float | None:
    service_s = upstream.get("service_time_s")
    median = (summary.get("latency_s") or {}).get("p50")
    if service_s is None or median is None:
        return None
    return max(float(median) - float(service_s), 0.0)
