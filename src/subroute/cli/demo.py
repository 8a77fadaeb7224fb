"""`subroute demo`: the main job on the default pool, start to finish, on a CPU.

Generates a small fictional world and a few dozen multi-hop questions over it (DecompBench),
runs every single model, the baselines, the router's threshold sweep and the oracle through
the same pool and accounting, and writes the table, the Pareto plot, the per-tier cost
breakdown, `summary.json` and the traces. Model calls are cached on disk, so a rerun takes
seconds.
"""

from __future__ import annotations

from pathlib import Path

import click

from subroute.cli.bench import parse_thresholds, run_and_report
from subroute.cli.common import load_pool, pool_option


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="subroute-demo", show_default=True,
              help="Folder for the dataset, report, plots and traces.")
@click.option("--n", "n", type=click.IntRange(4, 1000), default=24, show_default=True, help="Questions.")
@click.option("--seed", type=int, default=7, show_default=True, help="World and question seed.")
@click.option("--hops", default="2-4", show_default=True, help="Hops per question (a range like 2-4).")
@click.option("--thresholds", default="0.2,0.5,0.8", show_default=True, help="Router/cascade sweep points.")
@click.option("--cot/--no-cot", default=False, show_default=True, help="Add chain of thought on the largest model (slow on CPU).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
@pool_option
def demo(out_dir: str, n: int, seed: int, hops: str, thresholds: str, cot: bool, workers: int, pool_path: str | None) -> None:
    """Generate fictional multi-hop questions and compare the router with every baseline."""
    from subroute.bench.datasets import load_jsonl
    from subroute.cli import main

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = out / f"decompbench-seed{seed}-n{n}-hops{hops}.jsonl"
    pool = load_pool(pool_path)
    if not data.is_file():
        click.echo(f"generating {n} questions (world seed {seed}) -> {data}")
        main.main(["gen", "--seed", str(seed), "--n", str(n), "--hops", hops, "--out", str(data)], standalone_mode=False)
    examples = load_jsonl(data)
    click.echo(f"running the benchmark on {len(examples)} questions with the pool {pool.source} ({', '.join(pool.names)})")
    run_and_report(pool, examples, out, title="subroute demo: DecompBench on the default pool",
                   thresholds=parse_thresholds(thresholds), cot=cot, workers=workers, cache=True,
                   config={"data": str(data), "seed": seed, "n": n, "command": "subroute demo"}, extended=False,
                   ablate_gate=True)
