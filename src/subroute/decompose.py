"""Decomposers: turn a question into ordered subtasks that cite earlier answers as #1, #2.

`PromptedDecomposer` is R2-Reasoner's decomposer without training: a pool model prompted
few-shot. The shots are alternating user/assistant turns, because shared MODELS.md measured
that shots packed into one message fail on all three default models. The parser is
tolerant (``1.``, ``1)``, ``Step 1:``, ``Q1:``), and strict about meaning: a step may only
cite *earlier* steps, and there is a step limit. Output that breaks either is drawn again
(seeded samples, `RESAMPLE_TEMPERATURE`, each call charged), a few times at most; when no
draw parses, the question runs as one step, and the reason goes into the trace. `GoldDecomposer` replays a
dataset's gold decomposition (for the oracle, and to measure allocation alone). A trained
decomposer (the training issue) implements the same one-method protocol.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field, replace
from typing import Callable, Protocol

from subroute.models.base import Completion, Message
from subroute.pool import Pool
from subroute.records import Example

REF = re.compile(r"#(\d+)")


def substitute(text: str, answers: list[str]) -> str:
    """`text` with each #k that names an earlier answer replaced by it."""
    def rep(m: re.Match) -> str:
        k = int(m.group(1))
        return answers[k - 1] if 1 <= k <= len(answers) else m.group(0)

    return REF.sub(rep, text)


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
    note: str | None = None  # e.g. that the first output did not parse and was drawn again
    confidence: float | None = None  # the decomposer's own, when its backend gave log-probabilities

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


# Seeded samples after an unparsed greedy output. Measured with the trained decomposer on 96
# questions of held-out worlds 900 and 901 (2-5 hops): 10 greedy outputs did not parse (a step
# citing itself or a later step); up to 3 samples at 0.7 parsed 9 of them, and step counts
# matching the gold went from 0.68 to 0.70.
RESAMPLE_TEMPERATURE = 0.7


_WORD = re.compile(r"[^\W\d_][\w'-]*")
NAME_MATCH = 0.75  # difflib ratio: "Lyoudoudoudrevholm" / "Lyoudoudrevholm" is 0.91, "Diweshav" / "Diwesh" 0.86


def align_names(steps: list[Subtask], question: str) -> tuple[list[Subtask], list[str]]:
    """Names in the steps spelled as the question spells them. A small decomposer copies long
    invented names with a syllable doubled or added ("Lyoudoudrevholm" -> "Lyoudoudoudrevholm"),
    and the step then asks about an entity no passage mentions. A capitalised word of a step
    that is not in the question but close to one of the question's names (after its first
    word) is replaced by that name; returns the steps and what was replaced."""
    words = _WORD.findall(question)
    lower = {w.lower() for w in words}
    names = sorted({w for w in words[1:] if w[0].isupper()})
    fixed: list[str] = []

    def fix(m: re.Match) -> str:
        w = m.group(0)
        if not w[0].isupper() or w.lower() in lower:
            return w
        close = difflib.get_close_matches(w, names, n=1, cutoff=NAME_MATCH)
        if close:
            fixed.append(f"'{w}' read as '{close[0]}'")
            return close[0]
        return w

    out = [replace(s, text=_WORD.sub(fix, s.text)) for s in steps]
    return out, fixed


def draw_steps(question: str, generate: Callable[[float, int], Completion], *, max_steps: int,
               retries: int, first: tuple[float, int] = (0.0, 0)) -> Decomposition:
    """Steps from `generate(temperature, seed)`: the first draw at `first` (temperature,
    seed; greedy by default), then up to `retries` seeded samples while the output does not
    parse; every call is kept (and charged). No parse at all runs the question as one step,
    with the first reason. Names the steps misspell are put back as the question spells
    them (`align_names`)."""
    calls: list[Completion] = []
    errors: list[str] = []
    for k in range(retries + 1):
        c = generate(RESAMPLE_TEMPERATURE if k else first[0], first[1] + k)
        calls.append(c)
        try:
            steps = parse_steps(c.text, max_steps=max_steps)
        except ValueError as e:
            errors.append(str(e))
            continue
        steps, fixed = align_names(steps, question)
        notes = [f"decomposition drawn {k + 1} times; the first did not parse ({errors[0]})"] if k else []
        notes += [f"names spelled as in the question: {', '.join(fixed)}"] if fixed else []
        return Decomposition(steps, calls, note="; ".join(notes) or None, confidence=c.confidence(0.1))
    tries = f" in {len(calls)} tries" if len(calls) > 1 else ""
    return single_step(question, f"decomposition unparsed{tries} ({errors[0]}); ran as one step", calls)


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

    def __init__(self, pool: Pool, model: str | None = None, *, max_steps: int = 8, max_tokens: int = 160,
                 retries: int = 1) -> None:
        self.model = pool[model] if model else pool.default_model
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self.retries = retries  # a draw costs a few-shot call of a large model: one more at most

    def decompose(self, question: str, example: Example | None = None) -> Decomposition:
        return self.sample(question, temperature=0.0, seed=0, retries=self.retries)

    def sample(self, question: str, *, temperature: float, seed: int, retries: int = 0) -> Decomposition:
        """One draw at `temperature` with `seed` (and `retries` more while it does not parse):
        what a search over decompositions samples (`subroute.train.search`)."""
        msgs = decompose_messages(question)

        def generate(temperature: float, seed: int) -> Completion:
            return self.model.generate(msgs, max_tokens=self.max_tokens, logprobs=False, temperature=temperature,
                                       seed=seed)

        return draw_steps(question, generate, max_steps=self.max_steps, retries=retries, first=(temperature, seed))


class GoldDecomposer:
    """The dataset's own decomposition; questions without one run as one step."""

    def decompose(self, question: str, example: Example | None = None) -> Decomposition:
        if example is None or not example.decomposition:
            return single_step(question, "no gold decomposition; ran as one step")
        return Decomposition([
            Subtask(i, s.question, tuple(s.depends_on), s.type, s.answer, tuple(s.aliases))
            for i, s in enumerate(example.decomposition, 1)
        ])


class GivenDecomposer:
    """A decomposer that returns the steps it was last handed: a sampled decomposition run
    through the pipeline as if the decomposer had written it (GRPO's reward, the search)."""

    name = "given"

    def __init__(self) -> None:
        self.steps: list[Subtask] = []

    def decompose(self, question: str, example: Example | None = None) -> Decomposition:
        return Decomposition([replace(s) for s in self.steps])


class SingleStepDecomposer:
    """No decomposition: the whole question is one subtask (whole-question routing). It is
    given the question alone: statements before it are already the step's context."""

    reads_setup = False  # see `InlineContext.for_decomposer`

    def decompose(self, question: str, example: Example | None = None) -> Decomposition:
        return single_step(question)


def is_synthesis(step_type: str | None, depends_on: tuple[int, ...]) -> bool:
    return step_type == "synthesis" or len(depends_on) >= 2


def step_type(declared: str | None, depends_on: tuple[int, ...]) -> str:
    """A step's type as labels record it: the declared one, else synthesis or recall."""
    return declared or ("synthesis" if is_synthesis(None, depends_on) else "recall")
