"""What the mock model says: recipes for the ingredients in the prompt, deterministically.

The token rule, used everywhere (prompt, answer, countTokens, quotas):
``tokens(text) = ceil(len(text) / 4)`` per text part; each ``inlineData`` or
``fileData`` part is 258 tokens (as an image costs on Gemini); any other part
counts the characters of its JSON. ``total = prompt + candidates + thoughts``.

    answer = compose_answer("Ingredients: chicken, rice", seed=0)
    answer.text          # a recipe write-up using chicken and rice
    answer.output_tokens # count_tokens(answer.text)
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mock_gemini.json_shape import asks_for_json, prompt_schema
from mock_gemini.recipes import make_recipes, recipe_text
from mock_gemini.schema_values import schema_value

if TYPE_CHECKING:
    from mock_gemini.tools import FunctionCall

MEDIA_PART_TOKENS = 258
_COUNT_RE = re.compile(r"\b(\d{1,2})\s+(?:[\w-]+\s+){0,3}?recipes?\b", re.IGNORECASE)
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_WORD_COUNT_RE = re.compile(r"\b(one|two|three|four|five)\s+(?:[\w-]+\s+){0,3}?recipes?\b", re.I)
DEFAULT_RECIPES = 3
MAX_RECIPES = 10
CACHED_TEXT_CHARS = 16 * 1024  # longer prompts and texts are not kept in the caches


def count_tokens(text: str) -> int:
    """The token rule: ``count_tokens("abcde") == 2``."""
    return (len(text) + 3) // 4


def part_tokens(part: Any) -> int:
    """Tokens of one request Part (a dict, already camelCase)."""
    if not isinstance(part, dict):
        return 0
    text = part.get("text")
    if isinstance(text, str):
        return count_tokens(text)
    if "inlineData" in part or "fileData" in part:
        return MEDIA_PART_TOKENS
    return count_tokens(json.dumps(part)) if part else 0


@dataclass(frozen=True)
class Answer:
    """One candidate's text, its output tokens and its finish reason."""

    text: str
    output_tokens: int
    finish_reason: str = "STOP"
    calls: tuple[FunctionCall, ...] = ()  # a function-call answer (then ``text`` is "")


def stable_seed(*parts: object) -> int:
    """A seed from values, equal across processes (``hash()`` is salted per process)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def compose_uncached(
    prompt: str,
    seed: int,
    json_mode: bool = False,
    schema_json: str | None = None,
    max_output_tokens: int | None = None,
    stop_sequences: tuple[str, ...] = (),
    fill_max_tokens: bool = False,
) -> Answer:
    """The answer for a prompt and seed (``compose_answer`` is the cached form).

    JSON when ``json_mode`` or the prompt asks for JSON: shaped by ``schema_json``, else
    by a schema or skeleton quoted in the prompt (json_shape.py), else a recipe list.
    """
    rng = random.Random(stable_seed(seed, prompt, json_mode, schema_json))
    recipes = make_recipes(prompt, recipe_count(prompt), rng)
    schema = json.loads(schema_json) if schema_json is not None else None
    if schema is None and (json_mode or asks_for_json(prompt)):
        schema = prompt_schema(prompt)
        json_mode = True
    if schema is not None:
        text = json.dumps(schema_value(schema, recipes, rng), ensure_ascii=False)
    elif json_mode:
        text = json.dumps([r.as_dict() for r in recipes], ensure_ascii=False)
    else:
        text = "\n\n".join(recipe_text(r) for r in recipes)
        if fill_max_tokens and max_output_tokens:
            text = filled(text, max_output_tokens)
    return finish_text(text, max_output_tokens, stop_sequences)


# Cached, since load tests repeat prompts; callers keep big prompts out (CACHED_TEXT_CHARS).
compose_answer = functools.lru_cache(maxsize=2048)(compose_uncached)


def filled(text: str, tokens: int) -> str:
    """``text`` repeated until it holds more than ``tokens`` tokens (then cut to them).

    ``fill_max_tokens``: a plain-text answer as long as the request's maxOutputTokens, so
    a workload's output-length distribution is what the mock generates.
    """
    repeats = tokens * 4 // max(len(text), 1) + 2
    return "\n\n".join([text] * repeats)


def finish_text(text: str, max_output_tokens: int | None, stops: tuple[str, ...]) -> Answer:
    """The answer for ``text`` cut at the first stop sequence, then at ``max_output_tokens``."""
    for stop in stops:
        cut = text.find(stop)
        if cut >= 0:
            text = text[:cut]
    tokens = count_tokens(text)
    if max_output_tokens is not None and 0 <= max_output_tokens < tokens:
        text = text[: max_output_tokens * 4]
        return Answer(text, count_tokens(text), "MAX_TOKENS")
    return Answer(text, tokens)


def recipe_count(prompt: str) -> int:
    """How many recipes the prompt asks for ("3 recipes", "two quick recipes"), else 3."""
    match = _COUNT_RE.search(prompt)
    if match:
        return max(1, min(MAX_RECIPES, int(match.group(1))))
    word = _WORD_COUNT_RE.search(prompt)
    return _WORDS[word.group(1).lower()] if word else DEFAULT_RECIPES


def split_text(text: str, token_sizes: list[int]) -> list[str]:
    """Cut ``text`` into pieces of ``token_sizes`` tokens each (4 characters a token).

    The last piece takes whatever is left, so the pieces always join to ``text``.
    """
    pieces: list[str] = []
    start = 0
    for index, size in enumerate(token_sizes):
        end = len(text) if index == len(token_sizes) - 1 else min(len(text), start + size * 4)
        pieces.append(text[start:end])
        start = end
    return pieces


def embedding(text: str, dimensions: int, seed: int) -> tuple[float, ...]:
    """A deterministic unit vector for ``text``: same text, same vector (short texts cached)."""
    if len(text) <= CACHED_TEXT_CHARS:
        return _cached_embedding(text, dimensions, seed)
    return _embedding(text, dimensions, seed)


def embeddings(texts: list[str], dimensions: int, seed: int) -> list[tuple[float, ...]]:
    """One :func:`embedding` per text (module-level: a worker process can run it)."""
    return [embedding(text, dimensions, seed) for text in texts]


def embeddings_body(wanted: list[tuple[str, int]], seed: int, batch: bool) -> bytes:
    """The embedContent (one) or batchEmbedContents answer for ``(text, dimensions)`` pairs."""
    vectors = [{"values": list(embedding(text, dims, seed))} for text, dims in wanted]
    return json.dumps({"embeddings": vectors} if batch else {"embedding": vectors[0]}).encode()


def _embedding(text: str, dimensions: int, seed: int) -> tuple[float, ...]:
    rng = random.Random(stable_seed("embed", seed, text))
    values = [rng.gauss(0.0, 1.0) for _ in range(dimensions)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return tuple(round(v / norm, 6) for v in values)


# Keys and values held by the caches stay small: a 20 MiB prompt is answered, not kept.
_cached_embedding = functools.lru_cache(maxsize=1024)(_embedding)


__all__ = [
    "Answer",
    "compose_answer",
    "compose_uncached",
    "count_tokens",
    "embedding",
    "embeddings_body",
    "part_tokens",
    "split_text",
]
