import pytest

from subroute.decompose import (
    RESAMPLE_TEMPERATURE,
    PromptedDecomposer,
    align_names,
    decompose_messages,
    draw_steps,
    parse_steps,
)
from subroute.models.base import Completion, Usage
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
    assert "decomposition unparsed in 2 tries (no numbered steps)" in d.fallback
    assert len(d.calls) == 2 and d.cost > 0  # the greedy output, then one sample; both charged
    d = PromptedDecomposer(pool, "big", retries=0).decompose("Where is the capital?")
    assert "decomposition unparsed (no numbered steps)" in d.fallback and len(d.calls) == 1


def _drawer(texts: list[str], seen: list[tuple[float, int]]):
    def generate(temperature: float, seed: int) -> Completion:
        seen.append((temperature, seed))
        return Completion("m", texts[len(seen) - 1], Usage(10, 5), cost=1.0)
    return generate


def test_an_unparsed_decomposition_is_drawn_again_with_seeded_samples():
    seen: list[tuple[float, int]] = []
    texts = ["1. Who directed #1?", "1. Who directed #2?", "1. Who directed Sasejol?\n2. Where was #1 born?"]
    d = draw_steps("Where was the director of Sasejol born?", _drawer(texts, seen), max_steps=8, retries=3)
    assert [s.text for s in d.steps] == ["Who directed Sasejol?", "Where was #1 born?"]
    assert seen == [(0.0, 0), (RESAMPLE_TEMPERATURE, 1), (RESAMPLE_TEMPERATURE, 2)]  # stops at the first that parses
    assert d.fallback is None and d.cost == 3.0  # every draw is charged
    assert d.note == "decomposition drawn 3 times; the first did not parse (step 1 cites #1, which is not an earlier step)"


def test_a_greedy_decomposition_that_parses_is_not_drawn_again():
    seen: list[tuple[float, int]] = []
    d = draw_steps("Q?", _drawer(["1. Who is X?"], seen), max_steps=8, retries=3)
    assert seen == [(0.0, 0)] and d.note is None and len(d.steps) == 1


def test_no_draw_that_parses_runs_one_step_with_the_first_reason():
    seen: list[tuple[float, int]] = []
    d = draw_steps("Q?", _drawer(["nothing", "1. a #1?", "still nothing"], seen), max_steps=8, retries=2)
    assert [s.text for s in d.steps] == ["Q?"] and len(d.calls) == 3
    assert d.fallback == "decomposition unparsed in 3 tries (no numbered steps); ran as one step"


def test_a_misspelled_name_is_spelled_as_the_question_spells_it():
    q = "What is the capital of the country where Lyoudoudrevholm lies?"
    seen: list[tuple[float, int]] = []
    d = draw_steps(q, _drawer(["1. In which country is Lyoudoudoudrevholm?\n2. What is the capital of #1?"], seen),
                   max_steps=8, retries=3)
    assert [s.text for s in d.steps] == ["In which country is Lyoudoudrevholm?", "What is the capital of #1?"]
    assert d.note == "names spelled as in the question: 'Lyoudoudoudrevholm' read as 'Lyoudoudrevholm'"


def test_words_a_step_adds_are_left_alone():
    q = "Which river is longer, the river that flows through Dodrostolholm or the one through Kidiforkholm?"
    steps = parse_steps("1. Which river flows through Dodrostolholm?\n2. What is the length of #1?\n"
                        "3. Which River flows through Kidiforkholm?\n4. Which is longer, #1 (length #2) or #3?")
    fixed, notes = align_names(steps, q)
    assert fixed == steps and notes == []  # "What", "River" (a case change), "Which" are not names to repair
