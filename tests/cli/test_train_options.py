"""`subroute train`'s training options are the config dataclasses' fields: the same defaults,
help and ranges, so the command line and the configs cannot drift apart again; and the
commands hand the configs built from them to the pipeline unchanged."""

from __future__ import annotations

import dataclasses

import click
import pytest
from click.testing import CliRunner

from subroute.cli import main
from subroute.cli.common import config_from, options_from
from subroute.cli.train import train
from subroute.train import pipeline
from subroute.train.allocator import TrainConfig
from subroute.train.decomposer import DecomposerConfig, DecomposerGRPOConfig
from subroute.train.pipeline import AllocatorRun, DecomposerRun, LabelsConfig, LabelsRun, RoutesConfig
from subroute.train.routes import RoutePolicyRun
from subroute.train.search import SearchConfig
from subroute.train.tokens import RouterConfig, TokenLabelConfig

# flag -> the config field it sets; the flags are the ones users type (README: "Training the router")
KNOBS = {
    "labels": {"--max-tries": (LabelsConfig, "max_tries")},
    "allocator": {"--cost-lambda": (TrainConfig, "cost_lambda"), "--sft-epochs": (TrainConfig, "sft_epochs"),
                  "--grpo-iters": (TrainConfig, "grpo_iters"), "--heldout": (TrainConfig, "heldout"),
                  "--seed": (TrainConfig, "seed"), "--dropout": (TrainConfig, "dropout"),
                  "--weight-decay": (TrainConfig, "weight_decay")},
    "decomposer": {"--base": (DecomposerConfig, "base"), "--steps": (DecomposerConfig, "max_steps"),
                   "--batch-size": (DecomposerConfig, "batch_size"), "--lr": (DecomposerConfig, "lr"),
                   "--max-length": (DecomposerConfig, "max_length")},
    "grpo": {"--steps": (DecomposerGRPOConfig, "steps"), "--group-size": (DecomposerGRPOConfig, "group_size"),
             "--questions-per-step": (DecomposerGRPOConfig, "questions_per_step"), "--lr": (DecomposerGRPOConfig, "lr"),
             "--temperature": (DecomposerGRPOConfig, "temperature"),
             "--cost-lambda": (DecomposerGRPOConfig, "cost_lambda")},
    "all": {"--steps": (DecomposerConfig, "max_steps"), "--cost-lambda": (TrainConfig, "cost_lambda"),
            "--grpo-steps": (DecomposerGRPOConfig, "steps")},
    "routes": {"--threshold": (RoutesConfig, "threshold"), "--accuracy-weight": (RoutesConfig, "accuracy_weight"),
               "--l2": (RoutesConfig, "l2")},
    "tokens": {"--max-tokens": (TokenLabelConfig, "max_tokens"), "--window": (TokenLabelConfig, "window"),
               "--hidden": (RouterConfig, "hidden"), "--epochs": (RouterConfig, "epochs")},
    "search": {"--samples": (SearchConfig, "samples"), "--prompted": (SearchConfig, "prompted"),
               "--prompted-model": (SearchConfig, "prompted_model"), "--temperature": (SearchConfig, "temperature"),
               "--threshold": (SearchConfig, "threshold")},
}
OTHER_FLAGS = {
    "labels": {"--data", "--out", "--limit", "--ray-address", "--router", "--pool"},
    "allocator": {"--labels", "--out", "--data", "--from", "--pool"},
    "decomposer": {"--data", "--out", "--limit", "--from", "--pool"},
    "grpo": {"--data", "--from", "--out", "--router", "--threshold", "--limit", "--pool"},
    "all": {"--data", "--out", "--label-limit", "--ray-address", "--rounds", "--grpo-limit", "--pool"},
    "routes": {"--data", "--reasoning-gym", "--rg-n", "--rg-seed", "--out", "--labels", "--limit", "--router", "--pool"},
    "tokens": {"--data", "--reasoning-gym", "--rg-n", "--rg-seed", "--out", "--labels", "--limit", "--small", "--large",
               "--ray-address", "--pool"},
    "search": {"--data", "--reasoning-gym", "--rg-n", "--rg-seed", "--out", "--limit", "--router", "--pool"},
}
CONFIGS = {"labels": [LabelsConfig], "allocator": [TrainConfig], "decomposer": [DecomposerConfig],
           "grpo": [DecomposerGRPOConfig], "routes": [RoutesConfig],
           "tokens": [TokenLabelConfig, RouterConfig], "search": [SearchConfig], "all": [LabelsConfig, TrainConfig, DecomposerConfig, DecomposerGRPOConfig]}


def _command(name: str) -> click.Command:
    cmd = train.get_command(click.Context(train), name)
    assert cmd is not None, name
    return cmd


def _option(name: str, flag: str) -> click.Option:
    opts = [p for p in _command(name).params if isinstance(p, click.Option) and flag in p.opts]
    assert len(opts) == 1, f"subroute train {name} has no single {flag}"
    return opts[0]


def _field(cls, name: str) -> dataclasses.Field:
    return {f.name: f for f in dataclasses.fields(cls)}[name]


def test_every_train_command_is_pinned():
    assert set(train.list_commands(click.Context(train))) == set(KNOBS)


@pytest.mark.parametrize("cmd,flag", [(c, f) for c, knobs in KNOBS.items() for f in knobs])
def test_option_default_help_and_range_are_the_config_fields(cmd, flag):
    cls, name = KNOBS[cmd][flag]
    opt, f = _option(cmd, flag), _field(cls, name)
    assert opt.name == name  # what config_from reads
    assert opt.default == f.default, f"subroute train {cmd} {flag}: {opt.default!r} vs {cls.__name__}.{name}"
    assert opt.show_default
    assert f.metadata["help"][1:] in opt.help
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if lo is not None or hi is not None:
        assert isinstance(opt.type, (click.IntRange, click.FloatRange))
        assert (opt.type.min, opt.type.max) == (lo, hi)


@pytest.mark.parametrize("cmd", list(KNOBS))
def test_no_hand_written_option_shadows_a_config_field(cmd):
    fields = {f.name for cls in CONFIGS[cmd] for f in dataclasses.fields(cls)}
    params = _command(cmd).params
    flags = {o for p in params if isinstance(p, click.Option) for o in p.opts} - {"--help"}
    assert flags == set(KNOBS[cmd]) | OTHER_FLAGS[cmd]
    knob_names = {name for _, name in KNOBS[cmd].values()}
    assert not [p.name for p in params if p.name in fields and p.name not in knob_names]


def test_the_dataclass_defaults_are_the_ones_users_have_been_running():
    # the CLI's defaults of before the configs became their one source (README's commands)
    assert (TrainConfig().cost_lambda, TrainConfig().sft_epochs, TrainConfig().grpo_iters, TrainConfig().heldout) == \
        (0.3, 300, 60, 0.25)
    assert (DecomposerConfig().max_steps, DecomposerConfig().max_length, DecomposerConfig().base) == \
        (120, 192, "smollm2-135m")
    assert (DecomposerGRPOConfig().steps, DecomposerGRPOConfig().cost_lambda) == (20, 0.0)
    assert LabelsConfig().max_tries == 20


def test_options_from_refuses_a_field_the_config_lacks():
    with pytest.raises(TypeError, match="no field"):
        options_from(TrainConfig, ["max_steps"])


def test_config_from_takes_the_fields_and_leaves_the_rest():
    assert config_from(DecomposerConfig, {"max_steps": 7, "data_path": "x", "limit": 3}) == DecomposerConfig(max_steps=7)


@pytest.fixture
def calls(monkeypatch, tmp_path):
    """The pipeline's stages replaced by recorders: what each command hands them."""
    got: dict[str, tuple] = {}

    def stage(name, result):
        def fake(*args, **kw):
            got[name] = (args, kw)
            return result
        monkeypatch.setattr(pipeline, name, fake)

    stage("build_router_labels", LabelsRun(tmp_path / "l.jsonl", [], ["s"]))
    stage("train_allocator", AllocatorRun(tmp_path / "a", {}))
    stage("train_decomposer", DecomposerRun(tmp_path / "d"))
    stage("train_decomposer_grpo", DecomposerRun(tmp_path / "g"))
    stage("train_router", tmp_path / "r")
    stage("train_routes", RoutePolicyRun(tmp_path / "p", {}, {"split": "0 row(s)"}))
    stage("train_tokens", {"data": {"questions": 2, "positions": 9, "identical": 7, "neutral": 1, "divergent": 1,
                                    "judges": {"merge": 1, "outcome": 1}},
                           "metrics": {"auc": {"learned": 0.7}, "recall_at_share": {"learned": {"0.2": 0.5}}}})
    found = {"questions": 4, "draws": 20, "candidates": 12, "kept": 3, "router_right": 1, "beats_router": 2,
             "right_where_router_wrong": 2, "by_source": {"decomposer": {"candidates": 8, "right": 2, "kept": 2}}}
    stage("train_search", pipeline.SearchRun([], tmp_path / "s" / "examples.jsonl", {"found": found}))
    return got


def _run(*args):
    r = CliRunner().invoke(main, ["train", *args])
    assert r.exit_code == 0, r.output
    return r.output


def test_each_command_hands_the_pipeline_the_default_configs(calls, tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("")
    (tmp_path / "sft").mkdir()
    _run("labels", "--data", "d.jsonl", "--out", "l.jsonl")
    assert calls["build_router_labels"][0][2] == LabelsConfig()
    _run("allocator", "--labels", str(labels), "--out", "a")
    assert calls["train_allocator"][0][2] == TrainConfig()
    _run("decomposer", "--data", "d.jsonl", "--out", "d")
    assert calls["train_decomposer"][0][2] == DecomposerConfig()
    _run("grpo", "--data", "d.jsonl", "--from", str(tmp_path / "sft"), "--out", "g")
    assert calls["train_decomposer_grpo"][0][3] == DecomposerGRPOConfig()
    out = _run("all", "--data", "d.jsonl", "--out", "r")
    kw = calls["train_router"][1]
    assert (kw["labels_cfg"], kw["allocator_cfg"], kw["decomposer_cfg"], kw["grpo_cfg"]) == \
        (LabelsConfig(), TrainConfig(), DecomposerConfig(), DecomposerGRPOConfig(cost_lambda=TrainConfig().cost_lambda))
    assert f"router: {tmp_path / 'r'}" in out
    out = _run("routes", "--reasoning-gym", "leg_counting", "--rg-n", "4", "--out", "p")
    args, kw = calls["train_routes"]
    assert args[2] == RoutesConfig() and (kw["rg_tasks"], kw["rg_n"], kw["rg_seed"]) == (["leg_counting"], 4, 1)
    assert "split: not trained (0 row(s))" in out
    out = _run("tokens", "--reasoning-gym", "leg_counting", "--rg-n", "4", "--rg-seed", "11", "--out", "t")
    kw = calls["train_tokens"][1]
    assert (kw["label_cfg"], kw["router_cfg"], kw["rg_seed"]) == (TokenLabelConfig(), RouterConfig(), 11)
    assert "9 positions: 7 identical, 1 neutral, 1 divergent" in out and "learned 0.700" in out
    out = _run("search", "--reasoning-gym", "leg_counting", "--rg-n", "4", "--out", "s")
    args, kw = calls["train_search"]
    assert args[2] == SearchConfig() and (kw["rg_tasks"], kw["rg_n"], kw["rg_seed"]) == (["leg_counting"], 4, 1)
    assert "a right one kept for 3" in out and "decomposer: 2 of 8 right, 2 kept" in out
    assert "beat it on 2 (2 right where it was wrong)" in out


def test_options_set_their_fields(calls, tmp_path):
    _run("decomposer", "--data", "d.jsonl", "--out", "d", "--steps", "7", "--max-length", "64", "--base", "b")
    assert calls["train_decomposer"][0][2] == DecomposerConfig(max_steps=7, max_length=64, base="b")
    _run("all", "--data", "d.jsonl", "--out", "r", "--steps", "7", "--grpo-steps", "3", "--cost-lambda", "0.5",
         "--rounds", "2")
    kw = calls["train_router"][1]
    assert kw["decomposer_cfg"] == DecomposerConfig(max_steps=7)
    assert kw["allocator_cfg"] == TrainConfig(cost_lambda=0.5)
    assert kw["grpo_cfg"] == DecomposerGRPOConfig(steps=3, cost_lambda=0.5)  # one lambda for both rewards
    assert kw["rounds"] == 2
    _run("tokens", "--reasoning-gym", "leg_counting", "--rg-n", "4", "--out", "t", "--window", "6", "--hidden", "8")
    kw = calls["train_tokens"][1]
    assert (kw["label_cfg"], kw["router_cfg"]) == (TokenLabelConfig(window=6), RouterConfig(hidden=8))
    _run("search", "--reasoning-gym", "leg_counting", "--rg-n", "4", "--out", "s", "--prompted", "0",
         "--prompted-model", "qwen-0.5b")
    assert calls["train_search"][0][2] == SearchConfig(prompted=0, prompted_model="qwen-0.5b")
    _run("decomposer", "--data", "a.jsonl", "--data", "b.jsonl", "--out", "d")
    assert calls["train_decomposer"][0][0] == ["a.jsonl", "b.jsonl"]


def test_a_range_from_the_config_is_enforced(calls, tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text("")
    r = CliRunner().invoke(main, ["train", "allocator", "--labels", str(labels), "--out", "a", "--heldout", "0.95"])
    assert r.exit_code == 2 and "--heldout" in r.output
    assert "train_allocator" not in calls
    r = CliRunner().invoke(main, ["train", "routes", "--rg-n", "4", "--out", "p"])
    assert r.exit_code == 1 and "--rg-n needs --reasoning-gym TASKS" in r.output and "train_routes" not in calls
