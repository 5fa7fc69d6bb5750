"""The domain: what a user asks for and what the model answers.

A :class:`RecipeRequest` becomes a prompt (:func:`build_prompt`) and a Gemini
``responseSchema`` (:data:`RECIPE_SCHEMA`); the model's JSON becomes
:class:`Recipe` objects (:meth:`Recipe.from_json`); when the model cannot be
reached, :func:`fallback_recipes` answers from static templates::

    req = RecipeRequest(("chicken", "rice"), "Asian")
    prompt = build_prompt(req)
    recipes = fallback_recipes(req)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.errors import MalformedAnswerError

_EXAMPLES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("chicken", "rice", "garlic"), "Asian"),
    (("pasta", "tomatoes", "basil"), "Italian"),
    (("beef", "potatoes", "onion"), "American"),
    (("salmon", "rice", "ginger"), "Japanese"),
    (("chickpeas", "spinach", "cumin"), "Indian"),
    (("tortillas", "black beans", "corn"), "Mexican"),
)

RECIPES_PER_ANSWER = 3


@dataclass(frozen=True)
class RecipeRequest:
    """What a user asks for: ``RecipeRequest(("chicken", "rice"), "Asian")``."""

    ingredients: tuple[str, ...]
    cuisine_type: str | None = None
    dietary_preferences: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def example(cls, index: int) -> RecipeRequest:
        """A deterministic sample request, varied by ``index`` (one shared instance each)."""
        return _EXAMPLE_REQUESTS[index % len(_EXAMPLE_REQUESTS)]


# Built once: a workload asks for one example per request.
_EXAMPLE_REQUESTS = tuple(RecipeRequest(ingredients, cuisine) for ingredients, cuisine in _EXAMPLES)


@dataclass(frozen=True)
class Recipe:
    """One recipe as the model (or the fallback) gives it.

    >>> Recipe.from_json({"title": "Toast", "ingredients": ["bread"], "steps": ["Toast it."],
    ...     "prep_time_minutes": 1, "cook_time_minutes": 3, "servings": 1}).title
    'Toast'
    """

    title: str
    ingredients: tuple[str, ...]
    steps: tuple[str, ...]
    prep_time_minutes: int
    cook_time_minutes: int
    servings: int
    cuisine: str | None = None

    @classmethod
    def from_json(cls, obj: Any, *, where: str = "recipe") -> Recipe:
        """Validate one decoded JSON object; ``where`` prefixes the field in error messages.

        Raises MalformedAnswerError naming the bad field, e.g. ``recipe.servings``.
        """
        if not isinstance(obj, Mapping):
            raise _malformed(where, "expected an object", obj)
        return cls(
            title=_text(obj, "title", where),
            ingredients=_text_list(obj, "ingredients", where),
            steps=_text_list(obj, "steps", where),
            prep_time_minutes=_count(obj, "prep_time_minutes", where, minimum=0),
            cook_time_minutes=_count(obj, "cook_time_minutes", where, minimum=0),
            servings=_count(obj, "servings", where, minimum=1),
            cuisine=_optional_text(obj, "cuisine", where),
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON object :meth:`from_json` accepts (lists, not tuples)."""
        return {
            "title": self.title,
            "cuisine": self.cuisine,
            "ingredients": list(self.ingredients),
            "steps": list(self.steps),
            "prep_time_minutes": self.prep_time_minutes,
            "cook_time_minutes": self.cook_time_minutes,
            "servings": self.servings,
        }


def _malformed(where: str, problem: str, value: Any) -> MalformedAnswerError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return MalformedAnswerError(f"{where}: {problem}, got {shown}", status=200)


def _require(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise MalformedAnswerError(f"{where}.{key}: missing", status=200)
    return obj[key]


def _text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = _require(obj, key, where)
    if not isinstance(value, str) or not value.strip():
        raise _malformed(f"{where}.{key}", "expected a non-empty string", value)
    return value.strip()


def _optional_text(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise _malformed(f"{where}.{key}", "expected a string or null", value)
    return value.strip()


def _text_list(obj: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = _require(obj, key, where)
    if not isinstance(value, list) or not value:
        raise _malformed(f"{where}.{key}", "expected a non-empty list of strings", value)
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise _malformed(f"{where}.{key}[{index}]", "expected a non-empty string", item)
    return tuple(item.strip() for item in value)


def _count(obj: Mapping[str, Any], key: str, where: str, *, minimum: int) -> int:
    value = _require(obj, key, where)
    # Models sometimes write 10.0 for 10; accept whole floats, refuse bools and fractions.
    whole = isinstance(value, float) and value.is_integer()
    if isinstance(value, bool) or not (isinstance(value, int) or whole):
        raise _malformed(f"{where}.{key}", "expected a whole number", value)
    if int(value) < minimum:
        raise _malformed(f"{where}.{key}", f"expected a number >= {minimum}", value)
    return int(value)


_RECIPE_PROPERTIES: dict[str, Any] = {
    "title": {"type": "STRING"},
    "cuisine": {"type": "STRING", "nullable": True},
    "ingredients": {"type": "ARRAY", "items": {"type": "STRING"}},
    "steps": {"type": "ARRAY", "items": {"type": "STRING"}},
    "prep_time_minutes": {"type": "INTEGER"},
    "cook_time_minutes": {"type": "INTEGER"},
    "servings": {"type": "INTEGER"},
}

# Gemini's responseSchema (OpenAPI subset, upper-case types): a list of recipe objects.
RECIPE_SCHEMA: dict[str, Any] = {
    "type": "ARRAY",
    "items": {
        "type": "OBJECT",
        "properties": _RECIPE_PROPERTIES,
        "required": [
            "title",
            "ingredients",
            "steps",
            "prep_time_minutes",
            "cook_time_minutes",
            "servings",
        ],
        "propertyOrdering": list(_RECIPE_PROPERTIES),
    },
}


def build_prompt(req: RecipeRequest) -> str:
    """The user prompt for one request.

    >>> "Ingredients: chicken, rice" in build_prompt(RecipeRequest(("chicken", "rice")))
    True
    """
    ingredients = ", ".join(req.ingredients) or "anything in a basic pantry"
    preferences = ", ".join(req.dietary_preferences) or "none"
    return "\n".join(
        (
            f"Suggest {RECIPES_PER_ANSWER} recipes a home cook can make.",
            f"Ingredients: {ingredients}",
            f"Cuisine: {req.cuisine_type or 'any'}",
            f"Dietary preferences: {preferences}",
            "Answer with JSON only: an array of recipe objects, each with the fields "
            "title, cuisine, ingredients (array of strings), steps (array of strings), "
            "prep_time_minutes, cook_time_minutes and servings (integers).",
        )
    )


_PANTRY: tuple[str, ...] = ("olive oil", "salt", "pepper")


def fallback_recipes(req: RecipeRequest) -> list[Recipe]:
    """Static recipes built from the request's ingredients; same request, same answer.

    >>> fallback_recipes(RecipeRequest(("eggs",)))[0].title
    'Eggs Skillet'
    """
    main = tuple(i.strip() for i in req.ingredients if i.strip()) or ("vegetables",)
    cuisine = req.cuisine_type
    return [_skillet(main, cuisine), _bowl(main, cuisine), _soup(main, cuisine)]


def _unique(*items: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _named(main: tuple[str, ...]) -> str:
    return " and ".join(word.title() for word in main[:2])


def _skillet(main: tuple[str, ...], cuisine: str | None) -> Recipe:
    listed = ", ".join(main)
    return Recipe(
        title=f"{_named(main)} Skillet",
        ingredients=_unique(*main, *_PANTRY),
        steps=(
            "Heat the olive oil in a large pan over medium-high heat.",
            f"Add the {listed} and cook, stirring, until done.",
            "Season with salt and pepper and serve hot.",
        ),
        prep_time_minutes=10,
        cook_time_minutes=15,
        servings=2,
        cuisine=cuisine,
    )


def _bowl(main: tuple[str, ...], cuisine: str | None) -> Recipe:
    return Recipe(
        title=f"Simple {_named(main)} Bowl",
        ingredients=_unique(*main, "lemon", *_PANTRY),
        steps=(
            f"Prepare the {', '.join(main)} in bite-sized pieces, cooking what needs it.",
            "Toss everything with olive oil, lemon juice, salt and pepper.",
            "Divide between bowls.",
        ),
        prep_time_minutes=15,
        cook_time_minutes=10,
        servings=2,
        cuisine=cuisine,
    )


def _soup(main: tuple[str, ...], cuisine: str | None) -> Recipe:
    return Recipe(
        title=f"Rustic {_named(main)} Soup",
        ingredients=_unique(*main, "stock", "onion", *_PANTRY),
        steps=(
            "Soften the chopped onion in olive oil in a pot.",
            f"Add the {', '.join(main)} and cover with stock.",
            "Simmer for 25 minutes, season and serve.",
        ),
        prep_time_minutes=10,
        cook_time_minutes=30,
        servings=4,
        cuisine=cuisine,
    )
