"""Questions with gold decompositions, and the loop that draws, resolves and checks them.

Why a loop of draft -> resolve -> check -> assemble: builders only propose; the resolver
computes every answer from the world; the checks reject anything ambiguous, shortcut or
unsupported; the context is assembled last, because a question whose supporting documents
do not fit the budget is rejected too. Every retry loop is bounded: when the knobs make
questions impossible (hops the world cannot chain, a budget smaller than the documents),
generation stops with a ConfigError naming the knob, instead of looping forever.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

from subroute.errors import ConfigError
from subroute.worlds.checks import check_question, infer_shape, is_set_op, render_values
from subroute.worlds.context import BudgetError, TokenCounter, approx_tokens, assemble_context, choose_supporting
from subroute.worlds.documents import STYLES, Corpus, contains
from subroute.worlds.kinds import FEASIBLE, KINDS, MAX_HOPS, SHAPES, Builder, Draft
from subroute.worlds.resolver import ResolveError, refs, resolve
from subroute.worlds.templates import NUMBER_WORDS, cap
from subroute.worlds.world import World

FORMAT_VERSION = "decompbench-1"
# How a question's message is worded (`QuestionConfig.surfaces`):
# - plain: the question alone, its facts in the context's documents;
# - inline: the facts it needs stated as sentences before the question, no documents (as a
#   user types them into a chat);
# - facts: the same as a "Facts: ... Question: ..." block;
# - given: "Given that <one of its facts>, <question>", the rest in the documents.
# inline and facts questions carry route "whole": every fact stands in a short message, so
# a router gains nothing by splitting it (the gate's label); plain and given carry "steps".
SURFACES = ("plain", "inline", "facts", "given")


@dataclass
class Step:
    """One sub-question; `#k` in `question` stands for the answer of step k (1-based)."""

    question: str
    answer: str
    type: str  # "recall" (look up one fact or fact set) | "synthesis" (compare, count, compute, combine)
    depends_on: list[int]
    fact_ids: list[str]
    op: dict  # machine-readable form the resolver executes (see resolver.py)
    answer_set: list[str] | None = None
    aliases: list[str] = field(default_factory=list)  # other accepted forms of `answer`

    def to_dict(self) -> dict:
        return {"question": self.question, "answer": self.answer, "answer_set": self.answer_set,
                "aliases": self.aliases, "type": self.type, "depends_on": self.depends_on,
                "fact_ids": self.fact_ids, "op": self.op}

    @classmethod
    def from_dict(cls, d: dict) -> "Step":
        return cls(d["question"], d["answer"], d.get("type", "recall"), list(d.get("depends_on", [])),
                   list(d.get("fact_ids", [])), dict(d.get("op", {})), d.get("answer_set"),
                   list(d.get("aliases", [])))


@dataclass
class Question:
    id: str
    question: str
    answer: str
    aliases: list[str]  # other accepted forms of `answer` (the answer itself excluded)
    kind: str
    shape: str
    hops: int  # number of recall steps
    decomposition: list[Step]
    world_seed: int
    answer_set: list[str] | None = None
    context: str = ""
    supporting_doc_ids: list[str] = field(default_factory=list)
    context_doc_ids: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)  # entity ids named in the question
    split: str = "train"
    n_context_tokens: int = 0
    version: str = FORMAT_VERSION
    surface: str = "plain"  # how the message is worded (`SURFACES`)
    route: str = "steps"  # the route a gate should take: "whole" when every fact stands in the message

    def to_dict(self) -> dict:
        extra = {"surface": self.surface, "route": self.route} if self.surface != "plain" else {}
        return {"version": self.version, "id": self.id, "world_seed": self.world_seed,
                "seed": self.world_seed,  # the key the benchmark/training loaders read
                "split": self.split, "kind": self.kind, "shape": self.shape, "hops": self.hops,
                "question": self.question, "answer": self.answer, "answer_set": self.answer_set,
                "aliases": self.aliases, "context": self.context,
                "decomposition": [s.to_dict() for s in self.decomposition],
                "supporting_doc_ids": self.supporting_doc_ids,
                "context_doc_ids": self.context_doc_ids, "entities": self.entities,
                "n_context_tokens": self.n_context_tokens, **extra}

    @classmethod
    def from_dict(cls, d: dict) -> "Question":
        return cls(id=d["id"], question=d["question"], answer=d["answer"],
                   aliases=list(d.get("aliases", [])), kind=d.get("kind", ""),
                   shape=d.get("shape", ""), hops=int(d.get("hops", 0)),
                   decomposition=[Step.from_dict(s) for s in d.get("decomposition", [])],
                   world_seed=int(d.get("world_seed", -1)), answer_set=d.get("answer_set"),
                   context=d.get("context", ""),
                   supporting_doc_ids=list(d.get("supporting_doc_ids", [])),
                   context_doc_ids=list(d.get("context_doc_ids", [])),
                   entities=list(d.get("entities", [])), split=d.get("split", "train"),
                   n_context_tokens=int(d.get("n_context_tokens", 0)),
                   version=d.get("version", FORMAT_VERSION), surface=d.get("surface", "plain"),
                   route=d.get("route", "steps"))


@dataclass
class QuestionConfig:
    """Knobs of question generation."""

    n: int = field(default=100, metadata={"help": "number of questions"})
    min_hops: int = field(default=1, metadata={"help": "fewest recall steps per question"})
    max_hops: int = field(default=4, metadata={"help": f"most recall steps (<= {MAX_HOPS})"})
    kinds: dict[str, float] = field(default_factory=lambda: {
        "recall": 1.0, "compositional": 2.0, "comparison": 1.0, "intersection": 1.0,
        "aggregation": 1.0, "arithmetic": 1.0}, metadata={"help": "weight of each kind"})
    shapes: dict[str, float] = field(default_factory=lambda: {s: 1.0 for s in SHAPES},
                                     metadata={"help": "weight of each dependency shape"})
    n_distractors: int = field(default=4, metadata={"help": "distractor documents per context"})
    token_budget: int = field(default=3000, metadata={"help": "context size limit in tokens"})
    held_out_styles: tuple[str, ...] = field(default=(), metadata={
        "help": "style split: test questions are supported only by these styles, train never"})
    test_fraction: float = field(default=0.2, metadata={"help": "share of test questions in a style split"})
    seed: int | None = field(default=None, metadata={"help": "question seed (default: the world seed)"})
    max_attempts: int | None = field(default=None, metadata={"help": "bound on drafts (default 300 + 80 n)"})
    id_prefix: str = field(default="", metadata={"help": "prefix of question ids"})
    surfaces: dict[str, float] = field(default_factory=lambda: {"plain": 1.0}, metadata={
        "help": "weight of each surface form of the message (plain, inline, facts, given)"})
    phrasing: float = field(default=0.0, metadata={
        "help": "chance that a phrase or question is worded another way than the canonical one "
                "(possessives, relative clauses, other question forms, chains told first)"})

    def validate(self) -> None:
        if self.n < 0:
            raise ConfigError(f"n (--n) must be >= 0, got {self.n}")
        if self.min_hops < 1 or self.max_hops < self.min_hops:
            raise ConfigError(f"hop range {self.min_hops}-{self.max_hops} is empty or below 1; "
                              "use e.g. --hops 1-4")
        if self.max_hops > MAX_HOPS:
            raise ConfigError(f"max hops {self.max_hops} is more than worlds support ({MAX_HOPS}); "
                              f"use --hops {self.min_hops}-{MAX_HOPS} or fewer")
        for name, table, known in (("kinds", self.kinds, KINDS), ("shapes", self.shapes, SHAPES),
                                   ("surfaces", self.surfaces, SURFACES)):
            bad = sorted(set(table) - set(known))
            if bad or any(w < 0 for w in table.values()):
                raise ConfigError(f"--{name}: unknown names {bad} or negative weights; "
                                  f"choose from {', '.join(known)}")
        if not any(w > 0 for w in self.surfaces.values()):
            raise ConfigError("--surfaces: give at least one surface form a weight > 0, e.g. plain=1,inline=1")
        if not self.pairs():
            raise ConfigError(f"no kind with weight > 0 can make a shape with weight > 0 in "
                              f"{self.min_hops}-{self.max_hops} hops; widen --hops or change "
                              "--kinds/--shapes (comparisons need 3+ hops, fan-in 4+)")
        if not 0.0 <= self.phrasing <= 1.0:
            raise ConfigError(f"--phrasing must be in [0, 1], got {self.phrasing}")
        if self.n_distractors < 0:
            raise ConfigError(f"--distractors must be >= 0, got {self.n_distractors}")
        if self.token_budget < 1:
            raise ConfigError(f"--budget must be a positive number of tokens, got {self.token_budget}")
        bad = sorted(set(self.held_out_styles) - set(STYLES))
        if bad:
            raise ConfigError(f"held-out styles {bad} unknown; choose from {', '.join(STYLES)}")
        if not 0.0 <= self.test_fraction <= 1.0:
            raise ConfigError(f"test_fraction must be in [0, 1], got {self.test_fraction}")

    def pairs(self) -> list[tuple[str, str, int, int, float]]:
        """(kind, shape, lo, hi, weight) the generator may draw."""
        out = []
        for kind in KINDS:
            for shape, (lo, hi) in FEASIBLE[kind].items():
                lo, hi = max(lo, self.min_hops), min(hi, self.max_hops)
                weight = self.kinds.get(kind, 0.0) * self.shapes.get(shape, 0.0)
                if lo <= hi and weight > 0:
                    out.append((kind, shape, lo, hi, weight))
        return out


def parse_hops(text: str) -> tuple[int, int]:
    """'2-4' -> (2, 4), '3' -> (3, 3); a one-line error otherwise."""
    lo, _, hi = text.partition("-")
    try:
        a, b = int(lo), int(hi or lo)
    except ValueError:
        raise ConfigError(f"--hops {text!r} is not a range; write e.g. --hops 2-4 or --hops 3") from None
    return a, b


def finalize(draft: Draft, world: World, qid: str) -> Question:
    """Resolve a draft's ops into answers, fact ids, dependencies and the final answer."""
    results = resolve(world, [s.op for s in draft.steps])
    steps = []
    for s, r in zip(draft.steps, results):
        ans, members = render_values(world, r.values, is_set_op(s.op, len(r.values)))
        aliases = [] if members else _aliases(world, r.values[0], s.op)
        steps.append(Step(s.question, ans, s.type, refs(s.op), sorted(r.fact_ids), s.op,
                          members, aliases))
    named = set()
    for s in draft.steps:
        for x in [s.op.get("arg"), *s.op.get("args", []), *(i[0] for i in s.op.get("items", []))]:
            if x is not None and world.is_entity(x):
                named.add(x)
    return Question(id=qid, question=draft.question, answer=steps[-1].answer,
                    aliases=list(steps[-1].aliases),
                    kind=draft.kind, shape=infer_shape(steps),
                    hops=sum(s.type == "recall" for s in steps), decomposition=steps,
                    world_seed=world.seed, answer_set=steps[-1].answer_set,
                    entities=sorted(named))


def _aliases(world: World, atom, op: dict) -> list[str]:
    if op["op"] == "count" and 0 <= atom < len(NUMBER_WORDS):
        return [NUMBER_WORDS[atom]]
    if op["op"] == "diff":
        return [f"{atom} years"]
    if op["op"] == "calc":
        return [f"{atom} {op['unit']}"] if op.get("unit") else []
    return world.aliases(atom)


def generate_questions(world: World, config: QuestionConfig | None = None, *,
                       corpus: Corpus | None = None, count_tokens: TokenCounter = approx_tokens,
                       progress: Callable[[int], None] | None = None) -> list[Question]:
    """Draw `config.n` checked questions with assembled contexts from `world`."""
    cfg = config or QuestionConfig()
    cfg.validate()
    corpus = corpus or Corpus(world)
    seed = world.seed if cfg.seed is None else cfg.seed
    rng = random.Random(f"{seed}/questions")
    builder = Builder(world, rng, phrasing=cfg.phrasing, wording=random.Random(f"{seed}/phrasing"))
    pairs = cfg.pairs()
    weights = [p[4] for p in pairs]
    limit = cfg.max_attempts if cfg.max_attempts is not None else 300 + 80 * cfg.n
    out: list[Question] = []
    seen: set[str] = set()
    why: Counter[str] = Counter()
    surfaces = [(k, w) for k, w in cfg.surfaces.items() if w > 0]
    # its own stream: the plain questions of a seed stay the same whatever surfaces are asked for
    srng = random.Random(f"{seed}/surfaces")
    held = tuple(cfg.held_out_styles)
    kept_styles = tuple(s for s in corpus.styles if s not in held)
    attempts = 0
    while len(out) < cfg.n:
        if attempts >= limit or (attempts >= 40 and not out and why["budget"] >= 0.8 * attempts):
            raise ConfigError(_failure(len(out), cfg, attempts, why))
        attempts += 1
        kind, shape, lo, hi, _ = rng.choices(pairs, weights)[0]
        draft = getattr(builder, kind)(rng.randint(lo, hi), shape)
        if draft is None:
            why[f"no {kind} path"] += 1
            continue
        try:
            q = finalize(draft, world, f"{cfg.id_prefix}w{world.seed}-q{len(out):05d}")
        except ResolveError:
            why["unresolvable"] += 1
            continue
        if q.question in seen or q.shape != shape or check_question(q, world):
            why["rejected by checks"] += 1
            continue
        styles = None
        if held:
            test = rng.random() < cfg.test_fraction
            styles, q.split = (held, "test") if test else (kept_styles, "train")
        facts = [f for s in q.decomposition if s.type == "recall" for f in s.fact_ids]
        support = choose_supporting(corpus, facts, rng, styles)
        if support is None:
            why["no document in the allowed styles"] += 1
            continue
        try:
            ctx = assemble_context(corpus, support, rng, n_distractors=cfg.n_distractors,
                                   budget=cfg.token_budget, near=_near(q, world),
                                   styles=styles, count_tokens=count_tokens)
        except BudgetError as e:
            why["budget"] += 1
            why["_needed"] = max(why["_needed"], e.needed)
            continue
        q.context, q.context_doc_ids = ctx.text, ctx.doc_ids
        q.supporting_doc_ids, q.n_context_tokens = ctx.supporting_doc_ids, ctx.n_tokens
        if check_question(q, world, corpus):
            why["unsupported"] += 1
            continue
        if surfaces != [("plain", 1.0)]:
            form = srng.choices([k for k, _ in surfaces], [w for _, w in surfaces])[0]
            worded = reword(q, world, corpus, form, srng)
            if worded is None:
                why[f"no {form} wording"] += 1
                continue
            q = worded
        seen.add(q.question)
        out.append(q)
        if progress:
            progress(1)
    return out


_STATEMENT_START = re.compile(r"^(The|Records|About|Participants|Over)\b")


def statements(q: Question, corpus: Corpus, rng: random.Random) -> list[str] | None:
    """The facts `q`'s recall steps read, one sentence each (a list fact with its whole
    list), in a shuffled order; None when a step's answer is not named in the sentences of
    its facts (the same support rule documents are held to)."""
    out: list[tuple[str, set[str]]] = []
    covered: set[str] = set()
    for s in q.decomposition:
        if s.type != "recall":
            continue
        for fid in s.fact_ids:
            if fid in covered:
                continue
            text, fids = corpus.statement(fid, rng)
            out.append((text, set(fids)))
            covered |= set(fids)
    for s in q.decomposition:
        if s.type != "recall":
            continue
        stating = " ".join(t for t, fids in out if fids & set(s.fact_ids))
        if not all(contains(stating, a) for a in s.answer_set or [s.answer]):
            return None
    rng.shuffle(out)
    return [t for t, _ in out]


def reword(q: Question, world: World, corpus: Corpus, form: str, rng: random.Random) -> Question | None:
    """`q` worded in surface form `form` (`SURFACES`); None when it cannot be."""
    if form == "plain":
        return q
    said = statements(q, corpus, rng)
    if not said:
        return None
    if form == "inline":
        return replace(q, question=" ".join(said) + " " + q.question, context="", context_doc_ids=[],
                       supporting_doc_ids=[], n_context_tokens=0, surface=form, route="whole")
    if form == "facts":
        text = "Facts:\n" + "\n".join(said) + "\n\nQuestion: " + q.question
        return replace(q, question=text, context="", context_doc_ids=[], supporting_doc_ids=[], n_context_tokens=0,
                       surface=form, route="whole")
    first = said[0].rstrip(".")
    if _STATEMENT_START.match(first):
        first = first[0].lower() + first[1:]
    names = [world.name(e) for e in q.entities] + [cap(world.mention(e)) for e in q.entities]
    body = q.question if any(q.question.startswith(n) for n in names) else q.question[0].lower() + q.question[1:]
    return replace(q, question=f"Given that {first}, {body}", surface=form, route="steps")


def _near(q: Question, world: World) -> list[str]:
    """The entities a question is about or answers with: half the distractors come from
    their neighbourhood."""
    near = set(q.entities) | {world.by_name.get(a.lower()) for s in q.decomposition
                              for a in (s.answer_set or [s.answer])}
    return sorted(near - {None})


def add_distractors(q: Question, corpus: Corpus, extra: int, *, budget: int = 100_000,
                    count_tokens: TokenCounter = approx_tokens) -> Question:
    """`q` with up to `extra` more distractor documents in its context, drawn by the
    generator's rule: the documents already there stay, the order is shuffled, seeded by the
    question's id and its new number of distractors, so the same question grows the same way
    every time. For measuring how a system's cost and accuracy change with the size of the
    context on the same questions (`benchmarks/bench_context.py`)."""
    if extra <= 0:
        return q
    total = len(q.context_doc_ids) - len(q.supporting_doc_ids) + extra
    rng = random.Random(f"{q.id}/distractors/{total}")
    ctx = assemble_context(corpus, list(q.context_doc_ids), rng, n_distractors=extra, budget=budget,
                           near=_near(q, corpus.world), count_tokens=count_tokens)
    return replace(q, context=ctx.text, context_doc_ids=ctx.doc_ids, n_context_tokens=ctx.n_tokens)


def _failure(made: int, cfg: QuestionConfig, attempts: int, why: Counter) -> str:
    reasons = [(k, v) for k, v in why.most_common() if not k.startswith("_")]
    top = reasons[0][0] if reasons else "none"
    if top == "budget":
        fix = (f"raise --budget to at least {why['_needed']} tokens (supporting documents of "
               f"one question need {why['_needed']}; budget is {cfg.token_budget})")
    elif top == "no document in the allowed styles":
        fix = "allow more --styles or hold out fewer in --split"
    else:
        fix = (f"narrow --hops (now {cfg.min_hops}-{cfg.max_hops}), enlarge the world "
               "(--people) or raise its densities (--world-opt)")
    summary = ", ".join(f"{k}: {v}" for k, v in reasons[:3])
    return (f"generated only {made} of {cfg.n} questions after {attempts} attempts "
            f"(rejections: {summary}); {fix}")


def config_dict(cfg: QuestionConfig) -> dict:
    d = asdict(cfg)
    d["held_out_styles"] = list(cfg.held_out_styles)
    return d
