import json

import pytest

from subroute.decompose import Decomposition, Subtask, single_step
from subroute.records import Example, GoldStep
from subroute.train.labels import (
    build_labels,
    gold_step_jobs,
    grouped_search,
    label_job,
    read_labels,
    reword_examples,
    reworded,
)
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
    assert "Voss Glassworks is based in Quellin." in jobs[1].prompt.messages[-1]["content"]
    assert "Orvane" not in jobs[1].prompt.messages[-1]["content"]


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


def test_a_right_answer_in_a_sentence_is_not_a_solved_step():
    # "It is Voss Glassworks, founded in 1958 by Mirela Voss." contains the gold answer but would
    # break the next step as #1; the search moves on to a model that answers usably
    s = ScriptedModel("s", {"Which company": ("It is Voss Glassworks, founded in 1958 by Mirela Voss herself.", 0.95)})
    m = ScriptedModel("m", {"Which company": ("Voss Glassworks", 0.9)})
    pool = make_pool({"s": ("small", 0.1, s), "m": ("medium", 1.0, m)})
    lab = grouped_search(pool, gold_step_jobs(_example())[0], thresholds=(0.8,))
    assert [(t.model, t.correct) for t in lab.tries] == [("s", False), ("m", True)] and lab.label == "m"
    # the last step's answer is the final answer, scored like one: a sentence is fine there
    s.rules["In which city"] = ("The company is based in Quellin, a city on the river Ambrel.", 0.95)
    last = grouped_search(pool, gold_step_jobs(_example())[1], thresholds=(0.8,))
    assert last.tries[0].model == "s" and last.tries[0].correct and last.label == "s"


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


class _Decomposer:
    """A frozen decomposer's output, fixed per question (routing-logic test double)."""

    def __init__(self, steps: list[Subtask] | None) -> None:
        self.steps = steps

    def decompose(self, question: str, example=None) -> Decomposition:
        if self.steps is None:
            return single_step(question, "decomposition unparsed (test)", [])
        return Decomposition([Subtask(s.index, s.text, s.depends_on, s.type) for s in self.steps])


MINE = [Subtask(1, "Who founded the glassworks of Mirela Voss?"), Subtask(2, "Where is #1 based?", (1,))]


def test_reworded_keeps_gold_answers_with_the_decomposers_wording():
    ex = reworded(_example(), _Decomposer(MINE).decompose(_example().question))
    assert [g.question for g in ex.decomposition] == ["Who founded the glassworks of Mirela Voss?", "Where is #1 based?"]
    assert [g.answer for g in ex.decomposition] == ["Voss Glassworks", "Quellin"]
    assert ex.decomposition[1].depends_on == (1,) and ex.decomposition[1].type == "recall"
    assert gold_step_jobs(ex)[1].query == "Where is Voss Glassworks based?"  # gold answers fill #1
    assert _example().decomposition[0].question == "Which company did Mirela Voss found?"  # the input is untouched


def test_steps_that_do_not_line_up_are_left_out():
    three = MINE + [Subtask(3, "Which river flows through #2?", (2,))]
    kept, dropped = reword_examples([_example(0), _example(1), _example(2)], _Decomposer(three), progress=False)
    assert kept == [] and dropped == 3
    assert reworded(_example(), _Decomposer(None).decompose("q")) is None  # fell back to one step


def test_labels_on_a_decomposers_steps_are_rebuilt_in_its_wording(tmp_path):
    pool, (s, m, l_) = _pool()
    kept, _ = reword_examples([_example()], _Decomposer(MINE), progress=False)
    labs = build_labels(pool, kept, tmp_path / "labels.jsonl", progress=False, decomposer="trained:x")
    assert [lab.decomposer for lab in labs] == ["trained:x", "trained:x"]
    assert labs[1].query == "Where is Voss Glassworks based?"
    for lab in labs:  # the resolver re-asks a label exactly as it was labelled
        assert label_job(_example(), lab).prompt == gold_step_jobs(kept[0])[lab.step].prompt
    gold = build_labels(pool, [_example()], tmp_path / "gold.jsonl", progress=False)
    assert label_job(_example(), gold[1]).prompt == gold_step_jobs(_example())[1].prompt
    assert gold[1].decomposer is None


def test_a_counting_step_is_counted_not_asked_and_left_out_of_allocation(tmp_path):
    # the router and the oracle count "How many entries are in #1?" (program.count_step); labels
    # do the same, so allocator training never rewards or blames a model on a step routing never asks
    from subroute.program import COUNTED
    from subroute.train.allocator import questions_from_labels

    ex = Example("c0", "How many companies did Mirela Voss found?", "2", context=CTX,
                 decomposition=[GoldStep("Which companies did Mirela Voss found?", "Voss Glassworks, Orvane Foods"),
                                GoldStep("How many entries are in #1?", "2", depends_on=(1,))],
                 meta={"seed": 5})
    s = ScriptedModel("s", {"Which companies": ("Voss Glassworks, Orvane Foods", 0.95), "How many": ("1", 0.99)})
    pool = make_pool({"s": ("small", 0.1, s), "l": ("large", 10.0, ScriptedModel("l", {}))})
    jobs = gold_step_jobs(ex)
    assert [j.exact for j in jobs] == [None, (COUNTED, "2")]
    labs = build_labels(pool, [ex], tmp_path / "labels.jsonl", progress=False)
    assert [lab.label for lab in labs] == ["s", COUNTED] and labs[1].tries == []
    assert len(s.prompts) == 1 and "Which companies" in s.prompts[0][-1]["content"]  # no model was asked to count
    assert [lab.step for lab in read_labels(tmp_path / "labels.jsonl")] == [0, 1]  # the question is complete
    (q,) = questions_from_labels(labs)
    assert [lab.step for lab in q.labels] == [0] and len(q.feats) == 1 == len(q.outcomes)
    # a gold count the list does not give (a generator slip) is asked as before
    bad = Example("c1", ex.question, "3", context=CTX, meta={"seed": 5},
                  decomposition=[ex.decomposition[0], GoldStep("How many entries are in #1?", "3", depends_on=(1,))])
    assert [j.exact for j in gold_step_jobs(bad)] == [None, None]
