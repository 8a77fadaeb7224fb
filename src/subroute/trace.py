"""What a question leaves behind: a `Trace` of `StepRecord`s, each with the `CallRecord`s it
paid for.

One record of a call serves the router's trace, the benchmark's `Result` and the server's
usage and metrics, so a figure in a report and a line in `ask`'s tree are counted from the
same numbers. A call's note says what the user would otherwise have to guess (why a program
was not used, that an answer only repeated its question, that a cut-off list was asked again).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from subroute.models.base import Completion
from subroute.pool import Pool

Role = Literal["decompose", "probe", "step", "integrate", "review", "answer"]

TRACE_VERSION = 1

ECHO_NOTE = "the answer only repeats the question"
RELIST_NOTE = "a list cut off by the token limit; asked again with {} tokens"


@dataclass
class CallRecord:
    model: str
    tier: str
    role: Role
    input_tokens: int
    output_tokens: int
    cost: float
    latency_s: float
    confidence: float | None = None
    text: str = ""
    cached: bool = False
    program: str | None = None  # a program step's expression (text is its value)
    note: str | None = None  # why a program was not used, or that the answer repeats the question
    large_share: float | None = None  # a token-routed call: the share of tokens its large model wrote

    @classmethod
    def of(cls, role: str, c: Completion, pool: Pool) -> "CallRecord":
        notes = (c.extra.get("program_error"), ECHO_NOTE if c.extra.get("echo") else None,
                 RELIST_NOTE.format(c.extra["relisted"]) if c.extra.get("relisted") else None)
        note = "; ".join(n for n in notes if n) or None
        tr = c.extra.get("tokenroute")
        return cls(c.model, pool[c.model].tier, role, c.usage.input_tokens, c.usage.output_tokens,
                   c.cost, c.latency_s, c.confidence(), c.text, c.cached, c.extra.get("program"), note,
                   round(tr["share"], 4) if tr else None)


@dataclass
class StepRecord:
    index: int
    subtask: str  # as decomposed, with #k
    query: str  # with earlier answers substituted
    depends_on: tuple[int, ...]
    type: str | None
    model: str
    tier: str
    answer: str
    confidence: float | None
    passages: int
    context_tokens: int
    calls: list[CallRecord] = field(default_factory=list)
    note: str | None = None
    gold_answer: str | None = None
    seen: list[str] = field(default_factory=list, repr=False)  # the passages' text (not written to traces)

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.calls)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("seen")
        d["cost"] = self.cost
        return d


@dataclass
class Trace:
    id: str
    question: str
    answer: str
    router: str
    steps: list[StepRecord] = field(default_factory=list)
    overhead: list[CallRecord] = field(default_factory=list)  # decomposition, integration
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    wall_s: float = 0.0
    version: int = TRACE_VERSION
    route: str = "steps"  # "steps", or "whole": the gate sent the question to the whole-question route
    route_reason: str | None = None  # why the gate chose the whole question
    context_taken: list[str] = field(default_factory=list)  # statements of the question used as its context

    @property
    def calls(self) -> list[CallRecord]:
        return [*self.overhead[:1], *(c for s in self.steps for c in s.calls), *self.overhead[1:]]

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.calls)

    @property
    def tokens(self) -> int:
        return sum(c.input_tokens + c.output_tokens for c in self.calls)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["steps"] = [s.to_dict() for s in self.steps]
        d.update(cost=self.cost, tokens=self.tokens)
        return d


def write_traces(path: str | Path, traces: list[Trace]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for t in traces:
            f.write(json.dumps(t.to_dict()) + "\n")
