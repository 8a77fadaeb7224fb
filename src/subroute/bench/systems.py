"""The systems a benchmark compares, all through the same pool and accounting.

- `direct:<model>`: the model answers from the whole context in one call.
- `cot:<model>`: the same with chain of thought, the answer read from an ``Answer:`` line.
- `random`: the routed pipeline with a random model per step.
- `whole@t`: whole-question routing in RouteLLM's style: one model per question, picked by
  the confidence of the cheapest model's answer on the whole question (the probe is charged).
- `cascade@t`: FrugalGPT-style cascade over the whole question.
- `router`: the routed pipeline as users get it (`Reasoner.default`: the trained decomposer
  and allocator shipped for the pool, else the prompted ones); `router@t` the same
  decomposer with the confidence rule at threshold t (its curve); `router-cascade@t` with a
  per-step cascade; `router-prompted` the untrained router (few-shot decomposer, confidence
  rule), shown beside the trained one; `router-fullctx` gives every step the whole context
  (no retrieval), to measure what per-step passages save; `router-gold` runs the gold
  decomposition, to measure allocation alone; `router-nogate` the default router without
  its gate, `router-rules` with the gate's rules but not its learned route policy.
- `oracle`: per gold step (earlier gold answers filled in), the cheapest model that answers
  it correctly; the floor of cost on this pool. It is charged only the winning calls: it
  knows the answers, so it searches for free, and that is what makes it a floor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from subroute.allocate import Allocator, CascadeAllocator, ConfidenceAllocator, RandomAllocator
from subroute.bench.datasets import score
from subroute.bench.records import Result
from subroute.decompose import GoldDecomposer, PromptedDecomposer, SingleStepDecomposer, is_synthesis
from subroute.errors import SubrouteError
from subroute.execute import DEFAULT_STEP_BUDGET, step_prompt, substitute
from subroute.gate import Gate
from subroute.gold import exact_gold_step, solves_step
from subroute.learned import RoutePolicy
from subroute.models.base import Completion
from subroute.pool import Pool
from subroute.prompts import answer_messages, cot_messages
from subroute.reasoner import DEFAULT_THRESHOLD, Reasoner, shipped_router_dir
from subroute.records import Example
from subroute.retrieve import BM25Retriever
from subroute.scoring import hop_match
from subroute.trace import CallRecord, Trace


class System(Protocol):
    name: str
    family: str
    param: float | None

    def run(self, ex: Example) -> tuple[Result, Trace | None]: ...


def _result(system: "System", ex: Example, prediction: str, calls: list[CallRecord], *, error: str | None = None,
            hops: list[bool] | None = None, trace_id: str | None = None) -> Result:
    correct, f1 = score(prediction, ex)
    return Result(system.name, system.family, ex.id, prediction, correct and error is None, f1,
                  calls, system.param, hops, error, trace_id)


def parse_cot(text: str) -> str:
    """The text after the last 'Answer:'; else the last non-empty line."""
    hits = re.findall(r"answer\s*[:：]\s*(.+)", text, flags=re.I)
    if hits:
        return hits[-1].strip().strip("*").strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else ""


@dataclass
class DirectSystem:
    pool: Pool
    model: str
    cot: bool = False
    param: float | None = None

    @property
    def name(self) -> str:
        return f"{'cot' if self.cot else 'direct'}:{self.model}"

    @property
    def family(self) -> str:
        return "cot" if self.cot else "direct"

    def run(self, ex: Example) -> tuple[Result, None]:
        m = self.pool[self.model]
        try:
            if self.cot:
                c = m.generate(cot_messages(ex.question, ex.context), max_tokens=320, logprobs=False)
                pred = parse_cot(c.text)
            else:
                c = m.generate(answer_messages(ex.question, ex.context), max_tokens=48)
                pred = c.text
        except SubrouteError as e:
            return _result(self, ex, "", [], error=str(e)), None
        err = None if pred else f"model '{self.model}' returned nothing"
        return _result(self, ex, pred, [CallRecord.of("answer", c, self.pool)], error=err), None


@dataclass
class ReasonerSystem:
    reasoner: Reasoner
    name: str
    family: str
    param: float | None = None

    def run(self, ex: Example) -> tuple[Result, Trace]:
        t = self.reasoner.answer(ex.question, ex.context, ex)
        hops = None
        if ex.decomposition and len(t.steps) == len(ex.decomposition):
            # per-hop match is defined when the steps line up with the gold hops one to one
            hops = hop_match([s.answer for s in t.steps], ex.decomposition)
        err = t.error or (None if t.answer else "no answer")
        return _result(self, ex, t.answer, list(t.calls), error=err, hops=hops, trace_id=t.id), t


@dataclass
class OracleSystem:
    pool: Pool
    step_budget: int = DEFAULT_STEP_BUDGET
    programs: bool = True  # steps asked as the router asks them
    name: str = "oracle"
    family: str = "oracle"
    param: float | None = None

    def run(self, ex: Example) -> tuple[Result, None]:
        if not ex.decomposition:
            raise SubrouteError("the oracle needs gold decompositions")
        retriever = BM25Retriever(ex.context) if ex.context else None
        gold = [g.answer for g in ex.decomposition]
        calls: list[CallRecord] = []
        hops: list[bool] = []
        ladder = sorted(self.pool.models, key=lambda m: (m.price_in + m.price_out, m.tier_rank))
        for i, g in enumerate(ex.decomposition):
            if exact_gold_step(ex.decomposition, i) is not None:
                hops.append(True)  # computed, as the router computes it: right, and no call
                continue
            prompt = step_prompt(substitute(g.question, gold), synthesis=is_synthesis(g.type, g.depends_on),
                                 retriever=retriever, budget=self.step_budget, programs=self.programs)
            winner: Completion | None = None
            last: Completion | None = None
            for m in ladder:
                try:
                    c = prompt.ask(m, 48)
                except SubrouteError:
                    continue
                last = c
                if solves_step(c.text, ex.decomposition, i):  # right and usable as #k, as in labels
                    winner = c
                    break
            hops.append(winner is not None)
            chosen = winner or last
            if chosen is not None:
                calls.append(CallRecord.of("step", chosen, self.pool))
        ok = all(hops)
        pred = ex.answer if ok else ""
        return Result(self.name, self.family, ex.id, pred, ok, 1.0 if ok else 0.0, calls, None, hops,
                      None if calls else "no model answered"), None


def router(pool: Pool, threshold: float, *, decomposer, name: str | None = None, family: str = "router",
           policy: RoutePolicy | None = None) -> ReasonerSystem:
    """The router at threshold t: the confidence rule at t, and the gate at t with the
    default router's route policy (`policy`)."""
    alloc: Allocator = ConfidenceAllocator.at(threshold)
    r = Reasoner(pool, decomposer, alloc, name=name or f"router@{threshold:g}", gate=Gate.at(threshold, policy))
    return ReasonerSystem(r, r.name, family, threshold)


def trained_router(pool: Pool, spec: str, *, threshold: float = DEFAULT_THRESHOLD) -> ReasonerSystem:
    """`NAME=DIR` -> the router in DIR (a `subroute train` folder; `shipped` = the package's),
    named `router:NAME`: its learned allocator if it has one, else the confidence rule at
    `threshold`."""
    name, eq, folder = spec.partition("=")
    if not eq or not name or not folder:
        raise SubrouteError(f"--router wants NAME=DIR (e.g. learned=router/), not '{spec}'")
    if folder == "shipped":
        shipped = shipped_router_dir()
        if shipped is None:
            raise SubrouteError("this install ships no trained router; pass a folder from subroute train")
        folder = str(shipped)
    learned = (Path(folder) / "allocator").is_dir()
    r = Reasoner.default(pool, router=folder, threshold=None if learned else threshold)
    r.name = f"router:{name}"
    return ReasonerSystem(r, r.name, "router-trained")


def standard_systems(pool: Pool, examples: list[Example], *, thresholds: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8),
                     default_threshold: float = DEFAULT_THRESHOLD, cot: bool = True, seed: int = 0,
                     router_dir: str | None = None, extended: bool = True, ablate_gate: bool | None = None) -> list[System]:
    """Every single model direct, CoT on the largest, whole-question routing and
    cascade sweeps; the router as users get it (`router`: trained when shipped for the
    pool), its threshold sweep with the same decomposer, and the oracle when the data has
    gold decompositions. `extended` (what `bench` runs; `demo` leaves it out to finish in
    minutes on a CPU) adds random allocation, the prompted router, the per-step cascade
    sweep, the router without retrieval, the router without program steps and the router
    on gold decompositions. `ablate_gate` (default: with `extended`) adds `router-nogate`,
    the default router without its gate, and `router-rules`, with the gate's rules but not
    its route policy, to measure what each changes."""
    systems: list[System] = [DirectSystem(pool, m.name) for m in pool]
    if cot:
        systems.append(DirectSystem(pool, pool.models[-1].name, cot=True))
    default = Reasoner.default(pool, router=router_dir)
    dec = default.decomposer
    policy = default.gate.policy if default.gate else None
    prompted = PromptedDecomposer(pool)
    single = SingleStepDecomposer()
    if extended:
        systems.append(ReasonerSystem(Reasoner(pool, dec, RandomAllocator(seed), name="random"), "random", "random"))
    for t in thresholds:
        systems.append(ReasonerSystem(Reasoner(pool, single, ConfidenceAllocator.at(t), name=f"whole@{t:g}",
                                               step_budget=100_000), f"whole@{t:g}", "whole", t))
        systems.append(ReasonerSystem(Reasoner(pool, single, CascadeAllocator(t), name=f"cascade@{t:g}",
                                               step_budget=100_000), f"cascade@{t:g}", "cascade", t))
        systems.append(router(pool, t, decomposer=dec, policy=policy))
        if extended:
            rc = Reasoner(pool, dec, CascadeAllocator(t), name=f"router-cascade@{t:g}")
            systems.append(ReasonerSystem(rc, rc.name, "router-cascade", t))
    systems.append(ReasonerSystem(default, "router", "router-default"))
    ablate = extended if ablate_gate is None else ablate_gate
    if ablate:
        nogate = Reasoner(pool, dec, default.executor.allocator, name="router-nogate")
        systems.append(ReasonerSystem(nogate, nogate.name, "router-nogate"))
    if ablate and policy is not None:  # the gate's rules alone: every whole number question is a program
        rules = Reasoner(pool, dec, default.executor.allocator, name="router-rules", gate=Gate.at(default_threshold))
        systems.append(ReasonerSystem(rules, rules.name, "router-rules"))
    if extended:
        if not isinstance(dec, PromptedDecomposer):
            systems.append(router(pool, default_threshold, decomposer=prompted, name="router-prompted",
                                  family="router-prompted"))
        full = Reasoner(pool, dec, default.executor.allocator, name="router-fullctx", step_budget=100_000)
        systems.append(ReasonerSystem(full, full.name, "router-fullctx"))
        plain = Reasoner(pool, dec, default.executor.allocator, name="router-noprog", programs=False)
        systems.append(ReasonerSystem(plain, plain.name, "router-noprog"))
    if any(e.decomposition for e in examples):
        if extended:
            gold = Reasoner(pool, GoldDecomposer(), default.executor.allocator, name="router-gold")
            systems.append(ReasonerSystem(gold, gold.name, "router-gold"))
        systems.append(OracleSystem(pool))
    return systems
