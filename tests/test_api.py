"""The public API: everything in `subroute.__all__` is importable from `subroute`, and a
question can be routed from Python as the README shows."""

import subroute
from subroute import ConfidenceAllocator, PromptedDecomposer, Reasoner, Trace
from tests.fakes import VOSS_CONTEXT, voss_chain


def test_every_public_name_resolves():
    missing = [n for n in subroute.__all__ if not hasattr(subroute, n)]
    assert not missing


def test_route_a_question_from_python_and_read_its_trace():
    pool, *_ = voss_chain()
    r = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5))
    t = r.answer("In which country was the founder of Voss Glassworks born?", context=VOSS_CONTEXT)
    assert isinstance(t, Trace) and t.answer == "Velmark"
    assert [s.model for s in t.steps] == ["s", "s", "l"] and t.cost == sum(c.cost for c in t.calls)
