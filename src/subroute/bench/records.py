"""The benchmark's record of one system on one example: a `Result`, with every call it made.

Every system (single models, baselines, the routed pipeline, the oracle) reports through
it, so accounting is uniform: a result's cost is the sum of *all* its calls
(decomposition, confidence probes, steps, reviews, integration), each a
`subroute.trace.CallRecord` as the router's own trace keeps them; nothing the router does
is free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from subroute.trace import CallRecord


@dataclass
class Result:
    """One system's answer to one example, with everything it cost."""

    system: str  # "router", "direct:qwen-1.5b", "cascade@0.60", "oracle", ...
    family: str  # curve grouping: "router", "cascade", "direct", "oracle", ...
    example_id: str
    prediction: str
    correct: bool  # normalized exact match over aliases (set F1 == 1 for set answers)
    f1: float
    calls: list[CallRecord] = field(default_factory=list)
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
