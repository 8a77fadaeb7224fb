"""`subroute train labels|allocator|decomposer|all`: build the router's training labels and
train its allocator and decomposer into versioned artifact folders."""

from __future__ import annotations

import json
import random
from pathlib import Path

import click

from subroute.cli.common import load_pool, pool_option
from subroute.errors import SubrouteError


@click.group()
def train() -> None:
    """Train the router: grouped-search labels, the allocator (SFT then GRPO), the decomposer (LoRA SFT)."""


def _examples(path: str):
    from subroute.bench.datasets import load_jsonl

    exs = [e for e in load_jsonl(path) if e.decomposition]
    if not exs:
        raise SubrouteError(f"{path} has no examples with a gold `decomposition`; generate one with: subroute gen")
    return exs


@train.command("labels")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False), help="DecompBench JSONL with decompositions.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Labels JSONL (resumed if present).")
@click.option("--limit", type=click.IntRange(1), default=None, help="First N examples.")
@click.option("--ray-address", default=None, help="Fan out on a Ray cluster ('local' starts one here).")
@click.option("--max-tries", type=click.IntRange(1, 20), default=20, show_default=True)
@click.option("--router", "router", default=None,
              help="Label the steps this router's decomposer writes (a router folder, 'shipped' or 'prompted') "
                   "instead of the gold wording: the allocator's round of the alternation.")
@pool_option
def labels_cmd(data_path: str, out_path: str, limit: int | None, ray_address: str | None, max_tries: int,
               router: str | None, pool_path: str | None) -> None:
    """Label which pool model solves each gold step, by grouped search."""
    from subroute.cache import CallCache
    from subroute.train.labels import build_labels, reword_examples

    exs = _examples(data_path)[:limit]
    pool = load_pool(pool_path).use_cache(CallCache())
    kw = {}
    if router:
        from subroute.reasoner import Reasoner

        dec = Reasoner.default(pool, router=None if router == "shipped" else router).decomposer
        n = len(exs)
        exs, dropped = reword_examples(exs, dec)
        click.echo(f"decomposer {dec.name}: {len(exs)} of {n} questions split into steps that line up with the gold "
                   f"ones; {dropped} left out (another step count or unparsed)")
        if not exs:
            raise SubrouteError(f"none of the steps {dec.name} writes line up with the gold decompositions; nothing to label")
        kw["decomposer"] = dec.name
    labs = build_labels(pool, exs, out_path, pool_path=pool_path, ray_address=ray_address, max_tries=max_tries, **kw)
    solved = sum(1 for lab in labs if lab.label)
    click.echo(f"{len(labs)} step labels in {out_path}; {solved} solved by some model")
    for m in pool.names:
        click.echo(f"  cheapest correct = {m}: {sum(1 for lab in labs if lab.label == m)}")


def split_by_seed(labs, heldout_frac: float, seed: int = 0):
    """Hold out whole worlds (by world seed), falling back to whole questions."""
    key = (lambda lab: lab.world_seed) if len({lab.world_seed for lab in labs}) > 1 else (lambda lab: lab.example_id)
    groups = sorted({key(lab) for lab in labs}, key=str)
    random.Random(seed).shuffle(groups)
    n_held = max(1, int(round(len(groups) * heldout_frac))) if len(groups) > 1 else 0
    held = set(groups[:n_held])
    return [lab for lab in labs if key(lab) not in held], [lab for lab in labs if key(lab) in held]


@train.command("allocator")
@click.option("--labels", "labels_path", required=True, type=click.Path(dir_okay=False, exists=True))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--cost-lambda", type=float, default=0.3, show_default=True, help="Reward = correct - lambda * cost/cost_of_largest.")
@click.option("--sft-epochs", type=click.IntRange(1), default=300, show_default=True)
@click.option("--grpo-iters", type=click.IntRange(0), default=60, show_default=True)
@click.option("--heldout", type=click.FloatRange(0, 0.9), default=0.25, show_default=True, help="Share of worlds held out.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--data", "data_path", type=click.Path(dir_okay=False, exists=True), default=None,
              help="The DecompBench JSONL the labels came from: (step, model) pairs the search never tried are run "
                   "once (cached), so rewards are exact; without it they count as wrong.")
@click.option("--dropout", type=click.FloatRange(0, 0.9), default=0.0, show_default=True)
@click.option("--weight-decay", type=click.FloatRange(0), default=1e-4, show_default=True)
@click.option("--from", "from_dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="Start from this allocator (an allocator folder or a router folder with allocator/) instead of SFT: "
                   "GRPO only, kept near it (the alternation's allocator round, on labels from `train labels --router`).")
@pool_option
def allocator_cmd(labels_path: str, out_dir: str, cost_lambda: float, sft_epochs: int, grpo_iters: int,
                  heldout: float, seed: int, data_path: str | None, dropout: float, weight_decay: float,
                  from_dir: str | None, pool_path: str | None) -> None:
    """SFT the allocator on labels, then GRPO; write the artifact, curves and metrics."""
    from subroute.cache import CallCache
    from subroute.train.allocator import (Outcomes, TrainConfig, allocator_dir, complete_outcomes, evaluate, evaluate_rules,
                                          load_allocator, questions_from_labels, resolver, save_allocator, train_grpo,
                                          train_sft)
    from subroute.train.labels import read_labels
    from subroute.train.plots import plot_history

    pool = load_pool(pool_path).use_cache(CallCache())
    cfg = TrainConfig(sft_epochs=sft_epochs, grpo_iters=grpo_iters, cost_lambda=cost_lambda, seed=seed,
                      dropout=dropout, weight_decay=weight_decay)
    net = None
    if from_dir:  # checked before any work: a wrong folder or another pool's allocator fails now
        start = allocator_dir(from_dir)
        net, start_manifest = load_allocator(start, pool)
        cfg.hidden = start_manifest["config"]["hidden"]
        cfg.dropout = start_manifest["config"].get("dropout", 0.0)
    labs = read_labels(labels_path)
    tr, te = split_by_seed(labs, heldout, seed)
    qs_tr = questions_from_labels(tr)
    qs_te = questions_from_labels(te) if te else []
    outcomes = Outcomes(pool, resolver(pool, _examples(data_path)) if data_path else None)
    if data_path:
        ran = complete_outcomes(qs_tr + qs_te, pool, outcomes)
        click.echo(f"ran {ran} untried (step, model) pairs; every outcome is now known")
    history: list[dict] = []
    if net is None:
        net = train_sft(qs_tr, pool, cfg, log=history.append)
    after_sft = {"train": evaluate(net, qs_tr, pool, outcomes), "heldout": evaluate(net, qs_te, pool, outcomes) if qs_te else None}
    net = train_grpo(net, qs_tr, pool, outcomes, cfg, log=history.append)
    after = {"train": evaluate(net, qs_tr, pool, outcomes), "heldout": evaluate(net, qs_te, pool, outcomes) if qs_te else None}
    metrics = {"start" if from_dir else "after_sft": after_sft, "after_grpo": after,
               "baselines": {"train": evaluate_rules(qs_tr, pool, outcomes),
                             "heldout": evaluate_rules(qs_te, pool, outcomes) if qs_te else None},
               "exact_outcomes": bool(data_path)}
    art = save_allocator(out_dir, net, pool, cfg, metrics=metrics,
                         data={"labels": str(labels_path), "train_questions": len(qs_tr), "heldout_questions": len(qs_te),
                               "world_seeds": sorted({str(lab.world_seed) for lab in labs}),
                               "heldout_world_seeds": sorted({str(lab.world_seed) for lab in te}),
                               "decomposer": next((lab.decomposer for lab in labs if lab.decomposer), None),
                               "from": str(from_dir) if from_dir else None})
    (Path(art) / "history.json").write_text(json.dumps(history))
    plot_history(history, Path(art) / "curves.png", title=f"allocator (cost lambda {cost_lambda:g})")
    click.echo(json.dumps(metrics, indent=2))
    click.echo(f"allocator: {art}  curves: {Path(art) / 'curves.png'}")


@train.command("decomposer")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--base", default="smollm2-135m", show_default=True, help="Pool model to fine-tune.")
@click.option("--steps", type=click.IntRange(1), default=120, show_default=True, help="Optimizer steps.")
@click.option("--batch-size", type=click.IntRange(1), default=8, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--max-length", type=click.IntRange(32), default=192, show_default=True, help="Tokens per training sequence.")
@click.option("--limit", type=click.IntRange(1), default=None, help="First N examples.")
@click.option("--from", "from_dir", type=click.Path(file_okay=False, exists=True), default=None,
              help="Continue the adapter in this decomposer folder (with peft/) instead of starting a new one; "
                   "its base, rank and alpha are kept.")
@pool_option
def decomposer_cmd(data_path: str, out_dir: str, base: str, steps: int, batch_size: int, lr: float, max_length: int,
                   limit: int | None, pool_path: str | None, from_dir: str | None = None) -> None:
    """LoRA SFT of a small pool model on gold decompositions; exports a llama.cpp adapter."""
    from subroute.train.decomposer import DecomposerConfig, train_sft
    from subroute.train.plots import plot_history

    pool = load_pool(pool_path)
    cfg = DecomposerConfig(base=base, max_steps=steps, batch_size=batch_size, lr=lr, max_length=max_length)
    art = train_sft(pool, _examples(data_path)[:limit], out_dir, cfg, start=from_dir)
    history = json.loads((Path(art) / "manifest.json").read_text())["history"]
    plot_history(history, Path(art) / "curves.png", title=f"decomposer LoRA SFT ({base})")
    click.echo(f"decomposer: {art}  adapter: {Path(art) / 'adapter.gguf'}  curves: {Path(art) / 'curves.png'}")


@train.command("grpo")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False), help="Training DecompBench JSONL.")
@click.option("--from", "sft_dir", required=True, type=click.Path(file_okay=False, exists=True),
              help="Decomposer folder written by `subroute train decomposer` (with peft/).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--router", "router", default=None,
              help="Frozen allocator: a router folder with allocator/, else the confidence rule.")
@click.option("--threshold", type=click.FloatRange(0, 1), default=None, help="Confidence-rule threshold (frozen allocator).")
@click.option("--steps", type=click.IntRange(1), default=20, show_default=True, help="GRPO optimizer steps.")
@click.option("--group-size", type=click.IntRange(2), default=4, show_default=True, help="G: samples per question.")
@click.option("--questions-per-step", type=click.IntRange(1), default=2, show_default=True)
@click.option("--lr", type=float, default=1e-4, show_default=True)
@click.option("--temperature", type=click.FloatRange(0.1, 3.0), default=1.0, show_default=True,
              help="Sampling temperature; an SFT'd decomposer is peaked, and identical samples carry no signal.")
@click.option("--cost-lambda", type=float, default=0.0, show_default=True,
              help="Reward = correct - lambda * cost / (largest model on the whole context).")
@click.option("--limit", type=click.IntRange(1), default=None, help="First N examples.")
@pool_option
def grpo_cmd(data_path: str, sft_dir: str, out_dir: str, router: str | None, threshold: float | None, steps: int,
             group_size: int, questions_per_step: int, lr: float, temperature: float, cost_lambda: float,
             limit: int | None, pool_path: str | None) -> None:
    """GRPO of the decomposer on the final-answer reward, the allocator frozen (seeds/001)."""
    from subroute.cache import CallCache
    from subroute.reasoner import Reasoner
    from subroute.train.decomposer import DecomposerGRPOConfig, train_grpo
    from subroute.train.plots import plot_history

    pool = load_pool(pool_path).use_cache(CallCache())
    allocator = Reasoner.default(pool, threshold=threshold, router=router or "prompted").executor.allocator
    cfg = DecomposerGRPOConfig(steps=steps, group_size=group_size, questions_per_step=questions_per_step, lr=lr,
                               temperature=temperature, cost_lambda=cost_lambda)
    art = train_grpo(pool, _examples(data_path)[:limit], sft_dir, out_dir, allocator, cfg)
    history = json.loads((Path(art) / "manifest.json").read_text())["history"]
    plot_history(history, Path(art) / "curves.png", title="decomposer: LoRA SFT, then GRPO on final-answer reward")
    click.echo(f"decomposer: {art}  adapter: {Path(art) / 'adapter.gguf'}  curves: {Path(art) / 'curves.png'}")


@train.command("all")
@click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False), help="Training DecompBench JSONL.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Router folder (use with --router).")
@click.option("--label-limit", type=click.IntRange(1), default=None, help="Label only the first N examples.")
@click.option("--steps", type=click.IntRange(1), default=120, show_default=True, help="Decomposer optimizer steps.")
@click.option("--cost-lambda", type=float, default=0.3, show_default=True)
@click.option("--ray-address", default=None)
@click.option("--rounds", type=click.IntRange(0), default=0, show_default=True,
              help="Alternation rounds after SFT: decomposer GRPO with the allocator frozen, then allocator GRPO on the "
                   "new decomposer's own steps with the decomposer frozen.")
@click.option("--grpo-steps", type=click.IntRange(1), default=20, show_default=True, help="Decomposer GRPO steps per round.")
@click.option("--grpo-limit", type=click.IntRange(1), default=None, help="Questions for the decomposer's GRPO (first N).")
@pool_option
@click.pass_context
def all_cmd(ctx: click.Context, data_path: str, out_dir: str, label_limit: int | None, steps: int, cost_lambda: float,
            ray_address: str | None, rounds: int, grpo_steps: int, grpo_limit: int | None, pool_path: str | None) -> None:
    """Labels, allocator and decomposer into one router folder: OUT/{labels.jsonl, allocator/, decomposer/};
    with --rounds, the alternation of seeds/001 after them (each round kept in OUT/round-K/, and the
    last round's decomposer and allocator copied to OUT/)."""
    import shutil

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx.invoke(labels_cmd, data_path=data_path, out_path=str(out / "labels.jsonl"), limit=label_limit,
               ray_address=ray_address, max_tries=20, pool_path=pool_path)
    ctx.invoke(allocator_cmd, labels_path=str(out / "labels.jsonl"), out_dir=str(out / "allocator"),
               cost_lambda=cost_lambda, sft_epochs=300, grpo_iters=60, heldout=0.25, seed=0, data_path=data_path,
               pool_path=pool_path)
    ctx.invoke(decomposer_cmd, data_path=data_path, out_dir=str(out / "decomposer"), base="smollm2-135m", steps=steps,
               batch_size=8, lr=1e-3, max_length=192, limit=None, pool_path=pool_path)
    for k in range(1, rounds + 1):
        rd = out / f"round-{k}"
        click.echo(f"alternation round {k}/{rounds}: decomposer GRPO, the allocator in {out / 'allocator'} frozen")
        ctx.invoke(grpo_cmd, data_path=data_path, sft_dir=str(out / "decomposer"), out_dir=str(rd / "decomposer"),
                   router=str(out), threshold=None, steps=grpo_steps, group_size=4, questions_per_step=2, lr=1e-4,
                   temperature=1.0, cost_lambda=cost_lambda, limit=grpo_limit, pool_path=pool_path)
        click.echo(f"alternation round {k}/{rounds}: allocator GRPO on the new decomposer's steps, the decomposer frozen")
        try:
            ctx.invoke(labels_cmd, data_path=data_path, out_path=str(rd / "labels.jsonl"), limit=label_limit,
                       ray_address=ray_address, max_tries=20, router=str(rd), pool_path=pool_path)
        except SubrouteError as e:
            click.echo(f"alternation stopped in round {k}: {e}; {out} keeps the router of the round before "
                       f"(this round's decomposer is in {rd / 'decomposer'})")
            break
        ctx.invoke(allocator_cmd, labels_path=str(rd / "labels.jsonl"), out_dir=str(rd / "allocator"),
                   cost_lambda=cost_lambda, sft_epochs=300, grpo_iters=60, heldout=0.25, seed=0, data_path=data_path,
                   dropout=0.0, weight_decay=1e-4, from_dir=str(out / "allocator"), pool_path=pool_path)
        for part in ("decomposer", "allocator"):
            shutil.rmtree(out / part)
            shutil.copytree(rd / part, out / part)
    click.echo(f"router: {out}  (use it with: subroute ask --router {out} ...)")
