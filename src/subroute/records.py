"""The records a question travels in: an `Example` to answer (question, context, gold
answer) and its gold decomposition as `GoldStep`s.

They sit on the lowest floor because the runtime (a decomposer that reads gold steps, the
labels, the oracle) and the harness all pass them around; the benchmark's per-system
`Result` lives in `subroute.bench.records`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
