"""The gate: route a question by steps, or route it whole.

A router earns its place only if it is never worse than the coarser choice, routing the
whole question, on the user's own questions. Splitting pays when the steps are the
question's own hops; when the decomposer has not understood the question (a word problem,
facts it tries to split as if they were asked, a relation the question never names), every
step is a wrong question, the small models answer it confidently, and the router pays more
for a worse answer than one model would give. So before a step runs, the gate reads what
the decomposition shows cheaply, and it reads each step's answer before the next one
runs. Any of these sends the question to the whole-question route (a cascade over the
whole question and its whole context, as `cascade@t` runs it):

before the decomposer (nothing spent)
- there is no context at all (no documents, no statements in the question): a step would
  be a lookup in nothing, answered from a small model's memory, while the whole question
  keeps whatever the message says;
- the whole context fits in one step's passage budget: every step would read all of it, so
  splitting saves nothing on reading and adds a prompt per step, and the small models gain
  no focus from a passage that is the whole context;

before the steps (the decomposer's call is the only money spent)
- the decomposer is unsure of its steps: the 0.1-quantile of its tokens' probabilities is
  under `DECOMPOSER_CONFIDENCE`. The trained decomposer writes the questions it was trained
  on almost surely and falters on wording it has not seen, which is where its steps go wrong;
- a step names a name or a number the question does not (the decomposer invented it);
- a step restates the instructions (a name, a number, a year, "sub-question", "Context:");

after a step (what was spent stays on the bill, and the trace says so)
- its answer is the instruction text, not an answer;
- a lookup's answer names nothing in the passages it was given (small models answer from
  their passage: an answer from nowhere is a guess).

A question routed whole that asks for a number and gives two or more numbers (in it or in
its short context, in digits or in words) is asked as one program (`program_text`): the
model writes a Python expression over the numbers, which is evaluated safely, as program
steps are; an expression that does not evaluate falls back to a plain answer, billed for
both. Where the question writes out the arithmetic it asks for ("Calculate 415 * 336 -
590."), that is evaluated as written and no model is asked (`program.stated_arithmetic`).

A learned route policy (`learned.RoutePolicy`, trained by `subroute train routes` on labels
of which route answered right most cheaply) adds two decisions over `route_features`, which
cost nothing but the decomposer's call: whether steps that passed the checks above are
still dearer than the whole question (its ``split`` head), and whether a question routed
whole that asks for a number goes as one program or as a plain answer (its ``program``
head). Without a policy, the rules alone decide and every such question is a program.

What the gate does not do: judge whether a question *could* be split better (that is the
decomposer's job), or spend a model call to decide.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from subroute.allocate import Allocator, CascadeAllocator
from subroute.decompose import REF, Decomposition, is_synthesis
from subroute.program import asks_day, asks_pick, count_numbers, numbers_in, quotes_text
from subroute.retrieve import approx_tokens
from subroute.scoring import normalize
from subroute.trace import StepRecord

if TYPE_CHECKING:
    from subroute.learned import RoutePolicy

# Capitalised words after the first of a step, and numbers: what a step claims the question is about.
_TOKEN = re.compile(r"[A-Z][\w'’-]*|\d+(?:[.,]\d+)?")
_WORD = re.compile(r"[^\W_][\w'’-]*")
# Words that start a question or are capitalised in any English sentence: not names.
_NOT_NAMES = {
    "what", "which", "who", "whom", "whose", "where", "when", "why", "how", "is", "are", "was", "were", "did", "do",
    "does", "in", "on", "at", "of", "for", "from", "to", "by", "with", "the", "a", "an", "and", "or", "if", "i",
    "name", "list", "give", "find", "compute", "calculate", "count", "has", "have", "had", "can", "could",
    "would", "will", "between", "among", "after", "before", "since", "answer",
}
_INSTRUCTION = re.compile(r"a name, a number|short phrase|no explanation|sub-?questions?\b|reply with|"
                          r"\bcontext\s*:|\bquestion\s*:|cite earlier answers|answer only", re.I)
_SMALL_ANSWERS = {"yes", "no", "true", "false", "none", "unknown"}

# The shipped decomposer's confidence (0.1-quantile token probability) below which its steps
# are not trusted. Measured with `python benchmarks/bench_gate.py`: on DecompBench (worlds 7
# and 300, 48 questions of 2-5 hops each) 2 of 96 fell below 0.85, the quartiles all 0.99; on
# the hand-written external sets (facts inline, multi-hop notes) 29 of 46 with context did,
# median 0.63-0.66.
DECOMPOSER_CONFIDENCE = 0.85


@dataclass
class GateCheck:
    """Why a question leaves the route by steps (empty: it stays)."""

    reasons: list[str] = field(default_factory=list)

    @property
    def whole(self) -> bool:
        return bool(self.reasons)


def _names_and_numbers(text: str) -> list[str]:
    text = REF.sub(" ", text)
    words = _WORD.findall(text)
    first = words[0] if words else ""
    out = []
    for m in _TOKEN.finditer(text):
        tok = m.group(0).strip("'’-")
        if not tok or tok.lower() in _NOT_NAMES or (tok == first and not tok[0].isdigit()):
            continue
        out.append(tok)
    return out


def ungrounded(step_text: str, source: str) -> list[str]:
    """Names and numbers of a step that the question (`source`: the message as sent) never writes."""
    have = set(normalize(source).split()) | {w.lower() for w in _WORD.findall(source)}
    return [t for t in _names_and_numbers(step_text)
            if normalize(t) and not set(normalize(t).split()) <= have and t.replace(",", "") not in source]


class Gate:
    """The split-or-not checks, and the whole-question route they send a question to
    (`whole`, an allocator over the one step that is the whole question); `Reasoner` runs
    them (see the module docstring)."""

    def __init__(self, whole: Allocator, *, min_confidence: float = DECOMPOSER_CONFIDENCE,
                 policy: "RoutePolicy | None" = None) -> None:
        self.whole = whole
        self.min_confidence = min_confidence
        self.policy = policy

    @classmethod
    def at(cls, threshold: float, policy: "RoutePolicy | None" = None) -> "Gate":
        """The gate of the router at threshold t: its whole-question route is the cascade at
        t, keeping the surest answer it paid for where none clears t (on the 96 training
        questions of reasoning-gym seed 1: 52 right against 47 keeping the largest model's,
        at the same cost; on 48 DecompBench questions of world 150, facts stated inline, 37
        either way)."""
        return cls(CascadeAllocator(threshold, surest=True), policy=policy)

    def up_front(self, context: str | None, step_budget: int) -> GateCheck:
        """Checks before anything is spent: a question with no context, or with one that a
        single step would read whole (`step_budget` tokens), is routed whole."""
        check = GateCheck()
        if context is None or not context.strip():
            check.reasons.append("no context to look the steps up in")
        elif (n := approx_tokens(context)) <= step_budget:
            check.reasons.append(f"the whole context ({n} tokens) fits in one step's {step_budget}")
        return check

    def before(self, message: str, decomposition: Decomposition, *, question: str | None = None,
               context: str | None = None) -> GateCheck:
        """Checks of the steps against the message as sent (statements included); then, if
        they pass and a route policy is loaded, its ``split`` head over `route_features` of
        the question (`question`, else the message) and its `context`."""
        check = GateCheck()
        if decomposition.fallback:  # ran as one step already: nothing to gate
            return check
        conf = decomposition.confidence
        if conf is not None and conf < self.min_confidence:
            check.reasons.append(f"the decomposer is unsure of its steps (confidence {conf:.2f} < "
                                 f"{self.min_confidence:g})")
            return check
        for s in decomposition.steps:
            if _INSTRUCTION.search(s.text):
                check.reasons.append(f"step {s.index} restates the instructions")
                continue
            missing = ungrounded(s.text, message)
            if missing:
                shown = ", ".join(f"'{t}'" for t in missing[:3])
                check.reasons.append(f"step {s.index} names {shown}, which the question does not")
        if not check.whole and self.policy is not None:
            f = route_features(question or message, context, decomposition, message=message)
            p = self.policy.prob("split", f)
            if p is not None and p < self.policy.threshold("split"):
                check.reasons.append(f"the route policy expects the whole question to be cheaper (p(steps) {p:.2f})")
        return check

    def as_program(self, question: str, context: str | None, *, max_tokens: int) -> tuple[str | None, str | None]:
        """The whole question as one program step's text (`program_text`), unless the route
        policy's ``program`` head expects a plain answer to be right more cheaply; and a note
        when it overrode the program."""
        text = program_text(question, context, max_tokens=max_tokens)
        if text is None or self.policy is None:
            return text, None
        p = self.policy.prob("program", route_features(question, context))
        if p is not None and p < self.policy.threshold("program"):
            return None, f"asked plainly, not as a program: the route policy expects that cheaper (p(program) {p:.2f})"
        return text, None

    def after(self, rec: StepRecord) -> GateCheck:
        """Checks of one step's accepted answer against the passages it was given (`rec.seen`)."""
        check = GateCheck()
        answer = rec.answer.strip()
        if not answer or not rec.calls:  # computed, reused or empty: nothing a model said to check
            return check
        if _INSTRUCTION.search(answer):
            check.reasons.append(f"step {rec.index}'s answer is the instruction text")
            return check
        if rec.seen and not is_synthesis(rec.type, rec.depends_on) and not grounded(answer, rec.seen):
            check.reasons.append(f"step {rec.index}'s answer '{answer[:40]}' names nothing in its passages")
        return check


def grounded(answer: str, passages: list[str]) -> bool:
    """Whether an answer shares a word with its passages (numbers and yes/no always do)."""
    words = [w for w in normalize(answer).split() if w]
    if not words or all(w in _SMALL_ANSWERS or w.replace(".", "").isdigit() for w in words):
        return True
    text = set(normalize(" ".join(passages)).split())
    return any(w in text for w in words)


# a question that asks for a number: how many/much, a value, sum or product, an expression to
# evaluate ("What is 3 + 4?", "... 12 * 7 = ?"), an equation to solve for a variable
_ASKS_NUMBER = re.compile(r"\bhow (?:many|much|old|long|far)\b|\bduration\b|"
                          r"\bwhat is the (?:value|sum|total|difference|product)\b|"
                          r"\b(?:calculate|compute|evaluate|work out)\b|\b(?:find|determine|give) the value\b|"
                          r"\b(?:what|which) year\b|"
                          r"\bsolve for [a-z]\b|\bwhat is \(?-?\d[\d.,]*\s*[-+*/×÷^]|"
                          r"\d\s*[-+*/×÷^)]\s*\(?-?\d[^=?]*=\s*\??\s*$|\b(?:sum|product|multiplication|division) of\b|"
                          r"\bsolve the following (?:multiplication|division|addition|subtraction|arithmetic)\b",
                          re.I | re.M)


def program_text(question: str, context: str | None, *, max_tokens: int) -> str | None:
    """The whole question as one program step's text (its context before it), when it asks
    for a number, or picks one of the things it states by a comparison (`asks_pick`), and
    states two numbers or more (`count_numbers`: digits or number words), or quotes a text it
    asks about, and the context is short enough to write out in the step
    (`max_tokens`); else None."""
    text = f"{context.strip()} {question.strip()}" if context and context.strip() else question.strip()
    # "Solve the following multiplication: 205 * 838. Give only the result.": where the last
    # sentence is an instruction, not a question, the request sits before it
    asks = _ASKS_NUMBER.search(question) or (not question.rstrip().endswith("?") and _ASKS_NUMBER.search(text))
    if not (asks or asks_pick(question) or asks_day(question)):
        return None
    if (count_numbers(text) < 2 and not quotes_text(question)) or approx_tokens(text) > max_tokens:
        return None
    return " ".join(text.split())


_CLAUSE = re.compile(r"\b(?:of|whose|who|whom|which|that|where|when)\b|['’]s\b", re.I)
_OPERATOR = re.compile(r"\d\s*[-+*/×÷^=]\s*\(?\d")


def route_features(question: str, context: str | None, decomposition: Decomposition | None = None, *,
                   message: str | None = None) -> dict[str, float]:
    """What the route policy reads: the question and its context, as the gate sees them up
    front (no call), and, given the decomposition, its confidence and how its steps sit with
    the question (`message`, the question as sent, for grounding)."""
    ctx = context.strip() if context else ""
    text = f"{ctx} {question}" if ctx else question
    clauses = len(_CLAUSE.findall(question))
    f = {
        "question_tokens": math.log1p(approx_tokens(question)),
        "context_tokens": math.log1p(approx_tokens(ctx)) if ctx else 0.0,
        "has_context": 1.0 if ctx else 0.0,
        "numbers": math.log1p(len(numbers_in(text))),
        "numbers_in_question": math.log1p(len(numbers_in(question))),
        "asks_number": 1.0 if _ASKS_NUMBER.search(question) else 0.0,
        "operators": 1.0 if _OPERATOR.search(question) else 0.0,
        "clauses": float(min(clauses, 8)),
        "names": math.log1p(len(_names_and_numbers(question))),
    }
    if decomposition is not None:
        steps = decomposition.steps
        source = message or question
        f.update({
            "confidence": decomposition.confidence if decomposition.confidence is not None else 1.0,
            "steps": float(len(steps)),
            "steps_over_clauses": float(len(steps) - (clauses + 1)),
            "ungrounded": float(sum(len(ungrounded(s.text, source)) for s in steps)),
            "instruction_steps": float(sum(bool(_INSTRUCTION.search(s.text)) for s in steps)),
            "synthesis_steps": float(sum(is_synthesis(s.type, s.depends_on) for s in steps)),
        })
    return f
