from dataclasses import replace

import pytest

from subroute.errors import ConfigError, SubrouteError
from subroute.worlds import STYLES, Corpus
from subroute.worlds.documents import contains, fact_holds


def test_every_listed_fact_is_stated(world, corpus):
    for eid in world.by_kind["person"][:40] + world.by_kind["org"][:20] + world.by_kind["event"][:10]:
        for d in corpus.doc_ids(eid):
            doc = corpus.get(d)
            assert doc.fact_ids and doc.fact_ids == corpus.planned_fact_ids(d)
            assert all(fact_holds(world, doc, f) for f in doc.fact_ids)


def test_each_fact_told_in_several_styles_with_different_words(world, corpus):
    p = world.by_kind["person"][3]
    fid = next(f.id for f in world.facts_about(p) if f.relation == "born_year" and f.subject == p)
    docs = corpus.docs_stating(fid)
    assert len({d.split("/")[1] for d in docs}) >= 2
    sentences = {s for d in docs for s, ids in corpus.get(d).sentences if fid in ids}
    assert len(sentences) >= 2


def test_rendering_is_deterministic_and_order_independent(world):
    a, b = Corpus(world), Corpus(world)
    ids = [d for e in world.by_kind["city"][:5] for d in a.doc_ids(e)]
    first = [a.get(d).text for d in ids]
    assert [b.get(d).text for d in reversed(ids)][::-1] == first


def test_styles_knob(world):
    c = Corpus(world, styles=("forum", "news"))
    assert {d.split("/")[1] for e in world.by_kind["person"][:20] for d in c.doc_ids(e)} <= {"forum", "news"}
    with pytest.raises(ConfigError, match="styles"):
        Corpus(world, styles=("poem",))
    assert set(STYLES) == {"encyclopedia", "news", "blog", "forum", "company", "interview"}


def test_rewrite_hook_keeps_only_facts_that_still_hold(world):
    year = str(world.follow(world.by_kind["person"][0], "born_year")[0])

    def drop_year(doc):
        return replace(doc, text=doc.text.replace(year, "some year"))

    loose = Corpus(world, rewrite=drop_year)
    doc = loose.get(loose.doc_ids(world.by_kind["person"][0])[0])
    fid = next(f.id for f in world.facts_about(world.by_kind["person"][0]) if f.relation == "born_year")
    assert fid not in doc.fact_ids and doc.fact_ids and "some year" in doc.text
    strict = Corpus(world, rewrite=drop_year, strict=True)
    with pytest.raises(SubrouteError, match="lost facts"):
        strict.get(strict.doc_ids(world.by_kind["person"][0])[0])
    same = Corpus(world, rewrite=lambda d: replace(d, text=d.text.upper()))
    d = same.get(same.doc_ids(world.by_kind["person"][0])[0])
    assert d.fact_ids == Corpus(world).get(d.id).fact_ids


def test_contains_is_word_bounded_and_number_aware():
    assert contains("It has 2,405,200 residents.", "2405200")
    assert not contains("Tarnholmsby is a city.", "Tarnholm")
