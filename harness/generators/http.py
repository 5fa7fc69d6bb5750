"""Load any HTTP service that calls an LLM: the spec's data, the ok judge, the sending design.

The :class:`ServiceSpec` says what to send (request templates with placeholders, weights)
and what is ok (:class:`OkJudge`: status and JSONPath checks on the body, so a 200 that
carries ``{"error": …}`` is the failure it is). :class:`ServiceGenerator` is the design
that sends it: one ``aiohttp`` session, closed-loop users or open-loop arrivals, the same
records and pipeline as the Gemini designs (``harness.generators.common``). Parsing a
spec from a scenario file or flags is in :mod:`harness.run.service_spec`.

    gen = ServiceGenerator(spec, "http://127.0.0.1:8000", cap=10)
    records = gen.run(Workload(10, 5), ctx)
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from harness.errors import ConfigError
from harness.generators.base import Load, PlannedRequest, RequestRecord, RunContext
from harness.generators.common import Answered
from harness.generators.pacing import drive_load_async
from harness.recipes import RecipeRequest, build_prompt
from harness.resilience.policy import CallResult

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class RequestTemplate:
    """One kind of request: method, path, headers and a JSON body with placeholders."""

    method: str = "POST"
    path: str = "/"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    weight: float = 1.0


@dataclass(frozen=True)
class OkJudge:
    """What makes a response ok: its status, and JSONPath checks on its JSON body."""

    status: frozenset[int] = frozenset()  # empty: any 2xx
    has: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    equals: tuple[tuple[str, Any], ...] = ()  # (JSONPath, value): the first match equals it

    def judge(self, status: int, body: bytes) -> str | None:
        """None when ok, else the reason (``"status 500"``, ``"$.error present"``)."""
        if (self.status and status not in self.status) or (not self.status and status // 100 != 2):
            return f"status {status}"
        if not (self.has or self.absent or self.equals):
            return None
        try:
            doc = json.loads(body)
        except ValueError:
            return "body is not JSON"
        for path in self.has:
            if not any(_filled(m) for m in _find(path, doc)):
                return f"{path} missing"
        for path in self.absent:
            if any(m is not None for m in _find(path, doc)):
                return f"{path} present"
        for path, wanted in self.equals:
            found = _find(path, doc)
            if not found or found[0] != wanted:
                return f"{path} is {found[0] if found else None!r}, not {wanted!r}"
        return None


def _filled(value: object) -> bool:
    return value not in (None, "", [], {})


def _find(path: str, doc: object) -> list[object]:
    from jsonpath_ng.ext import parse  # slow to import: only when a judge reads a body

    return [match.value for match in _compiled(path, parse).find(doc)]


_PATHS: dict[str, Any] = {}


def _compiled(path: str, parse: Any) -> Any:
    if path not in _PATHS:
        _PATHS[path] = parse(path)
    return _PATHS[path]


@dataclass(frozen=True)
class ServiceSpec:
    """A service under load: where it is (or how to start it), what to send, what is ok."""

    url: str | None = None
    command: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    ready: str = "/"
    ready_timeout_s: float = 30.0
    requests: tuple[RequestTemplate, ...] = (RequestTemplate(),)
    ok: OkJudge = field(default_factory=OkJudge)
    data: tuple[Mapping[str, Any], ...] = ()
    timeout_s: float = 60.0

    def validate(self) -> None:
        """One of url/command; methods, weights and timeouts in range."""
        if (self.url is None) == (self.command is None):
            raise ConfigError("service: give exactly one of url (--service-url) or command")
        if self.url is not None and not re.match(r"https?://[^/\s]+", self.url):
            raise ConfigError(f"service.url: expected http(s)://HOST[:PORT], got {self.url!r}")
        for i, template in enumerate(self.requests):
            if template.method not in METHODS:
                raise ConfigError(f"service.requests[{i}].method: one of {', '.join(METHODS)}")
            if not template.path.startswith("/"):
                raise ConfigError(f"service.requests[{i}].path: must start with '/'")
            if not 0 < template.weight < float("inf"):
                raise ConfigError(f"service.requests[{i}].weight: a positive number")
        if not 0 < self.timeout_s <= 3600 or not 0 < self.ready_timeout_s <= 600:
            raise ConfigError("service: timeout_s in (0, 3600], ready_timeout_s in (0, 600]")

    def template_for(self, request_id: int) -> RequestTemplate:
        """The request kind for this id: a deterministic weighted round robin."""
        if len(self.requests) == 1:
            return self.requests[0]
        total = sum(t.weight for t in self.requests)
        point = (request_id * 0.6180339887498949) % 1.0 * total  # golden-ratio spread
        for template in self.requests:
            point -= template.weight
            if point < 0:
                return template
        return self.requests[-1]

    def fields(self, request_id: int, user: int) -> dict[str, Any]:
        """The placeholder values of one request."""
        recipe = RecipeRequest.example(request_id)
        values: dict[str, Any] = {
            "ingredients": list(recipe.ingredients),
            "cuisine": recipe.cuisine_type or "",
            "dietary": list(recipe.dietary_preferences),
            "prompt": build_prompt(recipe),
            "request_id": request_id,
            "user": user,
        }
        if self.data:
            values.update(self.data[request_id % len(self.data)])
        return values


def fill(value: Any, fields: Mapping[str, Any]) -> Any:
    """``value`` with every ``{name}`` replaced; a string that is one placeholder keeps its type.

    >>> fill({"q": "{cuisine}", "n": "{ingredients}"}, {"cuisine": "Thai", "ingredients": ["rice"]})
    {'q': 'Thai', 'n': ['rice']}
    """
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value)
        if whole and whole[1] in fields:
            return fields[whole[1]]
        return _PLACEHOLDER.sub(lambda m: _text(fields.get(m[1], m[0])), value)
    if isinstance(value, Mapping):
        return {key: fill(item, fields) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [fill(item, fields) for item in value]
    return value


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


class ServiceGenerator:
    """Sends a spec's requests to ``base_url`` with one ``aiohttp`` session, ``cap`` at once."""

    mode = "service"

    def __init__(self, spec: ServiceSpec, base_url: str, cap: int) -> None:
        self.concurrency_cap = cap
        self._spec = spec
        self._base_url = base_url.rstrip("/")

    def run(self, load: Load, ctx: RunContext) -> list[RequestRecord]:
        return asyncio.run(self._run(load, ctx))

    async def _run(self, load: Load, ctx: RunContext) -> list[RequestRecord]:
        connector = aiohttp.TCPConnector(limit=self.concurrency_cap, force_close=False)
        timeout = aiohttp.ClientTimeout(total=self._spec.timeout_s)
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, trust_env=False
        ) as session:

            async def call(planned: PlannedRequest) -> CallResult[Answered]:
                return await self._send(session, planned, ctx)

            return await drive_load_async(load, self.mode, self.concurrency_cap, ctx, call)

    async def _send(
        self, session: aiohttp.ClientSession, planned: PlannedRequest, ctx: RunContext
    ) -> CallResult[Answered]:
        template = self._spec.template_for(planned.request_id)
        values = self._spec.fields(planned.request_id, planned.user)
        path = fill(template.path, values)
        headers = {k: str(fill(v, values)) for k, v in template.headers.items()}
        body = fill(template.body, values)
        try:
            async with session.request(
                template.method, self._base_url + str(path), json=body, headers=headers
            ) as resp:
                data = await resp.read()
                status = resp.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return CallResult(None, "failed", 1, 0.0, "closed", type(exc).__name__, None)
        reason = self._spec.ok.judge(status, data)
        if reason is None:
            return CallResult(None, "ok", 1, 0.0, "closed", None, status)
        return CallResult(None, "failed", 1, 0.0, "closed", reason, status)

    def close(self) -> None:
        """Nothing outlives :meth:`run` (its session closes with it)."""
