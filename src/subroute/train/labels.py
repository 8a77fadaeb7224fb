"""Allocation labels by grouped search (R2-Reasoner, seeds/001 section on the allocator).

For each gold subtask of a training question (earlier gold answers filled in, passages
retrieved as the pipeline would), we look for the cheapest pool model that answers it
correctly without trying every model:

1. the cheapest model answers first; the alpha-quantile of its token probabilities is the
   difficulty estimate, mapped by thresholds to a model group (a tier);
2. the models of that group are tried, cheapest first;
3. if one is right, cheaper groups are tried in turn while they still succeed; if none is,
   dearer groups are tried until one succeeds; never more than `max_tries` calls.

On fictional data each hop has a gold answer, so "correct" needs no judge: it is the same
scorer the benchmark reports and the RL reward pays. Every try is recorded (model,
correct, cost, confidence, answer), not only the winner, so training can price mistakes.

Alternation (seeds/001): labels can also be built on the steps a frozen, trained decomposer
writes instead of the gold wording (`reworded`), so the allocator is trained again on the
subtasks it will actually see; gold answers still score them, step by step.

Batch work: progress bar; results are appended line by line to a JSONL file, and a rerun
skips the (example, step) pairs already there, so an interrupted run resumes. With a Ray
address, examples are fanned out to the cluster (each worker loads the pool itself).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

from subroute.decompose import is_synthesis, step_type
from subroute.errors import SubrouteError
from subroute.execute import DEFAULT_STEP_BUDGET, StepPrompt, step_prompt, substitute
from subroute.gold import exact_gold_step, solves_step
from subroute.inline import split_inline
from subroute.models.base import Completion
from subroute.pool import Pool, PoolModel
from subroute.records import Example, GoldStep
from subroute.retrieve import BM25Retriever

if TYPE_CHECKING:
    from subroute.decompose import Decomposition

LABELS_VERSION = 1
R = TypeVar("R")


@dataclass
class Try:
    model: str
    tier: str
    correct: bool
    cost: float
    confidence: float | None
    answer: str
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass
class GoldStepJob:
    """One gold step, ready to be answered by any model."""

    example: Example
    index: int  # 0-based
    step: GoldStep
    prompt: StepPrompt  # the step's query, passages and how it is asked
    exact: tuple[str, str] | None = None  # (kind, answer) when the router computes the step (`program.exact_step`)

    @property
    def query(self) -> str:
        return self.prompt.query


def gold_step_jobs(ex: Example, *, step_budget: int = DEFAULT_STEP_BUDGET) -> list[GoldStepJob]:
    """Each gold step asked as the pipeline would ask it (earlier gold answers filled in,
    passages retrieved)."""
    if not ex.decomposition:
        raise SubrouteError(f"example {ex.id} has no gold decomposition")
    retriever = BM25Retriever(ex.context) if ex.context else None
    gold = [g.answer for g in ex.decomposition]
    jobs = []
    for i, g in enumerate(ex.decomposition):
        q = substitute(g.question, gold)
        p = step_prompt(q, synthesis=is_synthesis(g.type, tuple(g.depends_on)), retriever=retriever, budget=step_budget)
        jobs.append(GoldStepJob(ex, i, g, p, exact_gold_step(ex.decomposition, i)))
    return jobs


def label_job(ex: Example, lab: "StepLabel", retriever: BM25Retriever | None = None, *,
              step_budget: int = DEFAULT_STEP_BUDGET) -> GoldStepJob:
    """The job a label was made from, rebuilt from its recorded query and type, so a
    label on a decomposer's wording is re-asked in that wording."""
    if not ex.decomposition or lab.step >= len(ex.decomposition):
        raise SubrouteError(f"label {lab.example_id} step {lab.step + 1} has no gold step in example {ex.id}; "
                            "pass the data file the labels were built from")
    if retriever is None and ex.context:
        retriever = BM25Retriever(ex.context)
    p = step_prompt(lab.query, synthesis=lab.type == "synthesis", retriever=retriever, budget=step_budget)
    return GoldStepJob(ex, lab.step, ex.decomposition[lab.step], p)


def reworded(ex: Example, decomposition: "Decomposition") -> Example | None:
    """`ex` with its gold steps worded as a decomposer wrote them (its #k references and
    step types; the gold answers stay, to score each step). None when the decomposition
    does not line up with the gold one (another number of steps, or it fell back to one
    step): no gold answer can score those steps, and no allocation can save the question."""
    gold, steps = ex.decomposition or [], decomposition.steps
    if decomposition.fallback or not gold or len(steps) != len(gold):
        return None
    return replace(ex, decomposition=[
        replace(g, question=s.text, depends_on=tuple(s.depends_on),
                type=step_type(s.type, tuple(s.depends_on)))
        for s, g in zip(steps, gold)])


def reword_examples(examples: list[Example], decomposer, *, progress: bool = True) -> tuple[list[Example], int]:
    """Every example as `decomposer` splits it (see `reworded`); returns the ones that line
    up with their gold decomposition and how many did not."""
    from tqdm import tqdm

    out = []
    for ex in tqdm(examples, desc="decomposing", unit="q", file=sys.stderr, disable=not progress):
        r = reworded(ex, decomposer.decompose(split_inline(ex.question).for_decomposer, ex))
        if r is not None:
            out.append(r)
    return out, len(examples) - len(out)


def attempt(job: GoldStepJob, model: PoolModel, max_tokens: int = 48, alpha: float = 0.1) -> tuple[Try, Completion]:
    """One model's answer to one step. Correct means right and usable: the answer matches the
    gold hop and, when a later step cites it, is short. A sentence that contains the answer
    ("The answer is: Quellin.") scores as right, but substituted for #k it breaks the next
    step; counting it as solved taught an allocator to send every step to SmolLM2, which
    answers that way (world 900: 0 of 24 questions end to end)."""
    from subroute.answers import step_confidence

    c = job.prompt.ask(model, max_tokens)
    ok = solves_step(c.text, job.example.decomposition or [], job.index)
    # the confidence the allocators act on (0 for a rambling answer), so features match
    conf = step_confidence(c, alpha)
    return Try(model.name, model.tier, ok, c.cost, conf, c.text, c.usage.input_tokens, c.usage.output_tokens), c


@dataclass
class StepLabel:
    example_id: str
    step: int  # 0-based
    n_steps: int
    query: str
    type: str
    gold_answer: str
    probe_confidence: float | None
    tries: list[Try] = field(default_factory=list)
    label: str | None = None  # cheapest correct model among those tried
    world_seed: int | None = None
    version: int = LABELS_VERSION
    decomposer: str | None = None  # whose wording the step has; None: the gold decomposition

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "StepLabel":
        d = dict(d)
        d["tries"] = [Try(**t) for t in d["tries"]]
        return cls(**d)


def groups_of(pool: Pool) -> list[list[PoolModel]]:
    """Models grouped by tier, cheapest tier first, cheapest model first within a tier."""
    return [[m for m in pool.models if m.tier == t] for t in pool.tiers]


def grouped_search(pool: Pool, job: GoldStepJob, *, thresholds: tuple[float, ...] = (0.8, 0.5),
                   alpha: float = 0.1, max_tries: int = 20) -> StepLabel:
    from subroute.allocate import ConfidenceAllocator

    groups = groups_of(pool)
    tried: dict[str, Try] = {}

    def run(m: PoolModel) -> Try:
        if m.name not in tried:
            tried[m.name] = attempt(job, m, alpha=alpha)[0]
        return tried[m.name]

    # difficulty from the pool's probe model (the cheapest unless `[pool] probe` names another),
    # the same signal the confidence rule and the learned allocator route on
    probe_model = pool.probe_model
    probe = run(probe_model)
    rule = ConfidenceAllocator(thresholds, alpha)
    g0 = next(k for k, grp in enumerate(groups) if probe_model in grp)
    g = g0 + rule.tier_index(probe.confidence, len(groups) - g0)

    def try_group(k: int) -> PoolModel | None:
        for m in groups[k]:
            if m.name not in tried and len(tried) >= max_tries:
                return None
            if run(m).correct:
                return m
        return None

    if try_group(g) is not None:
        for k in range(g - 1, -1, -1):  # cheaper groups, while they still succeed
            if try_group(k) is None:
                break
    else:
        for k in range(g + 1, len(groups)):  # dearer groups, until one succeeds
            if try_group(k) is not None:
                break
    correct = [t for t in tried.values() if t.correct]
    label = min(correct, key=lambda t: pool[t.model].price_in + pool[t.model].price_out).model if correct else None
    ex = job.example
    return StepLabel(ex.id, job.index, len(ex.decomposition or []), job.query,
                     step_type(job.step.type, tuple(job.step.depends_on)),
                     job.step.answer, probe.confidence, list(tried.values()), label, ex.meta.get("seed"))


def exact_label(job: GoldStepJob) -> StepLabel:
    """The label of a step the router computes ("How many entries are in #2?", "Which city
    appears in both #1 and #3?", "What is 3 * #2?"): no model is asked, so there are no
    tries, and `label` is the kind (`program.COUNTED`, `program.INTERSECTED`,
    `program.COMPUTED`). Allocator training leaves such steps
    out of a question's allocations (the result is right whenever the lists it reads are,
    and their own steps carry the outcome)."""
    assert job.exact is not None, "exact_label is for computed steps"
    ex = job.example
    return StepLabel(ex.id, job.index, len(ex.decomposition or []), job.query,
                     step_type(job.step.type, tuple(job.step.depends_on)), job.step.answer, None, [], job.exact[0],
                     ex.meta.get("seed"))


def label_example(pool: Pool, ex: Example, *, skip: set[tuple[str, int]] = frozenset(),  # type: ignore[assignment]
                  decomposer: str | None = None, **kw) -> list[StepLabel]:
    labs = [grouped_search(pool, j, **kw) if j.exact is None else exact_label(j)
            for j in gold_step_jobs(ex) if (ex.id, j.index) not in skip]
    for lab in labs:
        lab.decomposer = decomposer
    return labs


def read_records(path: str | Path, parse: Callable[[dict[str, Any]], R], what: str, record: str) -> list[R]:
    """The records of a resumable JSONL file (`parse` reads one); none if it is missing. A
    last line cut by an interruption is dropped (everything before it is kept, it is redone);
    any other line that is not a record is an error naming `what` file and the `record` kind."""
    p = Path(path)
    if not p.is_file():
        return []
    lines = p.read_text(encoding="utf-8").splitlines()
    out = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            out.append(parse(json.loads(line)))
        except (ValueError, TypeError, KeyError):
            if n != len(lines):
                raise SubrouteError(f"{what} file {p}: line {n} is not a {record}; "
                                    "delete the file to rebuild") from None
    return out


def resume_records(path: str | Path, read: Callable[[Path], list[R]]) -> tuple[Path, list[R]]:
    """Open a resumable JSONL file for more records: its folder made, the records already
    there (`read` reads them), and the file rewritten without a last line an interruption
    cut, so appending goes on from a whole line."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    have = read(out)
    if have:
        out.write_text("".join(r.to_json() + "\n" for r in have), encoding="utf-8")
    return out, have


def read_labels(path: str | Path) -> list[StepLabel]:
    return read_records(path, StepLabel.from_dict, "labels", "label record")


def _remote_label(pool_path: str | None, ex: Example, skip: set, kw: dict) -> list[str]:
    from subroute.cache import CallCache

    pool = Pool.load(pool_path).use_cache(CallCache())
    return [lab.to_json() for lab in label_example(pool, ex, skip=skip, **kw)]


def build_labels(pool: Pool, examples: list[Example], out: str | Path, *, pool_path: str | None = None,
                 ray_address: str | None = None, progress: bool = True, **kw) -> list[StepLabel]:
    """Label every gold step of `examples` into `out` (JSONL), resuming what is there."""
    from tqdm import tqdm

    out, have = resume_records(out, read_labels)
    done = {(lab.example_id, lab.step) for lab in have}
    todo = [ex for ex in examples if ex.decomposition and any((ex.id, i) not in done for i in range(len(ex.decomposition)))]
    with open(out, "a", encoding="utf-8") as f, tqdm(total=len(todo), desc="labels", unit="q", file=sys.stderr,
                                                    disable=not progress) as bar:
        for lines in _label_stream(pool, todo, done, pool_path, ray_address, kw):
            for line in lines:
                f.write(line + "\n")
                have.append(StepLabel.from_dict(json.loads(line)))
            f.flush()
            bar.update(1)
    return have


def _label_stream(pool: Pool, todo: list[Example], done: set, pool_path: str | None, ray_address: str | None,
                  kw: dict) -> Iterator[list[str]]:
    return map_jobs(lambda ex: [lab.to_json() for lab in label_example(pool, ex, skip=done, **kw)], _remote_label,
                    [(pool_path, ex, {d for d in done if d[0] == ex.id}, kw) for ex in todo], todo, ray_address)


def map_jobs(local: Callable[[Any], R], remote: Callable[..., R], remote_args: list[tuple], items: list[Any],
             ray_address: str | None) -> Iterator[R]:
    """`local(item)` for each of `items` in this process, or with a Ray address (``local``
    for a cluster of this machine) `remote(*args)` for each of `remote_args` as Ray tasks,
    each loading its own pool; results come as they finish."""
    if not ray_address:
        for it in items:
            yield local(it)
        return
    try:
        import ray
    except ImportError:
        from subroute.errors import missing_extra

        raise missing_extra("ray", "ray") from None
    ray.init(address=None if ray_address == "local" else ray_address, ignore_reinit_error=True,
             log_to_driver=False)
    task = ray.remote(remote)
    pending = [task.remote(*a) for a in remote_args]
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        yield ray.get(ready[0])
