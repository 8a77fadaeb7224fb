"""Decompositions found by search where no gold exists (`subroute train search`).

seeds/001 trains the decomposer on an outcome reward: a decomposition is as good as the
final answer the routed pipeline reaches by running its steps. GRPO turns that reward into
a gradient and wants many samples per step (`subroute train grpo`, a GPU's work); here the
same reward is used as rejection sampling, which a CPU affords. For each training question
with a gold answer (reasoning-gym tasks, written by others, where no gold decomposition
exists; or any JSONL of questions and answers):

- candidates are drawn: the trained decomposer's greedy steps and `samples - 1` more at
  `temperature`, and a larger pool model's, prompted few-shot (`PromptedDecomposer`),
  greedy and `prompted - 1` sampled; the same steps drawn twice run once, and a draw that
  does not parse is dropped;
- each candidate runs by steps through the default router (its allocator, its program and
  exact steps; no gate: `route="steps"`), and its final answer is scored by the task's own
  scorer (reasoning-gym's for its tasks);
- the cheapest right one is kept (fewer steps, then the earlier draw, break ties); what its
  steps cost is what ranks it, not the draw (once trained, the small decomposer writes it).

The default router answers each question too, as it would today (its gate mostly sends
these questions whole: a cascade, or one program), so each record says whether the kept
steps beat it: what the gate's route policy learns from, and what tells whether the search
found decompositions worth training on.

The kept decompositions are written as `Example`s whose `decomposition` is the kept steps
(each with the answer the run gave), which `subroute train decomposer --data` reads like
gold ones. Records are appended one per question to a JSONL file with a progress bar; a
rerun resumes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from subroute.decompose import REF, Decomposition, GivenDecomposer, PromptedDecomposer
from subroute.errors import SubrouteError
from subroute.inline import split_inline
from subroute.pool import Pool
from subroute.reasoner import DEFAULT_THRESHOLD, Reasoner
from subroute.records import Example
from subroute.scoring import normalize
from subroute.train.labels import read_records, resume_records

SEARCH_VERSION = 1


@dataclass
class SearchConfig:
    """The search's knobs, and the one source of their defaults (`subroute train search`
    derives its options from these fields)."""

    samples: int = field(default=4, metadata={"help": "draws of the trained decomposer per question (the greedy one "
                                                       "and samples at --temperature)", "min": 1})
    prompted: int = field(default=2, metadata={"help": "draws of the prompted larger model per question (greedy, "
                                                        "then sampled; 0: none)", "min": 0})
    prompted_model: str | None = field(default=None, metadata={
        "help": "the pool model prompted few-shot to decompose (default: the pool's default model)"})
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature of the draws after the greedy one",
                                                       "min": 0.1, "max": 3.0})
    threshold: float = field(default=DEFAULT_THRESHOLD, metadata={
        "help": "the router threshold whose allocator and whole route run the candidates", "min": 0.0, "max": 1.0})


@dataclass
class Candidate:
    source: str  # "decomposer" or "prompted:<model>"
    temperature: float
    seed: int
    steps: list[str]
    correct: bool
    cost: float  # what running the steps cost (the draw is not counted)
    draw_cost: float
    answer: str
    step_answers: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass
class RouterTry:
    """The default router's own answer to the question (its route: "whole" or "steps")."""

    route: str
    correct: bool
    cost: float
    answer: str
    error: str | None = None


@dataclass
class SearchRecord:
    example_id: str
    source: str
    question: str
    candidates: list[Candidate] = field(default_factory=list)
    router: RouterTry | None = None
    drawn: int = 0  # draws made, the unparsed and repeated ones included
    version: int = SEARCH_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "SearchRecord":
        d = dict(d)
        if d.get("version") != SEARCH_VERSION:
            raise ValueError("another version")
        d["candidates"] = [Candidate(**c) for c in d["candidates"]]
        d["router"] = RouterTry(**d["router"]) if d.get("router") else None
        return cls(**d)

    @property
    def kept(self) -> Candidate | None:
        """The cheapest right candidate (fewer steps, then the earlier draw, on a tie)."""
        right = [(c.cost, len(c.steps), i) for i, c in enumerate(self.candidates) if c.correct and not c.error]
        return self.candidates[min(right)[2]] if right else None

    @property
    def beats_router(self) -> bool | None:
        """Whether the kept steps are right where the router is not, or as right for less
        (None: nothing kept, or the router not run)."""
        k = self.kept
        if k is None or self.router is None:
            return None
        return not self.router.correct or k.cost < self.router.cost


def read_search(path: str | Path) -> list[SearchRecord]:
    return read_records(path, SearchRecord.from_dict, "search", "search record")


def _key(d: Decomposition) -> tuple[str, ...]:
    return tuple(normalize(s.text) for s in d.steps)


def search_question(reasoner: Reasoner, given: GivenDecomposer, drawers: list[tuple[str, Any, int]], ex: Example,
                    *, temperature: float, scorer, router: Reasoner | None = None) -> SearchRecord:
    """Draw, run and score the candidates of `ex` (see the module docstring). `reasoner`
    runs with `given` as its decomposer; `drawers` are (source, decomposer with `sample`,
    draws) in the order drawn; `router`, when given, answers the question as it would."""
    inline = split_inline(ex.question)
    rec = SearchRecord(ex.id, str(ex.meta.get("task") or ex.meta.get("source") or "data"), ex.question)
    seen: set[tuple[str, ...]] = set()
    for source, dec, n in drawers:
        for k in range(n):
            temp = temperature if k else 0.0
            d = dec.sample(inline.for_decomposer, temperature=temp, seed=k)
            rec.drawn += 1
            key = _key(d)
            if d.fallback or not d.steps or key in seen:  # unparsed, or steps already run
                continue
            seen.add(key)
            given.steps = d.steps
            t = reasoner.answer(ex.question, ex.context, ex, route="steps")
            rec.candidates.append(Candidate(source, temp, k, [s.text for s in d.steps], _right(scorer, t, ex), t.cost,
                                            d.cost, t.answer, [s.answer for s in t.steps], t.error))
    if router is not None:
        t = router.answer(ex.question, ex.context, ex)
        rec.router = RouterTry(t.route, _right(scorer, t, ex), t.cost, t.answer, t.error)
    return rec


def _right(scorer, t, ex: Example) -> bool:
    return bool(scorer(t.answer, ex)[0]) if t.answer and not t.error else False


def build_search(pool: Pool, examples: list[Example], out: str | Path, cfg: SearchConfig | None = None, *,
                 router: str | None = None, reasoner: Reasoner | None = None,
                 progress: bool = True) -> list[SearchRecord]:
    """Search every example into `out` (JSONL), resuming what is there. Candidates run
    through `reasoner`, by default the default router at `cfg.threshold` (its shipped
    decomposer and allocator, or those of the folder `router`): its allocator runs the
    steps, its decomposer is the one sampled, and it answers each question as it would."""
    from tqdm import tqdm

    from subroute.bench.datasets import score

    cfg = cfg or SearchConfig()
    out, have = resume_records(out, read_search)
    done = {r.example_id for r in have}
    base = reasoner or Reasoner.default(pool, threshold=cfg.threshold, router=router)
    if not hasattr(base.decomposer, "sample"):
        raise SubrouteError(f"the router's decomposer ({type(base.decomposer).__name__}) cannot be sampled")
    given = GivenDecomposer()
    runner = Reasoner(pool, given, base.executor.allocator, name="search", gate=base.gate)
    drawers: list[tuple[str, Any, int]] = [("decomposer", base.decomposer, cfg.samples)]
    if cfg.prompted:
        prompted = PromptedDecomposer(pool, cfg.prompted_model)
        drawers.append((f"prompted:{prompted.model.name}", prompted, cfg.prompted))
    todo = [ex for ex in examples if ex.id not in done]
    with open(out, "a", encoding="utf-8") as f:
        bar = tqdm(todo, desc="search", unit="q", file=sys.stderr, disable=not progress)
        for ex in bar:
            rec = search_question(runner, given, drawers, ex, temperature=cfg.temperature, scorer=score, router=base)
            f.write(rec.to_json() + "\n")
            f.flush()
            have.append(rec)
            bar.set_postfix(kept=sum(r.kept is not None for r in have))
    return have


def search_examples(records: list[SearchRecord], examples: list[Example]) -> list[Example]:
    """The questions the search found a right decomposition for, each with the kept one as its
    `decomposition` (each step's answer the one the run gave), for `train decomposer`."""
    from subroute.records import GoldStep

    by_id = {ex.id: ex for ex in examples}
    out = []
    for r in records:
        k, ex = r.kept, by_id.get(r.example_id)
        if k is None or ex is None:
            continue
        steps = []
        for text, ans in zip(k.steps, k.step_answers, strict=True):  # a right run ran every step
            deps = tuple(sorted({int(m) for m in REF.findall(text)}))
            steps.append(GoldStep(text, ans, "synthesis" if len(deps) >= 2 else "recall", deps))
        out.append(Example(ex.id, ex.question, ex.answer, list(ex.aliases), ex.answer_set, ex.context, steps,
                           {**ex.meta, "decomposition_source": k.source}))
    return out


def write_examples(path: str | Path, examples: list[Example]) -> int:
    """Examples as DecompBench JSONL lines (what `load_jsonl` reads back)."""
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for ex in examples:
            d: dict[str, Any] = {"id": ex.id, "question": ex.question, "answer": ex.answer}
            if ex.aliases:
                d["aliases"] = ex.aliases
            if ex.answer_set is not None:
                d["answer_set"] = ex.answer_set
            if ex.context:
                d["context"] = ex.context
            if ex.decomposition:
                d["decomposition"] = [{"question": s.question, "answer": s.answer, "type": s.type,
                                       "depends_on": list(s.depends_on)} for s in ex.decomposition]
            d.update({k: v for k, v in ex.meta.items() if k not in d})  # JSON already: read from JSONL or scalars
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    return len(examples)


def summary(records: list[SearchRecord]) -> dict[str, Any]:
    """What a search found: questions, those with a right candidate, the kept ones by source,
    how many beat the router's own answer, and per source how often a candidate was right."""
    kept = [r.kept for r in records if r.kept is not None]
    by_source: dict[str, dict[str, int]] = {}
    for r in records:
        for c in r.candidates:
            s = by_source.setdefault(c.source, {"candidates": 0, "right": 0, "kept": 0})
            s["candidates"] += 1
            s["right"] += int(c.correct)
    for c in kept:
        by_source[c.source]["kept"] += 1
    ran = [r for r in records if r.router is not None]
    return {"questions": len(records), "kept": len(kept), "draws": sum(r.drawn for r in records),
            "candidates": sum(len(r.candidates) for r in records), "by_source": by_source,
            "router_right": sum(bool(r.router and r.router.correct) for r in ran),
            "beats_router": sum(bool(r.beats_router) for r in records),
            "right_where_router_wrong": sum(1 for r in ran if r.kept and r.router and not r.router.correct)}
