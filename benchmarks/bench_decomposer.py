"""Trained against prompted decomposers, on questions from held-out worlds (seeds never
used in training), in one run: parse rate, step-count match and per-step agreement with the
gold decomposition, tokens, cost and seconds per question.

    python benchmarks/bench_decomposer.py --router DIR [--router DIR2 ...] [--seed 900] [--n 40] [--hops 1-4]
        [--phrasing 0.5] [--kinds compositional=2,word=1] [--surfaces plain=2,given=1] [--prompted qwen-0.5b]
        [--end-to-end [--by-steps]] [--reasoning-gym TASKS --rg-seed S]

`--end-to-end` also answers every question with the default router (gate, confidence rule at
0.5) and each `--router`'s decomposer, and prints right answers and cost; with `--by-steps`,
by the decomposer's steps whatever the gate would say (`route="steps"`), which measures the
decomposer itself on questions the gate would send whole.

`--reasoning-gym TASKS` takes `--n` questions written by others from those reasoning-gym
tasks at `--rg-seed` instead of a DecompBench world (no gold steps: only the parse columns
and the end-to-end answers, scored by reasoning-gym's own scorer, mean anything); pick a
seed no decomposer was trained on (the search that trains one records its seeds).

`--router shipped` is the decomposer in src/subroute/artifacts/router/; `--phrasing`,
`--kinds` and `--surfaces` ask for wording other than the generator's canonical one (see
docs/decompbench.md). Each decomposer reads what the router's would (the question, after a
short setup sentence before it: `InlineContext.for_decomposer`).

`parsed` counts decompositions that parsed, drawing again when the greedy output did not
(`subroute.decompose.draw_steps`); `1st parsed` counts greedy outputs that parsed at once.

Agreement: a predicted step matches the gold step at the same position when the token F1
of their texts (with #k references kept) is at least 0.6; `steps F1` is the mean F1.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from subroute import Pool
from subroute.bench.datasets import parse_example, reasoning_gym_examples, score
from subroute.cache import CallCache
from subroute.cli.gen import parse_weights
from subroute.decompose import PromptedDecomposer
from subroute.inline import split_inline
from subroute.learned import TrainedDecomposer
from subroute.reasoner import shipped_router_dir
from subroute.scoring import token_f1
from subroute.worlds import QuestionConfig, WorldConfig, build_world, generate_questions
from subroute.worlds.kinds import KINDS
from subroute.worlds.questions import SURFACES, parse_hops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--router", action="append", required=True,
                    help="folder with decomposer/ (from subroute train), or 'shipped'; repeatable")
    ap.add_argument("--seed", type=int, default=900)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--hops", default="1-4", help="range of recall steps per question, e.g. 2-5")
    ap.add_argument("--phrasing", type=float, default=0.0, help="chance of another wording per phrase (0-1)")
    ap.add_argument("--kinds", default=None, help="kind weights, e.g. compositional=2,word=1")
    ap.add_argument("--surfaces", default=None, help="surface-form weights, e.g. plain=2,given=1")
    ap.add_argument("--prompted", default="qwen-0.5b,qwen-1.5b", help="pool models to prompt few-shot ('' for none)")
    ap.add_argument("--end-to-end", action="store_true",
                    help="also answer every question with the default router and each --router's decomposer")
    ap.add_argument("--by-steps", action="store_true",
                    help="end to end by the decomposer's steps, whatever the gate would say")
    ap.add_argument("--reasoning-gym", default=None, help="comma-separated reasoning-gym tasks instead of a world")
    ap.add_argument("--rg-seed", type=int, default=3000, help="reasoning-gym seed (with --reasoning-gym)")
    a = ap.parse_args()
    pool = Pool.load().use_cache(CallCache())
    if a.reasoning_gym:
        exs = reasoning_gym_examples([t.strip() for t in a.reasoning_gym.split(",") if t.strip()], a.n, a.rg_seed)
        where = f"reasoning-gym seed {a.rg_seed} ({a.reasoning_gym})"
    else:
        lo, hi = parse_hops(a.hops)
        world = build_world(WorldConfig(seed=a.seed))
        cfg = QuestionConfig(n=a.n, min_hops=lo, max_hops=hi, seed=a.seed, phrasing=a.phrasing)
        if a.kinds:
            cfg.kinds = parse_weights(a.kinds, KINDS, "--kinds")
        if a.surfaces:
            cfg.surfaces = parse_weights(a.surfaces, SURFACES, "--surfaces")
        exs = [parse_example(q.to_dict(), default_id=str(i)) for i, q in enumerate(generate_questions(world, cfg))]
        where = (f"held-out world seed {a.seed} (phrasing {a.phrasing}, kinds {a.kinds or 'default'}, "
                 f"surfaces {a.surfaces or 'plain'})")
    systems: dict = {}
    for folder in a.router:
        path = shipped_router_dir() if folder == "shipped" else Path(folder)
        systems[f"trained:{folder if folder == 'shipped' else path.name}"[:21]] = TrainedDecomposer(
            pool, path / "decomposer")
    for name in filter(None, a.prompted.split(",")):
        systems[f"prompted:{name}"] = PromptedDecomposer(pool, name)
    print(f"{len(exs)} questions from {where}")
    print(f"{'decomposer':<22}{'1st parsed':>11}{'parsed':>8}{'n match':>9}{'step agree':>12}{'steps F1':>10}{'tokens/q':>10}{'$/q':>12}{'s/q':>7}")
    for name, d in systems.items():
        first = parsed = nmatch = agree = total = 0
        f1s: list[float] = []
        tokens = cost = secs = 0.0
        for ex in exs:
            t0 = time.perf_counter()
            r = d.decompose(split_inline(ex.question).for_decomposer, ex)
            secs += sum(c.latency_s for c in r.calls) if all(c.cached for c in r.calls) else time.perf_counter() - t0
            tokens += sum(c.usage.total_tokens for c in r.calls)
            cost += r.cost
            parsed += r.fallback is None
            first += r.fallback is None and len(r.calls) == 1
            gold = ex.decomposition or []
            nmatch += len(r.steps) == len(gold)
            for p, g in zip(r.steps, gold):
                f = token_f1(p.text, g.question)
                f1s.append(f)
                agree += f >= 0.6
            total += len(gold)
        n = len(exs)
        print(f"{name:<22}{first / n:>11.2f}{parsed / n:>8.2f}{nmatch / n:>9.2f}{agree / max(1, total):>12.2f}"
              f"{sum(f1s) / max(1, total):>10.2f}{tokens / n:>10.0f}{cost / n:>12.8f}{secs / n:>7.2f}")
    if a.end_to_end:
        end_to_end(pool, a.router, exs, route="steps" if a.by_steps else None)


def end_to_end(pool: Pool, routers: list[str], exs: list, *, route: str | None = None) -> None:
    """The default router (gate, confidence rule at 0.5) with each router folder's
    decomposer, or its steps alone (`route="steps"`): right answers (the benchmark's scorer,
    reasoning-gym's own for its tasks), cost and routes over the same questions."""
    from subroute.reasoner import Reasoner

    print(f"{'router with decomposer' + (' (steps)' if route else ''):<32}{'right':>8}{'cost':>12}{'whole':>7}{'steps/q':>9}")
    for folder in routers:
        r = Reasoner.default(pool, router=None if folder == "shipped" else folder)
        ok, cost, whole, steps = 0, 0.0, 0, 0
        for ex in exs:
            t = r.answer(ex.question, ex.context or None, ex, route=route)
            ok += bool(t.answer and not t.error and score(t.answer, ex)[0])
            cost += t.cost
            whole += t.route == "whole"
            steps += len(t.steps)
        print(f"{folder[-32:]:<32}{ok:>5}/{len(exs):<2}{cost:>12.5f}{whole:>7}{steps / len(exs):>9.2f}", flush=True)


if __name__ == "__main__":
    main()
