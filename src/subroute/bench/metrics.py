"""From per-question results to the figures a benchmark reports, one row per system.

Cost is what every call a system made was charged (decomposition, probes, steps, reviews,
integration), failed questions included: they count as wrong and what they spent counts.

Two reference points make a cost meaningful:
- the **best single model**: the `direct:*` system with the highest accuracy (ties: the
  cheaper), what a user would otherwise call for every question; `cost_reduction_vs_best_single`
  is ``1 - cost / its cost``;
- the **oracle** (system `oracle`): per gold step the cheapest model that answers it
  correctly, the floor of cost on this pool; `cost_above_oracle` is ``cost / its cost - 1``.

Decisions worth knowing:
- `per_hop_accuracy` is the share of *hops* answered right, pooled over the results whose
  steps lined up with the gold hops (`hops_correct` set), so long questions weigh more.
- `compositionality_gap` follows Press et al. (2022, "Measuring and Narrowing the
  Compositionality Gap"): among the results whose hops were all right, the share whose
  final answer was still wrong. Null when no result had all its hops right.
- **APGR for N models.** RouteLLM's APGR integrates the "performance gap recovered",
  ``(acc - acc_weak) / (acc_strong - acc_weak)``, over the share of calls sent to the
  strong model. With N models and multi-call systems the share of strong calls is no
  longer a cost axis, so the x-axis here is cost itself, normalized between the *weak*
  reference (the cheapest `direct:*` system, x=0, PGR=0) and the *strong* one (the best
  single model, x=1, PGR=1). A family's curve is the best PGR reachable at each budget:
  the upper concave, non-decreasing envelope of its swept points plus the weak model
  (any two operating points can be mixed per question at random, which reaches every point
  on the segment between them in expectation, and a system may spend less than its budget).
  APGR is the area under that envelope for x in [0, 1]. Mixing the weak and strong model
  at random scores 0.5, as RouteLLM's random router does; above 0.5 a family beats that
  mixture; the strong model alone also scores 0.5. Points costing more than the strong
  model only count through mixtures that bring them within budget. Null when the weak and
  strong references coincide in cost or accuracy.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Iterable, Sequence

from subroute.bench.records import Result
from subroute.records import Example

# Report order of the families this project's runner produces; any other family follows.
FAMILY_ORDER = ("direct", "cot", "random", "whole", "cascade", "router", "router-cascade", "router-default",
                "router-nogate", "router-rules", "router-prompted", "router-fullctx", "router-noprog", "router-gold", "oracle")

Point = tuple[float, float]  # (cost, accuracy)


def summarize(results: list[Result], examples: list[Example]) -> list[dict[str, Any]]:
    """One row per system (see the module docstring for the definitions), sorted by family
    (in `FAMILY_ORDER`) then cost. Keys: name, family, param, n, accuracy, f1, cost,
    cost_per_question, input_tokens, output_tokens, tokens, latency_s, failed, calls,
    cached_calls, per_hop_accuracy, hop_aligned, compositionality_gap, accuracy_by_hops,
    calls_by_tier, calls_by_role, cost_reduction_vs_best_single, accuracy_vs_best_single,
    cost_above_oracle, apgr (the system's family's), on_pareto_front."""
    hops_of = {e.id: e.meta.get("hops", len(e.decomposition) if e.decomposition else None) for e in examples}
    by_system: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_system[r.system].append(r)
    rows = [_row(name, rs, hops_of) for name, rs in by_system.items()]

    best = best_single(rows)
    oracle = next((r for r in rows if r["name"] == "oracle"), None)
    weak = min((r for r in rows if r["name"].startswith("direct:")), key=lambda r: (r["cost"], -r["accuracy"]),
               default=None)
    front = set(pareto_front([(r["cost"], r["accuracy"]) for r in rows]))
    apgr_of: dict[str, float | None] = {}
    for fam in {r["family"] for r in rows}:
        pts = [(r["cost"], r["accuracy"]) for r in rows if r["family"] == fam]
        apgr_of[fam] = apgr(pts, _pt(weak), _pt(best)) if weak and best else None
    for r in rows:
        r["cost_reduction_vs_best_single"] = 1 - r["cost"] / best["cost"] if best and best["cost"] > 0 else None
        r["accuracy_vs_best_single"] = r["accuracy"] - best["accuracy"] if best else None
        r["cost_above_oracle"] = r["cost"] / oracle["cost"] - 1 if oracle and oracle["cost"] > 0 else None
        r["apgr"] = apgr_of[r["family"]]
        r["on_pareto_front"] = (r["cost"], r["accuracy"]) in front
    return sorted(rows, key=lambda r: (_family_rank(r["family"]), r["cost"], r["name"]))


def best_single(rows: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """The `direct:*` row with the highest accuracy, ties to the cheaper; None without one."""
    direct = [r for r in rows if r["name"].startswith("direct:")]
    return min(direct, key=lambda r: (-r["accuracy"], r["cost"], r["name"]), default=None)


def _pt(row: dict[str, Any] | None) -> Point:
    assert row is not None
    return (row["cost"], row["accuracy"])


def _family_rank(family: str) -> tuple[int, str]:
    return (FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER), family)


def _mean(xs: Sequence[float]) -> float | None:
    return sum(xs) / len(xs) if xs else None


def _row(name: str, rs: list[Result], hops_of: dict[str, Any]) -> dict[str, Any]:
    n = len(rs)
    cost = sum(r.cost for r in rs)
    aligned = [r for r in rs if r.hops_correct]
    all_right = [r for r in aligned if all(r.hops_correct or [])]
    by_tier: dict[str, dict[str, float]] = {}
    by_role: dict[str, dict[str, float]] = {}
    for r in rs:
        for c in r.calls:
            for table, key in ((by_tier, c.tier), (by_role, c.role)):
                t = table.setdefault(key, {"calls": 0, "cost": 0.0, "tokens": 0})
                t["calls"] += 1
                t["cost"] += c.cost
                t["tokens"] += c.input_tokens + c.output_tokens
    by_hops: dict[str, list[bool]] = defaultdict(list)
    for r in rs:
        if hops_of.get(r.example_id) is not None:
            by_hops[str(hops_of[r.example_id])].append(r.correct)
    params = {r.param for r in rs}
    return {
        "name": name,
        "family": rs[0].family,
        "param": params.pop() if len(params) == 1 else None,
        "n": n,
        "accuracy": sum(r.correct for r in rs) / n,
        "f1": sum(r.f1 for r in rs) / n,
        "cost": cost,
        "cost_per_question": cost / n,
        "input_tokens": sum(r.input_tokens for r in rs),
        "output_tokens": sum(r.output_tokens for r in rs),
        "tokens": sum(r.input_tokens + r.output_tokens for r in rs),
        "latency_s": sum(r.latency_s for r in rs) / n,
        "failed": sum(1 for r in rs if r.error),
        "calls": sum(len(r.calls) for r in rs),
        "cached_calls": sum(1 for r in rs for c in r.calls if c.cached),
        "per_hop_accuracy": _mean([h for r in aligned for h in (r.hops_correct or [])]),
        "hop_aligned": len(aligned),
        "compositionality_gap": _mean([not r.correct for r in all_right]),
        "accuracy_by_hops": ({k: sum(v) / len(v) for k, v in sorted(by_hops.items(), key=lambda kv: _num(kv[0]))}
                             or None),
        "calls_by_tier": by_tier,
        "calls_by_role": by_role,
    }


def _num(s: str) -> tuple[float, str]:
    try:
        return (float(s), s)
    except ValueError:
        return (math.inf, s)


def pareto_front(points: Iterable[Point]) -> list[Point]:
    """The non-dominated (cost, accuracy) points, by increasing cost, each once. A point is
    dominated when another costs no more and is at least as accurate, and is strictly
    better in one of the two."""
    front: list[Point] = []
    for c, a in sorted(set(points), key=lambda p: (p[0], -p[1])):
        if not front or a > front[-1][1]:
            front.append((c, a))
    return front


def apgr(points: Iterable[Point], weak: Point, strong: Point) -> float | None:
    """Average performance gap recovered of a family's (cost, accuracy) points between the
    `weak` and `strong` (cost, accuracy) references; definition in the module docstring."""
    (c0, a0), (c1, a1) = weak, strong
    if c1 <= c0 or a1 == a0:
        return None
    norm = [((c - c0) / (c1 - c0), (a - a0) / (a1 - a0)) for c, a in points]
    env = _envelope(norm + [(0.0, 0.0)])
    return _area(env, 0.0, 1.0)


def _envelope(pts: list[Point]) -> list[Point]:
    """Vertices of the upper concave hull of `pts` up to its highest point (beyond which the
    envelope is flat): the best value reachable by mixing points, spending at most x."""
    hull: list[Point] = []
    for p in sorted(set(pts)):
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) >= 0:
            hull.pop()
        hull.append(p)
    peak = max(range(len(hull)), key=lambda i: (hull[i][1], -hull[i][0]))
    return hull[: peak + 1]


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _area(env: list[Point], lo: float, hi: float) -> float:
    """Exact integral over [lo, hi] of the piecewise-linear envelope, flat after its last
    vertex; `env` starts at or before `lo` (it contains the weak anchor at 0)."""
    segs = list(zip(env, env[1:])) + [(env[-1], (max(hi, env[-1][0]) + 1.0, env[-1][1]))]
    total = 0.0
    for (xa, ya), (xb, yb) in segs:
        a, b = max(xa, lo), min(xb, hi)
        if b <= a:
            continue
        f = lambda x: ya + (yb - ya) * (x - xa) / (xb - xa)  # noqa: E731
        total += (f(a) + f(b)) / 2 * (b - a)
    return total
