import pytest

from subroute.allocate import CascadeAllocator, ConfidenceAllocator, RandomAllocator
from subroute.decompose import Subtask
from subroute.errors import ConfigError, SubrouteError
from subroute.pool import Pool
from tests.fakes import ScriptedModel, make_pool


def _pool(small_prob: float, medium_prob: float = 0.9, probe: str | None = None):
    s = ScriptedModel("s", {}, default=("A", small_prob))
    m = ScriptedModel("m", {}, default=("B", medium_prob))
    l_ = ScriptedModel("l", {}, default=("C", 0.99))
    return make_pool({"s": ("small", 0.1, s), "m": ("medium", 1.0, m), "l": ("large", 10.0, l_)},
                     probe=probe), (s, m, l_)


def solve_with(pool):
    return lambda model: model.generate("q")


@pytest.mark.parametrize("prob, expect_model, n_calls", [(0.95, "s", 1), (0.6, "m", 2), (0.3, "l", 2)])
def test_confidence_rule_maps_probe_confidence_to_tiers(prob, expect_model, n_calls):
    pool, _ = _pool(prob)
    a = ConfidenceAllocator((0.8, 0.5)).run(Subtask(1, "q"), solve_with(pool), pool)
    assert a.model.name == expect_model and len(a.calls) == n_calls
    assert a.confidence == pytest.approx(prob)
    if n_calls == 2:
        assert a.calls[0][0] == "probe" and a.calls[0][1].model == "s"


def test_confidence_rule_without_logprobs_goes_to_top_tier():
    assert ConfidenceAllocator((0.8, 0.5)).tier_index(None, 3) == 2


def test_thresholds_must_descend():
    with pytest.raises(ValueError):
        ConfidenceAllocator((0.3, 0.8))


def test_cascade_escalates_until_confident():
    pool, (s, m, l_) = _pool(0.3, 0.6)
    a = CascadeAllocator(0.7).run(Subtask(1, "q"), solve_with(pool), pool)
    assert a.model.name == "l" and [r for r, _ in a.calls] == ["probe", "probe", "step"]
    a = CascadeAllocator(0.5).run(Subtask(1, "q"), solve_with(pool), pool)
    assert a.model.name == "m" and len(a.calls) == 2


def test_a_surest_cascade_keeps_the_most_confident_answer_when_none_clears_the_threshold():
    l_ = ScriptedModel("l", {}, default=("C", 0.4))
    pool = make_pool({"s": ("small", 0.1, ScriptedModel("s", {}, default=("A", 0.3))),
                      "m": ("medium", 1.0, ScriptedModel("m", {}, default=("B", 0.6))), "l": ("large", 10.0, l_)})
    last = CascadeAllocator(0.7).run(Subtask(1, "q"), solve_with(pool), pool)
    assert last.model.name == "l" and last.completion.text == "C"
    surest = CascadeAllocator(0.7, surest=True).run(Subtask(1, "q"), solve_with(pool), pool)
    assert surest.model.name == "m" and surest.completion.text == "B" and surest.confidence == pytest.approx(0.6)
    assert [r for r, _ in surest.calls] == ["probe", "step", "probe"]  # all three paid for
    assert "kept m's answer" in surest.note
    # one that clears the threshold ends the climb, as before
    a = CascadeAllocator(0.5, surest=True).run(Subtask(1, "q"), solve_with(pool), pool)
    assert a.model.name == "m" and len(a.calls) == 2 and a.note is None

def test_random_is_seeded_and_uses_the_pool():
    pool, _ = _pool(0.5)
    picks = [RandomAllocator(3).run(Subtask(i, f"q{i}"), solve_with(pool), pool).model.name for i in range(30)]
    again = [RandomAllocator(3).run(Subtask(i, f"q{i}"), solve_with(pool), pool).model.name for i in range(30)]
    assert picks == again and set(picks) == {"s", "m", "l"}






def test_rambling_probe_counts_as_unsure():
    s = ScriptedModel("s", {}, default=("Mirela Voss was born in Tarnholm in 1931.", 0.99))
    m = ScriptedModel("m", {}, default=("Tarnholm", 0.9))
    l_ = ScriptedModel("l", {}, default=("Tarnholm", 0.99))
    pool = make_pool({"s": ("small", 0.1, s), "m": ("medium", 1.0, m), "l": ("large", 10.0, l_)})
    a = ConfidenceAllocator((0.8, 0.5)).run(Subtask(1, "q"), solve_with(pool), pool)
    assert a.confidence == 0.0 and a.model.name == "l"
    a = CascadeAllocator(0.7).run(Subtask(1, "q"), solve_with(pool), pool)
    assert a.model.name == "m" and a.completion.text == "Tarnholm"


@pytest.mark.parametrize("medium_prob, expect_model, roles", [(0.9, "m", ["step"]), (0.4, "l", ["probe", "step"])])
def test_confidence_rule_probes_with_the_pools_probe_model(medium_prob, expect_model, roles):
    pool, (s, m, l_) = _pool(0.99, medium_prob, probe="m")
    a = ConfidenceAllocator((0.8, 0.5)).run(Subtask(1, "q"), solve_with(pool), pool)
    assert a.model.name == expect_model and [r for r, _ in a.calls] == roles
    assert a.calls[0][1].model == "m"  # the small model is never asked, however sure it would be
    assert a.confidence == pytest.approx(medium_prob)


def test_cascade_starts_at_the_probe_or_at_start():
    pool, _ = _pool(0.99, 0.3, probe="m")
    a = CascadeAllocator(0.5).run(Subtask(1, "q"), solve_with(pool), pool)
    assert [c.model for _, c in a.calls] == ["m", "l"]
    pool, _ = _pool(0.3, 0.9)
    a = CascadeAllocator(0.5, start="medium").run(Subtask(1, "q"), solve_with(pool), pool)
    assert [c.model for _, c in a.calls] == ["m"]
    with pytest.raises(SubrouteError, match="neither a model nor a tier"):
        CascadeAllocator(0.5, start="huge").run(Subtask(1, "q"), solve_with(pool), pool)


def test_probe_must_name_a_model_of_the_pool():
    with pytest.raises(ConfigError, match=r"\[pool\] probe 'nope' is not a model"):
        Pool.from_dict({"pool": {"probe": "nope"}, "models": [
            {"name": "a", "backend": "openai", "base_url": "http://x/v1", "model": "a", "tier": "small",
             "price_in": 1, "price_out": 1}]})


def test_the_rule_at_a_threshold_sends_half_of_it_to_the_middle_tier():
    rule = ConfidenceAllocator.at(0.5)
    assert rule.thresholds == (0.5, 0.25) and rule.name == "confidence@0.5,0.25"
