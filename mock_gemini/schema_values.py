"""A JSON value that matches a response schema, filled with recipe data where names fit.

Reads Gemini's OpenAPI subset (``"type": "OBJECT"``) and JSON Schema (``"object"``,
``$ref``/``$defs``, ``anyOf``, type lists) alike::

    schema = {"type": "ARRAY", "items": {"type": "OBJECT", "properties": {
        "title": {"type": "STRING"}, "servings": {"type": "INTEGER"}}}}
    schema_value(schema, recipes, random.Random(0))
    # [{"title": "Spicy Chicken Bowl", "servings": 4}, ...]
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from mock_gemini.recipes import Recipe

MAX_DEPTH = 12
MAX_ITEMS = 100
MAX_STRING = 10_000
DEFAULT_ITEMS = 2
# Generated sizes are clamped here too; schema_limits.check_schema refuses larger requests
# (400) before generation, so these only matter to direct callers of schema_value.
MAX_SCHEMA_ITEMS = 1_000  # largest minItems honoured
MAX_SCHEMA_LENGTH = 10_000  # largest minLength honoured (characters)
_INT_HINTS: dict[str, Callable[[Recipe], int]] = {
    "prep": lambda r: r.prep_time_minutes,
    "cook": lambda r: r.cook_time_minutes,
    "serv": lambda r: r.servings,
    "time": lambda r: r.prep_time_minutes + r.cook_time_minutes,
    "minute": lambda r: r.cook_time_minutes,
}
_STR_HINTS: dict[str, Callable[[Recipe], str]] = {
    "title": lambda r: r.title,
    "name": lambda r: r.title,
    "cuisine": lambda r: r.cuisine,
    "ingredient": lambda r: r.ingredients[0],
    "step": lambda r: r.steps[0],
    "instruction": lambda r: r.steps[0],
    "description": lambda r: f"A {r.cuisine.lower()} dish of {', '.join(r.ingredients[:3])}.",
    "summary": lambda r: f"{r.title}, ready in {r.prep_time_minutes + r.cook_time_minutes} min.",
    "difficulty": lambda r: "easy" if r.cook_time_minutes <= 20 else "medium",
    "answer": lambda r: (
        f"Try the {r.title}: {', '.join(r.ingredients[:3])}, ready in "
        f"{r.prep_time_minutes + r.cook_time_minutes} minutes."
    ),
}
_LIST_HINTS: dict[str, Callable[[Recipe], tuple[str, ...]]] = {
    "ingredient": lambda r: r.ingredients,
    "step": lambda r: r.steps,
    "instruction": lambda r: r.steps,
    "direction": lambda r: r.steps,
}


class _Filler:
    """Walks one schema; hands each object node the next recipe."""

    def __init__(self, root: dict[str, Any], recipes: list[Recipe], rng: random.Random) -> None:
        self.root = root
        self.recipes = recipes
        self.rng = rng
        self.used = 0

    def next_recipe(self) -> Recipe:
        recipe = self.recipes[self.used % len(self.recipes)]
        self.used += 1
        return recipe

    def value(self, schema: Any, name: str, recipe: Recipe, depth: int) -> Any:
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return None
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema and isinstance(schema["enum"], list) and schema["enum"]:
            return self.rng.choice(schema["enum"])
        for key in ("anyOf", "oneOf", "allOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                non_null = [o for o in options if type_of(self.resolve(o)) != "null"]
                return self.value((non_null or options)[0], name, recipe, depth + 1)
        kind = type_of(schema)
        if kind == "object":
            return self.object(schema, depth)
        if kind == "array":
            return self.array(schema, name, recipe, depth)
        return _scalar(kind, schema, name, recipe, self.rng)

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        return resolve_ref(self.root, schema)

    def object(self, schema: dict[str, Any], depth: int) -> dict[str, Any]:
        recipe = self.next_recipe()
        properties = schema.get("properties")
        if not isinstance(properties, dict):
            return {}
        order = schema.get("propertyOrdering")
        names = [n for n in order if n in properties] if isinstance(order, list) else []
        names += [n for n in properties if n not in names]
        return {n: self.value(properties[n], n, recipe, depth + 1) for n in names}

    def array(self, schema: dict[str, Any], name: str, recipe: Recipe, depth: int) -> list[Any]:
        items = schema.get("items")
        items = self.resolve(items) if isinstance(items, dict) else {}
        low, high = bounds(schema, "minItems", "maxItems")
        low = min(low, MAX_SCHEMA_ITEMS)
        hinted = _hint(_LIST_HINTS, name)
        if hinted is not None and type_of(items) == "string" and "enum" not in items:
            values = list(hinted(recipe))
            return _fit(values, low, high)
        count = len(self.recipes) if type_of(items) == "object" else DEFAULT_ITEMS
        count = max(low, min(count, high)) if high is not None else max(low, count)
        singular = name[:-1] if name.endswith("s") else name
        return [self.value(items, singular, recipe, depth + 1) for _ in range(count)]


def schema_value(schema: dict[str, Any], recipes: list[Recipe], rng: random.Random) -> Any:
    """A value matching ``schema``; object nodes take successive ``recipes``."""
    filler = _Filler(schema, recipes, rng)
    return filler.value(schema, "", recipes[0], 0)


def resolve_ref(root: dict[str, Any], schema: Any) -> dict[str, Any]:
    """The schema a local ``$ref`` ("#/$defs/Recipe") points at; ``schema`` when it has none.

    Anything that is not a schema object resolves to ``{}`` (a string value).
    """
    if not isinstance(schema, dict):
        return {}
    ref = schema.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/"):
        return schema
    node: Any = root
    for part in ref[2:].split("/"):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def type_of(schema: dict[str, Any]) -> str:
    """The lower-case JSON type a schema node describes ("object", "array", "string"...)."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if str(k).lower() != "null"), "null")
    if isinstance(kind, str) and kind:
        return kind.lower().removeprefix("type_")
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _hint(table: dict[str, Callable[[Recipe], Any]], name: str) -> Callable[[Recipe], Any] | None:
    lowered = name.lower()
    return next((fn for key, fn in table.items() if key in lowered), None)


def bounds(schema: dict[str, Any], low_key: str, high_key: str) -> tuple[int, int | None]:
    """(low, high) of a pair of integer keywords such as minItems/maxItems; 0 and None unset."""
    low, high = schema.get(low_key), schema.get(high_key)
    low_n = int(low) if isinstance(low, int | float | str) and str(low).isdecimal() else 0
    high_n = int(high) if isinstance(high, int | float | str) and str(high).isdecimal() else None
    return low_n, high_n


def _fit(values: list[Any], low: int, high: int | None) -> list[Any]:
    if high is not None:
        values = values[:high]
    while len(values) < low:
        values.append(values[-1] if values else "more")
    return values


def _scalar(
    kind: str, schema: dict[str, Any], name: str, recipe: Recipe, rng: random.Random
) -> Any:
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind in ("integer", "number"):
        return _number(kind, schema, name, recipe, rng)
    text_fn = _hint(_STR_HINTS, name)
    if schema.get("format") in ("date-time", "date"):
        return "2025-01-01T12:00:00Z" if schema["format"] == "date-time" else "2025-01-01"
    text = text_fn(recipe) if text_fn else f"{name or 'value'} for {recipe.title}"
    low, high = bounds(schema, "minLength", "maxLength")
    return (text[:high] if high is not None else text).ljust(min(low, MAX_SCHEMA_LENGTH), ".")


def _number(
    kind: str, schema: dict[str, Any], name: str, recipe: Recipe, rng: random.Random
) -> Any:
    hint = _hint(_INT_HINTS, name)
    value: float = hint(recipe) if hint else rng.randint(1, 60)
    low, high = schema.get("minimum"), schema.get("maximum")
    if isinstance(low, int | float) and value < low:
        value = low
    if isinstance(high, int | float) and value > high:
        value = high
    if kind == "integer":
        return int(value)
    return float(value) if hint else round(value + rng.random(), 2)
