import re
from collections import Counter

import pytest

from subroute.errors import ConfigError
from subroute.scoring import score_answer, score_example
from subroute.worlds import (
    KINDS,
    Corpus,
    QuestionConfig,
    WorldConfig,
    build_world,
    check_question,
    generate_questions,
    infer_shape,
    resolve,
)


def test_every_kind_and_shape_is_generated(questions):
    # word problems are asked for by name (--kinds word=1): a seed's default questions stay the same
    assert {q.kind for q in questions} == set(QuestionConfig().kinds) == set(KINDS) - {"word"}
    assert {q.shape for q in questions} == {"chain", "parallel-then-join", "fan-in"}
    assert {q.hops for q in questions} == {1, 2, 3, 4, 5}


def test_generated_questions_pass_all_checks(world, corpus, questions):
    for q in questions:
        assert check_question(q, world, corpus) == [], q.question
        assert q.hops == sum(s.type == "recall" for s in q.decomposition)
        assert q.shape == infer_shape(q.decomposition)
        assert q.question.endswith("?") and "{" not in q.question and "#" not in q.question
        for i, s in enumerate(q.decomposition, 1):
            cited = {int(k) for k in re.findall(r"#(\d+)", s.question)}
            assert cited == set(s.depends_on) and all(k < i for k in cited)
            assert s.type in ("recall", "synthesis")
            assert bool(s.fact_ids) == (s.type == "recall")


def test_questions_are_deterministic(world):
    cfg = QuestionConfig(n=30, max_hops=4)
    a = generate_questions(world, cfg, corpus=Corpus(world))
    b = generate_questions(world, cfg, corpus=Corpus(world))
    assert [q.to_dict() for q in a] == [q.to_dict() for q in b]
    c = generate_questions(world, QuestionConfig(n=30, max_hops=4, seed=99), corpus=Corpus(world))
    assert [q.question for q in c] != [q.question for q in a]


def test_answers_come_from_the_resolver_and_score_as_correct(world, questions):
    for q in questions:
        results = resolve(world, [s.op for s in q.decomposition])
        last = sorted(world.name(v) for v in results[-1].values)
        assert (q.answer_set or [q.answer]) == last
        assert score_answer(q.answer, q.answer, q.aliases).em
        assert score_example(q.answer, q).correct


def test_hop_range_and_kind_mix_are_obeyed(world, corpus):
    qs = generate_questions(world, QuestionConfig(n=25, min_hops=2, max_hops=3,
                                                  kinds={"compositional": 1.0}), corpus=corpus)
    assert {q.kind for q in qs} == {"compositional"} and {q.hops for q in qs} <= {2, 3}
    fan = generate_questions(world, QuestionConfig(n=10, min_hops=4, max_hops=6,
                                                   shapes={"fan-in": 1.0}), corpus=corpus)
    assert {q.shape for q in fan} == {"fan-in"}


def test_context_has_support_distractors_and_fits_budget(world, corpus, questions):
    from subroute.worlds import approx_tokens
    for q in questions[:40]:
        assert set(q.supporting_doc_ids) <= set(q.context_doc_ids)
        assert len(q.context_doc_ids) > len(q.supporting_doc_ids)
        assert approx_tokens(q.context) <= 3000
    tight = generate_questions(world, QuestionConfig(n=10, n_distractors=50, token_budget=700), corpus=corpus)
    assert all(q.n_context_tokens <= 700 for q in tight)


def test_add_distractors_grows_the_same_question_the_same_way(world, corpus, questions):
    from subroute.worlds import add_distractors

    for q in questions[:15]:
        big = add_distractors(q, corpus, 6)
        assert set(q.context_doc_ids) < set(big.context_doc_ids)  # what was there stays
        assert len(big.context_doc_ids) == len(q.context_doc_ids) + 6
        assert big.n_context_tokens > q.n_context_tokens
        assert (big.question, big.answer, big.decomposition) == (q.question, q.answer, q.decomposition)
        assert check_question(big, world, corpus) == [], q.question  # still supported, unambiguous
        assert add_distractors(q, corpus, 6).context == big.context  # deterministic
    assert add_distractors(questions[0], corpus, 0) is questions[0]


@pytest.mark.parametrize("cfg, needle", [
    (QuestionConfig(min_hops=1, max_hops=12), "max hops 12"),
    (QuestionConfig(min_hops=3, max_hops=2), "hop range"),
    (QuestionConfig(kinds={"riddle": 1.0}), "unknown"),
    (QuestionConfig(kinds={"arithmetic": 1.0}, shapes={"chain": 1.0}), "no kind"),
    (QuestionConfig(n=5, token_budget=10), "--budget"),
])
def test_bad_question_knobs_are_refused(world, corpus, cfg, needle):
    with pytest.raises(ConfigError, match=re.escape(needle)):
        generate_questions(world, cfg, corpus=corpus)


def test_impossible_worlds_stop_instead_of_looping():
    tiny = build_world(WorldConfig(seed=1, n_people=3, p_married=0, p_parents=0, p_mentor=0,
                                   p_employed=0, friends_mean=0, p_acquired=0))
    with pytest.raises(ConfigError, match="generated only"):
        generate_questions(tiny, QuestionConfig(n=5, min_hops=7, max_hops=8, kinds={"compositional": 1.0}))


def test_style_split_keeps_held_out_styles_apart(world, corpus):
    qs = generate_questions(world, QuestionConfig(n=40, held_out_styles=("forum",), test_fraction=0.5),
                            corpus=corpus)
    counts = Counter(q.split for q in qs)
    assert counts["test"] > 0 and counts["train"] > 0
    for q in qs:
        styles = {d.split("/")[1] for d in q.context_doc_ids}
        assert styles == {"forum"} if q.split == "test" else "forum" not in styles


# ---- surface forms ---------------------------------------------------------------------------

def _surfaced(world, forms, n=16):
    from subroute.worlds.questions import QuestionConfig, generate_questions

    return generate_questions(world, QuestionConfig(n=n, min_hops=2, max_hops=3, surfaces=forms))


def test_surface_forms_state_the_facts_and_keep_the_gold_answers(world):
    from subroute.inline import split_inline
    from subroute.worlds.documents import contains

    qs = _surfaced(world, {"plain": 1.0, "inline": 1.0, "facts": 1.0, "given": 1.0}, n=24)
    assert {q.surface for q in qs} == {"plain", "inline", "facts", "given"}
    for q in qs:
        inline = split_inline(q.question)
        if q.surface in ("inline", "facts"):
            # no documents: every fact a recall step reads stands in the message, with its answer
            assert q.context == "" and q.route == "whole" and inline.statements
            said = " ".join(inline.statements)
            for s in q.decomposition:
                if s.type == "recall":
                    assert all(contains(said, a) for a in s.answer_set or [s.answer]), (q.question, s.answer)
        elif q.surface == "given":
            assert q.question.startswith("Given that ") and q.context and q.route == "steps"
            assert len(inline.statements) == 1
        else:
            assert q.route == "steps" and not inline.statements
        # what the pipeline asks after splitting off the statements is a question of the generator's
        assert inline.question.endswith("?")
        d = q.to_dict()
        assert (d.get("surface"), d.get("route")) == ((q.surface, q.route) if q.surface != "plain" else (None, None))


def test_plain_questions_do_not_change_when_other_surfaces_are_asked_for(world):
    from subroute.worlds.questions import QuestionConfig, generate_questions

    plain = generate_questions(world, QuestionConfig(n=6, min_hops=2, max_hops=3))
    again = generate_questions(world, QuestionConfig(n=6, min_hops=2, max_hops=3, surfaces={"plain": 1.0}))
    assert [q.to_dict() for q in plain] == [q.to_dict() for q in again]


def test_an_unknown_surface_is_named():
    import pytest

    from subroute.errors import ConfigError
    from subroute.worlds.questions import QuestionConfig

    with pytest.raises(ConfigError, match="--surfaces"):
        QuestionConfig(surfaces={"shouty": 1.0}).validate()
    with pytest.raises(ConfigError, match="at least one surface form"):
        QuestionConfig(surfaces={"plain": 0.0}).validate()


def test_varied_phrasing_rewords_questions_but_keeps_the_walk(world):
    from subroute.worlds.schema import RELATIONS

    plain = generate_questions(world, QuestionConfig(n=40, min_hops=2, max_hops=4))
    varied = generate_questions(world, QuestionConfig(n=40, min_hops=2, max_hops=4, phrasing=0.8))
    corpus = Corpus(world)
    for q in varied:
        assert check_question(q, world, corpus) == [], q.question
        assert "{" not in q.question and "#" not in q.question
    # the wording has a stream of its own: the same paths, answers and gold steps
    same = sum(a.answer == b.answer and [s.op for s in a.decomposition] == [s.op for s in b.decomposition]
               for a, b in zip(plain, varied))
    assert same >= 30
    changed = [b.question for a, b in zip(plain, varied) if a.question != b.question]
    assert len(changed) >= 20
    alternatives = {p.split("{")[0].strip() for r in RELATIONS.values() for p in r.phrases + r.asks}
    assert any(q.startswith(("Think of", "Consider", "Take", "Start from")) for q in changed)
    assert any("'s " in q or "' " in q for q in changed) and alternatives
    # a possessive follows only a bare name, never a phrase ("the founder of X's mother")
    assert not any(re.search(r"\bof [^,?]*'s? (?:mother|father|founder|mentor|employer)\b", q) for q in changed)
    with pytest.raises(ConfigError, match="--phrasing"):
        QuestionConfig(phrasing=1.5).validate()


def test_word_problems_compute_with_a_number_the_question_states(world):
    from subroute.program import is_program_step
    from subroute.worlds.resolver import ResolveError

    qs = generate_questions(world, QuestionConfig(n=30, min_hops=1, max_hops=3, kinds={"word": 1.0}))
    corpus = Corpus(world)
    assert {q.kind for q in qs} == {"word"} and {q.shape for q in qs} == {"chain"}
    for q in qs:
        assert check_question(q, world, corpus) == [], q.question
        last = q.decomposition[-1]
        assert last.op["op"] == "calc" and last.type == "synthesis"
        stated = [a for a in last.op["args"] if isinstance(a, int)]
        said = re.search(rf"\b{stated[0]}\b|\b{_WORDS.get(stated[0], '-')}\b", q.question) or (
            stated == [2] and "and back again" in q.question)  # a round trip: twice the length
        assert len(stated) == 1 and said, q.question
        # the gold step is a program step once the earlier answer is in it
        values = {f"#{i}": s.answer for i, s in enumerate(q.decomposition, 1)}
        filled = re.sub(r"#\d+", lambda m: values[m.group(0)], last.question)
        assert is_program_step(filled, synthesis=True), filled
        assert score_example(f"{q.answer} {last.op['unit']}".strip(), q).correct
    assert len({q.question.split()[0] for q in qs}) >= 3  # more than one kind of problem
    with pytest.raises(ResolveError, match="calc needs"):
        resolve(world, [{"op": "calc", "fn": "div", "args": [1, 2]}])


_WORDS = {n: w for n, w in enumerate(("zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                                      "nine", "ten", "eleven", "twelve"))}
