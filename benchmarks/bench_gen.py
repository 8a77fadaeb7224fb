"""DecompBench generation throughput at two world sizes, in one run.

    python benchmarks/bench_gen.py [--n 500] [--sizes 1000,10000] [--seed 0]

Prints, per world size: world build time, question generation throughput (questions per
second, contexts included), and the time to render every document of the world. Growth with
size shows in the two rows side by side. Pure CPU, single thread, no model.
"""

from __future__ import annotations

import argparse
import platform
import time

from subroute.worlds import Corpus, QuestionConfig, WorldConfig, build_world, generate_questions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="questions per world size")
    ap.add_argument("--sizes", default="1000,10000", help="people per world, comma-separated")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--docs", action="store_true", help="also time rendering every document")
    args = ap.parse_args()
    print(f"python {platform.python_version()} on {platform.machine()}; {args.n} questions, hops 1-4")
    print(f"{'people':>7} {'entities':>9} {'facts':>8} {'build s':>8} {'gen s':>7} {'q/s':>7} {'docs s':>7}")
    for size in (int(s) for s in args.sizes.split(",")):
        t = time.perf_counter()
        world = build_world(WorldConfig(seed=args.seed, n_people=size))
        build = time.perf_counter() - t
        corpus = Corpus(world)
        t = time.perf_counter()
        qs = generate_questions(world, QuestionConfig(n=args.n, min_hops=1, max_hops=4), corpus=corpus)
        gen = time.perf_counter() - t
        docs = float("nan")
        if args.docs:
            t = time.perf_counter()
            n_docs = sum(1 for _ in corpus.documents())
            docs = time.perf_counter() - t
        stats = world.stats()
        print(f"{size:>7} {sum(v for k, v in stats.items() if k != 'facts'):>9} {stats['facts']:>8} "
              f"{build:>8.2f} {gen:>7.2f} {len(qs) / gen:>7.0f} {docs:>7.2f}")


if __name__ == "__main__":
    main()
