"""The pipeline: decompose, allocate and execute each subtask, integrate, and trace it all.

`Reasoner.answer(question, context)` returns a `Trace`: every step's subtask, model,
answer, tokens, confidence, cost and latency, plus the decomposition call. Integration
takes the last step's answer by default, because the decomposer is asked to make its last
sub-question answer the whole question (as gold decompositions do); `integrate="model:NAME"`
asks a pool model to compose the final answer from the sub-answers instead (one more call,
charged like every other).
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from subroute.allocate import Allocator, ConfidenceAllocator
from subroute.decompose import Decomposer, PromptedDecomposer, Subtask
from subroute.errors import SubrouteError
from subroute.execute import DEFAULT_STEP_BUDGET, Executor
from subroute.gate import Gate, program_text
from subroute.inline import split_inline
from subroute.pool import Pool
from subroute.program import whole_program_shots
from subroute.prompts import check_question
from subroute.records import Example
from subroute.retrieve import BM25Retriever
from subroute.trace import CallRecord, Trace

# The prompted router's default: steps whose small-model confidence (alpha=0.1 quantile of
# token probabilities) is at least this stay small; at least half of it go to the medium tier.
DEFAULT_THRESHOLD = 0.5
# the whole-question route reads the whole context, as the cascade baseline does
WHOLE_BUDGET = 100_000
# what `Reasoner.answer(route=...)` can ask for: the gate's choice (None), or one route forced
ROUTES = ("steps", "whole", "program")


def shipped_router_dir() -> Path | None:
    """The trained router shipped in the package (for the default pool), if present."""
    from importlib import resources

    p = Path(str(resources.files("subroute"))) / "artifacts" / "router"
    return p if p.is_dir() else None


class Reasoner:
    def __init__(self, pool: Pool, decomposer: Decomposer, allocator: Allocator, *, name: str = "router",
                 step_budget: int = DEFAULT_STEP_BUDGET, integrate: str = "last", max_tokens: int = 48,
                 programs: bool = True, gate: Gate | None = None) -> None:
        self.pool = pool
        self.decomposer = decomposer
        self.executor = Executor(pool, allocator, step_budget=step_budget, max_tokens=max_tokens, programs=programs)
        # the whole-question route: one step, the whole context; the gate's is the cascade at
        # its threshold, as `cascade@t` runs it; without a gate (asked for with route="whole"),
        # this router's own allocator
        self.gate = gate
        self.whole = Executor(pool, gate.whole if gate else allocator, step_budget=WHOLE_BUDGET,
                              max_tokens=max_tokens, programs=programs, program_shots=whole_program_shots)
        self.name = name
        self.notes: list[str] = []  # said once in every trace (e.g. which router was loaded)
        if integrate != "last" and not integrate.startswith("model:"):
            raise SubrouteError(f"integrate must be 'last' or 'model:NAME', not '{integrate}'")
        self.integrate = integrate
        if integrate.startswith("model:"):
            pool[integrate[6:]]  # unknown model -> clear error now, not mid-question

    @property
    def max_tokens(self) -> int:
        """Most tokens per answer: of each step, and of the whole-question route's answer."""
        return self.executor.max_tokens

    @max_tokens.setter
    def max_tokens(self, value: int) -> None:
        self.executor.max_tokens = self.whole.max_tokens = value

    @classmethod
    def default(cls, pool: Pool, *, threshold: float | None = None, router: str | None = None) -> "Reasoner":
        """The router `ask`, `serve` and `demo` use.

        `router`: None (the trained router shipped for this pool, else the prompted one),
        "prompted" (the pool's default model decomposes few-shot, the confidence rule
        allocates), or a folder holding `decomposer/` and/or `allocator/` artifacts from
        `subroute train`. A `threshold` asks for the confidence rule at that threshold
        instead of a learned allocator (the decomposer stays as chosen)."""
        notes: list[str] = []
        dec: Decomposer | None = None
        alloc: Allocator | None = None
        folder = None
        if router is None:
            shipped = shipped_router_dir()
            if shipped is not None:
                folder = shipped
        elif router != "prompted":
            folder = Path(router)
            if not ((folder / "decomposer").is_dir() or (folder / "allocator").is_dir()):
                raise SubrouteError(f"router folder {folder} has no decomposer/ or allocator/; pass a folder written by "
                                    "subroute train, or 'prompted'")
        if folder is not None:
            try:
                if (folder / "decomposer").is_dir():
                    from subroute.learned import TrainedDecomposer

                    dec = TrainedDecomposer(pool, folder / "decomposer")
                if (folder / "allocator").is_dir() and threshold is None:
                    from subroute.learned import LearnedAllocator

                    alloc = LearnedAllocator(str(folder / "allocator"), pool)
            except SubrouteError as e:
                if router is not None:
                    raise
                notes.append(f"shipped trained router not used ({e}); prompted router instead")
                dec, alloc = None, None
        t = DEFAULT_THRESHOLD if threshold is None else threshold
        policy = None
        route_dir = (folder / "route") if folder is not None else None
        if route_dir is not None and route_dir.is_dir():
            from subroute.learned import RoutePolicy

            try:
                policy = RoutePolicy(route_dir, pool)
            except SubrouteError as e:
                if router is not None:
                    raise
                notes.append(f"shipped route policy not used ({e}); the gate's rules alone decide")
        r = cls(pool, dec or PromptedDecomposer(pool), alloc or ConfidenceAllocator.at(t), name="router",
                gate=Gate.at(t, policy))
        r.notes = notes
        return r

    def answer(self, question: str, context: str | None = None, example: Example | None = None, *,
               raise_errors: bool = False, route: str | None = None) -> Trace:
        """Answer `question`; a failed call is recorded in `Trace.error` (the steps before it
        kept), or re-raised with `raise_errors=True` for callers that map errors themselves
        (the server turns a BackendError into 502/504 naming the model).

        Statements before the question are its context (`subroute.inline`), after any
        `context` given. With a gate, a question whose steps fail its checks is answered by
        the whole-question route instead (`subroute.gate`); the trace says which and why.

        `route` forces one route instead of the gate's choice: "steps" (decomposed, no gate
        checks), "whole" (one answer to the whole question over the whole context) or
        "program" (the whole question as one program; it must ask for a number and state
        two or more)."""
        if route is not None and route not in ROUTES:
            raise SubrouteError(f"route must be one of {', '.join(ROUTES)}, not '{route}'")
        message = check_question(question)
        inline = split_inline(message)
        question = check_question(inline.question)
        context = inline.context(context)
        t = Trace(uuid.uuid4().hex[:16], question, "", self.name, notes=list(self.notes),
                  context_taken=list(inline.statements))
        if inline.note:
            t.notes.append(inline.note)
        t0 = time.perf_counter()
        try:
            retriever = BM25Retriever(context) if context and context.strip() else None
            # a decomposer that splits reads a short setup with the question; one that asks
            # the question as one step gets it alone (its statements are the context already)
            asked = inline.for_decomposer if getattr(self.decomposer, "reads_setup", True) else question
            if route == "steps":
                self._by_steps(question, message, example, retriever, t, gate=None, asked=asked)
            elif route is not None:
                self._whole(question, retriever, t, f"asked for the {route} route", program=route == "program")
            else:
                first = self.gate.up_front(context, self.executor.step_budget) if self.gate else None
                if first is not None and first.whole:
                    self._whole(question, retriever, t, "; ".join(first.reasons))
                else:
                    self._by_steps(question, message, example, retriever, t, gate=self.gate, asked=asked)
        except SubrouteError as e:
            t.error = str(e)
            if raise_errors:
                raise
        t.wall_s = time.perf_counter() - t0
        return t

    def _by_steps(self, question: str, message: str, example: Example | None, retriever: BM25Retriever | None,
                  t: Trace, *, gate: Gate | None, asked: str) -> None:
        """Decompose `asked` (the question, with a short setup before it: see
        `InlineContext.for_decomposer`), then run the steps in order; the `gate` may send
        the question whole before the first step or after any."""
        d = self.decomposer.decompose(asked, example)
        t.overhead += [CallRecord.of("decompose", c, self.pool) for c in d.calls]
        t.notes += [n for n in (d.fallback, d.note) if n]
        check = gate.before(message, d, question=question, context=retriever.context if retriever else None) \
            if gate else None
        answers: list[str] = []
        if check is None or not check.whole:
            for step in d.steps:
                rec = self.executor.run_step(step, answers, retriever, t.steps)
                t.steps.append(rec)
                if rec.note:
                    t.notes.append(f"step {rec.index}: {rec.note}")
                answers.append(rec.answer)
                check = gate.after(rec) if gate else None
                if check is not None and check.whole:
                    break
        if check is not None and check.whole:
            self._whole(question, retriever, t, "; ".join(check.reasons))
            return
        t.answer = answers[-1] if answers else ""
        if self.integrate.startswith("model:") and len(answers) > 1:
            t.answer = self._integrate(question, d.steps, answers, t)

    def _whole(self, question: str, retriever: BM25Retriever | None, t: Trace, reason: str, *,
               program: bool | None = None) -> None:
        """The whole-question route: one step over the whole context; steps already run stay
        on the bill. A question that asks for a number over numbers it states is one program
        when `program` is True, a plain answer when False, and as the gate's route policy
        chooses when None (a program without one)."""
        t.route, t.route_reason = "whole", reason
        spent = f" after {len(t.steps)} step(s)" if t.steps else ""
        t.notes.append(f"routed the whole question{spent}: {reason}")
        k = len(t.steps) + 1
        ctx = retriever.context if retriever else None
        budget = self.executor.step_budget
        text: str | None = None
        if program is not False and self.whole.programs:
            if program is None and self.gate is not None:
                text, why = self.gate.as_program(question, ctx, max_tokens=budget)
                if why:
                    t.notes.append(why)
            else:
                text = program_text(question, ctx, max_tokens=budget)
            if program and text is None:
                raise SubrouteError("the program route needs a question that asks for a number and states two or "
                                    f"more in under {budget} tokens; route it 'whole' instead")
        if text is not None:  # a question that asks for a number: one program over what it states
            rec = self.whole.run_step(Subtask(k, text, type="synthesis"), [], None)
        else:
            rec = self.whole.run_step(Subtask(k, question), [], retriever)
        what = "the whole question as one program" if text is not None else "the whole question"
        rec.note = "; ".join(n for n in (what, rec.note) if n)
        t.steps.append(rec)
        t.answer = rec.answer

    def _integrate(self, question: str, steps, answers: list[str], t: Trace) -> str:
        from subroute.execute import substitute
        from subroute.prompts import answer_messages

        facts = "\n".join(f"{s.index}. {substitute(s.text, answers)} -> {a}" for s, a in zip(steps, answers))
        m = self.pool[self.integrate[6:]]
        c = m.generate(answer_messages(question, f"Answers to sub-questions:\n{facts}"), max_tokens=48)
        t.overhead.append(CallRecord.of("integrate", c, self.pool))
        return c.text.strip() or answers[-1]
