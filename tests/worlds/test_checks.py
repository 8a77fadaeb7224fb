"""Each validity check rejects a question built to break it."""

from dataclasses import replace

import pytest

from subroute.worlds.checks import (
    check_answer_not_in_question,
    check_no_shortcut,
    check_resolution,
    check_structure,
    check_supported,
)
from subroute.worlds.kinds import Draft
from subroute.worlds.questions import finalize
from subroute.worlds.resolver import ResolveError, resolve


def draft(kind, text, *steps):
    d = Draft(kind, text)
    for q, op, t in steps:
        d.add(q, op, t)
    return d


def person_with(world, *rels, n=1):
    for p in world.by_kind["person"]:
        if all(len(world.follow(p, r)) >= n for r in rels):
            return p
    pytest.skip(f"no person with {rels}")


def test_answer_in_question_is_rejected(world):
    p = person_with(world, "birthplace")
    city = world.name(world.follow(p, "birthplace")[0])
    q = finalize(draft("recall", f"Was {world.name(p)} born in {city}?",
                       ("Where was X born?", {"op": "hop", "rel": "birthplace", "arg": p}, "recall")), world, "x")
    assert check_answer_not_in_question(q)


def test_non_unique_hop_is_rejected(world):
    p = person_with(world, "sibling", n=2)
    with pytest.raises(ResolveError, match="not unique"):
        resolve(world, [{"op": "hop", "rel": "sibling", "arg": p}])
    q = finalize(draft("aggregation", "Who are the siblings?",
                       ("Who are the siblings?", {"op": "hop", "rel": "sibling", "arg": p, "set": True}, "recall")),
                 world, "x")
    q.decomposition[0].op = {"op": "hop", "rel": "sibling", "arg": p}
    assert any("does not resolve" in m for m in check_resolution(q, world))


def test_tied_comparison_is_rejected(world):
    by_year = {}
    for p in world.by_kind["person"]:
        by_year.setdefault(world.follow(p, "born_year")[0], []).append(p)
    a, b = next(v for v in by_year.values() if len(v) >= 2)[:2]
    ops = [{"op": "hop", "rel": "born_year", "arg": a}, {"op": "hop", "rel": "born_year", "arg": b},
           {"op": "compare", "mode": "min", "items": [[a, "#1"], [b, "#2"]]}]
    with pytest.raises(ResolveError, match="tie"):
        resolve(world, ops)


def test_shortcut_chain_is_rejected(world):
    # the spouse of X's father is X's mother: one fact links X to the answer directly
    x = next(p for p in world.by_kind["person"] if world.follow(p, "father")
             and world.follow(world.follow(p, "father")[0], "spouse") == world.follow(p, "mother"))
    q = finalize(draft("compositional", "Who is the wife of the father of X?",
                       ("Who is the father of X?", {"op": "hop", "rel": "father", "arg": x}, "recall"),
                       ("Who is #1 married to?", {"op": "hop", "rel": "spouse", "arg": "#1"}, "recall"),
                       ("Where was #2 born?", {"op": "hop", "rel": "birthplace", "arg": "#2"}, "recall")),
                 world, "x")
    problems = check_no_shortcut(q, world)
    assert any("one fact away" in m for m in problems)


def test_intersection_with_a_needless_branch_is_rejected(world):
    e = next(e for e in world.by_kind["event"] if len(world.follow(e, "participant")) >= 2)
    ops = [("Who?", {"op": "hop", "rel": "participant", "arg": e, "set": True}, "recall"),
           ("Who?", {"op": "hop", "rel": "participant", "arg": e, "set": True}, "recall"),
           ("Both?", {"op": "intersect", "args": ["#1", "#2"]}, "synthesis")]
    q = finalize(draft("intersection", "Who took part?", *ops), world, "x")
    assert any("alone already gives" in m for m in check_no_shortcut(q, world))


def test_wrong_stored_answer_and_structure_are_rejected(world, questions):
    q = questions[0]
    bad = replace(q, answer="Nobody", decomposition=[replace(s) for s in q.decomposition])
    bad.decomposition[-1] = replace(bad.decomposition[-1], answer="Nobody")
    assert check_resolution(bad, world)
    assert check_structure(replace(q, hops=q.hops + 1))
    assert check_structure(replace(q, shape="fan-in" if q.shape != "fan-in" else "chain"))
    s0 = replace(q.decomposition[0], type="synthesis")
    assert check_structure(replace(q, decomposition=[s0, *q.decomposition[1:]]))


def test_unsupported_answer_is_rejected(world, corpus, questions):
    q = next(q for q in questions if q.hops >= 2)
    unrelated = [d for d in corpus.doc_ids(world.by_kind["river"][0]) if d not in q.supporting_doc_ids]
    bad = replace(q, supporting_doc_ids=unrelated[:1], context="")
    problems = check_supported(bad, world, corpus)
    assert any("stated in no supporting document" in m for m in problems)
