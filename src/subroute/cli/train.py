"""`subroute train labels|allocator|decomposer|grpo|all|routes|tokens|search`: build the router's training
labels and train its allocator, its decomposer and its gate's route policy into versioned
artifact folders.

The commands parse, call `subroute.train.pipeline` and print. Every training knob is an
option derived from its config dataclass (`options_from`: default, help and range from the
field), so the command line has no defaults of its own to drift from the configs'. Those
classes live in the training package, whose import loads llama.cpp (see
`subroute.train`), so the commands are built when `train` is first asked for one, and
`subroute --help` and the other commands do not pay for it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import click

from subroute.cli.common import config_from, options_from, pool_option
from subroute.errors import SubrouteError


class _TrainGroup(click.Group):
    def _load(self) -> None:
        if not self.commands:
            for cmd in _commands():
                self.add_command(cmd)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._load()
        return super().get_command(ctx, cmd_name)


@click.group(cls=_TrainGroup)
def train() -> None:
    """Train the router: grouped-search labels, the allocator (SFT then GRPO), the decomposer (LoRA SFT)."""


def _print(run) -> None:
    """What `subroute train` prints of a stage's result (`pipeline.LabelsRun`, `AllocatorRun`, `DecomposerRun`)."""
    from subroute.train.pipeline import AllocatorRun, LabelsRun

    if isinstance(run, LabelsRun):
        solved = sum(1 for lab in run.labels if lab.label)
        click.echo(f"{len(run.labels)} step labels in {run.path}; {solved} solved by some model")
        for m in run.models:
            click.echo(f"  cheapest correct = {m}: {sum(1 for lab in run.labels if lab.label == m)}")
    elif isinstance(run, AllocatorRun):
        click.echo(json.dumps(run.metrics, indent=2))
        click.echo(f"allocator: {run.path}  curves: {Path(run.path) / 'curves.png'}")
    else:
        art = Path(run.path)
        click.echo(f"decomposer: {art}  adapter: {art / 'adapter.gguf'}  curves: {art / 'curves.png'}")


# the options of each command that are config fields, in --help order
ALLOCATOR_OPTIONS = ["cost_lambda", "sft_epochs", "grpo_iters", "heldout", "seed", "dropout", "weight_decay"]
DECOMPOSER_OPTIONS = ["base", "max_steps", "batch_size", "lr", "max_length"]
GRPO_OPTIONS = ["steps", "group_size", "questions_per_step", "lr", "temperature", "cost_lambda"]


def _sources(data_help: str, out_help: str, *, records: str | None = None) -> Callable:
    """The options naming a labelling command's questions (--data files, reasoning-gym tasks
    generated offline), its output folder and labels file (with `records`, the file name its
    records keep to in the folder instead, and no --labels)."""
    opts = [
        click.option("--data", "data_paths", multiple=True, type=click.Path(dir_okay=False, exists=True),
                     help=f"{data_help}; repeatable."),
        click.option("--reasoning-gym", "rg_tasks", default=None,
                     help="Comma-separated reasoning-gym tasks to label too, generated offline."),
        click.option("--rg-n", type=click.IntRange(0), default=0, show_default=True,
                     help="How many reasoning-gym questions, spread over the tasks."),
        click.option("--rg-seed", type=int, default=1, show_default=True,
                     help="reasoning-gym seed (never the external suite's 1000)."),
        click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
                     help=f"{out_help} (records in OUT/{records}, resumed if present)." if records else
                     f"{out_help} (labels in OUT/labels.jsonl, resumed if present)."),
        click.option("--limit", type=click.IntRange(1), default=None, help="First N examples of each --data file."),
    ]
    if records is None:
        opts.insert(-1, click.option("--labels", "labels_path", type=click.Path(dir_okay=False), default=None,
                                     help="Labels JSONL to use instead of OUT/labels.jsonl (resumed if present)."))

    def decorate(fn: Callable) -> Callable:
        for o in reversed(opts):
            fn = o(fn)
        return fn

    return decorate


def _commands() -> list[click.Command]:
    from subroute.train import pipeline
    from subroute.train.allocator import TrainConfig
    from subroute.train.decomposer import DecomposerConfig, DecomposerGRPOConfig
    from subroute.train.pipeline import LabelsConfig, RoutesConfig
    from subroute.train.search import SearchConfig
    from subroute.train.tokens import RouterConfig, TokenLabelConfig

    @click.command("labels")
    @click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
                  help="DecompBench JSONL with decompositions.")
    @click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
                  help="Labels JSONL (resumed if present).")
    @click.option("--limit", type=click.IntRange(1), default=None, help="First N examples.")
    @click.option("--ray-address", default=None, help="Fan out on a Ray cluster ('local' starts one here).")
    @options_from(LabelsConfig, ["max_tries"])
    @click.option("--router", "router", default=None,
                  help="Label the steps this router's decomposer writes (a router folder, 'shipped' or 'prompted') "
                       "instead of the gold wording: the allocator's round of the alternation.")
    @pool_option
    def labels_cmd(data_path: str, out_path: str, limit: int | None, ray_address: str | None,
                   router: str | None, pool_path: str | None, **knobs) -> None:
        """Label which pool model solves each gold step, by grouped search."""
        _print(pipeline.build_router_labels(data_path, out_path, config_from(LabelsConfig, knobs), limit=limit,
                                   router=router, ray_address=ray_address, pool_path=pool_path, echo=click.echo))

    @click.command("allocator")
    @click.option("--labels", "labels_path", required=True, type=click.Path(dir_okay=False, exists=True))
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
    @options_from(TrainConfig, ALLOCATOR_OPTIONS)
    @click.option("--data", "data_path", type=click.Path(dir_okay=False, exists=True), default=None,
                  help="The DecompBench JSONL the labels came from: (step, model) pairs the search never tried are run "
                       "once (cached), so rewards are exact; without it they count as wrong.")
    @click.option("--from", "from_dir", type=click.Path(file_okay=False, exists=True), default=None,
                  help="Start from this allocator (an allocator folder or a router folder with allocator/) instead of SFT: "
                       "GRPO only, kept near it (the alternation's allocator round, on labels from `train labels --router`).")
    @pool_option
    def allocator_cmd(labels_path: str, out_dir: str, data_path: str | None, from_dir: str | None,
                      pool_path: str | None, **knobs) -> None:
        """SFT the allocator on labels, then GRPO; write the artifact, curves and metrics."""
        _print(pipeline.train_allocator(labels_path, out_dir, config_from(TrainConfig, knobs), data_path=data_path,
                               from_dir=from_dir, pool_path=pool_path, echo=click.echo))

    @click.command("decomposer")
    @click.option("--data", "data_paths", required=True, multiple=True, type=click.Path(dir_okay=False),
                  help="JSONL with decompositions (gold, or found by `train search`); repeatable, mixed in order.")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
    @options_from(DecomposerConfig, DECOMPOSER_OPTIONS, rename={"max_steps": "--steps"})
    @click.option("--limit", type=click.IntRange(1), default=None, help="First N examples of each --data file.")
    @click.option("--from", "from_dir", type=click.Path(file_okay=False, exists=True), default=None,
                  help="Continue the adapter in this decomposer folder (with peft/) instead of starting a new one; "
                       "its base, rank and alpha are kept.")
    @pool_option
    def decomposer_cmd(data_paths: tuple[str, ...], out_dir: str, limit: int | None, from_dir: str | None,
                       pool_path: str | None, **knobs) -> None:
        """LoRA SFT of a small pool model on gold decompositions; exports a llama.cpp adapter."""
        _print(pipeline.train_decomposer(list(data_paths), out_dir, config_from(DecomposerConfig, knobs), limit=limit,
                                from_dir=from_dir, pool_path=pool_path))

    @click.command("grpo")
    @click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
                  help="Training DecompBench JSONL.")
    @click.option("--from", "sft_dir", required=True, type=click.Path(file_okay=False, exists=True),
                  help="Decomposer folder written by `subroute train decomposer` (with peft/).")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
    @click.option("--router", "router", default=None,
                  help="Frozen allocator: a router folder with allocator/, else the confidence rule.")
    @click.option("--threshold", type=click.FloatRange(0, 1), default=None,
                  help="Confidence-rule threshold (frozen allocator).")
    @options_from(DecomposerGRPOConfig, GRPO_OPTIONS)
    @click.option("--limit", type=click.IntRange(1), default=None, help="First N examples.")
    @pool_option
    def grpo_cmd(data_path: str, sft_dir: str, out_dir: str, router: str | None, threshold: float | None,
                 limit: int | None, pool_path: str | None, **knobs) -> None:
        """GRPO of the decomposer on the final-answer reward, the allocator frozen (seeds/001)."""
        _print(pipeline.train_decomposer_grpo(data_path, sft_dir, out_dir, config_from(DecomposerGRPOConfig, knobs),
                                     router=router, threshold=threshold, limit=limit, pool_path=pool_path))

    @click.command("all")
    @click.option("--data", "data_path", required=True, type=click.Path(dir_okay=False),
                  help="Training DecompBench JSONL.")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
                  help="Router folder (use with --router).")
    @click.option("--label-limit", type=click.IntRange(1), default=None, help="Label only the first N examples.")
    @options_from(DecomposerConfig, ["max_steps"], rename={"max_steps": "--steps"}, help_prefix="decomposer ")
    @options_from(TrainConfig, ["cost_lambda"], help_prefix="allocator and decomposer GRPO: ")
    @click.option("--ray-address", default=None)
    @click.option("--rounds", type=click.IntRange(0), default=0, show_default=True,
                  help="Alternation rounds after SFT: decomposer GRPO with the allocator frozen, then allocator GRPO on the "
                       "new decomposer's own steps with the decomposer frozen.")
    @options_from(DecomposerGRPOConfig, ["steps"], rename={"steps": "--grpo-steps"},
                  help_prefix="each round's decomposer ")
    @click.option("--grpo-limit", type=click.IntRange(1), default=None,
                  help="Questions for the decomposer's GRPO (first N).")
    @pool_option
    def all_cmd(data_path: str, out_dir: str, label_limit: int | None, ray_address: str | None, rounds: int,
                grpo_limit: int | None, pool_path: str | None, **knobs) -> None:
        """Labels, allocator and decomposer into one router folder: OUT/{labels.jsonl, allocator/,
        decomposer/};
        with --rounds, the alternation of seeds/001 after them (each round kept in OUT/round-K/, and the
        last round's decomposer and allocator copied to OUT/). --cost-lambda prices cost in the
        allocator's reward and in the decomposer's GRPO reward alike; every other knob is its
        config's default."""
        out = pipeline.train_router(data_path, out_dir, labels_cfg=config_from(LabelsConfig, knobs),
                           allocator_cfg=config_from(TrainConfig, knobs),  # cost_lambda
                           decomposer_cfg=config_from(DecomposerConfig, knobs),  # max_steps (--steps)
                           grpo_cfg=config_from(DecomposerGRPOConfig, knobs),  # steps (--grpo-steps), cost_lambda
                           label_limit=label_limit, grpo_limit=grpo_limit, rounds=rounds, ray_address=ray_address,
                           pool_path=pool_path, echo=click.echo, report=_print)
        click.echo(f"router: {out}  (use it with: subroute ask --router {out} ...)")

    @click.command("routes")
    @_sources("JSONL of questions with gold answers (DecompBench or your own)", "Route-policy folder")
    @options_from(RoutesConfig, ["threshold", "accuracy_weight", "l2"])
    @click.option("--router", "router", default=None,
                  help="Label the routes of this router's decomposer (a router folder) instead of the shipped one.")
    @pool_option
    def routes_cmd(data_paths: tuple[str, ...], rg_tasks: str | None, rg_n: int, rg_seed: int, out_dir: str,
                   labels_path: str | None, limit: int | None, router: str | None, pool_path: str | None,
                   **knobs) -> None:
        """Label which route (by steps, whole, one program) answers each question right most cheaply,
        and train the gate's route policy on those labels; copy OUT to ROUTER/route/ to use it."""
        tasks = [t.strip() for t in (rg_tasks or "").split(",") if t.strip()]
        if rg_n and not tasks:
            raise SubrouteError("--rg-n needs --reasoning-gym TASKS")
        run = pipeline.train_routes(list(data_paths), out_dir, config_from(RoutesConfig, knobs), rg_tasks=tasks,
                                    rg_n=rg_n, rg_seed=rg_seed, limit=limit, labels_path=labels_path, router=router,
                                    pool_path=pool_path, echo=click.echo)
        for head, h in run.heads.items():
            cv = h["cv"]
            click.echo(f"{head}: {cv['n']} questions; held-out folds: policy {cv['policy']['accuracy']:.3f} @ "
                       f"${cv['policy']['cost']:.5f} ({cv['policy']['share']:.0%} {h['routes'][0]}), always "
                       f"{h['routes'][0]} {cv['always']['accuracy']:.3f} @ ${cv['always']['cost']:.5f}, always "
                       f"{h['routes'][1]} {cv['never']['accuracy']:.3f} @ ${cv['never']['cost']:.5f}")
        for head, why in run.skipped.items():
            click.echo(f"{head}: not trained ({why})")
        click.echo(f"route policy: {run.out}")

    @click.command("tokens")
    @_sources("DecompBench JSONL whose synthesis steps are answered with chain of thought", "Token-router folder")
    @click.option("--small", default=None, help="The pool model that writes by default (default: the pool's "
                                                "tokenroute pair, else its second-largest local model).")
    @click.option("--large", default=None, help="The pool model that steps in (default: the largest local model).")
    @options_from(TokenLabelConfig, ["max_tokens", "window"])
    @options_from(RouterConfig, ["hidden", "epochs"])
    @click.option("--ray-address", default=None, help="Fan out on a Ray cluster ('local' starts one here).")
    @pool_option
    def tokens_cmd(data_paths: tuple[str, ...], rg_tasks: str | None, rg_n: int, rg_seed: int, out_dir: str,
                   labels_path: str | None, limit: int | None, small: str | None, large: str | None,
                   ray_address: str | None, pool_path: str | None, **knobs) -> None:
        """Label where the small model's next token leads its answer astray (R2R's path-following
        rule) and train the token router on those labels; name OUT as `router` of a tokenroute
        model in a pool file to use it."""
        tasks = [t.strip() for t in (rg_tasks or "").split(",") if t.strip()]
        if rg_n and not tasks:
            raise SubrouteError("--rg-n needs --reasoning-gym TASKS")
        m = pipeline.train_tokens(list(data_paths), out_dir, rg_tasks=tasks, rg_n=rg_n, rg_seed=rg_seed, limit=limit,
                                  labels_path=labels_path, small=small, large=large,
                                  label_cfg=config_from(TokenLabelConfig, knobs),
                                  router_cfg=config_from(RouterConfig, knobs),
                                  pool_path=pool_path, ray_address=ray_address, echo=click.echo)
        d = m["data"]
        click.echo(f"{d['questions']} answers, {d['positions']} positions: {d['identical']} identical, "
                   f"{d['neutral']} neutral, {d['divergent']} divergent (judged by {d['judges']})")
        click.echo("held-out AUC: " + ", ".join(f"{k} {v:.3f}" for k, v in m["metrics"]["auc"].items()))
        for k, r in m["metrics"]["recall_at_share"].items():
            click.echo(f"  {k}: divergent positions flagged at a share of " +
                       ", ".join(f"{float(sh):.0%} {v:.2f}" for sh, v in r.items()))
        click.echo(f"token router: {out_dir}")

    @click.command("search")
    @_sources("JSONL of questions with gold answers (DecompBench or your own)", "Search folder",
              records="search.jsonl")
    @options_from(SearchConfig, ["samples", "prompted", "prompted_model", "temperature", "threshold"])
    @click.option("--router", "router", default=None,
                  help="Sample this router folder's decomposer and run its allocator instead of the shipped ones.")
    @pool_option
    def search_cmd(data_paths: tuple[str, ...], rg_tasks: str | None, rg_n: int, rg_seed: int, out_dir: str,
                   limit: int | None, router: str | None, pool_path: str | None, **knobs) -> None:
        """Find decompositions where no gold exists: sample several per question (the trained decomposer's
        and a prompted larger model's), run each through the router, keep the cheapest whose final
        answer is right; OUT/examples.jsonl is what `train decomposer --data` reads."""
        tasks = [t.strip() for t in (rg_tasks or "").split(",") if t.strip()]
        if rg_n and not tasks:
            raise SubrouteError("--rg-n needs --reasoning-gym TASKS")
        run = pipeline.train_search(list(data_paths), out_dir, config_from(SearchConfig, knobs), rg_tasks=tasks,
                                    rg_n=rg_n, rg_seed=rg_seed, limit=limit, router=router, pool_path=pool_path,
                                    echo=click.echo)
        f = run.manifest["found"]
        click.echo(f"{f['questions']} questions, {f['draws']} draws, {f['candidates']} distinct decompositions run; "
                   f"a right one kept for {f['kept']}")
        for src, c in f["by_source"].items():
            click.echo(f"  {src}: {c['right']} of {c['candidates']} right, {c['kept']} kept")
        click.echo(f"the router itself: {f['router_right']} right; the kept steps beat it on {f['beats_router']} "
                   f"({f['right_where_router_wrong']} right where it was wrong)")
        click.echo(f"decompositions: {run.examples_path}  (train on them with: subroute train decomposer --data "
                   f"{run.examples_path} --from ...)")

    return [labels_cmd, allocator_cmd, decomposer_cmd, grpo_cmd, all_cmd, routes_cmd, tokens_cmd, search_cmd]
