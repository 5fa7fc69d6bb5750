"""Latency distributions and the timing plan of one generated answer.

A ``Distribution`` is a seeded model of time to first token; ``plan_generation`` turns it,
the output speed and the token counts into the waits the server performs::

    dist = parse_distribution("lognormal:median=0.5,sigma=0.4")
    plan = plan_generation(dist, tokens_per_s=50, output_tokens=100, thinking_tokens=0,
                           rng=random.Random(0))
    # plan.ttft_s, then plan.chunks = [(0.0, 3), (0.4, 20), ...], plan.total_s
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mock_gemini.config_error import MockConfigError, format_number, parse_number

# Parameter names per kind, in spec order.
_PARAMS: dict[str, tuple[str, ...]] = {
    "fixed": ("seconds",),
    "uniform": ("low", "high"),
    "normal": ("mean", "std"),
    "lognormal": ("median", "sigma"),
    "exponential": ("mean",),
    "pareto": ("scale", "alpha"),
}

FIRST_CHUNK_TOKENS = 3
LATER_CHUNK_TOKENS = 20


@dataclass(frozen=True)
class Distribution:
    """A non-negative random duration in seconds.

    >>> Distribution("uniform", {"low": 0.2, "high": 0.8}).median_s()
    0.5
    """

    kind: str
    params: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = _PARAMS.get(self.kind)
        if names is None:
            raise MockConfigError(
                f"unknown latency distribution {self.kind!r} (known: {', '.join(_PARAMS)})"
            )
        if set(self.params) != set(names):
            raise MockConfigError(
                f"latency distribution {self.kind!r} takes {', '.join(names)}; "
                f"got {', '.join(sorted(self.params)) or 'nothing'}"
            )
        # A plain dict in spec order (not a MappingProxy) so configs pickle and deepcopy.
        ordered = {name: _as_float(self.params[name], self.kind, name) for name in names}
        object.__setattr__(self, "params", ordered)
        _check_params(self.kind, ordered)

    def __hash__(self) -> int:
        return hash((self.kind, tuple(self.params.items())))

    @classmethod
    def fixed(cls, seconds: float) -> Distribution:
        """Always ``seconds``: ``Distribution.fixed(0.5).sample(rng) == 0.5``."""
        return cls("fixed", {"seconds": seconds})

    def sample(self, rng: random.Random) -> float:
        """One draw in seconds, never negative; uses ``rng`` only (reproducible per seed)."""
        return max(0.0, _SAMPLERS[self.kind](self.params, rng))

    def median_s(self) -> float:
        """Analytic median in seconds."""
        return _MEDIANS[self.kind](self.params)

    def mean_s(self) -> float:
        """Analytic mean in seconds (``inf`` for a Pareto with alpha ≤ 1)."""
        return _MEANS[self.kind](self.params)

    def spec(self) -> str:
        """The spec string ``parse_distribution`` reads back: "lognormal:median=0.5,sigma=0.4"."""
        if self.kind == "fixed":
            return f"fixed:{format_number(self.params['seconds'])}"
        body = ",".join(f"{k}={format_number(v)}" for k, v in self.params.items())
        return f"{self.kind}:{body}"


def _as_float(value: object, kind: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise MockConfigError(
            f"latency distribution {kind!r}: {name} must be a number, got {value!r}"
        )
    return float(value)


def _check_params(kind: str, p: Mapping[str, float]) -> None:
    where = f"latency distribution {kind!r}"
    for name, value in p.items():
        if not math.isfinite(value) or value < 0:
            raise MockConfigError(f"{where}: {name} must be ≥ 0, got {value}")
    if kind == "uniform" and p["low"] > p["high"]:
        raise MockConfigError(f"{where}: low must be ≤ high, got {p['low']} > {p['high']}")
    if kind == "pareto" and (p["scale"] <= 0 or p["alpha"] <= 0):
        raise MockConfigError(f"{where}: scale and alpha must be > 0, got {dict(p)}")


def _normal_clamped_mean(mu: float, sd: float) -> float:
    # Mean of max(0, X) for X ~ N(mu, sd): mu·Φ(mu/sd) + sd·φ(mu/sd).
    if sd == 0:
        return max(0.0, mu)
    z = mu / sd
    cdf = 0.5 * (1 + math.erf(z / math.sqrt(2)))
    pdf = math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    return mu * cdf + sd * pdf


def _exponential(p: Mapping[str, float], rng: random.Random) -> float:
    return rng.expovariate(1 / p["mean"]) if p["mean"] > 0 else 0.0


def _lognormal(p: Mapping[str, float], rng: random.Random) -> float:
    return rng.lognormvariate(math.log(p["median"]), p["sigma"]) if p["median"] > 0 else 0.0


_Params = Mapping[str, float]
_SAMPLERS: dict[str, Callable[[_Params, random.Random], float]] = {
    "fixed": lambda p, rng: p["seconds"],
    "uniform": lambda p, rng: rng.uniform(p["low"], p["high"]),
    "normal": lambda p, rng: rng.gauss(p["mean"], p["std"]),
    "lognormal": _lognormal,
    "exponential": _exponential,
    "pareto": lambda p, rng: p["scale"] * rng.paretovariate(p["alpha"]),
}
_MEDIANS: dict[str, Callable[[_Params], float]] = {
    "fixed": lambda p: p["seconds"],
    "uniform": lambda p: (p["low"] + p["high"]) / 2,
    "normal": lambda p: max(0.0, p["mean"]),
    "lognormal": lambda p: p["median"],
    "exponential": lambda p: p["mean"] * math.log(2),
    "pareto": lambda p: p["scale"] * 2 ** (1 / p["alpha"]),
}
_MEANS: dict[str, Callable[[_Params], float]] = {
    "fixed": lambda p: p["seconds"],
    "uniform": lambda p: (p["low"] + p["high"]) / 2,
    "normal": lambda p: _normal_clamped_mean(p["mean"], p["std"]),
    "lognormal": lambda p: p["median"] * math.exp(p["sigma"] ** 2 / 2),
    "exponential": lambda p: p["mean"],
    "pareto": lambda p: math.inf if p["alpha"] <= 1 else p["alpha"] * p["scale"] / (p["alpha"] - 1),
}


def parse_distribution(spec: str) -> Distribution:
    """Parse a latency spec; bad input raises MockConfigError naming the spec.

    >>> parse_distribution("0.5") == parse_distribution("fixed:0.5") == Distribution.fixed(0.5)
    True
    >>> parse_distribution("pareto:scale=0.3,alpha=2.5").median_s()  # doctest: +ELLIPSIS
    0.39...
    """
    try:
        return _parse(spec.strip())
    except MockConfigError as exc:
        raise MockConfigError(f"latency {spec!r}: {exc}") from None


def _parse(text: str) -> Distribution:
    kind, sep, body = text.partition(":")
    if not sep:
        return Distribution.fixed(parse_number(kind, "seconds"))
    kind = kind.strip().lower()
    if kind == "fixed" and "=" not in body:
        return Distribution.fixed(parse_number(body, "seconds"))
    params: dict[str, float] = {}
    for item in filter(None, (part.strip() for part in body.split(","))):
        name, eq, value = item.partition("=")
        if not eq:
            raise MockConfigError(f"expected NAME=VALUE, got {item!r}")
        params[name.strip()] = parse_number(value, name.strip())
    return Distribution(kind, params)


@dataclass(frozen=True)
class GenerationPlan:
    """The waits of one answer.

    ``ttft_s`` is the wait before the first chunk: sampled latency, thinking time and the
    first chunk's own tokens. Each later chunk waits ``delay_s`` after the previous one, so
    ``ttft_s + sum(delays) == total_s``. A non-streamed answer waits ``total_s`` at once.
    """

    ttft_s: float
    chunks: list[tuple[float, int]]
    total_s: float


def split_tokens(output_tokens: int) -> list[int]:
    """Chunk sizes: about 3 tokens first, then 20 each; at least one (possibly empty) chunk.

    >>> split_tokens(45)
    [3, 20, 20, 2]
    """
    sizes = [min(FIRST_CHUNK_TOKENS, output_tokens)]
    left = output_tokens - sizes[0]
    while left > 0:
        sizes.append(min(LATER_CHUNK_TOKENS, left))
        left -= sizes[-1]
    return sizes


def plan_generation(
    config_latency: Distribution,
    tokens_per_s: float,
    output_tokens: int,
    thinking_tokens: int,
    rng: random.Random,
    slow_factor: float = 1.0,
) -> GenerationPlan:
    """Plan one answer; ``slow_factor`` (a brownout) multiplies every wait.

    ``tokens_per_s == 0`` means generation (and thinking) takes no time.

    >>> plan = plan_generation(Distribution.fixed(1.0), 4, 23, 0, random.Random(0))
    >>> plan.ttft_s, plan.chunks, plan.total_s
    (1.75, [(0.0, 3), (5.0, 20)], 6.75)
    """
    if tokens_per_s < 0 or not math.isfinite(tokens_per_s):
        raise MockConfigError(f"tokens_per_s must be ≥ 0, got {tokens_per_s}")
    if output_tokens < 0 or thinking_tokens < 0:
        raise ValueError(f"token counts must be ≥ 0, got {output_tokens}, {thinking_tokens}")
    if slow_factor <= 0:
        raise ValueError(f"slow_factor must be > 0, got {slow_factor}")
    per_token_s = slow_factor / tokens_per_s if tokens_per_s > 0 else 0.0
    sizes = split_tokens(output_tokens)
    latency_s = config_latency.sample(rng) * slow_factor
    ttft_s = latency_s + (thinking_tokens + sizes[0]) * per_token_s
    chunks = [(0.0, sizes[0])] + [(n * per_token_s, n) for n in sizes[1:]]
    total_s = latency_s + (thinking_tokens + output_tokens) * per_token_s
    return GenerationPlan(ttft_s=ttft_s, chunks=chunks, total_s=total_s)
