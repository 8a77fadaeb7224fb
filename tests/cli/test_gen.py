import json

import pytest
from click.testing import CliRunner

from subroute.cli import main


def run(*args):
    return CliRunner().invoke(main, ["gen", *args])


def test_gen_writes_dataset_world_config_and_stats(tmp_path):
    out = tmp_path / "d.jsonl"
    r = run("--seed", "5", "--n", "20", "--out", str(out), "--people", "300", "--quiet",
            "--probes-out", str(tmp_path / "p.jsonl"))
    assert r.exit_code == 0, r.output
    assert "wrote 20 questions" in r.output and "by kind" in r.output and "by hops" in r.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(lines) == 20 and all(x["world_seed"] == 5 for x in lines)
    assert (tmp_path / "d.world.jsonl").exists() and (tmp_path / "d.config.json").exists()
    assert (tmp_path / "p.jsonl").read_text().strip()


def test_missing_output_folders_are_made(tmp_path):
    out = tmp_path / "new" / "dir" / "d.jsonl"
    r = run("--seed", "5", "--n", "5", "--out", str(out), "--people", "300", "--quiet",
            "--probes-out", str(tmp_path / "other" / "p.jsonl"))
    assert r.exit_code == 0, r.output
    assert out.exists() and (out.parent / "d.world.jsonl").exists() and (tmp_path / "other" / "p.jsonl").exists()


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p in (a, b):
        assert run("--seed", "9", "--n", "15", "--out", str(p), "--people", "300", "--quiet", "--no-world").exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_knobs_and_splits(tmp_path):
    out = tmp_path / "d.jsonl"
    r = run("--n", "12", "--out", str(out), "--people", "300", "--quiet", "--hops", "2-3",
            "--kinds", "compositional,arithmetic", "--distractors", "1", "--styles", "encyclopedia,news,blog",
            "--worlds", "2", "--split", "seed:1", "--world-opt", "p_mentor=0.9")
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert {x["kind"] for x in lines} <= {"compositional", "arithmetic"}
    assert {x["hops"] for x in lines} <= {2, 3}
    assert {(x["world_seed"], x["split"]) for x in lines} == {(0, "train"), (1, "test")}
    assert (tmp_path / "d.world-0.jsonl").exists() and (tmp_path / "d.world-1.jsonl").exists()


@pytest.mark.parametrize("args, needle", [
    (["--people", "0"], "n_people"),
    (["--hops", "1-12"], "--hops"),
    (["--budget", "20"], "--budget"),
    (["--split", "seed:1"], "--worlds"),
    (["--kinds", "riddle=1"], "--kinds"),
    (["--styles", "poem"], "--styles"),
    (["--world-opt", "gravity=3"], "--world-opt"),
])
def test_bad_knobs_give_one_line_errors(tmp_path, args, needle):
    r = run("--n", "5", "--out", str(tmp_path / "x.jsonl"), "--people", "200", "--quiet", *args)
    assert r.exit_code == 2, r.output
    err = [line for line in r.output.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and needle in err[0]
