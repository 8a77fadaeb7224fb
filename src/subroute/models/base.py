"""The model interface: one method, `generate`, and the record it returns.

Every call, local or served, comes back as a `Completion` carrying the text, each generated
token with its log-probability (when the backend can give it), token usage, cost and
latency. Routing decisions (the paper's confidence rule reads the alpha-quantile of the
small model's token probabilities) and accounting are built on this record alone, so a new
backend only has to fill it in.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol, TypedDict


class Message(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float

    @property
    def prob(self) -> float:
        return math.exp(self.logprob)


@dataclass(frozen=True)
class Usage:
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass
class Completion:
    """One model call: what came back and what it cost."""

    model: str
    text: str
    usage: Usage
    cost: float = 0.0
    latency_s: float = 0.0
    finish_reason: str = "stop"
    tokens: list[TokenLogprob] | None = None
    cached: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def confidence(self, alpha: float = 0.1) -> float | None:
        """The alpha-quantile of the generated tokens' probabilities (R2-Reasoner's
        difficulty signal): low when any sizeable share of tokens was uncertain.
        None when the backend gave no log-probabilities."""
        if not self.tokens:
            return None
        probs = sorted(t.prob for t in self.tokens)
        # lower quantile, nearest-rank: the value below which a share alpha of tokens lie
        k = max(0, min(len(probs) - 1, math.ceil(alpha * len(probs)) - 1))
        return probs[k]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["usage"]["total_tokens"] = self.usage.total_tokens
        d["confidence"] = self.confidence()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Completion":
        u = d["usage"]
        toks = d.get("tokens")
        return cls(
            model=d["model"],
            text=d["text"],
            usage=Usage(u["input_tokens"], u["output_tokens"]),
            cost=d.get("cost", 0.0),
            latency_s=d.get("latency_s", 0.0),
            finish_reason=d.get("finish_reason", "stop"),
            tokens=[TokenLogprob(t["token"], t["logprob"]) for t in toks] if toks else None,
            cached=d.get("cached", False),
            extra=d.get("extra", {}),
        )


@dataclass(frozen=True)
class GenerateParams:
    """Decoding parameters. Temperature 0 (greedy) is the default: evaluation is
    deterministic, and a call cache can key on these."""

    max_tokens: int = 256
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    seed: int = 0
    logprobs: bool = True


class Model(Protocol):
    """A backend: turns chat messages into a `Completion` (cost is filled in by the pool)."""

    name: str

    def generate(self, messages: list[Message], params: GenerateParams) -> Completion: ...

    def count_tokens(self, text: str) -> int | None:
        """Tokens in `text` for this model, or None when the backend cannot tell."""
        ...
