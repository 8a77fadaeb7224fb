"""Learned allocators against the confidence rule and the oracle, on the held-out questions
of their labels: what the cost-aware reward's lambda changes.

    python benchmarks/bench_allocator.py NAME=DIR [NAME=DIR ...] [--out allocator-lambda.png]

Each DIR is an allocator folder from `subroute train allocator` (or a router folder with
allocator/). The figures are the ones `train allocator` measured and stored in its
manifest: every step of a held-out question scored from the labels' exact outcomes (a
question is right when all its steps are), cost as a share of the largest model on every
step, the probe's calls included. Rows: each allocator after SFT and after GRPO, then the
baselines of the first (every step on one model, the confidence rule at four thresholds,
the oracle). Prints a table and draws accuracy against cost.
"""

from __future__ import annotations

import argparse
import json

from subroute.bench.report import pyplot
from subroute.learned import allocator_dir


def load(folder: str) -> dict:
    return json.loads((allocator_dir(folder) / "manifest.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("allocators", nargs="+", help="NAME=DIR")
    ap.add_argument("--out", default="allocator-lambda.png")
    a = ap.parse_args()
    runs = []
    for spec in a.allocators:
        name, _, folder = spec.partition("=")
        m = load(folder)
        runs.append((name, m))
    rows: list[tuple[str, str, float, float]] = []  # (group, name, accuracy, cost share)
    for name, m in runs:
        lam = m["config"]["cost_lambda"]
        for stage in ("after_sft", "start", "after_grpo"):
            r = (m["metrics"].get(stage) or {}).get("heldout")
            if r is None:
                continue
            label = {"after_sft": "SFT", "start": f"{name} start"}.get(stage, f"{name} SFT+GRPO (lambda {lam:g})")
            if stage == "after_sft" and any(x[1] == label and (x[2], x[3]) != (r["accuracy"], r["cost_vs_largest"])
                                            for x in rows):
                label = f"{name} SFT"  # SFT runs that differ keep their names
            rows.append(("learned", label, r["accuracy"], r["cost_vs_largest"]))
    first = runs[0][1]
    for k, r in first["metrics"]["baselines"]["heldout"].items():
        rows.append(("baseline", k, r["accuracy"], r["cost_vs_largest"]))
    seen = set()
    rows = [r for r in rows if not (r[1] in seen or seen.add(r[1]))]
    n_q = first["metrics"]["after_sft"]["heldout"]["questions"]
    held = first["data"].get("heldout_world_seeds")
    print(f"held-out questions: {n_q} (labels {first['data']['labels']}, worlds {', '.join(first['data']['world_seeds'])}"
          + (f"; held out: {', '.join(held)})" if held else ")"))
    print(f"{'allocation':<40} {'accuracy':>8} {'cost vs largest':>16}")
    for _, name, acc, cost in rows:
        print(f"{name:<40} {acc:>8.3f} {cost:>16.2f}")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.8))
    rule = [r for r in rows if r[1].startswith("confidence@")]
    ax.plot([r[3] for r in rule], [r[2] for r in rule], "s-", color="grey", label="confidence rule")
    for _, name, acc, cost in rule:
        ax.annotate(f"t={name.split('@')[1]}", (cost, acc), fontsize=7, xytext=(3, -10), textcoords="offset points")
    for _, name, acc, cost in (r for r in rows if r not in rule):
        style = {"marker": "*", "color": "black", "s": 90} if name == "oracle" else {"marker": "o" if _ == "learned" else "s", "s": 40}
        ax.scatter([cost], [acc], label=name, **style)
    ax.set(xlabel="cost as a share of the largest model on every step", ylabel="accuracy (every step right)",
           title=f"allocators on {n_q} held-out questions of their labels")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    fig.savefig(a.out, dpi=120)
    plt.close(fig)
    print(f"plot: {a.out}")


if __name__ == "__main__":
    main()
