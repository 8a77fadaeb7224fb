"""The runtime of trained artifacts: what routing needs to load and run a router that
`subroute train` wrote, and nothing of training itself.

Routing must not need the training stack (torch, TRL, PEFT), and the training code must be
free to change without touching the runtime, so the artifact formats meet here: the
learned allocator's policy runs in numpy over the features of `step_features` and
`pool_model_features`, and the trained decomposer is the pool's own small model with a
llama.cpp LoRA adapter. `subroute.train` writes these artifacts and imports this module;
this module never imports `subroute.train`.

Features of a (subtask, model) pair: the subtask side is a sentence embedding of the step
text with earlier answers filled in (all-MiniLM-L6-v2 run by llama.cpp: `subroute.embed`),
the probe model's confidence on it (R2-Reasoner's difficulty signal), its position in the
chain, and whether it is a synthesis step; the model side is its tier rank and its price
relative to the pool's dearest model. Scoring pairs rather than emitting one logit per
pool slot lets one network rank any pool's models; an artifact is still tied to the pool
it was trained on, because its labels are, and loading one for another pool is refused.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from subroute.allocate import Allocation, Solve
from subroute.answers import step_confidence
from subroute.decompose import Decomposition, Subtask, draw_steps, is_synthesis
from subroute.embed import EMBED_DIM, embed
from subroute.errors import SubrouteError
from subroute.models.base import Completion, GenerateParams, Message
from subroute.models.catalog import hash_file
from subroute.pool import Pool
from subroute.records import Example

ALLOCATOR_VERSION = 1
DECOMPOSER_VERSION = 1
SYSTEM = "Split the question into numbered sub-questions; cite earlier answers as #1, #2."

STEP_DIM = EMBED_DIM + 6
MODEL_DIM = 3


@dataclass(frozen=True)
class StepInfo:
    query: str
    confidence: float | None
    position: int  # 0-based
    n_steps: int
    synthesis: bool


def step_features(steps: list[StepInfo]) -> np.ndarray:
    e = embed([s.query for s in steps])
    extra = np.array([[
        s.confidence if s.confidence is not None else 0.5,
        1.0 if s.confidence is None else 0.0,
        s.position / max(1, s.n_steps - 1) if s.n_steps > 1 else 0.0,
        1.0 if s.position == s.n_steps - 1 else 0.0,
        1.0 if s.synthesis else 0.0,
        min(s.n_steps, 8) / 8,
    ] for s in steps], dtype=np.float32).reshape(len(steps), 6)
    return np.concatenate([e, extra], axis=1)


def model_features(tier_ranks: list[int], prices: list[float]) -> np.ndarray:
    top_rank = max(1, max(tier_ranks))
    top_price = max(prices) or 1.0
    return np.array([[r / top_rank, math.log10(max(p, 1e-9) / top_price), 1.0] for r, p in zip(tier_ranks, prices)],
                    dtype=np.float32)


def pool_model_features(pool: Pool) -> np.ndarray:
    ms = pool.models
    return model_features([m.tier_rank for m in ms], [m.price_in + m.price_out for m in ms])


def pool_signature(pool: Pool) -> list[dict[str, Any]]:
    return [{"name": m.name, "tier": m.tier, "price_in": m.price_in, "price_out": m.price_out,
             "identity": hashlib.sha256(json.dumps(m.identity(), sort_keys=True, default=str).encode()).hexdigest()[:16]}
            for m in pool.models]


def realised(pool: Pool, pick: str) -> str:
    """The model whose answer the learned allocator keeps when its policy names `pick`: it
    has asked the probe model already (for the confidence feature), so a pick below the
    probe's tier takes the probe's answer, paid for and from the stronger model."""
    probe = pool.probe_model
    return probe.name if pool[pick].tier_rank < probe.tier_rank else pick


class Policy:
    """A saved policy's forward pass in numpy, as `make_net` computes it in eval mode: what
    routing runs, so a process that routes needs no torch."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.step = (w["step.weight"].T, w["step.bias"])
        self.model = (w["model.weight"].T, w["model.bias"])
        self.hidden = (w["out.1.weight"].T, w["out.1.bias"])
        self.out = (w["out.3.weight"].T, w["out.3.bias"])

    def __call__(self, s: np.ndarray, m: np.ndarray) -> np.ndarray:
        """Step features [n, STEP_DIM], model features [K, MODEL_DIM] -> logits [n, K]."""
        x = (s @ self.step[0] + self.step[1])[:, None, :] + (m @ self.model[0] + self.model[1])[None, :, :]
        x = np.maximum(np.maximum(x, 0.0) @ self.hidden[0] + self.hidden[1], 0.0)
        return (x @ self.out[0] + self.out[1])[..., 0]


def load_policy(path: str | Path, pool: Pool) -> tuple[Policy, dict]:
    """The trained policy for `pool` in numpy (routing); refuses one trained for another pool."""
    from safetensors.numpy import load_file

    manifest = read_manifest(path, pool)
    return Policy(load_file(str(Path(path) / "policy.safetensors"))), manifest


def allocator_dir(path: str | Path) -> Path:
    """An allocator folder, given it or a router folder that holds one in allocator/."""
    p = Path(path)
    return p / "allocator" if (p / "allocator").is_dir() else p


def artifact_manifest(path: Path, kind: str, version: int, *, noun: str, article: str, command: str) -> dict:
    """The manifest of the artifact folder `path`, which must be a version-`version` `kind`
    artifact (`article` `noun` and the `command` that trains one name it in the errors)."""
    try:
        manifest = json.loads((path / "manifest.json").read_text())
    except (OSError, ValueError):
        raise SubrouteError(f"{path} is not {article} {noun} artifact (no readable manifest.json); "
                            f"train one with: {command}") from None
    if manifest.get("kind") != kind or manifest.get("version") != version:
        raise SubrouteError(f"{path}: not a version-{version} {noun} artifact; retrain it with: {command}")
    return manifest


def pool_identities(signature: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(name, identity) of each model of a pool signature (`pool_signature`): what an
    artifact trained for one pool must find in the pool it is loaded for."""
    return [(m["name"], m["identity"]) for m in signature]


def read_manifest(path: str | Path, pool: Pool) -> dict:
    """An allocator artifact's manifest, checked against `pool`."""
    p = Path(path)
    manifest = artifact_manifest(p, "allocator", ALLOCATOR_VERSION, noun="allocator", article="an",
                                 command="subroute train allocator")
    want = pool_identities(manifest["pool"])
    have = pool_identities(pool_signature(pool))
    if want != have:
        raise SubrouteError(
            f"the router at {p} was trained for the pool {manifest.get('pool_source')} "
            f"({', '.join(n for n, _ in want)}), not for {pool.source} ({', '.join(n for n, _ in have)}); "
            "retrain it for this pool with: subroute train allocator --pool FILE"
        )
    if not (p / "policy.safetensors").is_file():
        raise SubrouteError(f"{p} has no policy.safetensors; train one with: subroute train allocator")
    return manifest


class LearnedAllocator:
    """Allocation by a trained policy (an artifact folder from `subroute train allocator`).

    It asks the probe model (the pool's `probe`, else the cheapest) for the confidence
    feature, scores every pool model for the step, and keeps the probe's answer when it picks
    the probe model or a smaller one (`realised`): that answer is paid for already."""

    def __init__(self, path: str | Path, pool: Pool, *, alpha: float = 0.1) -> None:
        self.net, self.manifest = load_policy(path, pool)
        self.path = path
        self.alpha = alpha
        self.name = f"learned:{path}"

    def scores(self, pool: Pool, infos: list) -> "list[list[float]]":
        return self.net(step_features(infos), pool_model_features(pool)).tolist()

    def run(self, subtask: Subtask, solve: Solve, pool: Pool) -> Allocation:
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


def prompt_messages(question: str) -> list[Message]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question.strip()}]


class TrainedDecomposer:
    """Decomposition by the fine-tuned small model, through llama.cpp with the adapter.
    Charged at the base model's pool price."""

    def __init__(self, pool: Pool, artifact: str | Path, *, max_steps: int = 8, max_tokens: int = 160,
                 retries: int = 3) -> None:
        p = Path(artifact)
        try:
            self.manifest = json.loads((p / "manifest.json").read_text())
        except (OSError, ValueError):
            raise SubrouteError(f"{p} is not a decomposer artifact (no readable manifest.json); train one with: subroute train decomposer") from None
        if self.manifest.get("kind") != "decomposer" or self.manifest.get("version") != DECOMPOSER_VERSION:
            raise SubrouteError(f"{p}: not a version-{DECOMPOSER_VERSION} decomposer artifact; retrain it")
        base = self.manifest["base"]
        if base["name"] not in pool or [m for m in pool_signature(pool) if m["name"] == base["name"]] != [base]:
            raise SubrouteError(f"the decomposer at {p} was trained on model '{base['name']}' of another pool; "
                                f"retrain it for this pool with: subroute train decomposer --pool FILE")
        self.base = pool[base["name"]]
        # shared like the pool's own backends: a server builds routers per request
        self.model = self.base.adapter_backend(p / "adapter.gguf")
        self.max_steps = max_steps
        self.max_tokens = max_tokens
        self.retries = retries  # a draw of the small model costs about a thousandth of a question
        self.name = f"trained:{p.name}"
        self._identity = {**self.base.identity(), "adapter": hash_file(p / "adapter.gguf")}

    def decompose(self, question: str, example: Example | None = None) -> Decomposition:
        return self.sample(question, temperature=0.0, seed=0, retries=self.retries)

    def sample(self, question: str, *, temperature: float, seed: int, retries: int = 0) -> Decomposition:
        """One draw at `temperature` with `seed` (and `retries` more while it does not parse):
        what a search over decompositions samples (`subroute.train.search`)."""
        msgs = prompt_messages(question)
        cache = self.base.cache  # the pool's call cache, when the caller turned it on

        def generate(temperature: float, seed: int) -> Completion:
            # seeded draws are cached too: local sampling with a fixed seed is reproducible, and a
            # rerun of a benchmark then sees the same steps
            # log-probabilities give the decomposition's confidence, which the gate reads
            params = GenerateParams(max_tokens=self.max_tokens, logprobs=True, temperature=temperature, seed=seed)
            key = cache.key(self._identity, msgs, params) if cache is not None else None
            c = cache.get(key) if cache is not None else None
            if c is None:
                t0 = time.perf_counter()
                c = self.model.generate(msgs, params)
                c.latency_s = time.perf_counter() - t0
                if cache is not None:
                    cache.put(key, c)
            c.model = self.base.name
            c.cost = self.base.cost(c.usage.input_tokens, c.usage.output_tokens)
            return c

        return draw_steps(question, generate, max_steps=self.max_steps, retries=retries, first=(temperature, seed))


ROUTE_VERSION = 1
ROUTE_HEADS = ("program", "split")


class RoutePolicy:
    """The gate's learned route policy (an artifact folder from `subroute train routes`):
    per head, a logistic regression over named features (`subroute.gate.route_features`),
    standardised as in training. Heads:

    - ``program``: for a question routed whole that asks for a number, the probability that
      one program answers it right more cheaply than the plain whole-question route;
    - ``split``: for a question whose steps passed the gate's checks, the probability that
      the steps answer it right more cheaply than the whole question.

    A head the artifact does not have is not consulted (the rules alone decide). An artifact
    is tied to the pool whose calls labelled it: loading one for another pool is refused."""

    def __init__(self, path: str | Path, pool: Pool) -> None:
        p = Path(path)
        self.manifest = artifact_manifest(p, "route", ROUTE_VERSION, noun="route-policy", article="a",
                                      command="subroute train routes")
        want = pool_identities(self.manifest.get("pool", []))
        if want != pool_identities(pool_signature(pool)):
            raise SubrouteError(f"the route policy at {p} was trained for another pool ({', '.join(n for n, _ in want)}); "
                                "retrain it for this pool with: subroute train routes --pool FILE")
        self.heads: dict[str, dict[str, Any]] = {}
        for name, h in (self.manifest.get("heads") or {}).items():
            if name not in ROUTE_HEADS or not {"features", "mean", "scale", "weights", "bias"} <= set(h):
                raise SubrouteError(f"{p}: head '{name}' is not a route-policy head; retrain it with: subroute train routes")
            self.heads[name] = h
        self.path = p
        self.name = f"route:{p.name}"

    def prob(self, head: str, features: dict[str, float]) -> float | None:
        """P(the head's route is the cheapest right one), or None without that head."""
        h = self.heads.get(head)
        if h is None:
            return None
        x = np.array([features.get(f, 0.0) for f in h["features"]], dtype=np.float64)
        z = float(((x - np.asarray(h["mean"])) / np.asarray(h["scale"])) @ np.asarray(h["weights"]) + h["bias"])
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def threshold(self, head: str) -> float:
        return float(self.heads.get(head, {}).get("threshold", 0.5))
