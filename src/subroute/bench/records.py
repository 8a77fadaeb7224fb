"""The records the benchmark passes around: an `Example` to answer, the `Call`s a system
made, and the `Result` of one system on one example.

Every system (single models, baselines, the routed pipeline, the oracle) reports through
these, so accounting is uniform: a result's cost is the sum of *all* its calls
(decomposition, confidence probes, steps, reviews, integration); nothing the router does
is free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Role = Literal["decompose", "probe", "step", "integrate", "review", "answer"]


@dataclass(frozen=True)
class GoldStep:
    """One hop of a gold decomposition; `question` cites earlier answers as #1, #2."""

    question: str
    answer: str
    type: str = "recall"  # recall | synthesis
    depends_on: tuple[int, ...] = ()  # 1-based indices of earlier steps
    aliases: tuple[str, ...] = ()
    answer_set: tuple[str, ...] | None = None  # when the step's answer is a set


@dataclass
class Example:
    id: str
    question: str
    answer: str
    aliases: list[str] = field(default_factory=list)
    answer_set: list[str] | None = None  # for set-valued answers
    context: str | None = None
    decomposition: list[GoldStep] | None = None
    meta: dict[str, Any] = field(default_factory=dict)  # hops, shape, kind, source, seed


@dataclass
class Call:
    """One model call made by a system while answering an example."""

    model: str
    tier: str
    role: Role
    input_tokens: int
    output_tokens: int
    cost: float
    latency_s: float
    cached: bool = False


@dataclass
class Result:
    """One system's answer to one example, with everything it cost."""

    system: str  # "router", "direct:qwen-1.5b", "cascade@0.60", "oracle", ...
    family: str  # curve grouping: "router", "cascade", "direct", "oracle", ...
    example_id: str
    prediction: str
    correct: bool  # normalized exact match over aliases (set F1 == 1 for set answers)
    f1: float
    calls: list[Call] = field(default_factory=list)
    param: float | None = None  # the swept threshold, for curve points
    hops_correct: list[bool] | None = None  # per gold hop, when the system ran gold-aligned steps
    error: str | None = None  # set when the system failed on this example (it still counts as wrong)
    trace_id: str | None = None

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.calls)

    @property
    def input_tokens(self) -> int:
        return sum(c.input_tokens for c in self.calls)

    @property
    def output_tokens(self) -> int:
        return sum(c.output_tokens for c in self.calls)

    @property
    def latency_s(self) -> float:
        return sum(c.latency_s for c in self.calls)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(cost=self.cost, input_tokens=self.input_tokens, output_tokens=self.output_tokens,
                 latency_s=self.latency_s)
        return d
