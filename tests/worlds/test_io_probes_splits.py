import json

import pytest

from subroute.errors import ConfigError
from subroute.worlds import (
    SplitSpec,
    make_probes,
    read_jsonl,
    read_world,
    split_questions,
    to_hf_dataset,
    write_jsonl,
    write_world,
)
from subroute.worlds.probes import BLANK
from subroute.worlds.splits import label


def test_jsonl_round_trip_is_exact(tmp_path, questions):
    path = tmp_path / "q.jsonl"
    write_jsonl(path, questions)
    back = read_jsonl(path)
    assert [q.to_dict() for q in back] == [q.to_dict() for q in questions]
    line = json.loads(path.read_text().splitlines()[0])
    for key in ("id", "question", "answer", "aliases", "context", "hops", "shape", "kind",
                "decomposition", "world_seed", "version"):
        assert key in line
    assert {"question", "answer", "type", "depends_on", "fact_ids"} <= set(line["decomposition"][0])


def test_minimal_lines_load_and_bad_lines_are_named(tmp_path):
    p = tmp_path / "m.jsonl"
    p.write_text('{"question": "Q?", "answer": "A", "context": "text"}\n')
    assert read_jsonl(p)[0].answer == "A"
    p.write_text('{"question": "Q?"}\n')
    with pytest.raises(ConfigError, match="line 1"):
        read_jsonl(p)


def test_world_file_rebuilds_the_world(tmp_path, world, corpus):
    path = tmp_path / "w.jsonl"
    write_world(path, world, corpus)
    back, docs = read_world(path)
    assert back.stats() == world.stats()
    assert list(back.facts.values()) == list(world.facts.values())
    some = corpus.doc_ids(world.by_kind["org"][0])[0]
    assert docs[some].text == corpus.get(some).text


def test_probes_pair_a_verbatim_cloze_with_a_paraphrase(world, corpus, questions):
    facts = {f for q in questions[:10] for s in q.decomposition for f in s.fact_ids}
    probes = make_probes(corpus, facts)
    assert probes
    for p in probes:
        doc = corpus.get(p.doc_id)
        assert BLANK in p.cloze and p.cloze.replace(BLANK, p.answer) in doc.text
        assert doc.text.startswith(p.prefix) and p.question.endswith("?")
        assert p.cloze.replace(BLANK, p.answer) != p.question


def test_split_specs(questions):
    assert SplitSpec.parse("hops:3").hops == 3 and SplitSpec.parse("style:forum,news").styles == ("forum", "news")
    for bad in ("hops:x", "style:poem", "by-moon"):
        with pytest.raises(ConfigError, match="--split"):
            SplitSpec.parse(bad)
    label(questions, SplitSpec.parse("hops:3"))
    groups = split_questions(questions)
    assert all(q.hops >= 3 for q in groups["test"]) and all(q.hops < 3 for q in groups["train"])
    for q in questions:
        q.split = "train"


def test_hf_export(questions):
    pytest.importorskip("datasets")
    ds = to_hf_dataset(questions[:5])
    assert ds.num_rows == 5 and ds[0]["question"] == questions[0].question
