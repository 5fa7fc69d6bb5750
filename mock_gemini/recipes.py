"""The mock model's domain knowledge: recipes built from the ingredients a prompt names.

recipes = make_recipes("Ingredients: chicken, rice", 2, random.Random(0))
recipes[0].ingredients[:2]   # ('chicken', 'rice')
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

VOCABULARY = (
    "chicken", "rice", "garlic", "pasta", "tomatoes", "basil", "beef", "potatoes", "onion",
    "salmon", "ginger", "chickpeas", "spinach", "cumin", "tortillas", "black beans", "corn",
    "tofu", "eggs", "mushrooms", "lemon", "cheese", "bell pepper", "carrots", "coconut milk",
    "shrimp", "pork", "lentils", "quinoa", "broccoli", "avocado", "noodles",
)  # fmt: skip
CUISINES = (
    "Italian", "Asian", "Mexican", "Indian", "American", "Japanese", "Mediterranean",
    "French", "Thai", "Middle Eastern",
)  # fmt: skip
_STYLES = ("Garlicky", "Smoky", "Herbed", "Spicy", "Creamy", "Zesty", "Rustic", "Golden",
           "One-Pan", "Honey-Glazed", "Crispy", "Weeknight")  # fmt: skip
_DISHES = ("Skillet", "Bowl", "Stir-Fry", "Bake", "Stew", "Salad", "Tacos", "Curry",
           "Traybake", "Soup", "Fried Rice", "Casserole")  # fmt: skip
_PANTRY = ("olive oil", "salt", "black pepper", "onion", "garlic", "lemon juice", "butter",
           "fresh herbs", "chili flakes", "stock")  # fmt: skip
_INGREDIENTS_RE = re.compile(r"ingredients?\s*(?:[:=]|are|include)\s*([^\n]+)", re.IGNORECASE)
_CUISINE_RE = re.compile(r"cuisine(?:\s*type)?\s*[:=]\s*([A-Za-z][A-Za-z \-]{1,30})", re.I)
_SPLIT_RE = re.compile(r"\s*(?:,|;|\band\b|&|\+)\s*", re.IGNORECASE)
MAX_INGREDIENTS = 12
_KNOWN = frozenset(VOCABULARY)
# A reply-format description, not foods: "List of ingredients (array of strings)", "[...]".
_TEMPLATE_RE = re.compile(
    r"\b(?:list|array)\s+of\b|\bstrings?\b|\(.*\b(?:array|list|string)s?\b.*\)|^\s*\[|"
    r"^\s*[\"'<{]|\.\.\.|…|\bingredient\s*\d",
    re.IGNORECASE,
)
_TEMPLATE_LINE_RE = re.compile(r"^.*(?:\b(?:list|array)\s+of\b|\bstrings?\b).*$", re.I | re.M)
LISTED_CHARS = 2_000  # of the text after "Ingredients:", this much is read


@dataclass(frozen=True)
class Recipe:
    """One recipe, in the fields the seed application expects."""

    title: str
    cuisine: str
    ingredients: tuple[str, ...]
    steps: tuple[str, ...]
    prep_time_minutes: int
    cook_time_minutes: int
    servings: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, in the field order of the fixture."""
        return {
            "title": self.title,
            "cuisine": self.cuisine,
            "ingredients": list(self.ingredients),
            "steps": list(self.steps),
            "prep_time_minutes": self.prep_time_minutes,
            "cook_time_minutes": self.cook_time_minutes,
            "servings": self.servings,
        }


def find_ingredients(prompt: str) -> list[str]:
    """The user's ingredients: an "Ingredients: …" line, else known foods mentioned anywhere.

    Lines that describe a reply format rather than name foods ("- ingredients: List of
    ingredients (array of strings)", ``"ingredients": ["..."]``) are skipped; of the other
    "Ingredients:" lines the one naming the most known foods wins, the last on a tie (the
    user's own words usually follow an app's template).
    """
    best: list[str] = []
    best_score = -1
    for match in _INGREDIENTS_RE.finditer(prompt):
        # Only MAX_INGREDIENTS are used: a megabyte-long list is not split whole.
        listed = match.group(1)[:LISTED_CHARS].split(". ")[0].strip(" .")
        if _TEMPLATE_RE.search(listed):
            continue
        found = [item for item in (_clean(i) for i in _SPLIT_RE.split(listed)) if item]
        score = sum(item in _KNOWN for item in found)
        if found and score >= best_score:
            best, best_score = found, score
    if best:
        return best[:MAX_INGREDIENTS]
    lowered = _TEMPLATE_LINE_RE.sub("", prompt).lower()
    return [food for food in VOCABULARY if re.search(rf"\b{re.escape(food)}\b", lowered)][
        :MAX_INGREDIENTS
    ]


def _clean(item: str) -> str:
    return item.strip(" .\"'`*-[]()").lower()[:40]


def find_cuisine(prompt: str) -> str | None:
    """The cuisine the prompt asks for ("Cuisine: Thai" or a known cuisine name)."""
    match = _CUISINE_RE.search(prompt)
    if match:
        return match.group(1).strip().title()
    lowered = prompt.lower()
    return next((c for c in CUISINES if c.lower() in lowered), None)


def make_recipes(prompt: str, count: int, rng: random.Random) -> list[Recipe]:
    """``count`` recipes using the prompt's ingredients (random ones if it names none)."""
    wanted = find_ingredients(prompt) or rng.sample(VOCABULARY, 3)
    cuisine = find_cuisine(prompt)
    return [make_recipe(wanted, cuisine or rng.choice(CUISINES), rng) for _ in range(count)]


def make_recipe(wanted: list[str], cuisine: str, rng: random.Random) -> Recipe:
    """One recipe with every wanted ingredient plus a few pantry ones."""
    main = rng.choice(wanted[:2])
    title = f"{rng.choice(_STYLES)} {main.title()} {rng.choice(_DISHES)}"
    extras = [p for p in rng.sample(_PANTRY, 3) if p not in wanted]
    ingredients = (*wanted, *extras)
    return Recipe(
        title=title,
        cuisine=cuisine,
        ingredients=ingredients,
        steps=tuple(_steps(list(wanted), extras, rng)),
        prep_time_minutes=rng.choice((5, 10, 15, 20, 25)),
        cook_time_minutes=rng.choice((10, 15, 20, 25, 30, 40, 45)),
        servings=rng.choice((2, 2, 3, 4, 4, 6)),
    )


def _steps(wanted: list[str], extras: list[str], rng: random.Random) -> list[str]:
    first, rest = wanted[0], wanted[1:]
    added = f"Add the {', '.join(rest)}" if rest else "Add the seasoning"
    fat = "butter" if "butter" in extras else "olive oil"
    steps = [
        f"Prepare the {first}: wash, trim and cut it into bite-sized pieces.",
        f"Heat a little {fat} in a large pan over medium heat.",
        f"Cook the {first} for {rng.randint(4, 9)} minutes until lightly browned.",
        f"{added} and cook for {rng.randint(5, 15)} minutes more.",
        "Season to taste, rest for two minutes and serve warm.",
    ]
    return steps if rng.random() < 0.5 else steps[:2] + steps[3:]


def recipe_text(recipe: Recipe) -> str:
    """A plain-text write-up of one recipe, as a chat answer would read."""
    lines = [
        f"**{recipe.title}** ({recipe.cuisine})",
        f"Serves {recipe.servings} · prep {recipe.prep_time_minutes} min · "
        f"cook {recipe.cook_time_minutes} min",
        "Ingredients: " + ", ".join(recipe.ingredients) + ".",
        *[f"{n}. {step}" for n, step in enumerate(recipe.steps, start=1)],
    ]
    return "\n".join(lines)
