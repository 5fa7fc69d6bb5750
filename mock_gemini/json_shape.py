"""The JSON shape a prompt asks for: a JSON Schema it quotes, or a skeleton it sketches.

Apps and libraries that do not use ``responseSchema`` put the shape in the prompt or
system instruction (instructor ``Mode.JSON``, pydantic-ai ``PromptedOutput``, hand-written
apps). ``prompt_schema`` finds the longest ``{...}`` block that reads as one of:

- a JSON Schema (``{"type": "object", "properties": ...}``, ``$defs``, ``anyOf``): as is;
- a JSON example (``{"answer": "...", "details": {"ingredients": ["..."]}}``);
- a relaxed skeleton (``{answer, details{recipe_name, ingredients: array of strings, …}}``).

Examples and skeletons become a schema: a value's JSON type wins; a description string
names its type ("array of strings", "integer", "true/false"); a key with no value is
typed by its name (``ingredients`` → array of strings, ``servings`` → integer)::

    prompt_schema('Reply as JSON: {answer, details{recipe_name, ingredients, servings}}')
    # {"type": "object", "properties": {"answer": {"type": "string"}, "details": {...}}}
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_BLOCKS = 8
MAX_BLOCK_CHARS = 50_000
_ASKS_JSON_RE = re.compile(r"\bjson\b", re.IGNORECASE)
_SCHEMA_KEYS = frozenset({"properties", "$defs", "definitions", "anyOf", "oneOf", "$ref"})
_TOKEN_RE = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^{}\[\]:,"]+)', re.DOTALL)
_LIST_NAMES = re.compile(
    r"(ingredients|steps|instructions|directions|tags|items|notes|tips|list|keywords)$"
)
_INT_NAMES = re.compile(r"(minutes|_time|servings|calories|count|number|age|year|qty|quantity)$")
_BOOL_NAMES = re.compile(r"^(is|has|can|should)_|vegetarian|vegan|gluten_free")


def asks_for_json(prompt: str) -> bool:
    """True when the prompt mentions JSON (``"Respond in JSON"``)."""
    return _ASKS_JSON_RE.search(prompt) is not None


def prompt_schema(prompt: str) -> dict[str, Any] | None:
    """The schema of the longest usable ``{...}`` block of ``prompt``, or None."""
    blocks = sorted(_brace_blocks(prompt), key=len, reverse=True)[:MAX_BLOCKS]
    for block in blocks:
        try:
            schema = _block_schema(block)
        except RecursionError:  # a hostile prompt nests thousands of braces: no shape
            continue
        if schema is not None and schema.get("properties"):
            return schema
    return None


def _brace_blocks(text: str) -> list[str]:
    """Top-level balanced ``{...}`` substrings, in order."""
    blocks, depth, start = [], 0, 0
    for index, char in enumerate(text):
        if char == "{":
            if depth == 0:
                start = index
            depth += 1
        elif char == "}" and depth:
            depth -= 1
            if depth == 0 and index - start < MAX_BLOCK_CHARS:
                blocks.append(text[start : index + 1])
    return blocks


def _block_schema(block: str) -> dict[str, Any] | None:
    try:
        value = json.loads(block)
    except ValueError:
        value = _Relaxed(block).parse()
    if not isinstance(value, dict):
        return None
    if _looks_like_schema(value):
        return value
    return infer_schema(value, "")


def _looks_like_schema(value: dict[str, Any]) -> bool:
    if _SCHEMA_KEYS & value.keys():
        return True
    return value.get("type") in ("object", "OBJECT") and isinstance(value.get("properties"), dict)


def infer_schema(example: Any, name: str) -> dict[str, Any]:
    """A schema for an example value; descriptions and key names refine strings and None."""
    if isinstance(example, dict):
        properties = {key: infer_schema(value, key) for key, value in example.items()}
        return {"type": "object", "properties": properties, "required": list(properties)}
    if isinstance(example, list):
        items = infer_schema(example[0], _singular(name)) if example else {"type": "string"}
        return {"type": "array", "items": items}
    if isinstance(example, bool):
        return {"type": "boolean"}
    if isinstance(example, int):
        return {"type": "integer"}
    if isinstance(example, float):
        return {"type": "number"}
    if isinstance(example, str):
        return _described(example, name)
    return _by_name(name)


def _described(text: str, name: str) -> dict[str, Any]:
    lowered = text.lower()
    if re.search(r"\b(array|list) of\b", lowered) or lowered.startswith("["):
        item = _described(lowered.split(" of ", 1)[-1], _singular(name))
        return {"type": "array", "items": item if item["type"] != "array" else {"type": "string"}}
    if re.search(r"\b(integer|int|whole number)s?\b", lowered):
        return {"type": "integer"}
    if re.search(r"\b(number|float|decimal)s?\b", lowered):
        return {"type": "number"}
    if re.search(r"\b(boolean|bool|true/false|true or false)\b", lowered):
        return {"type": "boolean"}
    if re.search(r"\b(string|text)s?\b", lowered):
        return {"type": "string"}
    return _by_name(name)  # "Name of the recipe", "...": the key name decides


def _by_name(name: str) -> dict[str, Any]:
    lowered = name.lower()
    if _LIST_NAMES.search(lowered):
        return {"type": "array", "items": {"type": "string"}}
    if _INT_NAMES.search(lowered):
        return {"type": "integer"}
    if _BOOL_NAMES.search(lowered):
        return {"type": "boolean"}
    return {"type": "string"}


def _singular(name: str) -> str:
    return name[:-1] if name.endswith("s") else name


class _Relaxed:
    """A forgiving reader of skeletons: unquoted keys, ``key{...}``, bare text values."""

    def __init__(self, text: str) -> None:
        self.tokens = [t.strip() for t in _TOKEN_RE.findall(text) if t.strip()]
        self.pos = 0

    def parse(self) -> Any:
        try:
            return self.value()
        except (IndexError, ValueError):
            return None

    def peek(self) -> str:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else ""

    def take(self) -> str:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def value(self) -> Any:
        token = self.peek()
        if token == "{":
            return self.object()
        if token == "[":
            return self.array()
        return _scalar(self.take())

    def object(self) -> dict[str, Any]:
        self.take()  # "{"
        out: dict[str, Any] = {}
        while self.peek() not in ("}", ""):
            key = self.take()
            if key == ",":
                continue
            value: Any = None
            if self.peek() == ":":
                self.take()
                value = self.value()
            elif self.peek() in ("{", "["):
                value = self.value()
            name = _key(key)
            if name:
                out[name] = value
        self.take()  # "}"
        return out

    def array(self) -> list[Any]:
        self.take()  # "["
        items: list[Any] = []
        while self.peek() not in ("]", ""):
            if self.peek() == ",":
                self.take()
                continue
            item = self.value()
            if item not in ("...", "…"):
                items.append(item)
        self.take()  # "]"
        return items


def _key(token: str) -> str:
    name = token.strip().strip('"').strip("'").strip()
    return "" if not re.fullmatch(r"[A-Za-z_][\w\-]*", name) else name


def _scalar(token: str) -> Any:
    if token.startswith('"'):
        try:
            return json.loads(token)
        except ValueError:
            return token.strip('"')
    try:
        return json.loads(token)
    except ValueError:
        return token
