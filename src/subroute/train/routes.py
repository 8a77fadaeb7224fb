"""Route labels and the gate's learned route policy (`subroute train routes`).

The gate's rules (`subroute.gate`) catch the decompositions that are plainly wrong; what
they cannot say is which of two sound routes answers a question right more cheaply. That
is learned here, from labels of which route did, on training questions with gold answers:

- every question is answered by the whole-question route (the cascade at the router's
  threshold over the whole context, `Reasoner.answer(route="whole")`);
- one that asks for a number and states two or more also as one program (``program``);
- one whose context is longer than one step's passages (where the gate would decompose it)
  also by steps, with no gate (``steps``), and its decomposition's `route_features` are kept,
  with whether the gate's rules would have let the steps run.

Each try records whether it was right (the benchmark's scorer: reasoning-gym's own for its
tasks) and what it cost. A head's label is whether its route was the cheapest right one;
two routes both wrong count as the cheaper one winning. Questions where exactly one route is
right weigh `accuracy_weight` times those where both are equally right or wrong, so the
policy gives up accuracy for cost only where it can tell it is safe.

Batch work: a progress bar; labels are appended line by line to a JSONL file, and a rerun
skips the questions already there, so an interrupted run resumes. The policy is a logistic
regression per head (numpy, standardised features, L2), cross-validated by question: the
manifest records, per head, what following the policy would have scored and cost on the
held-out folds beside always taking either route; a head is kept only if it beats both:
more held-out answers right than the better fixed route, or as many at less cost.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from subroute.errors import SubrouteError
from subroute.gate import Gate, program_text, route_features
from subroute.inline import split_inline
from subroute.learned import ROUTE_HEADS, ROUTE_VERSION, pool_signature
from subroute.pool import Pool
from subroute.reasoner import DEFAULT_THRESHOLD, Reasoner
from subroute.records import Example
from subroute.train.labels import read_records, resume_records

ROUTE_LABELS_VERSION = 1
# the routes each head chooses between: (its own route, the one it is weighed against)
HEAD_ROUTES = {"program": ("program", "whole"), "split": ("steps", "whole")}


@dataclass
class RouteTry:
    route: str
    correct: bool
    cost: float
    answer: str
    calls: int
    error: str | None = None


@dataclass
class RouteLabel:
    example_id: str
    source: str
    features: dict[str, float]  # up front: what the program head reads
    split_features: dict[str, float] | None = None  # with the decomposition: what the split head reads
    rules_split: bool | None = None  # whether the gate's rules let the steps run (None: not decomposed)
    tries: list[RouteTry] = field(default_factory=list)
    version: int = ROUTE_LABELS_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RouteLabel":
        d = dict(d)
        d["tries"] = [RouteTry(**t) for t in d["tries"]]
        return cls(**d)

    def tried(self, route: str) -> RouteTry | None:
        return next((t for t in self.tries if t.route == route), None)


def label_question(reasoner: Reasoner, ex: Example, *, scorer) -> RouteLabel:
    """Answer `ex` by every route that applies to it (see the module docstring)."""
    inline = split_inline(ex.question)
    question, context = inline.question, inline.context(ex.context)
    budget = reasoner.executor.step_budget
    lab = RouteLabel(ex.id, str(ex.meta.get("source") or ex.meta.get("task") or "data"),
                     route_features(question, context))
    # the gate's rules alone (no route policy), at the router's confidence cut
    gate = reasoner.gate or Gate(reasoner.whole.allocator)
    rules = Gate(gate.whole, min_confidence=gate.min_confidence)
    routes = ["whole"]
    if reasoner.whole.programs and program_text(question, context, max_tokens=budget) is not None:
        routes.append("program")
    if not rules.up_front(context, budget).whole:  # where the gate would decompose it
        routes.append("steps")
        d = reasoner.decomposer.decompose(inline.for_decomposer, ex)  # the call the steps route makes (cached)
        lab.split_features = route_features(question, context, d, message=ex.question)
        lab.rules_split = not rules.before(ex.question, d, question=question, context=context).whole
    for route in routes:
        t = reasoner.answer(ex.question, ex.context, ex, route=route)
        ok = bool(scorer(t.answer, ex)[0]) if t.answer and not t.error else False
        lab.tries.append(RouteTry(route, ok, t.cost, t.answer, len(t.calls), t.error))
    return lab


def read_route_labels(path: str | Path) -> list[RouteLabel]:
    return read_records(path, RouteLabel.from_dict, "route labels", "route label")


def build_route_labels(pool: Pool, examples: list[Example], out: str | Path, *, threshold: float = DEFAULT_THRESHOLD,
                       router: str | None = None, reasoner: Reasoner | None = None,
                       progress: bool = True) -> list[RouteLabel]:
    """Label every example into `out` (JSONL), resuming what is there. The routes are those
    of `reasoner`, by default the default router at `threshold` (its shipped decomposer, or
    the one in `router`); its gate's route policy, if any, plays no part."""
    from tqdm import tqdm

    from subroute.bench.datasets import score

    out, have = resume_records(out, read_route_labels)
    done = {lab.example_id for lab in have}
    # every route is forced (`Reasoner.answer(route=...)`), so a route policy the router has is never asked
    reasoner = reasoner or Reasoner.default(pool, threshold=threshold, router=router)
    todo = [ex for ex in examples if ex.id not in done]
    with open(out, "a", encoding="utf-8") as f:
        for ex in tqdm(todo, desc="route labels", unit="q", file=sys.stderr, disable=not progress):
            lab = label_question(reasoner, ex, scorer=score)
            f.write(lab.to_json() + "\n")
            f.flush()
            have.append(lab)
    return have


# ---- the policy ------------------------------------------------------------------------------

def head_rows(labels: list[RouteLabel], head: str, *, accuracy_weight: float = 8.0
              ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, list[tuple[RouteTry, RouteTry]]]:
    """(feature names, X, y, weights, (own try, other try) per row) of one head's training rows."""
    own, other = HEAD_ROUTES[head]
    rows, pairs = [], []
    for lab in labels:
        a, b = lab.tried(own), lab.tried(other)
        feats = lab.features if head == "program" else lab.split_features
        if a is None or b is None or feats is None or (head == "split" and not lab.rules_split):
            continue
        rows.append(feats)
        pairs.append((a, b))
    names = sorted(rows[0]) if rows else []
    X = np.array([[r.get(n, 0.0) for n in names] for r in rows], dtype=np.float64).reshape(len(rows), len(names))
    y = np.array([_wins(a, b) for a, b in pairs], dtype=np.float64)
    w = np.array([accuracy_weight if a.correct != b.correct else 1.0 for a, b in pairs], dtype=np.float64)
    return names, X, y, w, pairs


def _wins(a: RouteTry, b: RouteTry) -> bool:
    """Whether route a was the cheapest right one against b (both wrong: the cheaper)."""
    if a.correct != b.correct:
        return a.correct
    return a.cost < b.cost


def fit_logistic(X: np.ndarray, y: np.ndarray, w: np.ndarray, *, l2: float = 1.0, iters: int = 50
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Weighted, L2-regularised logistic regression by Newton's method on standardised
    features: (mean, scale, weights, bias)."""
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-9] = 1.0
    Z = np.concatenate([(X - mean) / scale, np.ones((len(X), 1))], axis=1)
    beta = np.zeros(Z.shape[1])
    reg = np.full(Z.shape[1], l2)
    reg[-1] = 0.0  # the bias is not shrunk
    for _ in range(iters):
        p = 1.0 / (1.0 + np.exp(-np.clip(Z @ beta, -50, 50)))
        grad = Z.T @ (w * (p - y)) + reg * beta
        H = (Z * (w * p * (1 - p))[:, None]).T @ Z + np.diag(reg) + 1e-9 * np.eye(Z.shape[1])
        step = np.linalg.solve(H, grad)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, beta[:-1], float(beta[-1])


def _predict(model: tuple[np.ndarray, np.ndarray, np.ndarray, float], X: np.ndarray) -> np.ndarray:
    mean, scale, weights, bias = model
    return 1.0 / (1.0 + np.exp(-np.clip(((X - mean) / scale) @ weights + bias, -50, 50)))


def evaluate_head(X: np.ndarray, y: np.ndarray, w: np.ndarray, pairs: list[tuple[RouteTry, RouteTry]], *,
                  folds: int = 5, l2: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """What following the head would have scored and cost on held-out folds, beside always
    taking its route and always taking the other."""
    n = len(y)
    order = np.random.default_rng(seed).permutation(n)
    picks = np.zeros(n, dtype=bool)
    for k in range(min(folds, n)):
        test = order[k::folds]
        train = np.setdiff1d(order, test)
        if len(train) == 0 or len(set(y[train])) < 2:
            picks[test] = bool(y[train].mean() >= 0.5) if len(train) else False
            continue
        picks[test] = _predict(fit_logistic(X[train], y[train], w[train], l2=l2), X[test]) >= 0.5

    def outcome(choose: np.ndarray) -> dict[str, float]:
        chosen = [a if c else b for c, (a, b) in zip(choose, pairs)]
        return {"accuracy": round(sum(t.correct for t in chosen) / max(1, n), 4),
                "cost": round(sum(t.cost for t in chosen), 6), "share": round(float(choose.mean()) if n else 0.0, 4)}

    return {"n": n, "policy": outcome(picks), "always": outcome(np.ones(n, dtype=bool)),
            "never": outcome(np.zeros(n, dtype=bool)), "label_share": round(float(y.mean()) if n else 0.0, 4)}


@dataclass
class RoutePolicyRun:
    out: Path
    heads: dict[str, dict[str, Any]]
    skipped: dict[str, str]


def beats_always(cv: dict[str, Any]) -> bool:
    """Whether a head's held-out outcome beats both fixed routes: more answers right than
    the better of them, or as many at less cost (a head that only costs more is no gain)."""
    policy = cv["policy"]
    fixed = max((cv["always"], cv["never"]), key=lambda o: (o["accuracy"], -o["cost"]))
    return policy["accuracy"] > fixed["accuracy"] or (policy["accuracy"] == fixed["accuracy"]
                                                       and policy["cost"] < fixed["cost"])


def train_route_policy(pool: Pool, labels: list[RouteLabel], out: str | Path, *, accuracy_weight: float = 8.0,
                       l2: float = 3.0, min_rows: int = 12, data: dict[str, Any] | None = None) -> RoutePolicyRun:
    """Fit each head that has at least `min_rows` rows with both outcomes, and write the
    artifact (`manifest.json`: heads, features, data, cross-validated outcomes). A head
    that does not beat both fixed routes on held-out folds (`beats_always`) is left out (the
    gate's rules alone decide there), and `skipped` says so."""
    out = Path(out)
    heads: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for head in ROUTE_HEADS:
        names, X, y, w, pairs = head_rows(labels, head, accuracy_weight=accuracy_weight)
        if len(y) < min_rows or len(set(y.tolist())) < 2:
            skipped[head] = f"{len(y)} row(s), {int(y.sum()) if len(y) else 0} for its route: too few to learn from"
            continue
        cv = evaluate_head(X, y, w, pairs, l2=l2)
        if not beats_always(cv):  # a head no better than a fixed route is worse than no head
            own, other = HEAD_ROUTES[head]
            skipped[head] = (f"on held-out folds it answers {cv['policy']['accuracy']:.3f} at "
                             f"${cv['policy']['cost']:.5f} where always {own} answers {cv['always']['accuracy']:.3f} "
                             f"at ${cv['always']['cost']:.5f} and always {other} {cv['never']['accuracy']:.3f} "
                             f"at ${cv['never']['cost']:.5f}: not kept")
            continue
        mean, scale, weights, bias = fit_logistic(X, y, w, l2=l2)
        heads[head] = {"features": names, "mean": mean.tolist(), "scale": scale.tolist(), "weights": weights.tolist(),
                       "bias": bias, "threshold": 0.5, "routes": list(HEAD_ROUTES[head]), "cv": cv}
    if not heads:
        raise SubrouteError("no head of the route policy had enough labels ("
                            + "; ".join(f"{h}: {why}" for h, why in skipped.items())
                            + "); label more questions with subroute train routes --data")
    out.mkdir(parents=True, exist_ok=True)
    manifest = {"kind": "route", "version": ROUTE_VERSION, "pool": pool_signature(pool), "pool_source": pool.source,
                "heads": heads, "skipped": skipped, "accuracy_weight": accuracy_weight, "l2": l2,
                "labels": len(labels), "data": data or {}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return RoutePolicyRun(out, heads, skipped)
