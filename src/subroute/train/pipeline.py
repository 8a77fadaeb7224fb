"""The training pipeline behind `subroute train`: each stage from files to an artifact
folder (labels, allocator, decomposer SFT, decomposer GRPO), and `train_router`, all of
them into one router folder with the alternation of seeds/001 after them.

The knobs of each stage are its config dataclass (`LabelsConfig` here, `TrainConfig`,
`DecomposerConfig`, `DecomposerGRPOConfig`), the one source of their defaults; the command
line derives its options from them. What a stage has to say while it runs goes to `echo`;
its result comes back as a value, for the caller to print."""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from subroute.errors import SubrouteError
from subroute.pool import Pool
from subroute.train.allocator import TrainConfig
from subroute.train.decomposer import DecomposerConfig, DecomposerGRPOConfig

if TYPE_CHECKING:
    from subroute.records import Example
    from subroute.train.labels import StepLabel
    from subroute.train.search import SearchConfig

Echo = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass
class LabelsConfig:
    """The grouped search's knobs for `subroute train labels` (see `labels.grouped_search`)."""

    max_tries: int = field(default=20, metadata={"help": "most model calls per step in the grouped search",
                                                 "min": 1, "max": 20})


@dataclass
class LabelsRun:
    """Labels written to `path` (as given); `models`: the pool's model names, in pool order."""

    path: str | Path
    labels: list[StepLabel]
    models: list[str]


@dataclass
class AllocatorRun:
    path: Path  # the allocator folder
    metrics: dict


@dataclass
class DecomposerRun:
    path: Path  # the decomposer folder


def _cached_pool(pool_path: str | None) -> Pool:
    from subroute.cache import CallCache

    return Pool.load(pool_path).use_cache(CallCache())


def training_examples(path: str | Path) -> list[Example]:
    """The examples of a DecompBench JSONL that carry a gold decomposition."""
    from subroute.bench.datasets import load_jsonl

    exs = [e for e in load_jsonl(path) if e.decomposition]
    if not exs:
        raise SubrouteError(f"{path} has no examples with a gold `decomposition`; generate one with: subroute gen")
    return exs


def split_by_seed(labs: list[StepLabel], heldout_frac: float, seed: int = 0) -> tuple[list[StepLabel], list[StepLabel]]:
    """Hold out whole worlds (by world seed), falling back to whole questions."""
    key = (lambda lab: lab.world_seed) if len({lab.world_seed for lab in labs}) > 1 else (lambda lab: lab.example_id)
    groups = sorted({key(lab) for lab in labs}, key=str)
    random.Random(seed).shuffle(groups)
    n_held = max(1, int(round(len(groups) * heldout_frac))) if len(groups) > 1 else 0
    held = set(groups[:n_held])
    return [lab for lab in labs if key(lab) not in held], [lab for lab in labs if key(lab) in held]


def build_router_labels(data_path: str | Path, out_path: str | Path, cfg: LabelsConfig | None = None, *,
                        limit: int | None = None, router: str | None = None, ray_address: str | None = None,
                        pool_path: str | None = None, echo: Echo = _quiet) -> LabelsRun:
    """Grouped-search labels for the gold steps of `data_path` (the first `limit` examples),
    into `out_path` (resumed if present). With `router` (a router folder, 'shipped' or
    'prompted'), the steps are the ones that router's decomposer writes, lined up with the
    gold ones: the allocator's round of the alternation."""
    from subroute.train.labels import build_labels, reword_examples

    cfg = cfg or LabelsConfig()
    exs = training_examples(data_path)[:limit]
    pool = _cached_pool(pool_path)
    kw = {}
    if router:
        from subroute.reasoner import Reasoner

        dec = Reasoner.default(pool, router=None if router == "shipped" else router).decomposer
        n = len(exs)
        exs, dropped = reword_examples(exs, dec)
        echo(f"decomposer {dec.name}: {len(exs)} of {n} questions split into steps that line up with the gold "
             f"ones; {dropped} left out (another step count or unparsed)")
        if not exs:
            raise SubrouteError(f"none of the steps {dec.name} writes line up with the gold decompositions; nothing to label")
        kw["decomposer"] = dec.name
    labs = build_labels(pool, exs, out_path, pool_path=pool_path, ray_address=ray_address, max_tries=cfg.max_tries, **kw)
    return LabelsRun(out_path, labs, pool.names)


def train_allocator(labels_path: str | Path, out_dir: str | Path, cfg: TrainConfig | None = None, *,
                    data_path: str | Path | None = None, from_dir: str | Path | None = None,
                    pool_path: str | None = None, echo: Echo = _quiet) -> AllocatorRun:
    """SFT the allocator on labels (or start from the allocator in `from_dir`: GRPO only,
    kept near it), then GRPO; write the artifact with its history, curves and metrics. With
    `data_path` (the DecompBench JSONL the labels came from), the (step, model) pairs the
    search never tried are run once, so rewards are exact."""
    from subroute.learned import allocator_dir
    from subroute.train.allocator import (
        Outcomes,
        complete_outcomes,
        evaluate,
        evaluate_rules,
        load_allocator,
        questions_from_labels,
        resolver,
        save_allocator,
        train_grpo,
        train_sft,
    )
    from subroute.train.labels import read_labels
    from subroute.train.plots import plot_history

    cfg = replace(cfg or TrainConfig())  # a copy: a start's width and dropout are set on it
    pool = _cached_pool(pool_path)
    net = None
    if from_dir:  # checked before any work: a wrong folder or another pool's allocator fails now
        start = allocator_dir(from_dir)
        net, start_manifest = load_allocator(start, pool)
        cfg.hidden = start_manifest["config"]["hidden"]
        cfg.dropout = start_manifest["config"].get("dropout", 0.0)
    labs = read_labels(labels_path)
    tr, te = split_by_seed(labs, cfg.heldout, cfg.seed)
    qs_tr = questions_from_labels(tr)
    qs_te = questions_from_labels(te) if te else []
    outcomes = Outcomes(pool, resolver(pool, training_examples(data_path)) if data_path else None)
    if data_path:
        ran = complete_outcomes(qs_tr + qs_te, pool, outcomes)
        echo(f"ran {ran} untried (step, model) pairs; every outcome is now known")
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
    plot_history(history, Path(art) / "curves.png", title=f"allocator (cost lambda {cfg.cost_lambda:g})")
    return AllocatorRun(Path(art), metrics)


def train_decomposer(data_path: str | Path | list[str | Path], out_dir: str | Path,
                     cfg: DecomposerConfig | None = None, *, limit: int | None = None,
                     from_dir: str | Path | None = None, pool_path: str | None = None) -> DecomposerRun:
    """LoRA SFT of a small pool model on the gold decompositions of `data_path` (one JSONL or
    several, mixed in the order given: the first `limit` examples of each), continuing the
    adapter in `from_dir` when given; writes the artifact (llama.cpp adapter, manifest,
    curves)."""
    from subroute.train.decomposer import train_sft
    from subroute.train.plots import plot_history

    cfg = cfg or DecomposerConfig()
    pool = Pool.load(pool_path)
    paths = data_path if isinstance(data_path, list) else [data_path]
    examples = [ex for p in paths for ex in training_examples(p)[:limit]]
    art = train_sft(pool, examples, out_dir, cfg, start=from_dir)
    history = json.loads((Path(art) / "manifest.json").read_text())["history"]
    plot_history(history, Path(art) / "curves.png", title=f"decomposer LoRA SFT ({cfg.base})")
    return DecomposerRun(Path(art))


def train_decomposer_grpo(data_path: str | Path, sft_dir: str | Path, out_dir: str | Path,
                          cfg: DecomposerGRPOConfig | None = None, *, router: str | None = None,
                          threshold: float | None = None, limit: int | None = None,
                          pool_path: str | None = None) -> DecomposerRun:
    """GRPO of the decomposer in `sft_dir` on the final-answer reward, the allocator frozen:
    the one of the router folder `router`, else the confidence rule (at `threshold`)."""
    from subroute.reasoner import Reasoner
    from subroute.train.decomposer import train_grpo
    from subroute.train.plots import plot_history

    cfg = cfg or DecomposerGRPOConfig()
    pool = _cached_pool(pool_path)
    allocator = Reasoner.default(pool, threshold=threshold, router=router or "prompted").executor.allocator
    art = train_grpo(pool, training_examples(data_path)[:limit], sft_dir, out_dir, allocator, cfg)
    history = json.loads((Path(art) / "manifest.json").read_text())["history"]
    plot_history(history, Path(art) / "curves.png", title="decomposer: LoRA SFT, then GRPO on final-answer reward")
    return DecomposerRun(Path(art))


def train_router(data_path: str | Path, out_dir: str | Path, *, labels_cfg: LabelsConfig | None = None,
                 allocator_cfg: TrainConfig | None = None, decomposer_cfg: DecomposerConfig | None = None,
                 grpo_cfg: DecomposerGRPOConfig | None = None, label_limit: int | None = None,
                 grpo_limit: int | None = None, rounds: int = 0, ray_address: str | None = None,
                 pool_path: str | None = None, echo: Echo = _quiet,
                 report: Callable[[LabelsRun | AllocatorRun | DecomposerRun], None] = lambda run: None) -> Path:
    """Labels, allocator and decomposer into one router folder: OUT/{labels.jsonl, allocator/,
    decomposer/}; then `rounds` rounds of the alternation: decomposer GRPO with the allocator
    frozen, then allocator GRPO on the new decomposer's own steps with the decomposer frozen
    (each round kept in OUT/round-K/, and its decomposer and allocator copied to OUT/). A
    round whose decomposer writes no step that lines up with the gold ones stops the
    alternation, OUT keeping the round before. Each stage's result goes to `report` as it
    is done."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    labels_cfg, allocator_cfg = labels_cfg or LabelsConfig(), allocator_cfg or TrainConfig()
    decomposer_cfg, grpo_cfg = decomposer_cfg or DecomposerConfig(), grpo_cfg or DecomposerGRPOConfig()
    report(build_router_labels(data_path, out / "labels.jsonl", labels_cfg, limit=label_limit,
                               ray_address=ray_address, pool_path=pool_path, echo=echo))
    report(train_allocator(out / "labels.jsonl", out / "allocator", allocator_cfg, data_path=data_path,
                           pool_path=pool_path, echo=echo))
    report(train_decomposer(data_path, out / "decomposer", decomposer_cfg, pool_path=pool_path))
    for k in range(1, rounds + 1):
        rd = out / f"round-{k}"
        echo(f"alternation round {k}/{rounds}: decomposer GRPO, the allocator in {out / 'allocator'} frozen")
        report(train_decomposer_grpo(data_path, out / "decomposer", rd / "decomposer", grpo_cfg, router=str(out),
                                     limit=grpo_limit, pool_path=pool_path))
        echo(f"alternation round {k}/{rounds}: allocator GRPO on the new decomposer's steps, the decomposer frozen")
        try:
            labels = build_router_labels(data_path, rd / "labels.jsonl", labels_cfg, limit=label_limit,
                                         router=str(rd), ray_address=ray_address, pool_path=pool_path, echo=echo)
        except SubrouteError as e:
            echo(f"alternation stopped in round {k}: {e}; {out} keeps the router of the round before "
                 f"(this round's decomposer is in {rd / 'decomposer'})")
            break
        report(labels)
        report(train_allocator(rd / "labels.jsonl", rd / "allocator", allocator_cfg, data_path=data_path,
                               from_dir=str(out / "allocator"), pool_path=pool_path, echo=echo))
        for part in ("decomposer", "allocator"):
            shutil.rmtree(out / part)
            shutil.copytree(rd / part, out / part)
    return out


@dataclass
class RoutesConfig:
    """The route policy's knobs for `subroute train routes` (see `subroute.train.routes`)."""

    threshold: float = field(default=0.5, metadata={"help": "the router threshold whose routes are labelled",
                                                    "min": 0.0, "max": 1.0})
    accuracy_weight: float = field(default=8.0, metadata={
        "help": "weight of a question one route gets right and the other wrong, against one where only cost differs",
        "min": 1.0, "max": 100.0})
    l2: float = field(default=3.0, metadata={"help": "L2 penalty of the logistic regression", "min": 0.0,
                                             "max": 1000.0})


def training_questions(data_paths: list[str], limit: int | None, rg_tasks: list[str] | None, rg_n: int,
                       rg_seed: int, *, decomposed: bool = False) -> list[Example]:
    """The questions of a labelling run: the first `limit` of each JSONL in `data_paths`
    (with `decomposed`, of those with a gold decomposition), then `rg_n` reasoning-gym
    questions of `rg_tasks` at `rg_seed`, which must not be the external suite's seed."""
    from subroute.bench.datasets import EXTERNAL_RG_SEED, load_jsonl, reasoning_gym_examples

    if rg_n and rg_seed == EXTERNAL_RG_SEED:
        raise SubrouteError(f"reasoning-gym seed {EXTERNAL_RG_SEED} is the external suite's evaluation seed; "
                            "train on another (--rg-seed)")
    examples: list[Example] = []
    for p in data_paths:
        exs = [e for e in load_jsonl(p) if e.decomposition or not decomposed]
        examples += exs[:limit] if limit else exs
    if rg_n:
        examples += reasoning_gym_examples(list(rg_tasks or []), rg_n, rg_seed)
    if not examples:
        raise SubrouteError("no training questions: pass --data FILE.jsonl and/or --reasoning-gym TASKS --rg-n N")
    return examples


def questions_data(data_paths: list[str], limit: int | None, rg_tasks: list[str] | None, rg_n: int,
                   rg_seed: int) -> dict:
    """What `training_questions` read, for a manifest: the files, the limit, and the
    reasoning-gym tasks, count and seed (None when there were none)."""
    return {"files": list(data_paths), "limit": limit,
            "reasoning_gym": {"tasks": list(rg_tasks or []), "n": rg_n, "seed": rg_seed} if rg_n else None}


def train_routes(data_paths: list[str], out_dir: str | Path, cfg: RoutesConfig | None = None, *,
                 rg_tasks: list[str] | None = None, rg_n: int = 0, rg_seed: int = 0, limit: int | None = None,
                 labels_path: str | Path | None = None, router: str | None = None, pool_path: str | None = None,
                 echo: Echo = _quiet):
    """Route labels on `data_paths` (JSONL with gold answers) and `rg_n` reasoning-gym
    questions of `rg_tasks` at `rg_seed`, then the route policy into `out_dir` (the labels
    in `out_dir`/labels.jsonl unless `labels_path` names another file)."""
    from subroute.train.routes import build_route_labels, train_route_policy

    cfg = cfg or RoutesConfig()
    examples = training_questions(data_paths, limit, rg_tasks, rg_n, rg_seed)
    out = Path(out_dir)
    labels_file = Path(labels_path) if labels_path else out / "labels.jsonl"
    pool = _cached_pool(pool_path)
    echo(f"labelling the routes of {len(examples)} question(s) into {labels_file}")
    labels = build_route_labels(pool, examples, labels_file, threshold=cfg.threshold, router=router)
    ids = {ex.id for ex in examples}
    labels = [lab for lab in labels if lab.example_id in ids]
    data = {**questions_data(data_paths, limit, rg_tasks, rg_n, rg_seed), "threshold": cfg.threshold,
            "router": router or "shipped"}
    return train_route_policy(pool, labels, out, accuracy_weight=cfg.accuracy_weight, l2=cfg.l2, data=data)


def train_tokens(data_paths: list[str], out_dir: str | Path, *, rg_tasks: list[str] | None = None, rg_n: int = 0,
                 rg_seed: int = 0, limit: int | None = None, labels_path: str | Path | None = None,
                 small: str | None = None, large: str | None = None, label_cfg=None, router_cfg=None,
                 pool_path: str | None = None, ray_address: str | None = None, echo: Echo = _quiet) -> dict:
    """Path-following token labels (`subroute.train.tokens`) on the synthesis steps of
    `data_paths` (DecompBench) and on `rg_n` reasoning-gym questions of `rg_tasks` at
    `rg_seed`, then the learned token router into `out_dir`; returns its manifest."""
    from subroute.train.tokens import build_token_labels, fit_router, jobs_from_examples, token_pair

    jobs = jobs_from_examples(training_questions(data_paths, limit, rg_tasks, rg_n, rg_seed, decomposed=True))
    if not jobs:  # decomposed questions without a synthesis step give none
        raise SubrouteError("no training questions: pass --data FILE.jsonl and/or --reasoning-gym TASKS --rg-n N")
    out = Path(out_dir)
    labels_file = Path(labels_path) if labels_path else out / "labels.jsonl"
    pool = _cached_pool(pool_path)
    s, lg = token_pair(pool, small, large)
    echo(f"labelling {len(jobs)} chain-of-thought answer(s) of {lg.name} against {s.name} into {labels_file}")
    records = build_token_labels(pool, jobs, labels_file, small=s.name, large=lg.name, cfg=label_cfg,
                                 pool_path=pool_path, ray_address=ray_address)
    ids = {j.id for j in jobs}
    records = [r for r in records if r.id in ids]
    data = {**questions_data(data_paths, limit, rg_tasks, rg_n, rg_seed), "labels": str(labels_file),
            "label_config": asdict(label_cfg) if label_cfg else None}
    return fit_router(records, out, pool, small=s, large=lg, cfg=router_cfg, extra=data)


@dataclass
class SearchRun:
    records: list  # SearchRecord
    examples_path: Path  # the kept decompositions, as DecompBench JSONL for `train decomposer`
    manifest: dict


def train_search(data_paths: list[str], out_dir: str | Path, cfg: "SearchConfig | None" = None, *, rg_tasks: list[str] | None = None,
                 rg_n: int = 0, rg_seed: int = 0, limit: int | None = None, router: str | None = None,
                 pool_path: str | None = None, echo: Echo = _quiet) -> SearchRun:
    """Decompositions found by search (`subroute.train.search`) for the questions of
    `data_paths` and `rg_n` reasoning-gym questions of `rg_tasks` at `rg_seed`: the records in
    `out_dir`/search.jsonl (resumed), the kept decompositions in `out_dir`/examples.jsonl,
    what was searched and found in `out_dir`/manifest.json."""
    from subroute.train.search import SearchConfig, build_search, search_examples, summary, write_examples

    cfg = cfg or SearchConfig()
    examples = training_questions(data_paths, limit, rg_tasks, rg_n, rg_seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pool = _cached_pool(pool_path)
    echo(f"searching decompositions of {len(examples)} question(s) into {out / 'search.jsonl'}")
    ids = {ex.id for ex in examples}
    records = [r for r in build_search(pool, examples, out / "search.jsonl", cfg, router=router) if r.example_id in ids]
    kept = search_examples(records, examples)
    write_examples(out / "examples.jsonl", kept)
    manifest = {"kind": "decomposition-search", "config": asdict(cfg), "router": router or "shipped",
                "data": questions_data(data_paths, limit, rg_tasks, rg_n, rg_seed),
                "found": summary(records), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return SearchRun(records, out / "examples.jsonl", manifest)
