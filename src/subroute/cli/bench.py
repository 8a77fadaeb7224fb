"""`subroute bench`: run the standard systems on a dataset and write the report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from subroute.cli.common import load_pool, pool_option
from subroute.errors import SubrouteError


def run_and_report(pool, examples, out: Path, *, title: str, thresholds: tuple[float, ...], cot: bool,
                   workers: int, cache: bool, config: dict, notes: list[str] | None = None,
                   extended: bool = True, router_dir: str | None = None, ablate_gate: bool | None = None) -> list[dict]:
    """The benchmark as `bench` and `demo` run it: systems, results, traces, report."""
    from subroute.bench.metrics import summarize
    from subroute.bench.report import format_table, write_report
    from subroute.bench.runner import run_systems
    from subroute.bench.systems import standard_systems
    from subroute.cache import CallCache

    out.mkdir(parents=True, exist_ok=True)
    cc = CallCache() if cache else None
    pool.use_cache(cc)
    systems = standard_systems(pool, examples, thresholds=thresholds, cot=cot, extended=extended, router_dir=router_dir,
                               ablate_gate=ablate_gate)
    t0 = time.perf_counter()
    results = run_systems(systems, examples, workers=workers, traces_path=out / "traces.jsonl")
    wall = time.perf_counter() - t0
    with open(out / "results.jsonl", "w", encoding="utf-8") as f:
        for r in results:
            f.write(json.dumps(r.to_dict()) + "\n")
    rows = summarize(results, examples)
    notes = list(notes or [])
    failed = sum(1 for r in results if r.error)
    if failed:
        notes.append(f"{failed} of {len(results)} system-question runs failed; see results.jsonl (`error`)")
    if cc is not None:
        notes.append(f"call cache: {cc.hits} hits, {cc.misses} misses ({cc.path})")
    notes.append(f"wall time {wall:.0f}s")
    config = {**config, "pool": pool.source, "models": pool.names, "thresholds": list(thresholds),
              "systems": [s.name for s in systems], "n_examples": len(examples)}
    paths = write_report(out, rows, title=title, config=config, notes=notes)
    click.echo(format_table(rows))
    click.echo("")
    for n in notes:
        click.echo(f"note: {n}")
    click.echo(f"report: {paths.get('report', out / 'report.md')}")
    for k in ("pareto", "tiers", "summary"):
        if k in paths:
            click.echo(f"{k}: {paths[k]}")
    click.echo(f"traces: {out / 'traces.jsonl'}")
    return rows


def parse_thresholds(text: str) -> tuple[float, ...]:
    try:
        ts = tuple(sorted({float(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise SubrouteError(f"--thresholds must be comma-separated numbers in [0, 1], not '{text}'") from None
    if not ts or any(not 0 <= t <= 1 for t in ts):
        raise SubrouteError(f"--thresholds must be comma-separated numbers in [0, 1], not '{text}'")
    return ts


@click.command()
@click.option("--data", "data_path", type=click.Path(dir_okay=False), default=None,
              help="JSONL dataset (DecompBench format; `question`, `answer`, `context` suffice).")
@click.option("--suite", type=click.Choice(["external"]), default=None,
              help="The external suite: facts inline, hand-written multi-hop, six reasoning-gym tasks; a report per "
                   "set and a summary across them.")
@click.option("--reasoning-gym", "rg_tasks", default=None,
              help="Instead of --data: comma-separated reasoning-gym task names, generated offline.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True, help="Folder for the report.")
@click.option("--limit", type=click.IntRange(1), default=None, help="Use the first N examples.")
@click.option("--thresholds", default="0.2,0.4,0.6,0.8", show_default=True, help="Router/cascade sweep points.")
@click.option("--cot/--no-cot", default=True, show_default=True, help="Include chain of thought on the largest model.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True, help="Concurrent questions.")
@click.option("--cache/--no-cache", default=True, show_default=True, help="Cache model calls on disk.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for generated tasks.")
@click.option("--router", "router_dir", default=None,
              help="Router folder from `subroute train` for the `router` systems (default: the shipped one).")
@pool_option
def bench(data_path: str | None, suite: str | None, rg_tasks: str | None, out_dir: str, limit: int | None,
          thresholds: str, cot: bool, workers: int, cache: bool, seed: int, router_dir: str | None,
          pool_path: str | None) -> None:
    """Run every single model, the baselines, the router sweep and (with gold decompositions)
    the oracle on a dataset; write summary.json, report.md, pareto.png and traces."""
    from subroute.bench.datasets import load_jsonl, reasoning_gym_examples

    if sum(map(bool, (data_path, rg_tasks, suite))) != 1:
        raise SubrouteError("give exactly one of --data FILE.jsonl, --reasoning-gym TASKS or --suite external")
    ts = parse_thresholds(thresholds)
    pool = load_pool(pool_path)
    if suite:
        run_suite(pool, Path(out_dir), limit=limit, thresholds=ts, cot=cot, workers=workers, cache=cache,
                  router_dir=router_dir)
        return
    if data_path:
        examples = load_jsonl(data_path)
        source = str(data_path)
    else:
        tasks = [t.strip() for t in rg_tasks.split(",") if t.strip()]  # type: ignore[union-attr]
        examples = reasoning_gym_examples(tasks, limit or 20, seed)
        source = f"reasoning-gym:{','.join(tasks)}"
    if limit:
        examples = examples[:limit]
    run_and_report(pool, examples, Path(out_dir), title=f"subroute bench: {source}", thresholds=ts, cot=cot,
                   workers=workers, cache=cache, config={"data": source, "limit": limit, "seed": seed, "router": router_dir},
                   router_dir=router_dir)


def run_suite(pool, out: Path, *, limit: int | None, thresholds: tuple[float, ...], cot: bool, workers: int,
              cache: bool, router_dir: str | None) -> None:
    """Each set of the external suite through every system (a report per set under OUT/SET/),
    then one table across the sets and a plot of it (OUT/suite.md, OUT/suite.png)."""
    from subroute.bench.datasets import EXTERNAL_SETS, external_examples
    from subroute.bench.report import suite_table, write_suite

    per_set: dict[str, list[dict]] = {}
    for name in EXTERNAL_SETS:
        examples = external_examples(name, limit)
        click.echo(f"== {name}: {len(examples)} questions")
        per_set[name] = run_and_report(pool, examples, out / name, title=f"subroute bench: external/{name}",
                                       thresholds=thresholds, cot=cot, workers=workers, cache=cache,
                                       config={"data": f"external:{name}", "limit": limit, "router": router_dir},
                                       extended=False, router_dir=router_dir, ablate_gate=True)
        click.echo("")
    paths = write_suite(out, per_set)
    click.echo(suite_table(per_set))
    click.echo(f"suite: {paths['suite']}")
    if "plot" in paths:
        click.echo(f"plot: {paths['plot']}")
