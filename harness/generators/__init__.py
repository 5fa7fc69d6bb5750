"""The designs, by name: ``REGISTRY[mode](target, options)`` builds a generator."""

from __future__ import annotations

from collections.abc import Callable

from harness.gemini import Target
from harness.generators import sdk
from harness.generators.base import Generator
from harness.generators.common import GeneratorOptions
from harness.generators.concurrent import AsyncGenerator
from harness.generators.sequential import SequentialGenerator
from harness.generators.threaded import ThreadedGenerator

Factory = Callable[[Target, GeneratorOptions], Generator]

REGISTRY: dict[str, Factory] = {
    "sequential": SequentialGenerator,
    "threaded": ThreadedGenerator,
    "async": AsyncGenerator,
}
if sdk.available():
    REGISTRY["sdk"] = sdk.SdkGenerator

DEFAULT_MODES: tuple[str, ...] = ("sequential", "threaded", "async")
