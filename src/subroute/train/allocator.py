"""The learned allocator: SFT on grouped-search labels, then GRPO on the outcome reward.

Policy: a small network scores each (subtask, model) pair from `subroute.learned`'s features; a softmax
over the pool's models is the allocation distribution.

SFT: cross-entropy towards the label, the cheapest model that answered the step correctly
(the largest model where none did).

GRPO (seeds/001): per question, sample G allocations (one model per step), reward each,
and push up allocations that beat their group's mean (advantage = r - mean, unscaled: Dr. GRPO),
with PPO's clipped ratio over `epochs` passes and an exact KL penalty to the SFT policy
(the distributions are small categoricals, so the KL needs no estimator). Departures:
- the reward is computed from per-step gold outcomes (correct if every step of the
  allocation is correct) instead of re-running the chain; on gold decompositions a wrong
  step feeds a wrong answer forward, so this is the outcome a rerun would give, at no cost;
  (step, model) pairs the grouped search never tried are run once, through the call cache;
- each step is scored as routing runs it (`probed_outcome`): the probe model's call is
  charged, and a pick below the probe's tier gets the probe's answer;
- cost-aware reward (our addition): r = correct - lambda * cost / cost_of_largest; with
  lambda = 0 it is the paper's binary reward.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from subroute.embed import EMBEDDER
from subroute.errors import SubrouteError, missing_extra
from subroute.learned import (
    ALLOCATOR_VERSION,
    MODEL_DIM,
    STEP_DIM,
    StepInfo,
    pool_model_features,
    pool_signature,
    read_manifest,
    realised,
    step_features,
)
from subroute.pool import Pool
from subroute.program import EXACT
from subroute.train.labels import StepLabel, Try


def _torch():
    try:
        import torch
    except ImportError:
        raise missing_extra("torch", "train") from None
    return torch


def make_net(hidden: int = 64, dropout: float = 0.0):
    torch = _torch()
    nn = torch.nn

    class PolicyNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout(dropout)  # on the step features: a few hundred labels, 390 inputs
            self.step = nn.Linear(STEP_DIM, hidden)
            self.model = nn.Linear(MODEL_DIM, hidden)
            self.out = nn.Sequential(nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))

        def forward(self, s, m):  # s [n, STEP_DIM], m [K, MODEL_DIM] -> logits [n, K]
            return self.out(self.step(self.drop(s))[:, None, :] + self.model(m)[None, :, :]).squeeze(-1)

    return PolicyNet()


@dataclass
class Question:
    """One training question: its steps' features and each (step, model) outcome."""

    example_id: str
    feats: np.ndarray  # [n, STEP_DIM]
    labels: list[StepLabel]
    outcomes: list[dict[str, Try]]  # per step: model -> try


@dataclass
class TrainConfig:
    """The allocator's training knobs, and the one source of their defaults: `subroute train
    allocator` and `train all` derive their options from these fields (default, help, and the
    range in "min"/"max"), and the artifact's manifest records them."""

    hidden: int = field(default=64, metadata={"help": "hidden width of the scorer"})
    sft_epochs: int = field(default=300, metadata={"help": "full-batch SFT epochs", "min": 1})
    sft_lr: float = field(default=3e-3, metadata={"help": "SFT learning rate"})
    dropout: float = field(default=0.0, metadata={"help": "dropout on the step features", "min": 0, "max": 0.9})
    weight_decay: float = field(default=1e-4, metadata={"help": "SFT weight decay", "min": 0})
    grpo_iters: int = field(default=60, metadata={"help": "GRPO iterations (each a batch of questions)", "min": 0})
    grpo_lr: float = field(default=1e-3, metadata={"help": "GRPO learning rate"})
    group_size: int = field(default=8, metadata={"help": "G: allocations sampled per question"})
    batch_questions: int = field(default=16, metadata={"help": "questions per GRPO iteration"})
    epochs: int = field(default=2, metadata={"help": "PPO passes over each sampled batch"})
    clip: float = field(default=0.2, metadata={"help": "PPO ratio clipping"})
    beta: float = field(default=0.02, metadata={"help": "KL penalty towards the SFT policy"})
    cost_lambda: float = field(default=0.3, metadata={"help": "reward = correct - lambda * cost/cost_of_largest"})
    heldout: float = field(default=0.25, metadata={
        "help": "share of worlds held out for evaluation (of questions, when the labels come from one world)",
        "min": 0, "max": 0.9})
    seed: int = field(default=0, metadata={"help": "seed for init, sampling and the held-out split"})


def questions_from_labels(labels: list[StepLabel]) -> list[Question]:
    by_ex: dict[str, list[StepLabel]] = {}
    for lab in labels:
        by_ex.setdefault(lab.example_id, []).append(lab)
    qs = []
    infos: list[StepInfo] = []
    groups = []
    for ex_id in sorted(by_ex):
        steps = sorted(by_ex[ex_id], key=lambda l: l.step)
        if [s.step for s in steps] != list(range(steps[0].n_steps)):
            continue  # incomplete question (interrupted labelling): not usable for outcome rewards
        steps = [s for s in steps if s.label not in EXACT]  # computed, not routed: nothing to allocate
        if not steps:
            continue
        groups.append((ex_id, steps))
        infos += [StepInfo(s.query, s.probe_confidence, s.step, s.n_steps, s.type == "synthesis") for s in steps]
    if not groups:
        raise SubrouteError("no complete labelled questions; build labels first (subroute train labels)")
    feats = step_features(infos)
    k = 0
    for ex_id, steps in groups:
        n = len(steps)
        qs.append(Question(ex_id, feats[k:k + n], steps, [{t.model: t for t in s.tries} for s in steps]))
        k += n
    return qs


class Outcomes:
    """(step, model) -> Try, running untried pairs through `resolve` when given."""

    def __init__(self, pool: Pool, resolve: Callable[[StepLabel, str], Try] | None = None) -> None:
        self.pool = pool
        self.resolve = resolve

    def get(self, q: Question, i: int, model: str) -> Try:
        t = q.outcomes[i].get(model)
        if t is None:
            if self.resolve is not None:
                t = self.resolve(q.labels[i], model)
            else:  # unknown and cannot run: assume wrong, priced from the probe's token counts
                known = next(iter(q.outcomes[i].values()))
                pm = self.pool[model]
                t = Try(model, pm.tier, False, pm.cost(known.input_tokens, known.output_tokens), None, "")
            q.outcomes[i][model] = t
        return t


def _targets(qs: list[Question], names: list[str]) -> np.ndarray:
    return np.array([names.index(lab.label) if lab.label in names else len(names) - 1 for q in qs for lab in q.labels])


def probed_outcome(q: Question, i: int, pick: str, pool: Pool, outcomes: Outcomes) -> tuple[bool, float]:
    """(right, cost) of step i as the learned allocator runs it: the probe's call, then the
    realised pick's when that is another model. Evaluation and the GRPO reward both use it,
    so training sees the answers and the bill routing gets."""
    probe = pool.probe_model.name
    n = realised(pool, pick)
    t = outcomes.get(q, i, n)
    return t.correct, t.cost + (outcomes.get(q, i, probe).cost if n != probe else 0.0)


def _run_plan(qs: list[Question], pool: Pool, outcomes: Outcomes, plan: Callable[[Question], list[str]], *,
              probed: bool) -> tuple[float, float]:
    """(questions with every step right, total cost) when `plan` names each step's model; a
    probed plan runs as the learned allocator does (`probed_outcome`)."""
    ok = cost = 0.0
    for q in qs:
        picks = plan(q)
        if probed:
            res = [probed_outcome(q, i, n, pool, outcomes) for i, n in enumerate(picks)]
        else:
            res = [(t.correct, t.cost) for t in (outcomes.get(q, i, n) for i, n in enumerate(picks))]
        ok += all(r for r, _ in res)
        cost += sum(c for _, c in res)
    return ok, cost


def oracle_plan(pool: Pool, outcomes: Outcomes) -> Callable[[Question], list[str]]:
    """Per step, the model that solved it at the lowest recorded cost (the largest model
    where none did): the oracle both `evaluate` and `evaluate_rules` measure against."""
    names = pool.names

    def pick(q: Question, i: int) -> str:
        ok = [n for n in names if outcomes.get(q, i, n).correct]
        return min(ok, key=lambda n: outcomes.get(q, i, n).cost) if ok else names[-1]

    return lambda q: [pick(q, i) for i in range(len(q.labels))]


def _largest_cost(qs: list[Question], pool: Pool, outcomes: Outcomes) -> float:
    big = pool.names[-1]
    return sum(outcomes.get(q, i, big).cost for q in qs for i in range(len(q.labels)))


def evaluate(net, qs: list[Question], pool: Pool, outcomes: Outcomes) -> dict[str, float]:
    """Greedy allocation: share of questions with every step right, its cost against the
    cheapest-correct (oracle) and all-largest allocations."""
    torch = _torch()
    names = pool.names
    m = torch.tensor(pool_model_features(pool))
    net.eval()
    with torch.no_grad():  # the learned allocator probes before it picks
        ok, cost = _run_plan(qs, pool, outcomes, lambda q: [names[j] for j in net(torch.tensor(q.feats), m).argmax(-1).tolist()],
                             probed=True)
    largest = _largest_cost(qs, pool, outcomes)
    oracle = _run_plan(qs, pool, outcomes, oracle_plan(pool, outcomes), probed=False)[1]
    n = max(1, len(qs))
    return {"accuracy": ok / n, "cost": cost, "cost_vs_largest": cost / largest if largest else math.nan,
            "cost_vs_oracle": cost / oracle if oracle else math.nan, "questions": len(qs)}


def evaluate_rules(qs: list[Question], pool: Pool, outcomes: Outcomes,
                   thresholds: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8), alpha: float = 0.1) -> dict[str, dict[str, float]]:
    """The same measures for the allocations a learned policy must beat: each model on
    every step, the confidence rule at each threshold (on the probe's recorded confidence,
    climbing `routing_ladder`, paying the probe), and `oracle_plan`."""
    from subroute.allocate import ConfidenceAllocator
    from subroute.pool import routing_ladder

    names = pool.names
    ladder = [m.name for m in routing_ladder(pool)]

    def per_step(pick: Callable[[Question, int], str]) -> Callable[[Question], list[str]]:
        return lambda q: [pick(q, i) for i in range(len(q.labels))]

    plans: dict[str, tuple[Callable[[Question], list[str]], bool]] = {
        f"all:{n}": (per_step(lambda q, i, n=n: n), False) for n in names}
    for t in thresholds:
        rule = ConfidenceAllocator.at(t, alpha)
        plans[f"confidence@{t:g}"] = (per_step(lambda q, i, rule=rule: ladder[rule.tier_index(
            q.labels[i].probe_confidence, len(ladder))]), True)

    plans["oracle"] = (oracle_plan(pool, outcomes), False)
    largest = _largest_cost(qs, pool, outcomes) or math.nan
    out: dict[str, dict[str, float]] = {}
    for name, (plan, probed) in plans.items():
        ok, cost = _run_plan(qs, pool, outcomes, plan, probed=probed)
        out[name] = {"accuracy": ok / max(1, len(qs)), "cost": cost, "cost_vs_largest": cost / largest}
    return out


def resolver(pool: Pool, examples: list) -> Callable[[StepLabel, str], Try]:
    """Runs a (step, model) pair the grouped search never tried (through the pool's call
    cache, so each pair costs one call ever), from the examples the labels came from."""
    from subroute.retrieve import BM25Retriever
    from subroute.train.labels import attempt, label_job

    by_id = {e.id: e for e in examples}
    retrievers: dict[str, BM25Retriever | None] = {}

    def resolve(lab: StepLabel, model: str) -> Try:
        ex = by_id.get(lab.example_id)
        if ex is None:
            raise SubrouteError(f"labels name example {lab.example_id}, which is not in the --data file; "
                                "pass the file the labels were built from")
        if ex.id not in retrievers:
            retrievers[ex.id] = BM25Retriever(ex.context) if ex.context else None
        # asked as the label recorded it: the gold wording or a frozen decomposer's
        return attempt(label_job(ex, lab, retrievers[ex.id]), pool[model])[0]

    return resolve


def complete_outcomes(qs: list[Question], pool: Pool, outcomes: Outcomes, *, progress: bool = True) -> int:
    """Fill every (step, model) outcome; returns how many had to be run."""
    from tqdm import tqdm

    todo = [(q, i, n) for q in qs for i in range(len(q.labels)) for n in pool.names if n not in q.outcomes[i]]
    for q, i, n in tqdm(todo, desc="untried (step, model) pairs", unit="call", disable=not progress or not todo):
        outcomes.get(q, i, n)
    return len(todo)


def train_sft(qs: list[Question], pool: Pool, cfg: TrainConfig, log: Callable[[dict], None] | None = None):
    torch = _torch()
    torch.manual_seed(cfg.seed)
    net = make_net(cfg.hidden, cfg.dropout)
    net.train()
    s = torch.tensor(np.concatenate([q.feats for q in qs]))
    m = torch.tensor(pool_model_features(pool))
    y = torch.tensor(_targets(qs, pool.names))
    opt = torch.optim.Adam(net.parameters(), lr=cfg.sft_lr, weight_decay=cfg.weight_decay)
    for ep in range(cfg.sft_epochs):
        loss = torch.nn.functional.cross_entropy(net(s, m), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if log and (ep % 25 == 0 or ep == cfg.sft_epochs - 1):
            log({"phase": "sft", "step": ep, "loss": float(loss.detach())})
    net.eval()  # dropout off from here: GRPO samples and evaluation use the plain policy
    return net


def train_grpo(net, qs: list[Question], pool: Pool, outcomes: Outcomes, cfg: TrainConfig,
               log: Callable[[dict], None] | None = None):
    import copy

    torch = _torch()
    names = pool.names
    ref = copy.deepcopy(net).eval()
    m = torch.tensor(pool_model_features(pool))
    gen = torch.Generator().manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    opt = torch.optim.Adam(net.parameters(), lr=cfg.grpo_lr)
    for it in range(cfg.grpo_iters):
        batch = [qs[i] for i in rng.choice(len(qs), size=min(cfg.batch_questions, len(qs)), replace=False)]
        samples = []
        rewards_all, correct_all, cost_all = [], [], []
        for q in batch:
            s = torch.tensor(q.feats)
            with torch.no_grad():
                logp_old = torch.log_softmax(net(s, m), -1)
                a = torch.multinomial(logp_old.exp(), cfg.group_size, replacement=True, generator=gen).T  # [G, n]
            big = sum(outcomes.get(q, i, names[-1]).cost for i in range(len(q.labels))) or 1.0
            r = []
            for g in range(cfg.group_size):
                res = [probed_outcome(q, i, names[j], pool, outcomes) for i, j in enumerate(a[g].tolist())]
                ok = all(r for r, _ in res)
                c = sum(c for _, c in res)
                r.append(float(ok) - cfg.cost_lambda * c / big)
                correct_all.append(ok)
                cost_all.append(c / big)
            r_t = torch.tensor(r)
            rewards_all += r
            if float(r_t.std()) < 1e-6:
                continue  # no signal in this group
            # advantage relative to the group, not scaled by its std (Dr. GRPO, Liu et al. 2025):
            # in a group where every sample is wrong the rewards differ only by lambda * cost,
            # and std scaling blew that up to a full-size signal; it drove a lambda = 0.1 policy
            # to SmolLM2 on every step (held-out accuracy 0.33 -> 0.13)
            adv = r_t - r_t.mean()
            samples.append((s, a, adv, logp_old))
        for _ in range(cfg.epochs):
            if not samples:
                break
            loss = 0.0
            for s, a, adv, logp_old in samples:
                logp = torch.log_softmax(net(s, m), -1)
                idx = torch.arange(a.shape[1])
                ratio = torch.exp(logp[idx, a] - logp_old[idx, a])  # [G, n]
                obj = torch.minimum(ratio * adv[:, None], ratio.clamp(1 - cfg.clip, 1 + cfg.clip) * adv[:, None]).mean()
                with torch.no_grad():
                    logp_ref = torch.log_softmax(ref(s, m), -1)
                kl = (logp.exp() * (logp - logp_ref)).sum(-1).mean()
                loss = loss + (-obj + cfg.beta * kl) / len(samples)
            opt.zero_grad()
            loss.backward()  # type: ignore[union-attr]
            opt.step()
        if log:
            log({"phase": "grpo", "step": it, "reward": float(np.mean(rewards_all)),
                 "accuracy": float(np.mean(correct_all)), "cost": float(np.mean(cost_all))})
    return net


def save_allocator(path: str | Path, net, pool: Pool, cfg: TrainConfig, *, metrics: dict, data: dict) -> Path:
    torch = _torch()
    from safetensors.torch import save_file

    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(p / "policy.safetensors"))
    manifest = {"kind": "allocator", "version": ALLOCATOR_VERSION, "embedder": EMBEDDER, "pool": pool_signature(pool),
                "pool_source": pool.source, "config": asdict(cfg), "metrics": metrics, "data": data,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "torch": torch.__version__}
    (p / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return p


def load_allocator(path: str | Path, pool: Pool):
    """The trained policy for `pool` as a torch module (training from it); refuses one trained for another pool."""
    manifest = read_manifest(path, pool)
    net = make_net(manifest["config"]["hidden"], manifest["config"].get("dropout", 0.0))  # needs torch
    from safetensors.torch import load_file

    net.load_state_dict(load_file(str(Path(path) / "policy.safetensors")))
    net.eval()
    return net, manifest


