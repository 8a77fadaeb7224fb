"""The training pipeline's orchestration (stages replaced by recorders, no models): the
held-out split, and `train_router`'s stages, alternation rounds and their stop."""

from __future__ import annotations

from pathlib import Path

from subroute.errors import SubrouteError
from subroute.train import pipeline
from subroute.train.allocator import TrainConfig
from subroute.train.decomposer import DecomposerConfig, DecomposerGRPOConfig
from subroute.train.labels import StepLabel
from subroute.train.pipeline import AllocatorRun, DecomposerRun, LabelsConfig, LabelsRun, split_by_seed


def _lab(ex: str, world: int) -> StepLabel:
    return StepLabel(ex, 0, 1, "q", "recall", "a", 0.5, [], None, world)


def test_split_holds_out_whole_worlds_then_whole_questions():
    labs = [_lab(f"q{i}", i % 4) for i in range(12)]
    tr, te = split_by_seed(labs, 0.25, seed=0)
    assert len({lab.world_seed for lab in te}) == 1 and not {lab.world_seed for lab in te} & {lab.world_seed for lab in tr}
    one_world = [_lab(f"q{i}", 7) for i in range(8)]
    tr, te = split_by_seed(one_world, 0.25, seed=0)
    assert len(te) == 2 and not {lab.example_id for lab in te} & {lab.example_id for lab in tr}
    assert split_by_seed([_lab("q0", 1)], 0.25) == ([_lab("q0", 1)], [])


def _fake_stages(monkeypatch, *, fail_labels_round: int | None = None):
    calls: list[tuple[str, Path, dict]] = []

    def labels(data, out, cfg, **kw):
        calls.append(("labels", Path(out), {"cfg": cfg, **kw}))
        if kw.get("router") and fail_labels_round and Path(out).parent.name == f"round-{fail_labels_round}":
            raise SubrouteError("no step lines up")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text("")
        return LabelsRun(out, [], ["s"])

    def folder(name):
        def stage(*args, **kw):
            out = Path(args[2] if name == "grpo" else args[1])
            calls.append((name, out, {"cfg": args[3] if name == "grpo" else args[2], **kw}))
            out.mkdir(parents=True)
            (out / "who").write_text(str(out))
            return AllocatorRun(out, {}) if name == "allocator" else DecomposerRun(out)
        return stage

    monkeypatch.setattr(pipeline, "build_router_labels", labels)
    monkeypatch.setattr(pipeline, "train_allocator", folder("allocator"))
    monkeypatch.setattr(pipeline, "train_decomposer", folder("decomposer"))
    monkeypatch.setattr(pipeline, "train_decomposer_grpo", folder("grpo"))
    return calls


def test_train_router_stages_and_rounds(monkeypatch, tmp_path):
    calls = _fake_stages(monkeypatch)
    said, reported = [], []
    alloc, grpo = TrainConfig(cost_lambda=0.5), DecomposerGRPOConfig(steps=3, cost_lambda=0.5)
    out = pipeline.train_router("d.jsonl", tmp_path / "r", allocator_cfg=alloc, grpo_cfg=grpo, rounds=2, label_limit=5,
                                echo=said.append, report=reported.append)
    r = tmp_path / "r"
    assert out == r
    assert [(c[0], c[1]) for c in calls] == [
        ("labels", r / "labels.jsonl"), ("allocator", r / "allocator"), ("decomposer", r / "decomposer"),
        ("grpo", r / "round-1" / "decomposer"), ("labels", r / "round-1" / "labels.jsonl"),
        ("allocator", r / "round-1" / "allocator"),
        ("grpo", r / "round-2" / "decomposer"), ("labels", r / "round-2" / "labels.jsonl"),
        ("allocator", r / "round-2" / "allocator")]
    kw = {c[1]: c[2] for c in calls}
    assert kw[r / "labels.jsonl"]["cfg"] == LabelsConfig() and kw[r / "labels.jsonl"]["limit"] == 5
    assert kw[r / "decomposer"]["cfg"] == DecomposerConfig()
    assert kw[r / "allocator"]["cfg"] is alloc and kw[r / "allocator"].get("from_dir") is None
    assert kw[r / "round-1" / "allocator"]["from_dir"] == str(r / "allocator")
    assert kw[r / "round-1" / "labels.jsonl"]["router"] == str(r / "round-1")
    assert kw[r / "round-1" / "decomposer"]["cfg"] is grpo and kw[r / "round-1" / "decomposer"]["router"] == str(r)
    # the last round's decomposer and allocator are the router's
    assert (r / "decomposer" / "who").read_text() == str(r / "round-2" / "decomposer")
    assert (r / "allocator" / "who").read_text() == str(r / "round-2" / "allocator")
    assert len(reported) == 3 + 2 * 3 and len(said) == 4


def test_train_router_stops_the_alternation_when_no_step_lines_up(monkeypatch, tmp_path):
    _fake_stages(monkeypatch, fail_labels_round=2)
    said = []
    r = pipeline.train_router("d.jsonl", tmp_path / "r", rounds=3, echo=said.append)
    assert "alternation stopped in round 2: no step lines up" in said[-1]
    assert (r / "decomposer" / "who").read_text() == str(r / "round-1" / "decomposer")  # the round before
    assert (r / "allocator" / "who").read_text() == str(r / "round-1" / "allocator")
    assert not (r / "round-3").exists()
