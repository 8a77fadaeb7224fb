"""Whole-question programs: the example turns of the program prompt, on questions that ask
for a number (the route policy's training questions: reasoning-gym seed 1, never the
external suite's seed 1000), in one run: the step shots (DecompBench comparisons and year
differences, `program.PROGRAM_SHOTS`) against the word-problem shots the whole-question
route uses (`program.WHOLE_PROGRAM_SHOTS`).

    python benchmarks/bench_programs.py [--seed 1] [--n 96]

Each question is asked as one program by the default router (`route="program"`: the cascade
at 0.5 over Qwen-0.5B and Qwen-1.5B, the expression evaluated), scored by reasoning-gym's own
scorer. Prints right / asked and the cost for each, and their ratio. Cached: a rerun is seconds.
"""

from __future__ import annotations

import argparse

from subroute import Pool, Reasoner
from subroute.bench.datasets import EXTERNAL_RG_SEED, reasoning_gym_examples, score
from subroute.cache import CallCache
from subroute.gate import program_text
from subroute.inline import split_inline
from subroute.program import PROGRAM_SHOTS, WHOLE_PROGRAM_SHOTS

TASKS = ("basic_arithmetic,leg_counting,letter_counting,calendar_arithmetic,simple_equations,family_relationships,"
         "chain_sum,gsm_symbolic,time_intervals,decimal_arithmetic,products,number_sorting").split(",")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=96, help="reasoning-gym questions over the tasks (those asking a number run)")
    a = ap.parse_args()
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


if __name__ == "__main__":
    main()
