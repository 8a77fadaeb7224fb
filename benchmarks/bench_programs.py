"""Whole-question programs: the example turns of the program prompt, on questions that ask
for a number (the route policy's training questions: reasoning-gym seed 1, never the
external suite's seed 1000), in one run: the step shots (DecompBench comparisons and year
differences, `program.PROGRAM_SHOTS`) against the word-problem shots the whole-question
route uses (`program.WHOLE_PROGRAM_SHOTS`).

    python benchmarks/bench_programs.py [--seed 1] [--n 96]
    python benchmarks/bench_programs.py --picks [--seed 150] [--n 80]
    python benchmarks/bench_programs.py --training
    python benchmarks/bench_programs.py --stated

`--picks`: questions that pick one of the things they state by a comparison
(`program.asks_pick`: "Which city has more inhabitants, A or B?"), DecompBench comparisons
with their facts stated inline (a training world, never a test one), asked as one program
(`program.WHOLE_PICK_SHOTS`, an argmax/argmin over what is stated) against asked plainly,
both by the default router's whole-question route.

`--training`: the default router as shipped, gate and all, on the training questions the
whole-question route's rules and example turns are chosen on: every question of reasoning-gym
seed 1 over the tasks below (96), 48 DecompBench questions of training world 150 with
their facts stated inline or listed (comparisons, compositions, arithmetic and word problems,
phrasing 0.5), and the 24 hand-written questions of `benchmarks/data/dev.jsonl` (facts
inline, word problems, short notes; written for tuning, never part of the external suite);
right and cost per set, and the cost as a share of Qwen-1.5B's answering alone. `--show`
prints each question answered wrong, with the calls the router made.

`--stated`: no model; over every reasoning-gym task (8 questions each, seed 11), the
questions whose written-out arithmetic is evaluated with no call (`program.stated_arithmetic`)
and whether reasoning-gym's scorer takes the value: where it fires, and that it is right there.

Each question is asked as one program by the default router (`route="program"`: the cascade
at 0.5 over Qwen-0.5B and Qwen-1.5B, the expression evaluated), scored by reasoning-gym's own
scorer. Prints right / asked and the cost for each, and their ratio. Cached: a rerun is seconds.
"""

from __future__ import annotations

import argparse

from tqdm import tqdm

from subroute import Pool, Reasoner
from subroute.bench.datasets import EXTERNAL_RG_SEED, reasoning_gym_examples, score
from subroute.bench.systems import DirectSystem
from subroute.cache import CallCache
from subroute.gate import program_text
from subroute.inline import split_inline
from subroute.program import PROGRAM_SHOTS, WHOLE_PROGRAM_SHOTS

TASKS = ("basic_arithmetic,leg_counting,letter_counting,calendar_arithmetic,simple_equations,family_relationships,"
         "chain_sum,gsm_symbolic,time_intervals,decimal_arithmetic,products,number_sorting").split(",")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=None, help="reasoning-gym seed (default 1); with --picks, the world (150)")
    ap.add_argument("--n", type=int, default=None,
                    help="reasoning-gym questions over the tasks, those asking a number run (default 96); "
                         "with --picks, comparisons drawn (80)")
    ap.add_argument("--picks", action="store_true", help="pick questions: as a program against asked plainly")
    ap.add_argument("--training", action="store_true", help="the default router on the training questions")
    ap.add_argument("--stated", action="store_true", help="arithmetic written out, over every reasoning-gym task")
    ap.add_argument("--show", action="store_true", help="with --training, print the questions answered wrong")
    a = ap.parse_args()
    if a.training:
        return training(a.show)
    if a.stated:
        return stated()
    if a.picks:
        return picks(150 if a.seed is None else a.seed, 80 if a.n is None else a.n)
    a.seed = 1 if a.seed is None else a.seed
    a.n = 96 if a.n is None else a.n
    if a.seed == EXTERNAL_RG_SEED:
        raise SystemExit(f"seed {EXTERNAL_RG_SEED} is the external suite's; pick another")
    exs = []
    for e in reasoning_gym_examples(TASKS, a.n, a.seed):
        inline = split_inline(e.question)
        if program_text(inline.question, inline.context(None), max_tokens=100):
            exs.append(e)
    r = Reasoner.default(Pool.load().use_cache(CallCache()))
    got = {}
    for name, shots in (("step shots", PROGRAM_SHOTS), ("word-problem shots", WHOLE_PROGRAM_SHOTS)):
        r.whole.program_shots = shots
        ok, cost = 0, 0.0
        for e in exs:
            t = r.answer(e.question, None, e, route="program")
            ok += bool(t.answer and score(t.answer, e)[0])
            cost += t.cost
        got[name] = (ok, cost)
        print(f"{name:<20} {ok:>3}/{len(exs)} right  ${cost:.5f}", flush=True)
    (a_ok, a_cost), (b_ok, b_cost) = got["step shots"], got["word-problem shots"]
    print(f"word-problem / step shots: right x{b_ok / max(a_ok, 1):.2f}, cost x{b_cost / a_cost:.2f}")


def picks(seed: int, n: int) -> None:
    from subroute.bench.datasets import parse_example
    from subroute.program import asks_pick
    from subroute.scoring import score_example
    from subroute.worlds import QuestionConfig, WorldConfig, build_world, generate_questions

    cfg = QuestionConfig(n=n, min_hops=4, max_hops=6, kinds={"comparison": 1.0}, surfaces={"inline": 1.0}, seed=seed)
    qs = generate_questions(build_world(WorldConfig(seed=seed)), cfg)
    exs = [parse_example(q.to_dict(), default_id=q.id) for q in qs if asks_pick(split_inline(q.question).question)]
    print(f"{len(exs)} pick questions of {len(qs)} (world {seed}, comparisons of 4 to 6 hops, facts inline)")
    r = Reasoner.default(Pool.load().use_cache(CallCache()))
    got = {}
    for route in ("whole", "program"):
        ok, cost = 0, 0.0
        for e in exs:
            t = r.answer(e.question, None, e, route=route)
            ok += bool(t.answer and not t.error and score_example(t.answer, e).correct)
            cost += t.cost
        got[route] = (ok, cost)
        print(f"{'asked plainly' if route == 'whole' else 'as a program':<20} {ok:>3}/{len(exs)} right  ${cost:.5f}",
              flush=True)
    (a_ok, a_cost), (b_ok, b_cost) = got["whole"], got["program"]
    print(f"program / plain: right x{b_ok / max(a_ok, 1):.2f}, cost x{b_cost / a_cost:.2f}")


def training(show: bool = False) -> None:
    from pathlib import Path

    from subroute.bench.datasets import load_jsonl, parse_example
    from subroute.worlds import QuestionConfig, WorldConfig, build_world, generate_questions

    cfg = QuestionConfig(n=48, min_hops=2, max_hops=3, kinds={"arithmetic": 1.0, "word": 2.0, "compositional": 1.0,
                                                              "comparison": 1.0},
                         surfaces={"inline": 1.0, "facts": 1.0}, phrasing=0.5, seed=150)
    world = [parse_example(q.to_dict(), default_id=q.id)
             for q in generate_questions(build_world(WorldConfig(seed=150)), cfg)]
    pool = Pool.load().use_cache(CallCache())
    r = Reasoner.default(pool)
    large = DirectSystem(pool, pool.names[-1])  # the benchmark's own `direct:` baseline
    dev = load_jsonl(Path(__file__).parent / "data" / "dev.jsonl")
    for name, exs in (("reasoning-gym seed 1", reasoning_gym_examples(TASKS, 96, 1)), ("DecompBench world 150", world),
                      ("hand-written dev", dev)):
        ok, cost, base = 0, 0.0, 0.0
        for e in tqdm(exs, desc=name, leave=False):
            t = r.answer(e.question, e.context, e)
            right = bool(t.answer and not t.error and score(t.answer, e)[0])
            ok += right
            cost += t.cost
            base += large.run(e)[0].cost
            if show and not right:
                calls = "; ".join(f"{c.model} {c.role} {c.confidence or 0:.2f} {c.program or c.text!r}"[:120]
                                  for s in t.steps for c in s.calls)
                tqdm.write(f"  {e.id}: {t.answer!r} (gold {e.answer!r}) route {t.route}: {calls}")
        print(f"{name:<22} {ok:>3}/{len(exs)} right  ${cost:.5f}  {cost / base:.0%} of {large.model}'s cost", flush=True)


def stated() -> None:
    import reasoning_gym

    from subroute.program import ProgramError, run_program, stated_arithmetic

    names = sorted(reasoning_gym.factory.DATASETS)
    asked = fired = right = 0
    for name in tqdm(names, desc="tasks", leave=False):
        try:
            data = reasoning_gym.create_dataset(name, seed=11, size=8)
        except Exception:  # a task that needs settings of its own
            continue
        n = ok = 0
        for entry in data:
            asked += 1
            expr = stated_arithmetic(entry["question"])
            if expr is None:
                continue
            n += 1
            try:
                ok += data.score_answer(run_program(expr), entry) >= 1
            except ProgramError:
                pass
        if n:
            print(f"{name:<24} {n} of 8 evaluated as written, {ok} right")
        fired, right = fired + n, right + ok
    print(f"{fired} of {asked} questions over {len(names)} tasks evaluated as written; {right} of them right")


if __name__ == "__main__":
    main()
