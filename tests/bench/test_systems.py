from subroute.bench.systems import OracleSystem
from subroute.records import Example, GoldStep
from tests.fakes import ScriptedModel, make_pool

CONTEXT = "Mirela Voss founded Voss Glassworks and Orvane Foods.\n\nOrvane Foods sells bread in Kessel."


def test_the_oracle_counts_a_counting_step_as_the_router_does():
    small = ScriptedModel("s", {"Which companies": ("Voss Glassworks and Orvane Foods", 0.9)}, default=("3", 0.9))
    large = ScriptedModel("l", {}, default=("2", 0.99))
    pool = make_pool({"s": ("small", 0.1, small), "l": ("large", 10.0, large)})
    ex = Example("q1", "How many companies did Mirela Voss found?", "2", context=CONTEXT, decomposition=[
        GoldStep("Which companies did Mirela Voss found?", "Voss Glassworks and Orvane Foods",
                 answer_set=("Voss Glassworks", "Orvane Foods")),
        GoldStep("How many entries are in #1?", "2", "synthesis", (1,))])
    r, _ = OracleSystem(pool).run(ex)
    assert r.correct and r.hops_correct == [True, True]
    assert [c.model for c in r.calls] == ["s"]  # the count costs nothing
    assert not any("How many" in p[-1]["content"] for p in small.prompts + large.prompts)
