"""Loading DecompBench JSONL (full and minimal records, every bad-line error) and
generating reasoning-gym examples offline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from subroute.bench.datasets import DEFAULT_RG_TASKS, load_jsonl, reasoning_gym_examples
from subroute.errors import SubrouteError
from subroute.records import GoldStep

FULL = {
    "id": "w1-q7", "question": "Which river flows through the city where Voss Glassworks is based?",
    "answer": "Ambrel", "aliases": ["the Ambrel", "river Ambrel"], "context": "Voss Glassworks is based in Quellin.",
    "decomposition": [
        {"question": "In which city is Voss Glassworks based?", "answer": "Quellin", "type": "recall",
         "depends_on": [], "aliases": ["Quellin city"]},
        {"question": "Which river flows through #1?", "answer": "Ambrel", "type": "synthesis", "depends_on": [1]},
    ],
    "hops": 2, "shape": "chain", "kind": "bridge", "seed": 7,
}


def _write(tmp_path: Path, lines: list) -> Path:
    p = tmp_path / "data.jsonl"
    p.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return p


def test_full_record(tmp_path: Path) -> None:
    (ex,) = load_jsonl(_write(tmp_path, [FULL]))
    assert (ex.id, ex.answer, ex.aliases) == ("w1-q7", "Ambrel", ["the Ambrel", "river Ambrel"])
    assert ex.context == "Voss Glassworks is based in Quellin."
    assert ex.decomposition == [
        GoldStep("In which city is Voss Glassworks based?", "Quellin", "recall", (), ("Quellin city",)),
        GoldStep("Which river flows through #1?", "Ambrel", "synthesis", (1,), ()),
    ]
    assert ex.meta == {"hops": 2, "shape": "chain", "kind": "bridge", "seed": 7}
    assert ex.answer_set is None


def test_minimal_records_blank_lines_and_conveniences(tmp_path: Path) -> None:
    p = _write(tmp_path, [
        {"question": "Where was Mirela Voss born?", "answer": "Tarnholm", "context": "She was born in Tarnholm."},
        "",
        {"question": "How many?", "answer": 42},
        {"question": "Which cities?", "answer": ["Quellin", "Tarnholm"], "context": ["doc one", "doc two"]},
    ])
    a, b, c = load_jsonl(p)
    assert (a.id, a.answer, a.decomposition, a.meta, a.aliases) == ("1", "Tarnholm", None, {}, [])
    assert (b.id, b.answer, b.context) == ("3", "42", None)
    assert c.answer_set == ["Quellin", "Tarnholm"] and c.answer == "Quellin, Tarnholm"
    assert c.context == "doc one\n\ndoc two"


BAD = [
    ("{not json", "line 1: not valid JSON"),
    ('["a list"]', "line 1: expected a JSON object, got a list"),
    ({"answer": "x"}, "line 1: missing 'question'"),
    ({"question": "  ", "answer": "x"}, "line 1: empty 'question'"),
    ({"question": 3, "answer": "x"}, "'question' must be a string, got a number"),
    ({"question": "q"}, "line 1: missing 'answer'"),
    ({"question": "q", "answer": {"a": 1}}, "'answer' must be a string or a number, got an object"),
    ({"question": "q", "answer": True}, "'answer' must be a string or a number, got a boolean"),
    ({"question": "q", "answer": "a", "aliases": "b"}, "'aliases' must be a list of strings, got a string"),
    ({"question": "q", "answer": "a", "context": 5}, "'context' must be a string"),
    ({"question": "q", "answer": "a", "id": [1]}, "'id' must be a string or a number"),
    ({"question": "q", "answer": "a", "decomposition": "steps"}, "'decomposition' must be a list of steps"),
    ({"question": "q", "answer": "a", "decomposition": [{"question": "s"}]}, "decomposition step 1: missing 'answer'"),
    ({"question": "q", "answer": "a", "decomposition": [{"question": "s", "answer": "b", "type": "lookup"}]},
     "decomposition step 1: 'type' must be one of recall, synthesis"),
    ({"question": "q", "answer": "a", "decomposition": [{"question": "s", "answer": "b", "depends_on": [1]}]},
     "decomposition step 1: 'depends_on' cites 1, which is not an earlier step"),
    ({"question": "q", "answer": "a", "decomposition": [{"question": "s", "answer": "b", "depends_on": ["#1"]}]},
     "'depends_on' must be a list of 1-based step numbers"),
]


@pytest.mark.parametrize("line,expected", BAD, ids=[b[1][:40] for b in BAD])
def test_bad_line_names_file_line_and_problem(tmp_path: Path, line, expected: str) -> None:
    p = _write(tmp_path, [line])
    with pytest.raises(SubrouteError) as e:
        load_jsonl(p)
    msg = str(e.value)
    assert str(p) in msg and expected in msg and "\n" not in msg


def test_error_reports_the_right_line_number(tmp_path: Path) -> None:
    p = _write(tmp_path, [{"question": "q", "answer": "a"}, "", {"question": "", "answer": "a"}])
    with pytest.raises(SubrouteError, match="line 3: empty 'question'"):
        load_jsonl(p)


def test_duplicate_id(tmp_path: Path) -> None:
    p = _write(tmp_path, [{"id": "x", "question": "q", "answer": "a"}, {"id": "x", "question": "q", "answer": "a"}])
    with pytest.raises(SubrouteError, match="line 2: duplicate id 'x' \\(first on line 1\\)"):
        load_jsonl(p)


def test_missing_and_empty_files(tmp_path: Path) -> None:
    with pytest.raises(SubrouteError, match="not found"):
        load_jsonl(tmp_path / "nope.jsonl")
    for text in ("", "\n  \n"):
        (tmp_path / "e.jsonl").write_text(text)
        with pytest.raises(SubrouteError, match="contains no examples"):
            load_jsonl(tmp_path / "e.jsonl")


def test_reasoning_gym_examples_are_mixed_short_and_reproducible() -> None:
    exs = reasoning_gym_examples(["chain_sum", "leg_counting"], 5, seed=3)
    assert [e.meta["task"] for e in exs] == ["chain_sum", "leg_counting"] * 2 + ["chain_sum"]
    assert all(e.meta["source"] == "reasoning_gym" and e.meta["seed"] == 3 for e in exs)
    assert all(e.question and e.answer and len(e.answer) <= 8 for e in exs)
    assert len({e.id for e in exs}) == 5
    again = reasoning_gym_examples(["chain_sum", "leg_counting"], 5, seed=3)
    assert [(e.question, e.answer) for e in again] == [(e.question, e.answer) for e in exs]
    other = reasoning_gym_examples(["chain_sum", "leg_counting"], 5, seed=4)
    assert [e.question for e in other] != [e.question for e in exs]
    # the chain_sum preset keeps numbers small enough for small models: at most 3 terms of 2 digits
    assert all(int(e.answer) <= 297 for e in exs if e.meta["task"] == "chain_sum")


def test_reasoning_gym_defaults_and_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    exs = reasoning_gym_examples([], len(DEFAULT_RG_TASKS), seed=0)
    assert [e.meta["task"] for e in exs] == list(DEFAULT_RG_TASKS)
    with pytest.raises(SubrouteError, match="unknown reasoning-gym task 'no_such_task'"):
        reasoning_gym_examples(["no_such_task"], 3, seed=0)
    with pytest.raises(SubrouteError, match="at least 1"):
        reasoning_gym_examples(["chain_sum"], 0, seed=0)
    monkeypatch.setitem(sys.modules, "reasoning_gym", None)
    with pytest.raises(SubrouteError, match=r"subroute\[bench\]"):
        reasoning_gym_examples(["chain_sum"], 1, seed=0)


def test_reasoning_gym_answers_are_scored_by_reasoning_gym() -> None:
    from subroute.bench.datasets import score

    ex = next(e for e in reasoning_gym_examples(["family_relationships"], 3, seed=1000))
    assert score(ex.answer, ex) == (True, 1.0)
    assert score("zzz", ex)[0] is False
    plain = load_jsonl_line('{"question": "Where?", "answer": "Tarnholm"}')
    assert score("Tarnholm", plain) == (True, 1.0) and score("Velmark", plain)[0] is False


def load_jsonl_line(line: str):
    import json

    from subroute.bench.datasets import parse_example

    return parse_example(json.loads(line), default_id="1")


def test_the_external_suite_ships_its_sets() -> None:
    from subroute.bench.datasets import EXTERNAL_RG_TASKS, EXTERNAL_SETS, external_examples

    inline, multihop, rg = (external_examples(name) for name in EXTERNAL_SETS)
    assert len(inline) == len(multihop) == len(rg) == 24
    assert all(e.context is None and e.meta["kind"] for e in inline)
    assert all(e.context and e.meta["hops"] >= 2 for e in multihop)
    assert {e.meta["task"] for e in rg} == set(EXTERNAL_RG_TASKS) and len(EXTERNAL_RG_TASKS) >= 6
    with pytest.raises(SubrouteError, match="unknown external set 'nope'"):
        external_examples("nope")
