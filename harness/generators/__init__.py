"""The designs, by name: ``REGISTRY[mode](target, options)`` builds a generator.

The registry knows every design's name without importing it (so ``--help`` stays fast);
a design's module (aiohttp, requests, google-genai) is imported when it is first built::

    generator = REGISTRY["async"](target, GeneratorOptions(cap=20))
    "sdk" in REGISTRY        # True when google-genai is installed

A new design is one module under ``harness/generators/`` and one line in :data:`_FACTORIES`.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.gemini import Target
    from harness.generators.base import Generator
    from harness.generators.common import GeneratorOptions

    Factory = Callable[[Target, GeneratorOptions], Generator]

# mode → (module, class): imported on first use
_FACTORIES: dict[str, tuple[str, str]] = {
    "sequential": ("harness.generators.sequential", "SequentialGenerator"),
    "threaded": ("harness.generators.threaded", "ThreadedGenerator"),
    "async": ("harness.generators.concurrent", "AsyncGenerator"),
    "sdk": ("harness.generators.protocols", "sdk_generator"),  # google-genai or openai
}
DEFAULT_MODES: tuple[str, ...] = ("sequential", "threaded", "async")


def _sdk_available() -> bool:
    """True when ``google-genai`` can be imported (checked without importing it)."""
    try:
        return importlib.util.find_spec("google.genai") is not None
    except ModuleNotFoundError:
        return False


class _Registry(Mapping[str, "Factory"]):
    """A read-only mapping mode → generator class, importing each design when asked."""

    def __init__(self) -> None:
        self._names = [m for m in _FACTORIES if m != "sdk" or _sdk_available()]

    def __getitem__(self, mode: str) -> Factory:
        if mode not in self._names:
            raise KeyError(mode)
        module, name = _FACTORIES[mode]
        factory: Any = getattr(importlib.import_module(module), name)
        return factory

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


REGISTRY: Mapping[str, Factory] = _Registry()
