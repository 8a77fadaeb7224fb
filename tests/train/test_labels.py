import json

import pytest

from subroute.bench.records import Example, GoldStep
from subroute.train.labels import build_labels, gold_step_jobs, grouped_search, read_labels
from tests.fakes import ScriptedModel, make_pool

CTX = "Mirela Voss founded Voss Glassworks.\n\nVoss Glassworks is based in Quellin.\n\nOrvane Foods sells bread."


def _example(i: int = 0) -> Example:
    return Example(f"e{i}", "Where is the company founded by Mirela Voss based?", "Quellin", context=CTX,
                   decomposition=[GoldStep("Which company did Mirela Voss found?", "Voss Glassworks"),
                                  GoldStep("In which city is #1 based?", "Quellin", depends_on=(1,))],
                   meta={"seed": 5})


def _pool():
    # small: right on hop 1 (confident), wrong on hop 2; medium: right on hop 2; large: right on both
    s = ScriptedModel("s", {"Which company": ("Voss Glassworks", 0.95), "In which city": ("Kessel", 0.3)})
    m = ScriptedModel("m", {"Which company": ("Voss Glassworks", 0.9), "In which city": ("Quellin", 0.9)})
    l_ = ScriptedModel("l", {"Which company": ("Voss Glassworks", 0.99), "In which city": ("Quellin", 0.99)})
    return make_pool({"s": ("small", 0.1, s), "m": ("medium", 1.0, m), "l": ("large", 10.0, l_)}), (s, m, l_)


def test_jobs_fill_gold_answers_and_retrieve():
    jobs = gold_step_jobs(_example())
    assert jobs[1].query == "In which city is Voss Glassworks based?"
    assert "Voss Glassworks is based in Quellin." in jobs[1].messages[-1]["content"]
    assert "Orvane" not in jobs[1].messages[-1]["content"]


def test_grouped_search_finds_cheapest_correct_with_few_tries():
    pool, (s, m, l_) = _pool()
    j1, j2 = gold_step_jobs(_example())
    lab1 = grouped_search(pool, j1, thresholds=(0.8, 0.5))
    assert lab1.label == "s" and [t.model for t in lab1.tries] == ["s"]  # easy: the probe was right
    lab2 = grouped_search(pool, j2, thresholds=(0.8, 0.5))
    # hard (probe conf 0.3 -> large group): large right, then medium right, small known wrong
    assert lab2.label == "m" and {t.model for t in lab2.tries} == {"s", "m", "l"}
    assert [t.correct for t in lab2.tries if t.model == "s"] == [False]
    assert len(l_.prompts) == 1


def test_max_tries_bounds_the_search():
    pool, _ = _pool()
    lab = grouped_search(pool, gold_step_jobs(_example())[1], thresholds=(0.8, 0.5), max_tries=1)
    assert len(lab.tries) == 1 and lab.label is None


def test_build_resumes_and_survives_a_cut_line(tmp_path):
    pool, (s, m, l_) = _pool()
    out = tmp_path / "labels.jsonl"
    build_labels(pool, [_example(0)], out, progress=False)
    first = out.read_text()
    assert len(first.splitlines()) == 2 and json.loads(first.splitlines()[0])["world_seed"] == 5
    out.write_text(first + first.splitlines()[0][:40])  # an interrupted write
    calls = len(s.prompts)
    labs = build_labels(pool, [_example(0), _example(1)], out, progress=False)
    assert len(labs) == 4 and {lab.example_id for lab in labs} == {"e0", "e1"}
    assert len(s.prompts) == calls + 2  # only e1's two steps were probed
    assert len(read_labels(out)) == 4


def test_corrupt_label_file_is_a_clear_error(tmp_path):
    out = tmp_path / "labels.jsonl"
    out.write_text("not json\n{}\n")
    from subroute import SubrouteError

    with pytest.raises(SubrouteError, match="line 1 is not a label record"):
        read_labels(out)
