"""The allocator's round of the alternation, through the CLI on real models: labels on the
steps the shipped trained decomposer writes, then allocator GRPO from an existing allocator."""

import json

import pytest
from click.testing import CliRunner

from subroute.cli import main

pytestmark = pytest.mark.slow


def run(*args):
    r = CliRunner().invoke(main, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def test_labels_on_the_decomposers_steps_then_allocator_grpo_from_a_start(tmp_path, default_pool):
    data = tmp_path / "d.jsonl"
    run("gen", "--seed", "301", "--n", "4", "--hops", "2", "--people", "300", "--no-world", "--quiet", "--out", str(data))
    out = run("train", "labels", "--data", str(data), "--out", str(tmp_path / "l.jsonl"), "--router", "shipped")
    assert "split into steps that line up with the gold ones" in out
    labs = [json.loads(x) for x in (tmp_path / "l.jsonl").read_text().splitlines()]
    assert labs and {lab["decomposer"] for lab in labs} == {"trained:decomposer"}
    gold = {json.loads(x)["id"]: json.loads(x)["decomposition"] for x in data.read_text().splitlines()}
    for lab in labs:  # scored against the gold hop it lines up with
        assert lab["gold_answer"] == gold[lab["example_id"]][lab["step"]]["answer"]

    run("train", "allocator", "--labels", str(tmp_path / "l.jsonl"), "--data", str(data), "--out", str(tmp_path / "a0"),
        "--sft-epochs", "5", "--grpo-iters", "0")
    run("train", "allocator", "--labels", str(tmp_path / "l.jsonl"), "--data", str(data), "--out", str(tmp_path / "a1"),
        "--from", str(tmp_path / "a0"), "--grpo-iters", "2")
    m = json.loads((tmp_path / "a1" / "manifest.json").read_text())
    assert m["data"]["from"] == str(tmp_path / "a0") and m["data"]["decomposer"] == "trained:decomposer"
    assert "start" in m["metrics"] and "after_sft" not in m["metrics"]
    history = json.loads((tmp_path / "a1" / "history.json").read_text())
    assert {h["phase"] for h in history} == {"grpo"}  # no SFT: GRPO from the given allocator
