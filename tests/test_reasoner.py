import pytest

from subroute.allocate import ConfidenceAllocator, FixedAllocator
from subroute.decompose import GoldDecomposer, PromptedDecomposer, SingleStepDecomposer
from subroute.reasoner import Reasoner
from subroute.records import Example, GoldStep
from tests.fakes import VOSS_CONTEXT, voss_chain


def test_chain_routes_easy_steps_small_and_hard_step_large():
    pool, small, large, dec = voss_chain()
    r = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5)))
    t = r.answer("In which country was the founder of Voss Glassworks born?", VOSS_CONTEXT)
    assert t.error is None and t.answer == "Velmark"
    assert [s.model for s in t.steps] == ["s", "s", "l"]
    assert [s.query for s in t.steps][1] == "Where was Mirela Voss born?"
    # every call is charged: decomposition, three probes (two reused as answers), one large step
    roles = [c.role for c in t.calls]
    assert roles == ["decompose", "step", "step", "probe", "step"]
    assert t.cost == pytest.approx(sum(c.cost for c in t.calls)) and t.cost > 0




def test_backend_failure_is_recorded_not_raised():
    pool, small, large, dec = voss_chain()
    large.fail = True
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5))).answer("Q?", VOSS_CONTEXT)
    assert t.error and "model 'l'" in t.error and "cannot reach" in t.error
    assert len(t.steps) == 2  # the two steps before the failure are kept




def test_gold_and_single_step_decomposers():
    pool, *_ = voss_chain()
    ex = Example("e1", "Q?", "Velmark", decomposition=[GoldStep("Who founded Voss Glassworks?", "Mirela Voss"),
                                                        GoldStep("Where was #1 born?", "Tarnholm", depends_on=(1,))])
    t = Reasoner(pool, GoldDecomposer(), FixedAllocator("s")).answer(ex.question, VOSS_CONTEXT, ex)
    assert [s.gold_answer for s in t.steps] == ["Mirela Voss", "Tarnholm"] and t.answer == "Tarnholm"
    t = Reasoner(pool, SingleStepDecomposer(), FixedAllocator("l")).answer("Where?", VOSS_CONTEXT)
    assert len(t.steps) == 1 and t.overhead == []


def test_empty_question_is_refused():
    pool, *_ = voss_chain()
    from subroute import SubrouteError

    with pytest.raises(SubrouteError, match="the question is empty"):
        Reasoner(pool, SingleStepDecomposer(), FixedAllocator("l")).answer("  ")






















def test_the_decomposer_reads_a_short_setup_with_the_question():
    """A word problem's setup sentence names what the question asks about ("How many dollars
    do they pay?" alone names nothing): the decomposer reads both, the steps' passages get
    the setup as context; facts given in a "Given that" clause stay context only."""
    pool, *_ = voss_chain()

    class Seen(SingleStepDecomposer):
        reads_setup = True  # as a decomposer that splits

        def __init__(self) -> None:
            self.asked: list[str] = []

        def decompose(self, question, example=None):
            self.asked.append(question)
            return super().decompose(question, example)

    dec = Seen()
    r = Reasoner(pool, dec, FixedAllocator("s"))
    setup = "Each person who works for Voss Glassworks pays 5 dollars for a ticket."
    t = r.answer(f"{setup} How many dollars do they pay in all?", VOSS_CONTEXT, route="steps")
    assert dec.asked[-1] == f"{setup} How many dollars do they pay in all?"
    assert t.context_taken == [setup] and t.question == "How many dollars do they pay in all?"
    r.answer("Given that Mirela Voss founded Voss Glassworks, where was Mirela Voss born?", VOSS_CONTEXT,
             route="steps")
    assert dec.asked[-1] == "Where was Mirela Voss born?"


def test_max_tokens_bounds_steps_and_the_whole_route_alike():
    pool, *_ = voss_chain()
    r = Reasoner(pool, SingleStepDecomposer(), FixedAllocator("s"))
    r.max_tokens = 7
    assert (r.max_tokens, r.executor.max_tokens, r.whole.max_tokens) == (7, 7, 7)


def test_a_single_step_gets_the_question_alone_its_setup_is_context():
    pool, *_ = voss_chain()
    setup = "Each person who works for Voss Glassworks pays 5 dollars for a ticket."
    t = Reasoner(pool, SingleStepDecomposer(), FixedAllocator("s")).answer(
        f"{setup} How many dollars do they pay in all?", VOSS_CONTEXT)
    assert [s.query for s in t.steps] == ["How many dollars do they pay in all?"] and t.context_taken == [setup]
