"""What the gate sends to the whole-question route before any step runs, per set, in one
run: DecompBench worlds (where splitting pays) against the external suite (where the
decomposer has not seen the wording), with the decomposer's confidence behind it.

    python benchmarks/bench_gate.py [--seed 7 --seed 300] [--n 48] [--hops 2-5] [--surfaces inline,facts,given]

A row per set: how many questions the gate routes whole up front (no context, or one a
single step reads whole), before the
steps (the decomposer unsure, steps naming what the question does not, steps restating the
instructions), and the quartiles of the decomposer's confidence (0.1-quantile token
probability, of every question; `subroute.gate.DECOMPOSER_CONFIDENCE` is the cut). With
`--surfaces`, each DecompBench world is also worded in those surface forms (`subroute gen
--surfaces`), and `agrees` is the share of questions whose route the gate chose as the
generator labelled it (before any step runs). Only the decomposer runs (SmolLM2-135M,
cached), so this takes seconds to a minute.
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from subroute import Pool, Reasoner
from subroute.bench.datasets import EXTERNAL_SETS, external_examples, parse_example
from subroute.cache import CallCache
from subroute.inline import split_inline
from subroute.worlds import QuestionConfig, WorldConfig, build_world, generate_questions
from subroute.worlds.questions import parse_hops


def decompbench(seed: int, n: int, hops: str, surface: str = "plain") -> list:
    lo, hi = parse_hops(hops)
    world = build_world(WorldConfig(seed=seed))
    qs = generate_questions(world, QuestionConfig(n=n, min_hops=lo, max_hops=hi, seed=seed, surfaces={surface: 1.0}))
    return [parse_example(q.to_dict(), default_id=str(i)) for i, q in enumerate(qs)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, action="append", help="DecompBench world seeds (default: 7 and 300)")
    ap.add_argument("--n", type=int, default=48, help="questions per DecompBench world")
    ap.add_argument("--hops", default="2-5")
    ap.add_argument("--surfaces", default="", help="also these surface forms of each world, e.g. inline,facts,given")
    a = ap.parse_args()
    pool = Pool.load().use_cache(CallCache())
    router = Reasoner.default(pool)
    gate = router.gate
    assert gate is not None
    sets = {f"decompbench:{s}": decompbench(s, a.n, a.hops) for s in (a.seed or [7, 300])}
    for form in [f.strip() for f in a.surfaces.split(",") if f.strip()]:
        sets.update({f"decompbench:{s}:{form}": decompbench(s, a.n, a.hops, form) for s in (a.seed or [7, 300])})
    sets.update({f"external:{name}": external_examples(name) for name in EXTERNAL_SETS})
    print(f"{'set':<28}{'n':>4}{'up front':>12}{'before steps':>14}{'agrees':>8}   decomposer confidence (25/50/75%)")
    for name, exs in sets.items():
        up = before = agree = 0
        confs, why = [], Counter()
        for ex in exs:
            inline = split_inline(ex.question)
            d = router.decomposer.decompose(inline.for_decomposer)  # for its confidence, even where the gate needs none
            if d.confidence is not None:
                confs.append(d.confidence)
            label = ex.meta.get("route", "steps")  # DecompBench's label; the external sets have none
            if gate.up_front(inline.context(ex.context), router.executor.step_budget).whole:
                up += 1
                agree += label == "whole"
                continue
            check = gate.before(ex.question, d)
            if check.whole:
                before += 1
                why[check.reasons[0].split(" (")[0].split(" names ")[0]] += 1
            agree += (label == "whole") == check.whole
        q = np.quantile(confs, [0.25, 0.5, 0.75]) if confs else []
        agrees = f"{agree / len(exs):.2f}" if name.startswith("decompbench") and exs else "-"
        print(f"{name:<28}{len(exs):>4}{up:>12}{before:>14}{agrees:>8}   " + " / ".join(f"{x:.2f}" for x in q)
              + (f"   ({', '.join(f'{k}: {v}' for k, v in why.items())})" if why else ""))
    print(f"cut: decomposer confidence < {gate.min_confidence:g}")


if __name__ == "__main__":
    main()
