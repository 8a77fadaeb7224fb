"""Decomposers: turn a question into ordered subtasks that cite earlier answers as #1, #2.

`PromptedDecomposer` is R2-Reasoner's decomposer without training: a pool model prompted
few-shot. The shots are alternating user/assistant turns, because shared MODELS.md measured
that shots packed into one message fail on all three default models. The parser is
tolerant (``1.``, ``1)``, ``Step 1:``, ``Q1:``), and strict about meaning: a step may only
cite *earlier* steps, and there is a step limit; output that breaks either runs the
question as one step, and the reason goes into the trace. `GoldDecomposer` replays a
dataset's gold decomposition (for the oracle, and to measure allocation alone). A trained
decomposer (the training issue) implements the same one-method protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from subroute.bench.records import Example
from subroute.models.base import Completion, Message
from subroute.pool import Pool

REF = re.compile(r"#(\d+)")
_LINE = re.compile(r"^\s*(?:[-*]\s*)?(?:step|q|sub-?question)?\s*#?(\d{1,2})\s*[.):\]]\s*(.+?)\s*$", re.I)


@dataclass
class Subtask:
    index: int  # 1-based
    text: str  # may cite earlier answers as #k
    depends_on: tuple[int, ...] = ()
    type: str | None = None  # recall | synthesis, when known
    gold_answer: str | None = None
    gold_aliases: tuple[str, ...] = ()
    n_steps: int = 1  # length of the decomposition it belongs to (a feature for learned allocators)


@dataclass
class Decomposition:
    steps: list[Subtask]
    calls: list[Completion] = field(default_factory=list)
    fallback: str | None = None  # why the question runs as one step, when it does

    def __post_init__(self) -> None:
        for s in self.steps:
            s.n_steps = len(self.steps)

    @property
    def cost(self) -> float:
        return sum(c.cost for c in self.calls)


class Decomposer(Protocol):
    def decompose(self, question: str, example: Example | None = None) -> Decomposition: ...


def single_step(question: str, reason: str | None = None, calls: list[Completion] | None = None) -> Decomposition:
    return Decomposition([Subtask(1, question.strip())], calls or [], reason)


def parse_steps(text: str, *, max_steps: int = 8) -> list[Subtask]:
    """Parse numbered sub-questions; raises ValueError (with the reason) on invalid output."""
    steps: list[Subtask] = []
    for line in text.splitlines():
        m = _LINE.match(line)
        if not m:
            continue
        n, body = int(m.group(1)), m.group(2).strip()
        if n != len(steps) + 1:
            if n <= len(steps):  # the model started over or repeated itself: keep the first list
                break
            raise ValueError(f"step {n} follows step {len(steps)}")
        if not body:
            raise ValueError(f"step {n} is empty")
        refs = tuple(sorted({int(r) for r in REF.findall(body)}))
        bad = [r for r in refs if r < 1 or r >= n]
        if bad:
            raise ValueError(f"step {n} cites #{bad[0]}, which is not an earlier step")
        steps.append(Subtask(n, body, refs, "synthesis" if len(refs) >= 2 else None))
        if len(steps) > max_steps:
            raise ValueError(f"more than {max_steps} steps")
    if not steps:
        raise ValueError("no numbered steps")
    return steps


SYSTEM = (
    "Break the question into simple sub-questions, one per line, numbered 1., 2., 3. "
    "Each sub-question asks for one fact, or one comparison or calculation. Refer to the "
    "answer of an earlier sub-question as #1, #2. The last sub-question answers the whole "
    "question. A question that is already simple gets one line. Write nothing else."
)
SHOTS: list[tuple[str, str]] = [
    ("In which country is the city where the painter of The Grey Orchard was born?",
     "1. Who painted The Grey Orchard?\n2. In which city was #1 born?\n3. In which country is #2?"),
    ("Who was born earlier, Tomas Revik or Ilsa Marrow?",
     "1. In which year was Tomas Revik born?\n2. In which year was Ilsa Marrow born?\n"
     "3. Who was born earlier: Tomas Revik, born in #1, or Ilsa Marrow, born in #2?"),
    ("Where is Dunmore Bank based?", "1. Where is Dunmore Bank based?"),
    ("How old was the founder of Pellis Radio when Pellis Radio was founded?",
     "1. Who founded Pellis Radio?\n2. In which year was #1 born?\n3. In which year was Pellis Radio founded?\n"
     "4. What is #3 minus #2?"),
    ("Which river flows through the city where the company that acquired Orvane Foods is based?",
     "1. Which company acquired Orvane Foods?\n2. In which city is #1 based?\n3. Which river flows through #2?"),
]


def decompose_messages(question: str) -> list[Message]:
    msgs: list[Message] = [{"role": "system", "content": SYSTEM}]
    for q, a in SHOTS:
        msgs += [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    msgs.append({"role": "user", "content": question.strip()})
    return msgs


class PromptedDecomposer:
    """Few-shot decomposition by a pool model."""

    def __init__(self, pool: Pool, model: str | None = None, *, max_steps: int = 8, max_tokens: int = 160) -> None:
        self.model = pool[model] if model else pool.default_model
        self.max_steps = max_steps
        self.max_tokens = max_tokens

    def decompose(self, question: str, example: Example | None = None) -> Decomposition:
        c = self.model.generate(decompose_messages(question), max_tokens=self.max_tokens, logprobs=False)
        try:
            steps = parse_steps(c.text, max_steps=self.max_steps)
        except ValueError as e:
            return single_step(question, f"decomposition unparsed ({e}); ran as one step", [c])
        return Decomposition(steps, [c])


class GoldDecomposer:
    """The dataset's own decomposition; questions without one run as one step."""

    def decompose(self, question: str, example: Example | None = None) -> Decomposition:
        if example is None or not example.decomposition:
            return single_step(question, "no gold decomposition; ran as one step")
        return Decomposition([
            Subtask(i, s.question, tuple(s.depends_on), s.type, s.answer, tuple(s.aliases))
            for i, s in enumerate(example.decomposition, 1)
        ])


class SingleStepDecomposer:
    """No decomposition: the whole question is one subtask (whole-question routing)."""

    def decompose(self, question: str, example: Example | None = None) -> Decomposition:
        return single_step(question)
