"""The domain: what a user asks for and what the model answers.

(Contract stub written by the integrator; the full module -- Recipe, prompt,
JSON schema, validation, fallback recipes -- is built on top of it.)
"""

from __future__ import annotations

from dataclasses import dataclass, field

_EXAMPLES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("chicken", "rice", "garlic"), "Asian"),
    (("pasta", "tomatoes", "basil"), "Italian"),
    (("beef", "potatoes", "onion"), "American"),
    (("salmon", "rice", "ginger"), "Japanese"),
    (("chickpeas", "spinach", "cumin"), "Indian"),
    (("tortillas", "black beans", "corn"), "Mexican"),
)


@dataclass(frozen=True)
class RecipeRequest:
    """What a user asks for: ``RecipeRequest(("chicken", "rice"), "Asian")``."""

    ingredients: tuple[str, ...]
    cuisine_type: str | None = None
    dietary_preferences: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def example(cls, index: int) -> RecipeRequest:
        """A deterministic sample request, varied by ``index``."""
        ingredients, cuisine = _EXAMPLES[index % len(_EXAMPLES)]
        return cls(ingredients, cuisine)
