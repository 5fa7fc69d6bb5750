"""How big an answer a response schema asks for, refused before any of it is generated.

    check_schema({"type": "ARRAY", "minItems": 10**9}, "generation_config.response_schema")
    # ApiError 400 INVALID_ARGUMENT "The specified schema produces a constraint that has
    # too many states for serving. ... generation_config.response_schema.min_items: ..."

The walk mirrors ``schema_values`` (same depth cap, ``$ref`` and ``anyOf`` rules) and
multiplies item counts down the tree, so nested arrays are counted as they would be
generated. It visits each schema node once per path and stops as soon as a budget is
spent, so checking costs at most MAX_SCHEMA_VALUES steps, whatever the schema.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from mock_gemini.content import MAX_RECIPES
from mock_gemini.protocol import too_many_states_error
from mock_gemini.recipes import MAX_INGREDIENTS
from mock_gemini.schema_values import (
    DEFAULT_ITEMS,
    MAX_DEPTH,
    MAX_SCHEMA_ITEMS,
    MAX_SCHEMA_LENGTH,
    bounds,
    resolve_ref,
    type_of,
)

MAX_SCHEMA_VALUES = 10_000  # values (objects, items, scalars) in one generated answer
MAX_SCHEMA_CHARS = 1_000_000  # characters of generated strings in one answer
# Items generated when the schema sets no minimum, at most: recipes for objects, a recipe's
# ingredients or steps for strings, DEFAULT_ITEMS otherwise.
ITEMS_ESTIMATE = {"object": MAX_RECIPES, "string": MAX_INGREDIENTS}
STRING_ESTIMATE = 80  # characters of a generated string with no minLength (about)


class SchemaCost(NamedTuple):
    """About how many values and string characters an answer to a schema holds."""

    values: int
    chars: int


class _Budget:
    """Counts the values and characters an answer to ``root`` would hold."""

    def __init__(self, root: dict[str, Any], field: str) -> None:
        self.root = root
        self.field = field
        self.values = 0
        self.chars = 0

    def visit(self, schema: Any, copies: int, depth: int, at: str) -> None:
        if not isinstance(schema, dict) or depth > MAX_DEPTH:
            return
        schema = resolve_ref(self.root, schema)
        self._spend(copies, 0, at)
        if isinstance(schema.get("enum"), list) and schema["enum"]:
            return
        for key in ("anyOf", "oneOf", "allOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                chosen = [o for o in options if type_of(resolve_ref(self.root, o)) != "null"]
                self.visit((chosen or options)[0], copies, depth + 1, f"{at}.{_snake(key)}")
                return
        kind = type_of(schema)
        if kind == "object":
            self._object(schema, copies, depth, at)
        elif kind == "array":
            self._array(schema, copies, depth, at)
        elif kind == "string":
            low = self._capped(schema, "minLength", MAX_SCHEMA_LENGTH, at)
            self._spend(0, copies * max(low, STRING_ESTIMATE), at)

    def _object(self, schema: dict[str, Any], copies: int, depth: int, at: str) -> None:
        properties = schema.get("properties")
        if isinstance(properties, dict):
            for name, sub in properties.items():
                self.visit(sub, copies, depth + 1, f"{at}.properties.{name}")

    def _array(self, schema: dict[str, Any], copies: int, depth: int, at: str) -> None:
        low = self._capped(schema, "minItems", MAX_SCHEMA_ITEMS, at)
        high = bounds(schema, "minItems", "maxItems")[1]
        items = schema.get("items")
        items = items if isinstance(items, dict) else {}
        usual = ITEMS_ESTIMATE.get(type_of(resolve_ref(self.root, items)), DEFAULT_ITEMS)
        count = max(low, usual if high is None else min(high, usual))
        if count:  # nothing under an empty array is generated (nor walked)
            self.visit(items, copies * count, depth + 1, f"{at}.items")

    def _capped(self, schema: dict[str, Any], key: str, cap: int, at: str) -> int:
        low = bounds(schema, key, key)[0]
        if low > cap:
            detail = f"{low} is over the mock's limit of {cap}."
            raise too_many_states_error(f"{at}.{_snake(key)}", detail)
        return low

    def _spend(self, values: int, chars: int, at: str) -> None:
        self.values += values
        self.chars += chars
        if self.values > MAX_SCHEMA_VALUES:
            detail = f"the answer would hold over {MAX_SCHEMA_VALUES} values (reached here)."
            raise too_many_states_error(at, detail)
        if self.chars > MAX_SCHEMA_CHARS:
            detail = f"the answer would hold over {MAX_SCHEMA_CHARS} characters (reached here)."
            raise too_many_states_error(at, detail)


def check_schema(schema: Any, field: str) -> SchemaCost:
    """The cost of answering ``schema``; ApiError 400 when it exceeds the documented limits.

    ``field`` names the schema in errors: ``generation_config.response_json_schema``.
    """
    if not isinstance(schema, dict):
        return SchemaCost(0, 0)
    budget = _Budget(schema, field)
    budget.visit(schema, 1, 0, field)
    return SchemaCost(budget.values, budget.chars)


def _snake(key: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in key)
