import pytest

from subroute.decompose import PromptedDecomposer, decompose_messages, parse_steps
from tests.fakes import ScriptedModel, make_pool


def test_parses_many_numbering_styles_and_refs():
    text = "Here are the steps:\n1. Who founded Voss Glassworks?\nStep 2: Where was #1 born?\nQ3) In which country is #2?"
    steps = parse_steps(text)
    assert [s.text for s in steps] == ["Who founded Voss Glassworks?", "Where was #1 born?", "In which country is #2?"]
    assert [s.depends_on for s in steps] == [(), (1,), (2,)]


def test_two_refs_mark_a_synthesis_step():
    steps = parse_steps("1. Year of A?\n2. Year of B?\n3. Which is earlier, #1 or #2?")
    assert steps[2].type == "synthesis" and steps[2].depends_on == (1, 2)


def test_restarted_list_keeps_the_first():
    assert len(parse_steps("1. a?\n2. b #1?\n1. a?\n2. b #1?")) == 2


@pytest.mark.parametrize("text, why", [
    ("1. Where was #2 born?\n2. Who is X?", "cites #2, which is not an earlier step"),
    ("1. Who is X?\n2. Where was #2 born?", "cites #2, which is not an earlier step"),
    ("1. a\n3. b", "step 3 follows step 1"),
    ("The answer is Tarnholm.", "no numbered steps"),
    ("\n".join(f"{i}. q{i}?" for i in range(1, 11)), "more than 8 steps"),
])
def test_invalid_decompositions_are_refused(text, why):
    with pytest.raises(ValueError, match=why):
        parse_steps(text)


def test_shots_are_alternating_turns():
    msgs = decompose_messages("Q?")
    roles = [m["role"] for m in msgs]
    assert roles[0] == "system" and roles[-1] == "user"
    assert all(a != b for a, b in zip(roles[1:], roles[2:]))


def test_unparseable_output_runs_as_one_step_and_says_why():
    big = ScriptedModel("big", {}, default=("I think the answer is Paris.", 0.9))
    pool = make_pool({"big": ("large", 1.0, big)})
    d = PromptedDecomposer(pool, "big").decompose("Where is the capital?")
    assert [s.text for s in d.steps] == ["Where is the capital?"]
    assert "decomposition unparsed (no numbered steps)" in d.fallback
    assert len(d.calls) == 1 and d.cost > 0
