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
  its confidence clears the threshold, otherwise escalate to the next model; where none
  clears it, the largest model's answer, or (`surest`) the most confident one paid for.

The learned allocator (a policy trained on grouped-search labels) implements the same
protocol; it lives with the other trained artifacts' runtime in `subroute.learned`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable, Protocol

from subroute.answers import step_confidence
from subroute.decompose import Subtask
from subroute.errors import SubrouteError
from subroute.models.base import Completion
from subroute.pool import Pool, PoolModel, cheapest_per_tier, routing_ladder

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

    @classmethod
    def at(cls, threshold: float, alpha: float = 0.1) -> "ConfidenceAllocator":
        """The rule at one threshold, as `subroute ask --threshold t` runs it: a probe answer at
        confidence >= t stands, >= t/2 goes to the middle tier, below that to the top one."""
        return cls((threshold, threshold / 2), alpha)

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

    def __init__(self, threshold: float = 0.7, alpha: float = 0.1, start: str | None = None, *,
                 surest: bool = False) -> None:
        self.threshold = threshold
        self.alpha = alpha
        self.start = start
        # where no answer clears the threshold: the last (the largest model's, FrugalGPT's
        # rule), or with `surest` the most confident of the answers paid for
        self.surest = surest
        self.name = f"cascade@{threshold:g}" + (f">{start}" if start else "") + ("/surest" if surest else "")

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
        confs: list[float | None] = []
        for m in ladder:
            c = solve(m)
            calls.append(("probe", c))
            confs.append(step_confidence(c, self.alpha))
            if confs[-1] is not None and confs[-1] >= self.threshold:
                break
        k = len(calls) - 1  # the answer that cleared the threshold, else the largest model's
        cleared = confs[k] is not None and confs[k] >= self.threshold
        if self.surest and not cleared:  # the most confident answer paid for; a tie goes to the larger model
            k = max(range(len(confs)), key=lambda i: (-1.0 if confs[i] is None else confs[i], i))
        c = calls[k][1]
        calls[k] = ("step", c)
        note = f"kept {ladder[k].name}'s answer, the surest of {len(calls)}" if k != len(calls) - 1 else None
        return Allocation(c, ladder[k], calls, confs[k], note)


