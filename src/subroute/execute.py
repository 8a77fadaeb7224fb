"""The executor: runs subtasks in order, substituting earlier answers for #k, each step
seeing only the passages it needs.

Each step's query is the subtask with earlier answers filled in; a retriever picks its
passages from the question's context within `step_budget` tokens. Synthesis steps (those
combining two or more earlier answers: compare, compute) get no passages: everything they
need is in the step text; those that compute over numbers in it are program steps (the
model writes an expression, `subroute.program` evaluates it; its confidence is over the
tokens that were evaluated, `read_tokens`). A step whose accepted answer is empty is retried
one tier up (a recorded fallback), so "a model that returns nothing" never silently becomes
the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

from subroute.allocate import Allocator
from subroute.answers import echoes, is_short_answer
from subroute.decompose import Subtask, is_synthesis, substitute
from subroute.models.base import Completion, Message, TokenLogprob, Usage
from subroute.pool import Pool, PoolModel, cheapest_per_tier
from subroute.program import ProgramError, evaluate_program, exact_step, is_program_step, orient, program_messages
from subroute.prompts import answer_messages
from subroute.retrieve import Retriever, approx_tokens
from subroute.scoring import normalize, split_items
from subroute.trace import CallRecord, StepRecord

PROGRAM_MAX_TOKENS = 96  # a {name: number} mapping of three long fictional names fits
LIST_MAX_TOKENS = 192  # a list answer cut at the step's limit is asked again with this one


def cut_list(c: Completion) -> bool:
    """Whether a completion is a list of short items that the token limit cut off ("...,
    Thuzacushton, Peiteporkby," for the 11 cities of a country): asked again with room, it
    is whole. A looping or rambling answer is not a list (`is_short_answer`)."""
    return c.finish_reason == "length" and len(split_items(c.text)) >= 3 and is_short_answer(c.text)


def _both(first: Completion, second: Completion, extra: dict[str, Any]) -> Completion:
    """`second`'s answer, billed for both calls."""
    return replace(second, usage=Usage(first.usage.input_tokens + second.usage.input_tokens,
                                       first.usage.output_tokens + second.usage.output_tokens),
                   cost=first.cost + second.cost, latency_s=first.latency_s + second.latency_s,
                   cached=first.cached and second.cached, extra={**second.extra, **extra})


def read_tokens(c: Completion, used: str) -> list[TokenLogprob] | None:
    """The tokens of `c` up to the end of `used`, the part of its text a program evaluated:
    a program's confidence is the model's confidence in what was run, not in the arithmetic
    it wrote after it ("205 * 838 = 17,000,000": Qwen-0.5B is sure of the product it copied,
    not of its guess at the value). All of them when `used` cannot be placed in the text."""
    if not c.tokens or not used:
        return c.tokens
    lines = used.splitlines()
    start = c.text.find(lines[0])
    end = c.text.find(lines[-1], start) if start >= 0 else -1
    if end < 0 or end + len(lines[-1]) >= len(c.text):  # not placed, or nothing after it went unread
        return c.tokens
    end += len(lines[-1])
    joined = "".join(t.token for t in c.tokens)
    pos = len(joined) - len(joined.lstrip())  # the stripped text starts after the tokens' leading space
    kept = []
    for t in c.tokens:
        if pos >= end:
            break
        kept.append(t)
        pos += len(t.token)
    return kept or c.tokens


@dataclass
class StepPrompt:
    """How one step is asked of any model, the same for the router, the oracle and labels.

    A recall step is asked for the answer over its passages. A program step (a synthesis
    step that computes over numbers in its text, see `subroute.program`) is asked for a
    Python expression, which is evaluated safely; the completion's text is then the value
    and ``extra["program"]`` the expression (an argmin/argmax turned to the end of the scale
    the question asks for, `program.orient`, with ``extra["program_note"]`` saying so). An
    expression that does not evaluate is recorded and the same model is asked plainly; the
    step is billed for both calls. A lookup answered with words of its own question ("What
    is the capital of Nastamund?" -> "Nastamund") is marked (``extra["echo"]``), which
    `step_confidence` reads as no confidence, so the rules escalate it. A list answer the
    token limit cut off (`cut_list`) is asked again of the same model with room for the
    whole list (``extra["relisted"]``), billed for both calls."""

    query: str
    messages: list[Message]
    passages: list[str]
    program: bool = False
    lookup: bool = False  # a recall step: an answer that only repeats its question is marked
    program_shots: list[Message] | None = None  # the program prompt's example turns (None: the step shots)

    def ask(self, model: PoolModel, max_tokens: int = 48) -> Completion:
        if not self.program:
            c = model.generate(self.messages, max_tokens=max_tokens)
            if cut_list(c) and max_tokens < LIST_MAX_TOKENS:
                c = _both(c, model.generate(self.messages, max_tokens=LIST_MAX_TOKENS), {"relisted": LIST_MAX_TOKENS})
            if self.lookup and echoes(c.text, self.query):  # step_confidence reads this as 0
                c = replace(c, extra={**c.extra, "echo": True})
            return c
        c = model.generate(program_messages(self.query, self.program_shots),
                           max_tokens=max(max_tokens, PROGRAM_MAX_TOKENS))
        expr, turned = orient(self.query, c.text.strip())
        try:
            run = evaluate_program(expr)
            if run.whole and c.finish_reason == "length":
                raise ProgramError("the program was cut off at the token limit")
            return replace(c, text=run.answer, tokens=read_tokens(c, run.used),
                           extra={**c.extra, "program": expr, "program_note": turned})
        except ProgramError as e:
            plain = model.generate(self.messages, max_tokens=max_tokens)
            return _both(c, plain, {"program": c.text.strip(), "program_error": str(e)})


ProgramShots = list[Message] | Callable[[str], list[Message]] | None


def step_prompt(query: str, *, synthesis: bool, retriever: Retriever | None, budget: int,
                programs: bool = True, program_shots: ProgramShots = None) -> StepPrompt:
    """The prompt for one step and the passages it sees. Synthesis steps see none; those
    that compute over numbers are program steps unless `programs` is off."""
    passages = retriever.select(query, budget) if retriever and not synthesis else []
    if passages and len(passages) == len(getattr(retriever, "passages", ())):
        # everything fits: the context as written (the same prompt, and cache key, as a direct call)
        msgs = answer_messages(query, retriever.context)  # type: ignore[union-attr]
    else:
        msgs = answer_messages(query, "\n\n".join(passages) or None)
    shots = program_shots(query) if callable(program_shots) else program_shots
    return StepPrompt(query, msgs, passages, programs and is_program_step(query, synthesis=synthesis),
                      lookup=not synthesis, program_shots=shots)


def query_key(query: str) -> str:
    """A step's question up to case, punctuation and articles (normalised as answers are
    scored): two steps of one question with the same key ask the same thing ("... of the
    Seisalov River?" / "... of Seisalov River?")."""
    return normalize(query)


# Approximate tokens of context per step. Measured on 25 gold steps of the demo's questions
# (DecompBench, seed 7): one best passage (budget 100) was right more often than three
# (budget 300) at under half the input tokens: qwen-0.5b 0.80 vs 0.76, qwen-1.5b 0.96 vs 0.88;
# a 60-token budget of smaller passages lost accuracy again (0.76, 0.84).
DEFAULT_STEP_BUDGET = 100


class Executor:
    def __init__(self, pool: Pool, allocator: Allocator, *, step_budget: int = DEFAULT_STEP_BUDGET, max_tokens: int = 48,
                 programs: bool = True, program_shots: ProgramShots = None) -> None:
        self.pool = pool
        self.allocator = allocator
        self.step_budget = step_budget
        self.max_tokens = max_tokens
        self.programs = programs
        # None: the step shots (`program.PROGRAM_SHOTS`); a function picks them per query
        self.program_shots = program_shots

    def run_step(self, step: Subtask, answers: list[str], retriever: Retriever | None,
                 earlier: Sequence[StepRecord] = ()) -> StepRecord:
        """Run one step. A step that asks what an `earlier` step of the same question already
        asked (decomposers repeat a lookup, e.g. after a comparison) reuses that answer: no
        call, and the record says so."""
        query = substitute(step.text, answers)
        synthesis = is_synthesis(step.type, step.depends_on)
        exact = exact_step(step.text, answers, compute=self.programs and synthesis)
        if exact is not None:  # "How many entries are in #2?", "What is 3 * #2?": no call
            kind, answer, note = exact
            return StepRecord(step.index, step.text, query, step.depends_on, step.type, kind, "", answer, None,
                              0, 0, [], note, step.gold_answer)
        key = query_key(query)
        same = next((r for r in earlier if r.answer and query_key(r.query) == key), None)
        if same is not None:
            return StepRecord(step.index, step.text, query, step.depends_on, step.type, same.model, same.tier,
                              same.answer, same.confidence, 0, 0, [], f"same question as step {same.index}; "
                              "its answer reused", step.gold_answer)
        prompt = step_prompt(query, synthesis=synthesis, retriever=retriever,
                             budget=self.step_budget, programs=self.programs, program_shots=self.program_shots)
        passages = prompt.passages

        def solve(m: PoolModel) -> Completion:
            return prompt.ask(m, self.max_tokens)

        # allocators see the step as it will be asked: earlier answers filled in
        a = self.allocator.run(replace(step, text=query), solve, self.pool)
        calls = [CallRecord.of(role, c, self.pool) for role, c in a.calls]
        model, completion, note = a.model, a.completion, a.note
        if completion.extra.get("program_note"):
            note = "; ".join(n for n in (note, f"program {completion.extra['program_note']}") if n)
        if not completion.text:  # escalate once per tier until someone answers
            for up in [m for m in cheapest_per_tier(self.pool) if m.tier_rank > model.tier_rank]:
                completion, model = solve(up), up
                calls.append(CallRecord.of("step", completion, self.pool))
                note = f"empty answer; escalated to {up.name}"
                if completion.text:
                    break
        return StepRecord(
            step.index, step.text, query, step.depends_on, step.type, model.name, model.tier,
            completion.text.strip(), a.confidence, len(passages), sum(approx_tokens(p) for p in passages), calls, note,
            step.gold_answer, list(passages),
        )
