"""Which API call a URL path is, whatever prefix the client's base URL added.

classify("/proxy/v1beta/models/gemini-2.5-flash:generateContent")
# Route(name="generateContent", version="v1beta", model="gemini-2.5-flash", ...)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TAIL = re.compile(
    r"/(?P<version>v1|v1beta|v1alpha)/(?:"
    r"(?P<collection>models|tunedModels)(?:/(?P<model>[^/:]+))?(?::(?P<method>[A-Za-z]+))?"
    r"|openai/(?P<openai>chat/completions|embeddings|models)(?:/(?P<omodel>.+?))?"
    r"|(?P<peer>chat/completions|completions|embeddings)"  # OpenAI's own paths, /v1 only
    r")/?$"
)
MODEL_METHODS = frozenset(
    {
        "generateContent",
        "streamGenerateContent",
        "countTokens",
        "embedContent",
        "batchEmbedContents",
    }
)


@dataclass(frozen=True)
class Route:
    """A recognised call: its stats name, HTTP method, API version and model."""

    name: str
    http_method: str
    version: str
    model: str | None = None  # the full name: "models/gemini-2.5-flash", "tunedModels/x"
    openai: bool = False


def classify(path: str) -> Route | None:
    """The route for ``path``, or None when the mock serves nothing there."""
    match = _TAIL.search(path)
    if match is None:
        return None
    version = match["version"]
    if match["peer"]:
        what = match["peer"]
        if version != "v1":
            return None
        return (
            Route("openai.completions", "POST", version, openai=True)
            if what == "completions"
            else _openai(version, what, None)
        )
    if match["openai"]:
        return _openai(version, match["openai"], match["omodel"])
    collection, model, method = match["collection"], match["model"], match["method"]
    if model is None:
        return None if method else Route(f"{collection}.list", "GET", version)
    full = f"{collection}/{model}"
    if method is None:
        return Route(f"{collection}.get", "GET", version, full)
    if method not in MODEL_METHODS:
        return None
    return Route(method, "POST", version, full)


def for_openai_client(route: Route | None) -> Route | None:
    """``GET /v1/models[/{m}]`` asked by an OpenAI client (Bearer key): the OpenAI list.

    The same path is Gemini's model list for google-genai, which sends ``x-goog-api-key``;
    the dispatcher calls this only for a Bearer-only caller (``peers.bearer_only``).
    """
    if route is None or route.version != "v1" or route.name not in ("models.list", "models.get"):
        return route
    model = route.model.removeprefix("models/") if route.model else None
    return _openai(route.version, "models", model)


def _openai(version: str, what: str, model: str | None) -> Route | None:
    if what == "chat/completions":
        return None if model else Route("openai.chat", "POST", version, openai=True)
    if what == "embeddings":
        return None if model else Route("openai.embeddings", "POST", version, openai=True)
    if model:
        return Route("openai.models.get", "GET", version, model, openai=True)
    return Route("openai.models", "GET", version, openai=True)
