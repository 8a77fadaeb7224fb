"""Program steps: a synthesis step over numbers is answered by an evaluated expression."""

import math
from dataclasses import replace

import pytest

from subroute.allocate import CascadeAllocator, ConfidenceAllocator, FixedAllocator
from subroute.decompose import PromptedDecomposer, Subtask
from subroute.execute import Executor, step_prompt
from subroute.program import ProgramError, asked_extreme, is_program_step, orient, run_program
from subroute.reasoner import Reasoner
from tests.fakes import ScriptedModel, make_pool


@pytest.mark.parametrize("expr,value", [
    ('argmin({"Ash Bank": 1990, "Elm Press": 1975})', "Elm Press"),
    ('argmax({"Ash Bank": 1990, "Elm Press": 1975})', "Ash Bank"),
    ('max({"Ash Bank": 1990, "Elm Press": 1975})', "Ash Bank"),  # a mapping's max compares the numbers
    ('min({"Zed": 3, "Abe": 9})', "Zed"),
    ("abs(1979 - 2003)", "24"),
    ("2021 - 1962", "59"),
    ("10 / 4", "2.5"),
    ("4.180 + (7.365 / 3.440)", "6.32098837209"),  # 12 significant digits
    ("0.1 + 0.2", "0.3"),
    ("z = (2040 - 1190) / 34", "25"),  # an assignment: its value (simpleeval's warning kept quiet)
    ("```python\n1990 - 1950\n```", "40"),
    ("`abs(2010 - 1987)`", "23"),
    ("abs(2010 - 1987)\nThis is the number of years.", "23"),
    # an equation in one unknown is solved, wherever the unknown stands
    ("4*y + 7 = 31", "6"), ("2675 - 99 = 46*y", "56"), ("100 - 62*q = -3372", "56"), ("12 / x = 3", "4"),
    ("x*x = 16", "4"),
    ("8 - 4 = 4", "4"),  # an expression and the model's own arithmetic of it: the expression is evaluated
    ("-5 - 9 * -7 = -68", "58"),
    ("a = 12 * 3\nb = a - 5\nb", "31"),  # lines that define names, then the answer
    ("4*y + 7 = 31\nSo y is 6.", "6"),
    ('"has been so long absent".count("s")', "3"),
    ('sum("education".count(v) for v in "aeiou")', "5"),
    ('date(2022, 10, 28).strftime("%A")', "Friday"),
    ("(date(2021, 3, 3) - date(2020, 12, 25)).days", "68"),
    ("[d for d in range(1, 31) if date(2022, 9, d).weekday() == 1][2]", "20"),
    ("timedelta(hours=19, minutes=29, seconds=19) - timedelta(hours=18, minutes=54, seconds=51)", "00:34:28"),
    ("date(2021, 3, 3) + timedelta(days=10)", "2021-03-13"),
    # a number copied with its thousands separators is read whole, not as a tuple
    ("42,100 * 3", "126300"), ("x = 31,400\nx * 6", "188400"), ("max(1,200)", "200"),
    # integers copied with their leading zeros ("08" is not Python 3); strings keep theirs
    ("timedelta(hours=21, minutes=56, seconds=11) - timedelta(hours=18, minutes=34, seconds=08)", "03:22:03"),
    ("(date(2994, 03, 06) - date(2994, 02, 15)).days", "19"), ('"08:05".count("0")', "2"), ("0.5 + 1.05", "1.55"),
    # the model's value after "=" written in a form Python does not read: the expression is evaluated
    ("timedelta(minutes=5) - timedelta(minutes=2) = 00:03:00", "00:03:00"),
])
def test_expressions_evaluate_to_answers(expr, value):
    assert run_program(expr) == value


@pytest.mark.parametrize("expr", [
    "", "Kradoupevstad", "Beyond Vibaidro (from 1985)", '__import__("os").system("true")', "open('/etc/passwd')",
    "2 ** 10000000", "1 > 2", "argmin({})", "(1).__class__",
    "sum(range(10**12))",  # a range too long to walk
    "x = x + 1", "0*x = 5",  # an equation with no solution
    "x + y = 3", "b = a * 2",  # more unknowns than one equation solves
    "date(2022, 2, 30)", "= 4",
])
def test_what_is_not_a_safe_answer_is_a_program_error(expr):
    with pytest.raises(ProgramError):
        run_program(expr)


def test_only_synthesis_steps_over_two_numbers_are_programs():
    assert is_program_step("How many years are there between 1979 and 2003?", synthesis=True)
    assert is_program_step("Of A (population 3,014,400) and B (population 129,900), which is larger?", synthesis=True)
    assert not is_program_step("How many years are there between 1979 and 2003?", synthesis=False)
    assert not is_program_step("Which person appears in both A, B and C and B, D?", synthesis=True)
    assert not is_program_step("In what year was Tarn 2 founded?", synthesis=True)
    assert is_program_step("Every resident of Jowu (68,700 people) buys three tickets. How many are sold?", synthesis=True)
    assert not step_prompt("How many years between 1979 and 2003?", synthesis=True, retriever=None, budget=100,
                           programs=False).program


class SmallModel(ScriptedModel):
    """Writes `program` when asked for an expression, and answers `plain` otherwise."""

    def __init__(self, program: str, plain: str) -> None:
        super().__init__("s", {}, default=(plain, 0.9))
        self.program = program

    def generate(self, messages, params):
        if _is_program_prompt(messages):
            self.rules = {"between 1979 and 2003": (self.program, 0.9)}
        c = super().generate(messages, params)
        self.rules = {"When was A born": ("1979", 0.95), "When was B born": ("2003", 0.95)}
        return c


def _pool(small_program: str, small_plain: str = "10"):
    small = SmallModel(small_program, small_plain)
    large = ScriptedModel("l", {}, default=("24", 0.99))
    dec = ScriptedModel("d", {}, default=("1. When was A born?\n2. When was B born?\n"
                                          "3. How many years are there between #1 and #2?", 1.0))
    small.rules = {"When was A born": ("1979", 0.95), "When was B born": ("2003", 0.95)}
    pool = make_pool({"s": ("small", 0.1, small), "d": ("medium", 1.0, dec), "l": ("large", 10.0, large)})
    return pool, small


def _is_program_prompt(msgs) -> bool:
    return "Python expression" in msgs[0]["content"]


def test_a_program_step_answers_with_the_value_and_records_the_expression():
    pool, small = _pool("abs(2003 - 1979)")
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5))).answer("Q?", "A was born in 1979.")
    assert t.answer == "24" and t.steps[2].model == "s"
    assert t.steps[2].query == "How many years are there between 1979 and 2003?"
    call = t.steps[2].calls[-1]
    assert call.program == "abs(2003 - 1979)" and call.text == "24" and call.note is None
    assert _is_program_prompt(small.prompts[-1]) and not _is_program_prompt(small.prompts[0])
    assert "program" in t.to_dict()["steps"][2]["calls"][-1]


def test_an_expression_that_does_not_evaluate_falls_back_to_a_plain_answer_billed_for_both():
    pool, small = _pool("the difference is 24 years")  # not an expression
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), FixedAllocator("s")).answer("Q?", "A was born in 1979.")
    step = t.steps[2]
    assert step.answer == "10"  # the plain answer, as before programs
    assert [_is_program_prompt(p) for p in small.prompts[-2:]] == [True, False]
    call = step.calls[-1]
    assert call.program == "the difference is 24 years" and "cannot evaluate" in call.note
    # both calls are billed: program prompt + plain prompt tokens
    assert call.input_tokens == sum(len(m["content"].split()) for m in small.prompts[-2]) + \
        sum(len(m["content"].split()) for m in small.prompts[-1])


def test_a_programs_confidence_is_over_the_tokens_it_evaluated():
    from subroute.execute import read_tokens
    from subroute.models.base import Completion, TokenLogprob, Usage

    probs = [(" 205", 0.9), (" *", 0.95), (" 838", 0.9), (" =", 0.5), (" 17", 0.1), (",000", 0.1), (",000", 0.2)]
    c = Completion("m", "205 * 838 = 17,000,000", Usage(1, 7), tokens=[TokenLogprob(t, math.log(p)) for t, p in probs])
    kept = read_tokens(c, "205 * 838")  # the model's guess at the product after "=" is not read
    assert [t.token for t in kept] == [" 205", " *", " 838"]
    assert read_tokens(c, "4 * 5") == c.tokens  # cannot be placed: every token counts


def test_a_program_cut_off_at_the_token_limit_is_asked_plainly():
    class Cut(ScriptedModel):  # writes a number that runs on until the token limit, as Qwen-1.5B did
        def generate(self, messages, params):
            if not _is_program_prompt(messages):
                return super().generate(messages, params)
            return replace(super().generate(messages, params), text="10.000000000000000000", finish_reason="length")

    m = Cut("s", {}, default=("6.32", 0.8))
    pool = make_pool({"s": ("small", 0.1, m)})
    prompt = step_prompt("What is 4.180 + 7.365 / 3.440?", synthesis=True, retriever=None, budget=100)
    c = prompt.ask(pool["s"])
    assert c.text == "6.32" and "cut off at the token limit" in c.extra["program_error"]

def test_programs_off_asks_plainly():
    pool, small = _pool("abs(2003 - 1979)")
    r = Reasoner(pool, PromptedDecomposer(pool, "d"), FixedAllocator("s"), programs=False)
    assert r.answer("Q?", "A was born in 1979.").answer == "10"
    assert not any(_is_program_prompt(p) for p in small.prompts)


@pytest.mark.parametrize("query,want", [
    ("Which took place later, the Wakiath Exhibition (held in 1967) or the Resariav Summit (held in 1983)?", "max"),
    ("Of A (from 1987), B (from 1950) and C (from 1967), which came out first?", "min"),
    ("Which city has fewer inhabitants, A (population 36,200) or B (population 57,000)?", "min"),
    ("Which river is the longest, A (length 839) or B (length 2898)?", "max"),
    ("How many years are there between 1979 and 2003?", None),
    ("Which came first and which came last, A (1990) or B (1991)?", None),  # both ends asked: left alone
])
def test_the_end_of_the_scale_a_question_asks_for(query, want):
    assert asked_extreme(query) == want


def test_a_comparison_program_is_turned_to_the_end_the_question_asks_for():
    q = "Which was founded later, Kebrostais Breweries (founded in 2023) or Cainiadourk Press (founded in 1957)?"
    expr, note = orient(q, 'argmin({"Kebrostais Breweries": 2023, "Cainiadourk Press": 1957})')
    assert run_program(expr) == "Kebrostais Breweries" and "argmin read as argmax" in note
    assert orient(q, 'argmax({"A": 1, "B": 2})') == ('argmax({"A": 1, "B": 2})', None)  # already right
    assert orient(q, 'min({"A": 1, "B": 2})')[0] == 'max({"A": 1, "B": 2})'
    assert orient(q, "abs(2023 - 1957)") == ("abs(2023 - 1957)", None)  # not a pick from a mapping
    assert orient("How many years between 1957 and 2023?", 'argmin({"A": 1})')[1] is None


def test_a_turned_program_is_answered_and_noted_in_the_trace():
    small = ScriptedModel("s", {"founded later": ('argmin({"Ash Bank": 1990, "Elm Press": 1975})', 0.9)})
    pool = make_pool({"s": ("small", 0.1, small)})
    p = step_prompt("Which was founded later, Ash Bank (founded in 1990) or Elm Press (founded in 1975)?",
                    synthesis=True, retriever=None, budget=100)
    c = p.ask(pool["s"])
    assert c.text == "Ash Bank" and c.extra["program"].startswith("argmax(")
    q = "Which was founded later, Ash Bank (founded in 1990) or Elm Press (founded in 1975)?"
    rec = Executor(pool, FixedAllocator("s")).run_step(Subtask(1, q, (), "synthesis"), [], None)
    assert rec.answer == "Ash Bank" and "argmin read as argmax" in rec.note


def test_ask_tree_shows_the_program():
    from subroute.cli.ask import format_trace

    pool, small = _pool("abs(2003 - 1979)")
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), FixedAllocator("s")).answer("Q?", "A was born in 1979.")
    assert "program abs(2003 - 1979)" in format_trace(t).splitlines()[-2]


@pytest.mark.slow
@pytest.mark.parametrize("model,query,answer", [
    # Qwen-0.5B asked plainly says "10" to every such step (14 of 14 measured)
    ("qwen-0.5b", "How many years are there between 1979 and 2003?", "24"),
    # Qwen-1.5B asked plainly names the earlier one here
    ("qwen-1.5b", "Which was founded later, Rodaicu Studios (founded in 2005) or Gustend Savings (founded in 2021)?",
     "Gustend Savings"),
])
def test_real_models_compute_program_steps(default_pool, model, query, answer):
    p = step_prompt(query, synthesis=True, retriever=None, budget=100)
    c = p.ask(default_pool[model])
    assert p.program and c.text == answer and c.extra["program"]


def test_count_step_matches_only_counting_over_one_earlier_answer():
    from subroute.program import count_step

    assert count_step("How many entries are in #2?", ["x", "Ash Bank, Elm Press and Oak Mill."]) == (2, 3)
    assert count_step("how many items in #1", ["Ash Bank"]) == (1, 1)
    assert count_step("How many entries are in #3?", ["x", "y"]) is None  # no such answer
    assert count_step("How many people live in #1?", ["Tarnholm"]) is None
    assert count_step("How many entries are in #1?", [""]) is None


def test_intersect_step_matches_the_generators_wording_only():
    from subroute.program import intersect_step

    lists = ["Ash Bank, Elm Press", "Elm Press and the Oak Mill", "Oak Mill"]
    assert intersect_step("Which organization appears in both #1 and #2?", lists) == (1, 2, ["Elm Press"])
    assert intersect_step("Who appears in both #2 and #3?", lists) == (2, 3, ["the Oak Mill"])  # scored up to articles
    assert intersect_step("Which city appears in both #1 and #3?", lists) is None  # nothing shared
    assert intersect_step("Which city appears in both #1 and #4?", lists) is None  # no such answer
    assert intersect_step("Which city is larger, #1 or #2?", lists) is None


@pytest.mark.parametrize("text, expr", [
    ("Calculate ( 56 + -33 ) - 84.", "( 56 + -33 ) - 84"), ("Calculate -( 20 + 67 + -59 ).", "-( 20 + 67 + -59 )"),
    ("State the final answer to the following arithmetic problem: 205 - 838 + 505 =", "205 - 838 + 505"),
    ("Solve the following multiplication: 205 * 838. Give only the result.", "205 * 838"),
    ("Round to 12 significant digits.\n((1.691/2.540)+0.325) = ?", "((1.691/2.540)+0.325)"),
    ("What is 18 × 43?", "18 * 43"), ("What is 2^10?", "2**10"),
    # not a request to compute: a date, a range, an equation with its value, a statement before the question,
    # two expressions, an expression inside a sentence
    ("How many days from 2022-10-28 to 2022-11-05?", None), ("Use 2-4 hops.", None), ("Is 3 + 4 = 7?", None),
    ("The fee is 5 * 100. How many dollars are left after 20?", None), ("What is 3 + 4 and what is 5 * 6?", None),
    ("Solve for y: 4*y + 7 = 31", None), ("A crate holds 12 jars. Ines fills 3 crates. How many jars?", None),
    # an example of the answer's form; a power of a negative number or the negative of a power (the text does not say)
    ("Find the prime factorization of 639 (Example: for 12 the answer would be: 2 × 2 × 3)", None),
    ("Compute -352.3345^-2.", None), ("What is 3 * -2^2?", None), ("What is 3 - 2^2?", "3 - 2**2"),
])
def test_stated_arithmetic_finds_the_expression_a_question_asks_to_compute(text, expr):
    from subroute.program import stated_arithmetic

    assert stated_arithmetic(text) == expr


def test_a_step_that_writes_out_its_arithmetic_is_computed_with_no_call():
    from subroute.program import COMPUTED, exact_step

    assert exact_step("What is 2 * #1?", ["31"]) == (COMPUTED, "62", "evaluated 2 * 31 as written; no call")
    assert exact_step("What is 10 / 0?", []) is None  # it does not evaluate: a model is asked
    assert exact_step("What is the population of #1?", ["Tarn"]) is None
    assert exact_step("What is 3 * #2?", ["x", "42,100"])[1] == "126300"  # an answer's thousands separators
    pool = make_pool({"s": ("small", 0.1, ScriptedModel("s", {}, default=("138000", 0.9)))})
    ask = "Calculate 415 * 336 - 590."
    rec = Executor(pool, CascadeAllocator(0.5)).run_step(Subtask(1, ask, type="synthesis"), [], None)
    assert rec.answer == "138850" and rec.model == COMPUTED and rec.calls == [] and rec.note.endswith("no call")
    # only program steps are computed: a plain step (the cascade baseline's whole question), or programs off, asks
    assert Executor(pool, CascadeAllocator(0.5)).run_step(Subtask(1, ask), [], None).answer == "138000"
    assert Executor(pool, CascadeAllocator(0.5), programs=False).run_step(
        Subtask(1, ask, type="synthesis"), [], None).answer == "138000"
