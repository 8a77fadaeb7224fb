"""Allocators: pick the pool model for each subtask.

One protocol, one method: `run(subtask, solve, pool) -> Allocation`, where `solve(model)`
answers the subtask with that model. An allocator may call `solve` more than once (a probe,
then the chosen model; or a cascade up the tiers); every call is returned and charged.

- `FixedAllocator`: one model for every step (a baseline, and `ask --model`).
- `RandomAllocator`: a uniformly random model per step, seeded by the step text.
- `ConfidenceAllocator`: R2-Reasoner's rule. The cheapest model answers the subtask (the
  probe); the alpha-quantile of its token probabilities is the difficulty estimate; it is
  compared with thresholds that map to tiers (easy -> small, medium -> medium, hard ->
  large). Departure from the paper: when the rule picks the probe's own tier we keep the
  probe's answer instead of asking again, so an easy step costs one small call.
- `CascadeAllocator`: FrugalGPT/AutoMix style: answer with the cheapest model, accept when
  its confidence clears the threshold, otherwise escalate to the next model.
- `LearnedAllocator`: a policy trained on grouped-search labels (SFT, then GRPO; see
  `subroute.train.allocator`). It asks the probe model (the pool's `probe`, else the
  cheapest) for the confidence feature, scores every pool model for the step, and keeps the
  probe's answer when it picks the probe model or a smaller one.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Protocol

from subroute.decompose import Subtask
from subroute.errors import SubrouteError
from subroute.models.base import Completion
from subroute.pool import Pool, PoolModel
from subroute.scoring import normalize, split_items

Solve = Callable[[PoolModel], Completion]


@dataclass
class Allocation:
    completion: Completion  # the accepted answer
    model: PoolModel
    calls: list[tuple[str, Completion]] = field(default_factory=list)  # (role, call): probes and steps
    confidence: float | None = None
    note: str | None = None


class Allocator(Protocol):
    name: str

    def run(self, subtask: Subtask, solve: Solve, pool: Pool) -> Allocation: ...


MAX_ANSWER_WORDS = 6


def is_short_answer(text: str, max_words: int = MAX_ANSWER_WORDS) -> bool:
    """An answer a later step can use as #k: not empty, not a sentence (a list answer is
    fine as long as each item is short), and not one item over and over ("Vialalorton,
    Vialalorton, Vialalorton, ...": Qwen-0.5B loops so on a list it cannot find, at
    confidence 0.5 and 0.59 on two of 96 questions of worlds 300 and 301)."""
    items = [x.lower() for x in split_items(text)]
    looping = max(Counter(items).values(), default=0) >= 3
    return bool(items) and not looping and all(len(item.split()) <= max_words for item in items)


_CHOICE = re.compile(r"\bor\b", re.IGNORECASE)


def echoes(answer: str, query: str) -> bool:
    """Whether an answer only repeats words of its own question ("Who directed The Loushith
    Hours?" -> "The Loushith Hours", "In which country is Tranelo?" -> "Tranelo"). Small
    models answer so when the passage does not say it plainly, and confidently. It is never
    the answer to a lookup, except where the question offers a choice ("A or B?")."""
    a = normalize(answer).split()
    q = normalize(query).split()
    if not a or _CHOICE.search(query):
        return False
    return any(q[i:i + len(a)] == a for i in range(len(q) - len(a) + 1))


def step_confidence(c: Completion, alpha: float, max_words: int = MAX_ANSWER_WORDS) -> float | None:
    """The alpha-quantile token probability; 0 for an empty or a rambling answer, and for a
    lookup's answer that only repeats its question (`execute.StepPrompt` marks those), so
    the rules escalate it."""
    if not is_short_answer(c.text, max_words) or c.extra.get("echo"):
        return 0.0
    return c.confidence(alpha)


def cheapest_per_tier(pool: Pool) -> list[PoolModel]:
    """One model per tier, the cheapest of each, from the smallest tier up."""
    out: dict[str, PoolModel] = {}
    for m in pool.models:
        out.setdefault(m.tier, m)
    return list(out.values())


def routing_ladder(pool: Pool) -> list[PoolModel]:
    """The rungs a confidence rule or cascade climbs: the pool's probe model, then the
    cheapest model of each dearer tier."""
    probe = pool.probe_model
    return [probe] + [m for m in cheapest_per_tier(pool) if m.tier_rank > probe.tier_rank]


class FixedAllocator:
    def __init__(self, model: str) -> None:
        self.model = model
        self.name = f"fixed:{model}"

    def run(self, subtask: Subtask, solve: Solve, pool: Pool) -> Allocation:
        m = pool[self.model]
        c = solve(m)
        return Allocation(c, m, [("step", c)], c.confidence())


class RandomAllocator:
    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self.name = f"random@{seed}"

    def run(self, subtask: Subtask, solve: Solve, pool: Pool) -> Allocation:
        m = random.Random(f"{self.seed}:{subtask.index}:{subtask.text}").choice(pool.models)
        c = solve(m)
        return Allocation(c, m, [("step", c)], c.confidence())


class ConfidenceAllocator:
    """Probe with the pool's probe model (the cheapest unless `[pool] probe` names another);
    its alpha-quantile token probability picks the tier, from the probe's tier up: at or
    above the first threshold the probe's own answer stands."""

    def __init__(self, thresholds: tuple[float, ...] = (0.8, 0.5), alpha: float = 0.1) -> None:
        if list(thresholds) != sorted(thresholds, reverse=True):
            raise ValueError("thresholds must be descending (easy first)")
        self.thresholds = tuple(thresholds)
        self.alpha = alpha
        self.name = "confidence@" + ",".join(f"{t:g}" for t in thresholds)

    def tier_index(self, confidence: float | None, n_tiers: int) -> int:
        if confidence is None:  # no logprobs from the probe: be safe, use the top tier
            return n_tiers - 1
        for i, t in enumerate(self.thresholds[: n_tiers - 1]):
            if confidence >= t:
                return i
        return n_tiers - 1

    def run(self, subtask: Subtask, solve: Solve, pool: Pool) -> Allocation:
        ladder = routing_ladder(pool)
        if len(ladder) == 1:
            c = solve(ladder[0])
            return Allocation(c, ladder[0], [("step", c)], step_confidence(c, self.alpha))
        probe = solve(ladder[0])
        conf = step_confidence(probe, self.alpha)
        i = self.tier_index(conf, len(ladder))
        if i == 0 and probe.text:
            return Allocation(probe, ladder[0], [("step", probe)], conf)
        i = max(i, 1)
        c = solve(ladder[i])
        note = None if probe.text else "probe answered nothing"
        return Allocation(c, ladder[i], [("probe", probe), ("step", c)], conf, note)


class CascadeAllocator:
    """From the pool's probe model up (the cheapest unless `[pool] probe` names another),
    escalate while the answer's confidence is below the threshold; `start` (a tier or
    model name) starts the climb at that tier instead."""

    def __init__(self, threshold: float = 0.7, alpha: float = 0.1, start: str | None = None) -> None:
        self.threshold = threshold
        self.alpha = alpha
        self.start = start
        self.name = f"cascade@{threshold:g}" + (f">{start}" if start else "")

    def run(self, subtask: Subtask, solve: Solve, pool: Pool) -> Allocation:
        if not self.start:
            ladder = routing_ladder(pool)
        else:
            if self.start in pool.names:
                rank = pool[self.start].tier_rank
            elif self.start in pool.tiers:
                rank = next(m.tier_rank for m in pool.models if m.tier == self.start)
            else:
                raise SubrouteError(f"cascade start '{self.start}' is neither a model nor a tier of the pool "
                                    f"(models: {', '.join(pool.names)}; tiers: {', '.join(pool.tiers)})")
            ladder = [m for m in cheapest_per_tier(pool) if m.tier_rank >= rank]
        calls: list[tuple[str, Completion]] = []
        for k, m in enumerate(ladder):
            c = solve(m)
            conf = step_confidence(c, self.alpha)
            last = k == len(ladder) - 1
            calls.append(("step" if last else "probe", c))
            if last or (conf is not None and conf >= self.threshold):
                calls[-1] = ("step", c)
                return Allocation(c, m, calls, conf)
        raise AssertionError("unreachable: the ladder is never empty")


class LearnedAllocator:
    """Allocation by a trained policy (an artifact folder from `subroute train allocator`)."""

    def __init__(self, path: str, pool: Pool, *, alpha: float = 0.1) -> None:
        from subroute.train.allocator import load_policy

        self.net, self.manifest = load_policy(path, pool)
        self.path = path
        self.alpha = alpha
        self.name = f"learned:{path}"

    def scores(self, pool: Pool, infos: list) -> "list[list[float]]":
        from subroute.train.allocator import _model_feats
        from subroute.train.features import step_features

        return self.net(step_features(infos), _model_feats(pool)).tolist()

    def run(self, subtask: Subtask, solve: Solve, pool: Pool) -> Allocation:
        from subroute.execute import is_synthesis
        from subroute.train.allocator import realised
        from subroute.train.features import StepInfo

        models = pool.models
        probe_model = pool.probe_model  # the model whose confidence the labels recorded
        probe = solve(probe_model)
        conf = step_confidence(probe, self.alpha)
        info = StepInfo(subtask.text, conf, subtask.index - 1, subtask.n_steps,
                        is_synthesis(subtask.type, subtask.depends_on))
        row = self.scores(pool, [info])[0]
        pick = pool[realised(pool, models[max(range(len(models)), key=lambda k: row[k])].name)]
        if pick is probe_model and probe.text:
            return Allocation(probe, pick, [("step", probe)], conf)
        c = solve(pick)
        return Allocation(c, pick, [("probe", probe), ("step", c)], conf)
