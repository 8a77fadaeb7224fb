"""The gate: a question whose steps are not its own hops is routed whole, as the cascade
routes it, and the trace says so; a question whose steps are grounded runs by steps."""

from subroute.allocate import CascadeAllocator, ConfidenceAllocator
from subroute.decompose import Decomposition, PromptedDecomposer, SingleStepDecomposer, Subtask
from subroute.gate import Gate, grounded, ungrounded
from subroute.reasoner import Reasoner
from tests.fakes import VOSS_DOCUMENTS, ScriptedModel, make_pool, voss_chain

QUESTION = "In which country was the founder of Voss Glassworks born?"


def _router(pool):
    return Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5), gate=Gate.at(0.5))


def test_grounded_steps_run_by_steps():
    pool, *_ = voss_chain()
    t = _router(pool).answer(QUESTION, VOSS_DOCUMENTS)
    assert t.route == "steps" and t.route_reason is None and t.answer == "Velmark" and len(t.steps) == 3


def test_a_step_that_names_what_the_question_does_not_routes_the_whole_question():
    pool, small, large, dec = voss_chain("1. Who is the spouse of Miroslav Voss?\n2. Where was #1 born?")
    t = _router(pool).answer(QUESTION, VOSS_DOCUMENTS)
    assert t.route == "whole" and "'Miroslav'" in t.route_reason
    assert [s.note for s in t.steps] == ["the whole question"]  # no step was run: only the decomposer was paid
    # the whole route is the cascade baseline's one step, plus the decomposer's call
    cascade = Reasoner(pool, SingleStepDecomposer(), CascadeAllocator(0.5), step_budget=100_000).answer(QUESTION,
                                                                                                        VOSS_DOCUMENTS)
    assert (t.steps[0].query, t.steps[0].passages, t.answer) == (cascade.steps[0].query, cascade.steps[0].passages,
                                                                 cascade.answer)
    assert abs(t.cost - t.calls[0].cost - cascade.cost) < 1e-12
    assert any("routed the whole question" in n for n in t.notes)
    assert [c.role for c in t.calls][0] == "decompose"


def test_a_step_that_restates_the_instructions_routes_the_whole_question():
    pool, *_ = voss_chain("1. A name, a number, a year or a short phrase.\n2. Where was #1 born?")
    t = _router(pool).answer(QUESTION, VOSS_DOCUMENTS)
    assert t.route == "whole" and "restates the instructions" in t.route_reason


def test_an_answer_from_nowhere_sends_the_question_whole_and_keeps_the_bill():
    small = ScriptedModel("s", {"Who founded": ("Michael Jordan", 0.95)}, default=("Velmark", 0.9))
    dec = ScriptedModel("d", {}, default=("1. Who founded Voss Glassworks?\n2. Where was #1 born?", 1.0))
    large = ScriptedModel("l", {}, default=("Velmark", 0.99))
    pool = make_pool({"s": ("small", 0.1, small), "d": ("medium", 1.0, dec), "l": ("large", 10.0, large)})
    t = _router(pool).answer(QUESTION, VOSS_DOCUMENTS)
    assert t.route == "whole" and "'Michael Jordan' names nothing in its passages" in t.route_reason
    assert t.steps[0].answer == "Michael Jordan" and t.steps[-1].note.startswith("the whole question")
    assert t.cost == sum(c.cost for c in t.calls) and len(t.steps) == 2  # step 1 stays on the bill


def test_without_a_gate_nothing_is_routed_whole():
    pool, *_ = voss_chain("1. Who is the spouse of Miroslav Voss?\n2. Where was #1 born?")
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5)).answer(QUESTION, VOSS_DOCUMENTS)
    assert t.route == "steps" and len(t.steps) == 2


def test_facts_in_the_question_are_its_context():
    pool, *_ = voss_chain()
    message = ("Voss Glassworks was founded by Mirela Voss in 1958. Mirela Voss was born in Tarnholm. "
               "Tarnholm lies in the country of Velmark. " + QUESTION)
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5)).answer(message)  # no gate
    assert t.question == QUESTION and len(t.context_taken) == 3 and t.answer == "Velmark"
    assert all(s.passages == 1 for s in t.steps)  # the statements, one passage every step sees
    assert any("3 statement(s) of the question as context" in n for n in t.notes)
    # with the gate: three statements are shorter than one step's passages, so the question is read whole
    t = _router(pool).answer(message)
    assert t.route == "whole" and "fits in one step's 100" in t.route_reason and t.calls[0].role != "decompose"


def test_ungrounded_reads_names_and_numbers_only():
    q = "Which river flows through the city where the company founded by Mirela Voss is based?"
    assert ungrounded("Which organization did Mirela Voss found?", q) == []
    assert ungrounded("In which city is #1 based?", q) == []
    assert ungrounded("Which river flows through #2?", q) == []
    assert ungrounded("Who is the spouse of Mirela Voss?", q) == []  # a relation is not a name: the gate does not judge it
    assert ungrounded("How many dollars are there in 10?", q) == ["10"]
    assert ungrounded("In Quenhollow, which city is Miroslav Voss in?", q) == ["Quenhollow", "Miroslav"]


def test_grounded_answers_share_a_word_with_their_passages():
    passages = ["Mirela Voss was born in Tarnholm."]
    assert grounded("Tarnholm", passages) and grounded("the town of Tarnholm", passages)
    assert grounded("1958", passages) and grounded("yes", passages)
    assert not grounded("Bangkok", passages)


def test_the_gate_leaves_a_single_step_fallback_alone():
    d = Decomposition([Subtask(1, "Q?")], fallback="unparsed")
    assert not Gate.at(0.5).before("Q?", d).whole


def test_a_question_with_no_context_is_routed_whole():
    pool, *_ = voss_chain()
    t = _router(pool).answer(QUESTION)
    assert t.route == "whole" and t.route_reason == "no context to look the steps up in" and len(t.steps) == 1


def test_an_unsure_decomposer_sends_the_question_whole():
    d = Decomposition([Subtask(1, "Who founded Voss Glassworks?"), Subtask(2, "Where was #1 born?", (1,))],
                      confidence=0.6)
    check = Gate.at(0.5).before(QUESTION, d)
    assert check.whole and "unsure of its steps (confidence 0.60 < 0.85)" in check.reasons[0]
    d.confidence = 0.95
    assert not Gate.at(0.5).before(QUESTION, d).whole


def test_a_number_question_routed_whole_is_one_program_over_what_it_states():
    small = ScriptedModel("s", {"Bettany": ("14 * 3", 0.95)})
    dec = ScriptedModel("d", {}, default=("1. How many crowns did she pay?", 1.0))
    pool = make_pool({"s": ("small", 0.1, small), "d": ("medium", 1.0, dec), "l": ("large", 10.0, ScriptedModel("l", {}))})
    t = _router(pool).answer("A ferry ticket costs 14 crowns. Bettany bought one for herself and one for each of her "
                             "two sons, 3 tickets in all. How many crowns did she pay in total?")
    assert t.route == "whole" and t.answer == "42" and t.steps[0].calls[-1].program == "14 * 3"
    assert t.steps[0].note.startswith("the whole question as one program") and "14 crowns" in t.steps[0].query


def test_program_text_wants_a_number_question_with_numbers():
    from subroute.gate import program_text

    assert program_text("How old was she in 1958?", "Mirela was born in 1931.", max_tokens=100) == \
        "Mirela was born in 1931. How old was she in 1958?"
    assert program_text("Where was she born?", "Mirela was born in 1931 in Tarnholm, 12 km away.", max_tokens=100) is None
    assert program_text("How many legs?", None, max_tokens=100) is None  # no numbers to compute with
    assert program_text("How old was she in 1958?", "born in 1931 " * 80, max_tokens=100) is None  # too long to write out
    assert program_text("What year was he born?", "Garrick turned 29 in 1974.", max_tokens=100) == \
        "Garrick turned 29 in 1974. What year was he born?"
    # numbers written as words count: 14 and "two"; "one" alone does not (it is a pronoun as often)
    ferry = "A ticket costs 14 crowns. She bought one for herself and one for each of her two sons."
    assert program_text("How many crowns did she pay?", ferry, max_tokens=100) is not None
    assert program_text("How many crowns did she pay?", "A ticket costs 14 crowns. She bought one.", max_tokens=100) is None


def test_count_numbers_reads_digits_and_number_words():
    from subroute.program import count_numbers

    assert count_numbers("the one who has two sons, twice the land and 3,400 sheep") == 3
    assert count_numbers("Nobody is here.") == 0


def test_a_question_that_picks_by_a_comparison_is_a_program_over_what_it_states():
    from subroute.gate import program_text
    from subroute.program import WHOLE_PICK_SHOTS, WHOLE_PROGRAM_SHOTS, asks_pick, whole_program_shots

    facts = "The Morrick Tunnel is 4 km long. The Vell Tunnel is 7 km long."
    assert asks_pick("Which tunnel is the longest?") and asks_pick("Who was born earlier, Ada or Tom?")
    assert asks_pick("Who is younger: the founder of Orrin Mills or the founder of Vell Press?")
    assert not asks_pick("How long is the Vell Tunnel?") and not asks_pick("Where was the eldest born")
    # a question about the thing picked is not a pick: one expression cannot take the next hop
    assert not asks_pick("Who founded the oldest of Ash Bank, Elm Press and Oak Mills?")
    assert not asks_pick("What is the population of the largest city?")
    assert program_text("Which tunnel is the longest?", facts, max_tokens=100) == f"{facts} Which tunnel is the longest?"
    assert program_text("Which tunnel is in Vell?", facts, max_tokens=100) is None
    assert whole_program_shots(f"{facts} Which tunnel is the longest?") is WHOLE_PICK_SHOTS
    assert whole_program_shots("A crate holds 12 jars. How many jars are in 3 crates?") is WHOLE_PROGRAM_SHOTS



def test_questions_about_quoted_text_dates_and_clock_times_are_programs_with_their_own_example_turns():
    from subroute.gate import program_text
    from subroute.program import (
        WHOLE_DATE_SHOTS,
        WHOLE_PROGRAM_SHOTS,
        WHOLE_TEXT_SHOTS,
        WHOLE_TIME_SHOTS,
        whole_program_shots,
    )

    letters = 'How many times does the letter "s" appear in the text: "has been so long absent"?'
    assert program_text(letters, None, max_tokens=100) == letters  # no numbers: the quoted text is what it computes on
    assert whole_program_shots(letters) is WHOLE_TEXT_SHOTS
    # a quoted title is not a text to compute on
    assert program_text("How many novels did the author of 'Brass Tides' write?", None, max_tokens=100) is None
    day = "What day of the week was October 28, 2022?"
    assert program_text(day, None, max_tokens=100) == day and whole_program_shots(day) is WHOLE_DATE_SHOTS
    call = "A call started at 18:54:51 and ended at 19:29:19. What was the call's duration?"
    assert program_text(call, None, max_tokens=100) == call and whole_program_shots(call) is WHOLE_TIME_SHOTS
    eq = "Determine the value of q that satisfies: 100 - 62*q = -3372"
    assert program_text(eq, None, max_tokens=100) == eq and whole_program_shots(eq) is WHOLE_PROGRAM_SHOTS
    # the request before a closing instruction: the message asks for a number
    assert program_text("Give only the result.", "Solve the following multiplication: 205 * 838.", max_tokens=100) \
        == "Solve the following multiplication: 205 * 838. Give only the result."
    assert program_text("Was it a good year?", "The mill closed in 1931 after 12 years.", max_tokens=100) is None

# ---- the learned route policy ----------------------------------------------------------------

def _policy(tmp_path, pool, heads):
    import json

    from subroute.learned import ROUTE_VERSION, RoutePolicy, pool_signature

    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "route", "version": ROUTE_VERSION,
                                                        "pool": pool_signature(pool), "heads": heads}))
    return RoutePolicy(tmp_path, pool)


def _head(feature, weight, bias=0.0):
    return {"features": [feature], "mean": [0.0], "scale": [1.0], "weights": [weight], "bias": bias}


WORD_PROBLEM = ("A ferry ticket costs 14 crowns. Bettany bought one for herself and one for each of her two sons, "
                "3 tickets in all. How many crowns did she pay in total?")


def _number_pool():
    # a plain answer's prompt has the statements as "Context:"; a program's is the one question
    small = ScriptedModel("s", {"Context:": ("42", 0.9), "Bettany": ("14 * 3", 0.95)})
    dec = ScriptedModel("d", {}, default=("1. How many crowns did she pay?", 1.0))
    return make_pool({"s": ("small", 0.1, small), "d": ("medium", 1.0, dec),
                      "l": ("large", 10.0, ScriptedModel("l", {}))}), small


def test_route_features_read_the_question_and_the_steps():
    from subroute.gate import route_features

    f = route_features("How many legs do 3 cats and 2 birds have?", None)
    assert f["asks_number"] == 1.0 and f["has_context"] == 0.0 and f["numbers"] > f["operators"] == 0.0
    d = Decomposition([Subtask(1, "Who founded Voss Glassworks?"), Subtask(2, "Where was Miroslav born?", (1,))],
                      confidence=0.9)
    f = route_features(QUESTION, VOSS_DOCUMENTS, d, message=QUESTION)
    assert (f["steps"], f["confidence"], f["ungrounded"], f["instruction_steps"]) == (2.0, 0.9, 1.0, 0.0)
    assert f["context_tokens"] > 0 and f["clauses"] == 2.0  # "which", "of"


def test_the_program_head_can_ask_a_number_question_plainly(tmp_path):
    pool, small = _number_pool()
    plain = Gate.at(0.5, _policy(tmp_path, pool, {"program": _head("asks_number", -5.0)}))
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5), gate=plain).answer(WORD_PROBLEM)
    assert t.route == "whole" and t.answer == "42" and t.steps[0].calls[-1].program is None
    assert any("asked plainly, not as a program" in n for n in t.notes)
    keep = Gate.at(0.5, _policy(tmp_path, pool, {"program": _head("asks_number", 5.0)}))
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5), gate=keep).answer(WORD_PROBLEM)
    assert t.steps[0].calls[-1].program == "14 * 3"


def test_the_split_head_sends_sound_steps_whole_when_it_expects_that_cheaper(tmp_path):
    pool, *_ = voss_chain()
    gate = Gate.at(0.5, _policy(tmp_path, pool, {"split": _head("steps", -5.0)}))
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5), gate=gate).answer(QUESTION,
                                                                                                      VOSS_DOCUMENTS)
    assert t.route == "whole" and "route policy expects the whole question to be cheaper" in t.route_reason
    gate = Gate.at(0.5, _policy(tmp_path, pool, {"split": _head("steps", 5.0)}))
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5), gate=gate).answer(QUESTION,
                                                                                                      VOSS_DOCUMENTS)
    assert t.route == "steps" and t.answer == "Velmark"


def test_a_route_policy_for_another_pool_or_of_another_kind_is_refused(tmp_path):
    import json

    import pytest

    from subroute.errors import SubrouteError
    from subroute.learned import RoutePolicy

    pool, *_ = voss_chain()
    other, *_ = voss_chain()
    _policy(tmp_path, pool, {"split": _head("steps", 1.0)})
    with pytest.raises(SubrouteError, match="trained for another pool"):
        RoutePolicy(tmp_path, make_pool({"x": ("small", 0.1, ScriptedModel("x", {}))}))
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "allocator", "version": 1}))
    with pytest.raises(SubrouteError, match="not a version-1 route-policy artifact"):
        RoutePolicy(tmp_path, pool)
    with pytest.raises(SubrouteError, match="no readable manifest.json"):
        RoutePolicy(tmp_path / "nowhere", pool)


def test_a_route_can_be_forced():
    import pytest

    from subroute.errors import SubrouteError

    pool, *_ = voss_chain()
    r = _router(pool)
    t = r.answer(QUESTION, route="steps")  # no context: the gate would route it whole; forced, it runs by steps
    assert t.route == "steps" and len(t.steps) == 3
    t = r.answer(QUESTION, VOSS_DOCUMENTS, route="whole")
    assert t.route == "whole" and t.route_reason == "asked for the whole route" and t.calls[0].role != "decompose"
    t = r.answer(QUESTION, VOSS_DOCUMENTS, route="program")
    assert t.error and "the program route needs a question that asks for a number" in t.error
    with pytest.raises(SubrouteError, match="route must be one of steps, whole, program"):
        r.answer(QUESTION, route="fast")
    # without a gate the whole route is the router's own allocator over the whole context
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5)).answer(QUESTION, VOSS_DOCUMENTS,
                                                                                          route="whole")
    assert t.route == "whole" and len(t.steps) == 1


def test_a_whole_question_program_is_asked_with_word_problem_shots_and_a_step_program_with_step_shots():
    from subroute.program import PROGRAM_SHOTS, WHOLE_PROGRAM_SHOTS

    pool, small = _number_pool()
    t = _router(pool).answer(WORD_PROBLEM)
    assert t.steps[0].calls[-1].program == "14 * 3"
    asked = [m for m in small.prompts if m[0]["content"].startswith("Write one Python expression")]
    assert asked and all(m[1:-1] == WHOLE_PROGRAM_SHOTS for m in asked)
    assert _router(pool).executor.program_shots is None  # steps keep the step shots
    assert WHOLE_PROGRAM_SHOTS != PROGRAM_SHOTS
