"""Trained routers against the prompted router against the largest model and the oracle,
end to end, on questions from a held-out world (a seed never used in training), in one run.

    python benchmarks/bench_router.py --router sft=DIR [--router grpo=DIR2 ...] [--seed 900] [--n 24]

Each --router NAME=DIR is a folder from `subroute train` (its decomposer/, and allocator/ if
present); `shipped` names the router in the package. Every router uses the confidence rule
at --threshold unless its folder has a learned allocator. The prompted router is the
untrained one (Qwen-1.5B decomposes with five few-shot turns). Model calls are cached, so a
rerun costs nothing; the table is `subroute bench`'s.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from subroute import Pool
from subroute.bench.datasets import parse_example
from subroute.bench.metrics import summarize
from subroute.bench.report import format_table, write_report
from subroute.bench.runner import run_systems
from subroute.bench.systems import DirectSystem, OracleSystem, ReasonerSystem, trained_router
from subroute.cache import CallCache
from subroute.reasoner import DEFAULT_THRESHOLD, Reasoner
from subroute.worlds import QuestionConfig, WorldConfig, build_world, generate_questions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--router", action="append", default=[], help="NAME=DIR (repeatable); DIR 'shipped' = the package's")
    ap.add_argument("--seed", type=int, default=900, help="held-out world seed")
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--hops", default="2-4")
    ap.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD)
    ap.add_argument("--out", default="bench-router", help="folder for report.md, pareto.png, summary.json")
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.hops.split("-"))
    pool = Pool.load().use_cache(CallCache())
    world = build_world(WorldConfig(seed=a.seed))
    exs = [parse_example(q.to_dict(), default_id=str(i)) for i, q in
           enumerate(generate_questions(world, QuestionConfig(n=a.n, min_hops=lo, max_hops=hi, seed=a.seed)))]
    systems = [DirectSystem(pool, pool.models[-1].name)]
    systems += [trained_router(pool, spec, threshold=a.threshold) for spec in a.router]
    p = Reasoner.default(pool, router="prompted", threshold=a.threshold)
    p.name = "router-prompted"
    systems += [ReasonerSystem(p, p.name, "router-prompted"), OracleSystem(pool)]
    print(f"{len(exs)} questions ({a.hops} hops) from held-out world seed {a.seed}; threshold {a.threshold:g}")
    results = run_systems(systems, exs)
    rows = summarize(results, exs)
    out = Path(a.out)
    write_report(out, rows, title=f"trained vs prompted router, held-out world {a.seed}",
                 config={"seed": a.seed, "n": a.n, "hops": a.hops, "routers": a.router, "threshold": a.threshold},
                 notes=[])
    print(format_table(rows))
    print(f"report: {out / 'report.md'}  plot: {out / 'pareto.png'}")
    print(json.dumps({r["name"]: {"accuracy": r["accuracy"], "cost": r["cost"]} for r in rows}))


if __name__ == "__main__":
    main()
