"""Where requests go: the embedded mock, any base URL, or the real Gemini API; in which
protocol (``api``: Gemini's own, or OpenAI chat completions).

with open_target(TargetSpec(kind="mock"), mock_config) as target: ...
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

from harness.errors import ConfigError, MissingApiKeyError
from harness.gemini import GEMINI_BASE_URL, Target
from harness.logs import redact_url
from harness.openai import GEMINI_OPENAI_PATH
from harness.run.embedded import EmbeddedMock
from mock_gemini.config import MockConfig

TargetKind = Literal["mock", "base-url", "gemini"]
LOCAL_KEY = "harness-local-key"  # what the harness presents to mocks and local servers
KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")  # google-genai's order: GOOGLE_ wins


@dataclass(frozen=True)
class TargetSpec:
    kind: TargetKind = "mock"
    base_url: str | None = None
    model: str = "gemini-2.5-flash"
    api_version: str = "v1beta"
    reset_upstream: bool = False  # base-url: POST /_mock/reset before each design
    api: str = "gemini"  # the wire protocol: "gemini" or "openai" (chat completions)

    def describe(self, url: str) -> dict[str, Any]:
        """The target as the results file records it (never the key)."""
        described = {"kind": self.kind, "base_url": redact_url(url), "model": self.model}
        described |= {"api": self.api} if self.api != "gemini" else {}
        return described | ({"reset_upstream": True} if self.reset_upstream else {})

    def url_for(self, root: str) -> str:
        """Where this protocol lives on a Gemini-shaped server at ``root`` (the mock, or
        the real API): ``root`` itself, or its OpenAI-compatible ``{root}/v1beta/openai``."""
        return root.rstrip("/") + GEMINI_OPENAI_PATH if self.api == "openai" else root

    @property
    def resettable(self) -> bool:
        """Whether the runner resets the upstream before each design (a mock_gemini's state)."""
        return self.kind == "mock" or (self.kind == "base-url" and self.reset_upstream)


_OPENAI_SUFFIXES = (GEMINI_OPENAI_PATH, "/v1")


def upstream_root(target: Target) -> str:
    """The server root of ``target`` (where a mock_gemini's ``/_mock/*`` control routes are):
    its base URL, less the OpenAI-compatible path an ``openai`` target adds.

    >>> upstream_root(Target("http://127.0.0.1:8000/v1beta/openai", "k", api="openai"))
    'http://127.0.0.1:8000'
    """
    url = target.base_url.rstrip("/")
    if target.api == "openai":
        for suffix in _OPENAI_SUFFIXES:
            if url.endswith(suffix):
                return url.removesuffix(suffix)
    return target.base_url


def api_key_from_env(env: Mapping[str, str]) -> str:
    """The real API's key, or a :class:`MissingApiKeyError` naming the variables."""
    for name in KEY_VARIABLES:
        if env.get(name):
            return env[name]
    raise MissingApiKeyError("--target gemini needs an API key in GEMINI_API_KEY or GOOGLE_API_KEY")


def check_reachable(url: str, timeout_s: float = 3.0) -> None:
    """Fail early, with one line, when nothing listens at ``url``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"--base-url: expected http(s)://HOST[:PORT][/prefix], got {redact_url(url)!r}"
        )
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout_s):
            pass
    except OSError as exc:
        raise ConfigError(
            f"--base-url {redact_url(url)}: cannot connect ({exc.strerror or exc})"
        ) from None


@contextlib.contextmanager
def open_target(
    spec: TargetSpec, mock: MockConfig | None = None, env: Mapping[str, str] | None = None
) -> Iterator[Target]:
    """Yield a ready :class:`Target`; an embedded mock lives exactly as long as the block."""
    env = os.environ if env is None else env
    if spec.kind == "gemini":
        key = api_key_from_env(env)
        url = spec.base_url or spec.url_for(GEMINI_BASE_URL)
        yield Target(url, key, spec.model, spec.api_version, spec.api)
    elif spec.kind == "base-url":
        assert spec.base_url is not None
        check_reachable(spec.base_url)
        yield Target(spec.base_url, LOCAL_KEY, spec.model, spec.api_version, spec.api)
    else:
        config = mock or MockConfig()
        # When the mock only accepts configured keys, present one of them.
        key = sorted(config.api_keys)[0] if config.api_keys else LOCAL_KEY
        with EmbeddedMock(config.to_dict(include_secrets=True)) as server:
            yield Target(spec.url_for(server.url), key, spec.model, spec.api_version, spec.api)
