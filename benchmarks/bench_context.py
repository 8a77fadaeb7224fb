"""How the router's saving grows with the size of the context, on the same questions.

    python benchmarks/bench_context.py [--seed 7] [--n 24] [--distractors 4,8,16]

A model answering alone reads the whole context; each routed step reads one retrieved
passage, so the router's cost hardly moves as the context grows while a direct answer's
grows with it. This takes `subroute demo`'s questions (same world seed, count and hops, so
at 4 distractors, the generator's default, the contexts are the demo's and a shared call
cache makes that row free) and grows each question's context with more distractor
documents from the same world: the documents already there stay, the added ones are drawn
by the generator's own rule (half from the neighbourhood of the question's entities) and
the order is shuffled, seeded per question. Then it runs Qwen-1.5B and Qwen-0.5B directly,
the default router, the router at --low, each --router NAME=DIR (a folder from `subroute
train`: its learned allocator, else the confidence rule at the default threshold) and
(with --oracle) the oracle and (with --nogate) the default router without its gate on every size, and
prints each system's accuracy and its cost as a fraction of Qwen-1.5B's at that size,
measured in the same run.
Model calls are cached, so a rerun costs nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from subroute import Pool
from subroute.bench.datasets import parse_example
from subroute.bench.metrics import summarize
from subroute.bench.report import format_table, pyplot, usd, write_report
from subroute.bench.runner import run_systems
from subroute.bench.systems import DirectSystem, OracleSystem, ReasonerSystem, router, trained_router
from subroute.cache import CallCache
from subroute.reasoner import Reasoner
from subroute.worlds import Corpus, QuestionConfig, WorldConfig, add_distractors, build_world, generate_questions


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7, help="world seed (the demo's by default)")
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--hops", default="2-4")
    ap.add_argument("--distractors", default="4,8,16", help="distractor documents per context, comma-separated")
    ap.add_argument("--low", type=float, default=0.2, help="a second, cheaper router threshold")
    ap.add_argument("--router", action="append", default=[],
                    help="NAME=DIR: also run this trained router (repeatable; DIR 'shipped' = the package's)")
    ap.add_argument("--oracle", action="store_true", help="also run the oracle (cheapest right model per gold step)")
    ap.add_argument("--nogate", action="store_true", help="also run the default router without its gate")
    ap.add_argument("--out", default="bench-context", help="folder for one report per size and summary.json")
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.hops.split("-"))
    sizes = sorted({int(x) for x in a.distractors.split(",")})
    qcfg = QuestionConfig(n=a.n, min_hops=lo, max_hops=hi)
    world = build_world(WorldConfig(seed=a.seed))
    corpus = Corpus(world)
    base = generate_questions(world, qcfg, corpus=corpus)
    pool = Pool.load().use_cache(CallCache())
    large, medium = pool.models[-1].name, pool.models[-2].name
    default = Reasoner.default(pool)
    systems = [DirectSystem(pool, large), DirectSystem(pool, medium),
               router(pool, a.low, decomposer=default.decomposer),
               ReasonerSystem(default, "router", "router-default")]
    systems += [trained_router(pool, spec) for spec in a.router]
    if a.nogate:
        nogate = Reasoner(pool, default.decomposer, default.executor.allocator, name="router-nogate")
        systems.append(ReasonerSystem(nogate, nogate.name, "router-nogate"))
    if a.oracle:
        systems.append(OracleSystem(pool))
    out = Path(a.out)
    table: list[dict] = []
    for k in sizes:
        qs = [add_distractors(q, corpus, k - qcfg.n_distractors) for q in base]
        exs = [parse_example(q.to_dict(), default_id=str(i)) for i, q in enumerate(qs)]
        mean_ctx = sum(q.n_context_tokens for q in qs) / len(qs)
        print(f"\n{len(exs)} questions ({a.hops} hops, world seed {a.seed}) with {k} distractors: "
              f"mean context {mean_ctx:.0f} tokens")
        rows = summarize(run_systems(systems, exs), exs)
        print(format_table(rows))
        write_report(out / f"distractors-{k}", rows, title=f"world {a.seed}, {k} distractors per context",
                     config={"seed": a.seed, "n": a.n, "hops": a.hops, "distractors": k}, notes=[])
        ref = next(r for r in rows if r["name"] == f"direct:{large}")
        for r in rows:
            table.append({"distractors": k, "context_tokens": round(mean_ctx), "name": r["name"],
                          "accuracy": r["accuracy"], "cost": r["cost"], "cost_vs_large": r["cost"] / ref["cost"]})
    names = [s.name for s in systems]
    print(f"\naccuracy / cost as a fraction of direct:{large}'s at the same size")
    print("distractors  context  " + "  ".join(f"{n:>20}" for n in names))
    for k in sizes:
        rs = {r["name"]: r for r in table if r["distractors"] == k}
        ctx = rs[names[0]]["context_tokens"]
        cells = [f"{rs[n]['accuracy']:.3f} / {rs[n]['cost_vs_large']:.0%}" for n in names]
        print(f"{k:>11}  {ctx:>7}  " + "  ".join(f"{c:>20}" for c in cells)
              + f"   ({names[0]}: {usd(rs[names[0]]['cost'])})")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(table, indent=1))
    plot(table, names, out / "context.png", title=f"world {a.seed}, {a.n} questions, {a.hops} hops")
    print(f"reports: {out}/distractors-*/report.md  plot: {out / 'context.png'}  summary: {out / 'summary.json'}")


def plot(table: list[dict], names: list[str], path: Path, *, title: str) -> None:
    """Accuracy and cost (as a fraction of the largest model's) against context size."""
    plt = pyplot()
    fig, (acc, cost) = plt.subplots(1, 2, figsize=(10, 4))
    for n in names:
        rs = sorted((r for r in table if r["name"] == n), key=lambda r: r["context_tokens"])
        x = [r["context_tokens"] for r in rs]
        acc.plot(x, [r["accuracy"] for r in rs], marker="o", label=n)
        cost.plot(x, [100 * r["cost_vs_large"] for r in rs], marker="o", label=n)
    acc.set(xlabel="mean context (approx. tokens)", ylabel="accuracy", ylim=(0, 1), title="accuracy")
    cost.set(xlabel="mean context (approx. tokens)", ylabel=f"% of {names[0]}'s cost", ylim=(0, 110),
             title="cost against the largest model alone")
    cost.axhline(100 / 3, color="grey", linestyle=":", linewidth=1)
    cost.text(cost.get_xlim()[0], 100 / 3 + 2, " one third", color="grey", fontsize=8)
    acc.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
