"""The models the mock serves: the real public ids plus any configured extras.

catalogue = Catalogue(extra_models=["my-model"])
catalogue.get("gemini-2.5-flash")["supportedGenerationMethods"]
catalogue.page(page_size="2", page_token=None)   # ([Model, Model], "next-token")
"""

from __future__ import annotations

import base64
import logging
import re
from typing import Any

from mock_gemini.protocol import ApiError, invalid_argument

GENERATE_METHODS = ("generateContent", "countTokens", "createCachedContent", "batchGenerateContent")
EMBED_METHODS = ("embedContent", "countTextTokens", "countTokens")
logger = logging.getLogger("mock_gemini")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
# id: (display name, version, input limit, output limit, thinking)
_GENERATIVE: dict[str, tuple[str, str, int, int, bool]] = {
    "gemini-2.5-flash": ("Gemini 2.5 Flash", "001", 1_048_576, 65_536, True),
    "gemini-2.5-flash-lite": ("Gemini 2.5 Flash-Lite", "001", 1_048_576, 65_536, True),
    "gemini-2.5-pro": ("Gemini 2.5 Pro", "2.5", 1_048_576, 65_536, True),
    "gemini-2.0-flash": ("Gemini 2.0 Flash", "2.0", 1_048_576, 8_192, False),
    "gemini-2.0-flash-001": ("Gemini 2.0 Flash 001", "2.0", 1_048_576, 8_192, False),
    "gemini-2.0-flash-lite": ("Gemini 2.0 Flash-Lite", "2.0", 1_048_576, 8_192, False),
    "gemini-2.0-flash-lite-001": ("Gemini 2.0 Flash-Lite 001", "2.0", 1_048_576, 8_192, False),
    "gemini-1.5-flash": ("Gemini 1.5 Flash", "001", 1_000_000, 8_192, False),
    "gemini-flash-latest": ("Gemini Flash Latest", "2.5", 1_048_576, 65_536, True),
    "gemini-flash-lite-latest": ("Gemini Flash-Lite Latest", "2.5", 1_048_576, 65_536, True),
    "gemini-pro-latest": ("Gemini Pro Latest", "2.5", 1_048_576, 65_536, True),
    "gemini-2.5-flash-preview-09-2025": (
        "Gemini 2.5 Flash Preview Sep 2025", "2.5", 1_048_576, 65_536, True,
    ),
    "gemini-2.5-flash-lite-preview-09-2025": (
        "Gemini 2.5 Flash-Lite Preview Sep 2025", "2.5", 1_048_576, 65_536, True,
    ),
    "gemini-3-pro-preview": ("Gemini 3 Pro Preview", "3.0", 1_048_576, 65_536, True),
    "gemini-3-flash-preview": ("Gemini 3 Flash Preview", "3.0", 1_048_576, 65_536, True),
}  # fmt: skip
# Versioned ids ("gemini-2.5-flash-002") and "-latest" aliases of a listed model are served
# as that model, as the real API serves them (gemini-api.md §10).
_VERSIONED = re.compile(r"^(models/[\w.-]+?)-(?:\d{3}|latest)$")
MAX_WARNED_MODELS = 256
_EMBEDDING: dict[str, tuple[str, str, int, int]] = {
    "gemini-embedding-001": ("Gemini Embedding 001", "001", 2_048, 3_072),
    "text-embedding-004": ("Text Embedding 004", "004", 2_048, 768),
}


def _generative(model_id: str, info: tuple[str, str, int, int, bool]) -> dict[str, Any]:
    display, version, input_limit, output_limit, thinking = info
    model: dict[str, Any] = {
        "name": model_id if "/" in model_id else f"models/{model_id}",
        "version": version,
        "displayName": display,
        "description": f"{display} (served by mock_gemini)",
        "inputTokenLimit": input_limit,
        "outputTokenLimit": output_limit,
        "supportedGenerationMethods": list(GENERATE_METHODS),
        "temperature": 1.0,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2.0,
    }
    if thinking:
        model["thinking"] = True
    return model


def _embedding(model_id: str, info: tuple[str, str, int, int]) -> dict[str, Any]:
    display, version, input_limit, _ = info
    return {
        "name": f"models/{model_id}",
        "version": version,
        "displayName": display,
        "description": f"{display} (served by mock_gemini)",
        "inputTokenLimit": input_limit,
        "outputTokenLimit": 1,
        "supportedGenerationMethods": list(EMBED_METHODS),
    }


class Catalogue:
    """Model metadata by id; ``tunedModels/...`` extras are tuned models."""

    def __init__(self, extra_models: list[str] | tuple[str, ...] = ()) -> None:
        self._models: dict[str, dict[str, Any]] = {}
        self._warned: set[str] = set()
        self.dimensions: dict[str, int] = {}
        for model_id, info in _GENERATIVE.items():
            self._models[f"models/{model_id}"] = _generative(model_id, info)
        for model_id, emb in _EMBEDDING.items():
            self._models[f"models/{model_id}"] = _embedding(model_id, emb)
            self.dimensions[f"models/{model_id}"] = emb[3]
        for extra in extra_models:
            name = _full_name(extra)
            self._models.setdefault(
                name, _generative(name, (extra, "001", 1_048_576, 8_192, False))
            )

    def get(self, model: str) -> dict[str, Any] | None:
        """The Model for ``"gemini-2.5-flash"``, ``"models/..."`` or ``"tunedModels/..."``.

        A versioned id or ``-latest`` alias of a listed model (``gemini-2.5-flash-001``)
        is that model under the asked name.
        """
        name = _full_name(model)
        found = self._models.get(name)
        if found is not None:
            return found
        base = _VERSIONED.match(name)
        found = self._models.get(base.group(1)) if base else None
        return {**found, "name": name} if found is not None else None

    def embedding_dimensions(self, model: str, default: int) -> int:
        """Default output size of an embedding model (``gemini-embedding-001``: 3072)."""
        info = self.get(model)
        name = info["name"] if info else _full_name(model)
        base = _VERSIONED.match(name)
        return self.dimensions.get(
            name, self.dimensions.get(base.group(1) if base else "", default)
        )

    def warn_unknown(self, model: str) -> None:
        """Log once per id that a model is not served, and how to add it."""
        if model in self._warned or len(self._warned) >= MAX_WARNED_MODELS:
            return
        self._warned.add(model)
        logger.warning(
            "mock_gemini: unknown model %r answered 404; serve it with --extra-model %s "
            "(or extra_models = [%r] in the config file)",
            model, model.removeprefix("models/"), model.removeprefix("models/"),
        )  # fmt: skip

    def supports(self, model: str, method: str) -> bool:
        """True when the model exists and lists ``method`` (stream counts as generate)."""
        info = self.get(model)
        wanted = "generateContent" if method == "streamGenerateContent" else method
        wanted = "embedContent" if wanted == "batchEmbedContents" else wanted
        return info is not None and wanted in info["supportedGenerationMethods"]

    def page(
        self, page_size: str | None, page_token: str | None, tuned: bool = False
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of the list and the token of the next (None at the end)."""
        size = _page_size(page_size)
        start = _decode_token(page_token)
        names = [n for n in self._models if n.startswith("tunedModels/") == tuned]
        page = [self._models[n] for n in names[start : start + size]]
        more = start + size < len(names)
        return page, _encode_token(start + size) if more else None

    def ids(self) -> list[str]:
        """Every full model name (``models/...``, ``tunedModels/...``)."""
        return list(self._models)


def _full_name(model: str) -> str:
    return model if model.startswith(("models/", "tunedModels/")) else f"models/{model}"


def _page_size(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_PAGE_SIZE
    try:
        size = int(text)
    except ValueError:
        raise invalid_argument(f"Invalid value for pageSize: {text!r}", "page_size") from None
    if size < 0:
        raise invalid_argument(f"pageSize must be ≥ 0, got {size}", "page_size")
    return min(size, MAX_PAGE_SIZE) or DEFAULT_PAGE_SIZE


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"mock-offset:{offset}".encode()).decode().rstrip("=")


def _decode_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        prefix, _, offset = text.partition(":")
        if prefix != "mock-offset" or not offset.isdigit():
            raise ValueError(text)
        return int(offset)
    except (ValueError, UnicodeDecodeError):
        raise _bad_token(token) from None


def _bad_token(token: str) -> ApiError:
    return invalid_argument(f"Invalid page token: {token!r}", "page_token")
