"""Decompositions found by search: candidates drawn from the decomposer and a prompted
model, run through the router, the cheapest right one kept and written for SFT."""

import pytest

from subroute.allocate import ConfidenceAllocator
from subroute.bench.datasets import load_jsonl
from subroute.decompose import Decomposition, GivenDecomposer, Subtask, parse_steps, single_step
from subroute.errors import SubrouteError
from subroute.gate import Gate
from subroute.reasoner import Reasoner
from subroute.records import Example
from subroute.train.decomposer import data_provenance
from subroute.train.search import (
    Candidate,
    SearchConfig,
    SearchRecord,
    build_search,
    read_search,
    search_examples,
    summary,
    write_examples,
)
from tests.fakes import ScriptedModel, make_pool

QUESTION = "How many legs do 3 cats and 2 birds have?"
WRONG = "1. How many legs does a cat have?\n2. How many legs do 3 cats have?"  # 12: forgets the birds
RIGHT = "1. How many legs does a cat have?\n2. How many legs does a bird have?\n3. What is 3 * #1 + 2 * #2?"
DEARER = ("1. How many legs does a cat have?\n2. How many legs does a bird have?\n3. How many legs do 3 cats have?\n"
          "4. What is #3 + 2 * #2?")  # right too, with one more model call


class Sampled:
    """A test double of a trained decomposer: one scripted draw per seed."""

    def __init__(self, by_seed: dict[int, str]) -> None:
        self.by_seed = by_seed
        self.asked: list[tuple[str, float, int]] = []

    def sample(self, question: str, *, temperature: float, seed: int, retries: int = 0) -> Decomposition:
        self.asked.append((question, temperature, seed))
        text = self.by_seed[seed]
        try:
            return Decomposition(parse_steps(text))
        except ValueError as e:
            return single_step(question, f"decomposition unparsed ({e})")

    def decompose(self, question, example=None):
        return self.sample(question, temperature=0.0, seed=0)


def _pool():
    small = ScriptedModel("s", {"does a cat": ("4", 0.95), "does a bird": ("2", 0.95), "do 3 cats": ("12", 0.95)},
                          default=("7", 0.95))
    dec = ScriptedModel("d", {}, default=(DEARER, 1.0))
    large = ScriptedModel("l", {}, default=("9", 0.99))
    return make_pool({"s": ("small", 0.1, small), "d": ("medium", 1.0, dec), "l": ("large", 10.0, large)})


def _search(tmp_path, pool, sampler, examples, **cfg):
    router = Reasoner(pool, sampler, ConfidenceAllocator.at(0.5), gate=Gate.at(0.5))
    cfg = SearchConfig(**{"samples": 4, "prompted": 1, "prompted_model": "d", "temperature": 0.7, **cfg})
    return build_search(pool, examples, tmp_path / "search.jsonl", cfg, reasoner=router, progress=False)


def test_the_cheapest_right_decomposition_is_kept(tmp_path):
    pool = _pool()
    sampler = Sampled({0: WRONG, 1: RIGHT, 2: RIGHT, 3: "1. What is #2?"})  # a repeat, and one that does not parse
    ex = Example("legs", QUESTION, "16", meta={"source": "reasoning_gym", "task": "leg_counting", "seed": 1})
    [rec] = _search(tmp_path, pool, sampler, [ex])
    # greedy first, then samples at the temperature, each with its own seed
    assert [(t, s) for _, t, s in sampler.asked] == [(0.0, 0), (0.7, 1), (0.7, 2), (0.7, 3)]
    assert rec.drawn == 5  # four of the decomposer, one of the prompted model
    assert [(c.source, c.correct) for c in rec.candidates] == [
        ("decomposer", False), ("decomposer", True), ("prompted:d", True)]
    assert rec.candidates[0].answer == "12" and rec.candidates[1].answer == "16"
    kept = rec.kept
    assert kept is rec.candidates[1] and kept.cost < rec.candidates[2].cost
    assert kept.step_answers == ["4", "2", "16"]
    # the router answered too, as it would (no context: the whole question)
    assert rec.router is not None and rec.router.route == "whole"
    assert rec.beats_router == (not rec.router.correct or kept.cost < rec.router.cost)
    s = summary([rec])
    assert s["kept"] == 1 and s["by_source"]["decomposer"] == {"candidates": 2, "right": 1, "kept": 1}
    assert s["by_source"]["prompted:d"] == {"candidates": 1, "right": 1, "kept": 0}


def test_kept_decompositions_are_training_examples(tmp_path):
    pool = _pool()
    ex = Example("legs", QUESTION, "16", meta={"source": "reasoning_gym", "task": "leg_counting", "seed": 1})
    none = Example("none", "How many legs do 5 snakes have?", "0")  # no candidate reaches 0
    recs = _search(tmp_path, pool, Sampled({0: RIGHT, 1: WRONG}), [ex, none], samples=2, prompted=0)
    found = search_examples(recs, [ex, none])
    assert [e.id for e in found] == ["legs"]
    steps = found[0].decomposition
    assert [s.question for s in steps] == RIGHT.replace("1. ", "").replace("2. ", "").replace("3. ", "").split("\n")
    assert steps[2].depends_on == (1, 2) and steps[2].type == "synthesis" and steps[2].answer == "16"
    out = tmp_path / "examples.jsonl"
    write_examples(out, found)
    [back] = load_jsonl(out)  # what `train decomposer --data` reads
    assert back.decomposition == steps and back.answer == "16"
    prov = data_provenance([back])
    assert prov["reasoning_gym"] == {"tasks": ["leg_counting"], "seeds": [1], "n": 1}
    assert prov["decompositions"] == {"decomposer": 1}


def test_the_search_resumes_and_names_a_broken_file(tmp_path):
    pool = _pool()
    exs = [Example(f"q{i}", QUESTION, "16") for i in range(2)]
    first = _search(tmp_path, pool, Sampled({0: RIGHT}), exs, samples=1, prompted=0)
    p = tmp_path / "search.jsonl"
    lines = p.read_text().splitlines()
    p.write_text(lines[0] + "\n" + lines[1][:15])  # cut by an interruption
    sampler = Sampled({0: RIGHT})
    again = _search(tmp_path, pool, sampler, exs, samples=1, prompted=0)
    assert [r.example_id for r in again] == [r.example_id for r in first] and len(sampler.asked) == 1
    assert len(read_search(p)) == 2
    p.write_text("not json\n" + lines[1] + "\n")
    with pytest.raises(SubrouteError, match="search file .*line 1"):
        read_search(p)


def test_ties_keep_fewer_steps_then_the_earlier_draw():
    def cand(steps, cost, ok=True):
        return Candidate("decomposer", 0.0, 0, steps, ok, cost, 0.0, "x")

    rec = SearchRecord("a", "t", "q", [cand(["a", "b"], 1.0), cand(["a"], 1.0), cand(["c"], 1.0), cand([], 0.1, False)])
    assert rec.kept is rec.candidates[1]
    assert SearchRecord("b", "t", "q", [cand(["a"], 1.0, False)]).kept is None


def test_given_decomposer_hands_back_copies():
    g = GivenDecomposer()
    g.steps = [Subtask(1, "Who founded #1?")]
    d = g.decompose("anything")
    d.steps[0].text = "changed"
    assert g.steps[0].text == "Who founded #1?"
