"""Workloads from data: prompt files and token-shaped synthetic prompts → PromptRequests.

    spec = WorkloadSpec(prompts=read_prompts(Path("scenarios/prompts.jsonl")),
                        output_tokens=parse_tokens("normal:480,240", "--output-tokens"))
    pool = spec.requests(100)      # 100 PromptRequests; request i takes pool[i % len(pool)]

Prompt files: JSONL, one object a line with ``text`` (or chat-style ``contents``) and an
optional ``max_output_tokens``; or CSV with a header, the prompt in ``--prompt-column``
(default ``prompt``) and an optional ``max_output_tokens`` column. Token counts:
``fixed:N``, ``uniform:A-B``, ``normal:MEAN,SD[,MIN,MAX]`` (rounded, clipped to
[MIN, MAX], default [1, 8192]), ``file:PATH`` (integers, one a line, drawn at random).
Every draw comes from one ``random.Random(seed)``: the same flags give the same requests.
"""

from __future__ import annotations

import csv
import io
import json
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from harness.errors import ConfigError
from harness.gemini.prompt import PromptRequest
from harness.run import limits

Order = Literal["sequential", "random"]
ORDERS: tuple[Order, ...] = ("sequential", "random")
DATA_KEYS = (  # a scenario's [workload] keys for a data workload
    *("prompts", "prompt_column", "prompt_order", "prompt_seed"),
    *("prompt_tokens", "output_tokens"),
)
MAX_TOKENS_DRAWN = 8192
MAX_PROMPTS = 100_000
MAX_FILE_BYTES = 64 * 1024 * 1024  # a prompt or token file is read whole
_WORDS = ("the", "red", "cat", "sat", "on", "a", "mat", "and", "ate", "two", "figs")


@dataclass(frozen=True)
class TokenDist:
    """A distribution of token counts; ``values`` holds a ``file:`` distribution's numbers."""

    spec: str
    kind: str
    params: tuple[float, ...] = ()
    values: tuple[int, ...] = ()

    def draw(self, rng: random.Random) -> int:
        p = self.params
        if self.kind == "fixed":
            return int(p[0])
        if self.kind == "uniform":
            return rng.randint(int(p[0]), int(p[1]))
        if self.kind == "normal":
            return int(min(max(round(rng.gauss(p[0], p[1])), p[2]), p[3]))
        return rng.choice(self.values)


def parse_tokens(text: str, flag: str) -> TokenDist:
    """``fixed:N`` | ``uniform:A-B`` | ``normal:MEAN,SD[,MIN,MAX]`` | ``file:PATH``."""
    kind, _, rest = text.partition(":")
    if kind == "file":
        return TokenDist(text, "file", (), _token_file(Path(rest), flag))
    shapes: dict[str, tuple[str, Callable[[str], list[str]]]] = {
        "fixed": ("fixed:N", lambda r: [r]),
        "uniform": ("uniform:A-B", lambda r: r.split("-")),
        "normal": ("normal:MEAN,SD[,MIN,MAX]", lambda r: r.split(",")),
    }
    if kind not in shapes:
        raise ConfigError(
            f"{flag} {text!r}: expected fixed:N, uniform:A-B, normal:MEAN,SD or file:PATH"
        )
    usage, split = shapes[kind]
    try:
        numbers = tuple(float(part) for part in split(rest))
    except ValueError:
        numbers = ()
    params = _checked(kind, numbers)
    if params is None:
        raise ConfigError(f"{flag} {text!r}: expected {usage} with token counts >= 1")
    return TokenDist(text, kind, params)


def _checked(kind: str, n: tuple[float, ...]) -> tuple[float, ...] | None:
    if not n or not all(math.isfinite(v) for v in n):
        return None
    if kind == "fixed" and len(n) == 1 and 1 <= n[0] <= MAX_TOKENS_DRAWN:
        return n
    if kind == "uniform" and len(n) == 2 and 1 <= n[0] <= n[1] <= MAX_TOKENS_DRAWN:
        return n
    if kind == "normal" and len(n) in (2, 4):
        full = n if len(n) == 4 else (*n, 1.0, float(MAX_TOKENS_DRAWN))
        if full[1] >= 0 and 1 <= full[2] <= full[3] <= MAX_TOKENS_DRAWN:
            return full
    return None


def _token_file(path: Path, flag: str) -> tuple[int, ...]:
    lines = [line.strip() for line in _read(path, flag).splitlines() if line.strip()]
    try:
        values = tuple(int(line) for line in lines)
    except ValueError:
        values = ()
    if not values or not all(1 <= v <= MAX_TOKENS_DRAWN for v in values):
        raise ConfigError(f"{flag} file:{path}: expected integers 1–{MAX_TOKENS_DRAWN}, one a line")
    return values


def _read(path: Path, flag: str) -> str:
    try:
        if not path.is_file():
            raise ConfigError(f"{flag} {path}: not a file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise ConfigError(f"{flag} {path}: larger than {MAX_FILE_BYTES:,} bytes")
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{flag} {path}: cannot read: {reason}") from None


def read_prompts(
    path: Path, column: str = "prompt", flag: str = "--prompts"
) -> tuple[PromptRequest, ...]:
    """The prompt file's requests, in file order; a bad line is one error naming it."""
    text = _read(path, flag)
    rows = (
        _csv_rows(text, path, column, flag)
        if path.suffix.lower() == ".csv"
        else _jsonl_rows(text, path, flag)
    )
    if not rows:
        raise ConfigError(f"{flag} {path}: holds no prompt")
    if len(rows) > MAX_PROMPTS:
        raise ConfigError(f"{flag} {path}: {len(rows):,} prompts; at most {MAX_PROMPTS:,}")
    return tuple(rows)


def _jsonl_rows(text: str, path: Path, flag: str) -> list[PromptRequest]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            obj = None
        rows.append(_prompt(obj, f"{flag} {path}:{number}"))
    return rows


def _prompt(obj: Any, where: str) -> PromptRequest:
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: expected a JSON object with 'text' or 'contents'")
    tokens = _max_tokens(obj.get("max_output_tokens"), where)
    if isinstance(obj.get("text"), str) and obj["text"]:
        return PromptRequest(text=obj["text"], max_output_tokens=tokens)
    contents = obj.get("contents")
    if isinstance(contents, list) and contents and all(isinstance(c, dict) for c in contents):
        return PromptRequest(contents_json=json.dumps(contents), max_output_tokens=tokens)
    raise ConfigError(f"{where}: expected a non-empty 'text' string or a 'contents' list")


def _max_tokens(value: Any, where: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        tokens = int(value)
    except (TypeError, ValueError):
        tokens = 0
    if isinstance(value, bool) or not 1 <= tokens <= limits.MAX_OUTPUT_TOKENS:
        raise ConfigError(
            f"{where}: max_output_tokens: expected 1–{limits.MAX_OUTPUT_TOKENS}, got {value!r}"
        )
    return tokens


def _csv_rows(text: str, path: Path, column: str, flag: str) -> list[PromptRequest]:
    reader = csv.DictReader(io.StringIO(text))
    if column not in (reader.fieldnames or []):
        shown = ", ".join(reader.fieldnames or []) or "none"
        raise ConfigError(f"--prompt-column {column!r}: not a column of {path} (columns: {shown})")
    rows = []
    for number, row in enumerate(reader, 2):
        where = f"{flag} {path}:{number}"
        if not (row.get(column) or "").strip():
            raise ConfigError(f"{where}: column {column!r} is empty")
        rows.append(
            PromptRequest(
                text=row[column], max_output_tokens=_max_tokens(row.get("max_output_tokens"), where)
            )
        )
    return rows


def synthetic_text(tokens: int) -> str:
    """A prompt of ``tokens`` tokens by the 4-characters-a-token rule (3 letters + a space)."""
    words = (_WORDS[i % len(_WORDS)].ljust(3, "s") for i in range(tokens))
    return " ".join(words)


@dataclass(frozen=True)
class WorkloadSpec:
    """A data workload: file prompts or synthetic ones, their order, and the token shapes."""

    prompts: tuple[PromptRequest, ...] = ()
    source: str | None = None  # the prompt file, as given
    order: Order = "sequential"
    seed: int = 0
    prompt_tokens: TokenDist | None = None
    output_tokens: TokenDist | None = None

    def requests(self, count: int) -> tuple[PromptRequest, ...]:
        """``count`` requests: the file's rows in order or drawn at random, token shapes applied."""
        rng = random.Random(self.seed)
        out = []
        for index in range(max(count, 1)):
            out.append(self._one(index, rng))
        return tuple(out)

    def _one(self, index: int, rng: random.Random) -> PromptRequest:
        if self.prompts:
            pick = (
                rng.randrange(len(self.prompts))
                if self.order == "random"
                else index % len(self.prompts)
            )
            base = self.prompts[pick]
        else:
            tokens = self.prompt_tokens.draw(rng) if self.prompt_tokens else 16
            base = PromptRequest(text=synthetic_text(tokens))
        if self.output_tokens is not None:
            return PromptRequest(base.text, base.contents_json, self.output_tokens.draw(rng))
        return base

    def describe(self) -> dict[str, Any]:
        return {
            "prompts_file": self.source,
            "prompts": len(self.prompts) if self.prompts else None,
            "order": self.order,
            "seed": self.seed,
            "prompt_tokens": self.prompt_tokens.spec if self.prompt_tokens else None,
            "output_tokens": self.output_tokens.spec if self.output_tokens else None,
        }


def workload_spec(
    *,
    prompts_file: str | None,
    column: str,
    order: str,
    seed: int,
    prompt_tokens: str | None,
    output_tokens: str | None,
) -> WorkloadSpec | None:
    """The data workload the flags (or a scenario's keys) ask for; None: the recipe workload."""
    if prompts_file is None and prompt_tokens is None and output_tokens is None:
        return None
    if prompts_file is not None and prompt_tokens is not None:
        raise ConfigError(
            "--prompt-tokens: not with --prompts (the file's prompts have their length)"
        )
    chosen = next((o for o in ORDERS if o == order), None)
    if chosen is None:
        raise ConfigError(f"--prompt-order {order!r}: expected sequential or random")
    return WorkloadSpec(
        prompts=read_prompts(Path(prompts_file), column) if prompts_file else (),
        source=prompts_file,
        order=chosen,
        seed=seed,
        prompt_tokens=parse_tokens(prompt_tokens, "--prompt-tokens") if prompt_tokens else None,
        output_tokens=parse_tokens(output_tokens, "--output-tokens") if output_tokens else None,
    )


def workload_from_table(table: Mapping[str, Any], path: Path) -> WorkloadSpec | None:
    """A scenario's data workload; ``prompts`` and ``file:`` paths are relative to ``path``."""
    text = {k: table[k] for k in DATA_KEYS if k in table and k != "prompt_seed"}
    for key, value in text.items():
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: workload.{key}: expected a non-empty string, got {value!r}")
    seed = table.get("prompt_seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"{path}: workload.prompt_seed: expected an integer >= 0, got {seed!r}")
    prompts = text.get("prompts")
    try:
        return workload_spec(
            prompts_file=str(path.parent / prompts) if prompts else None,
            column=text.get("prompt_column", "prompt"),
            order=text.get("prompt_order", "sequential"),
            seed=seed,
            prompt_tokens=_beside(text.get("prompt_tokens"), path),
            output_tokens=_beside(text.get("output_tokens"), path),
        )
    except ConfigError as exc:
        raise ConfigError(f"{path}: [workload]: {exc}") from None


def _beside(dist: str | None, path: Path) -> str | None:
    if dist is None or not dist.startswith("file:"):
        return dist
    return f"file:{path.parent / dist[len('file:') :]}"
