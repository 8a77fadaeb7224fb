"""Route labels and the route policy: every route that applies is tried and priced, labels
resume, and the policy learns which route answers right most cheaply."""

import json

import numpy as np
import pytest

from subroute.allocate import ConfidenceAllocator
from subroute.decompose import PromptedDecomposer
from subroute.errors import SubrouteError
from subroute.gate import Gate
from subroute.learned import RoutePolicy
from subroute.reasoner import Reasoner
from subroute.records import Example
from subroute.train.routes import (
    RouteLabel,
    RouteTry,
    build_route_labels,
    evaluate_head,
    fit_logistic,
    head_rows,
    read_route_labels,
    train_route_policy,
)
from tests.fakes import VOSS_DOCUMENTS, ScriptedModel, make_pool


def _pool():
    small = ScriptedModel("s", {"Context:": ("42", 0.9), "legs": ("3 * 4 + 2 * 2", 0.95)}, default=("Velmark", 0.9))
    dec = ScriptedModel("d", {}, default=("1. Who founded Voss Glassworks?\n2. Where was #1 born?\n"
                                          "3. In which country is #2?", 1.0))
    large = ScriptedModel("l", {}, default=("Velmark", 0.99))
    return make_pool({"s": ("small", 0.1, small), "d": ("medium", 1.0, dec), "l": ("large", 10.0, large)})


EXAMPLES = [
    Example("legs", "Three cats and two birds stand here. How many legs do 3 cats and 2 birds have?", "16"),
    Example("voss", "In which country was the founder of Voss Glassworks born?", "Velmark",
            context=VOSS_DOCUMENTS + "\n\n" + ("Filler documents about other things. " * 30)),
]


def _router(pool):
    return Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator.at(0.5), gate=Gate.at(0.5))


def test_route_labels_try_every_route_that_applies_and_resume(tmp_path):
    pool = _pool()
    out = tmp_path / "labels.jsonl"
    labels = build_route_labels(pool, EXAMPLES, out, reasoner=_router(pool), progress=False)
    by_id = {lab.example_id: lab for lab in labels}
    legs = by_id["legs"]
    assert {t.route for t in legs.tries} == {"whole", "program"} and legs.split_features is None
    assert legs.tried("program").correct and legs.tried("program").answer == "16"
    assert not legs.tried("whole").correct  # the plain answer says 42
    voss = by_id["voss"]
    assert {t.route for t in voss.tries} == {"whole", "steps"} and voss.rules_split is True
    assert voss.split_features["steps"] == 3.0 and all(t.cost > 0 for t in voss.tries)
    # a rerun asks nothing again; a cut last line is redone
    lines = out.read_text().splitlines()
    out.write_text(lines[0] + "\n" + lines[1][:20])
    again = build_route_labels(pool, EXAMPLES, out, reasoner=_router(pool), progress=False)
    assert [lab.example_id for lab in again] == [lab.example_id for lab in labels]
    assert len(read_route_labels(out)) == 2


def test_a_broken_labels_file_is_named(tmp_path):
    p = tmp_path / "labels.jsonl"
    p.write_text("not json\n" + RouteLabel("a", "x", {}).to_json() + "\n")
    with pytest.raises(SubrouteError, match="line 1 is not a route label"):
        read_route_labels(p)


def test_fit_logistic_separates_and_is_weighted():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    mean, scale, w, b = fit_logistic(X, y, np.ones(4), l2=0.01)
    p = 1 / (1 + np.exp(-(((X - mean) / scale) @ w + b)))
    assert (p >= 0.5).tolist() == [False, False, True, True]


def _label(i, asks, program_ok, plain_ok, program_cost=2.0, plain_cost=1.0):
    return RouteLabel(f"q{i}", "t", {"asks_number": asks, "numbers": 1.0},
                      tries=[RouteTry("whole", plain_ok, plain_cost, "", 1), RouteTry("program", program_ok,
                                                                                      program_cost, "", 1)])


def test_the_policy_learns_where_the_program_is_the_cheapest_right_route(tmp_path):
    # programs are right where asks_number is 1, and the plain answer is right (and cheaper) where it is 0
    labels = [_label(i, 1.0, True, False) for i in range(10)] + [_label(i + 10, 0.0, True, True) for i in range(10)]
    names, X, y, w, pairs = head_rows(labels, "program")
    assert names == ["asks_number", "numbers"] and y.tolist() == [1.0] * 10 + [0.0] * 10
    assert w.tolist() == [8.0] * 10 + [1.0] * 10  # one route right and the other wrong weighs more
    cv = evaluate_head(X, y, w, pairs)
    assert cv["policy"]["accuracy"] == cv["always"]["accuracy"] == 1.0 and cv["policy"]["cost"] < cv["always"]["cost"]
    pool = _pool()
    run = train_route_policy(pool, labels, tmp_path / "route")
    assert "split" in run.skipped and set(run.heads) == {"program"}
    policy = RoutePolicy(tmp_path / "route", pool)
    assert policy.prob("program", {"asks_number": 1.0, "numbers": 1.0}) > 0.5
    assert policy.prob("program", {"asks_number": 0.0, "numbers": 1.0}) < 0.5
    assert policy.prob("split", {}) is None
    manifest = json.loads((tmp_path / "route" / "manifest.json").read_text())
    assert manifest["heads"]["program"]["cv"]["n"] == 20


def test_too_few_labels_are_refused(tmp_path):
    with pytest.raises(SubrouteError, match="no head of the route policy had enough labels"):
        train_route_policy(_pool(), [_label(0, 1.0, True, False)], tmp_path / "route")


def test_the_external_suites_seed_is_refused_for_training(tmp_path):
    from subroute.train.pipeline import train_routes

    with pytest.raises(SubrouteError, match="seed 1000 is the external suite's evaluation seed"):
        train_routes([], tmp_path, rg_tasks=["leg_counting"], rg_n=2, rg_seed=1000)


def test_a_head_that_loses_answers_on_held_out_folds_is_not_kept(tmp_path):
    # the program alone is right on every third question, both routes on the rest; the feature
    # says nothing of which, and unweighted the policy takes the cheaper plain answer throughout
    labels = [_label(i, float(i % 2), True, i % 3 != 0) for i in range(30)]
    names, X, y, w, pairs = head_rows(labels, "program", accuracy_weight=1.0)
    cv = evaluate_head(X, y, w, pairs)
    assert cv["policy"]["accuracy"] < cv["always"]["accuracy"] == 1.0
    with pytest.raises(SubrouteError, match=r"program: on held-out folds it answers .* not kept"):
        train_route_policy(_pool(), labels, tmp_path / "route", accuracy_weight=1.0)


def test_a_head_must_beat_both_fixed_routes_more_answers_or_as_many_for_less():
    from subroute.train.routes import beats_always

    def cv(policy, always, never):
        return {"policy": dict(zip(("accuracy", "cost"), policy)), "always": dict(zip(("accuracy", "cost"), always)),
                "never": dict(zip(("accuracy", "cost"), never))}

    assert beats_always(cv((0.7, 3.0), (0.6, 1.0), (0.4, 1.0)))      # more answers right
    assert beats_always(cv((0.6, 0.9), (0.6, 1.0), (0.4, 0.5)))      # as many, for less
    assert not beats_always(cv((0.6, 1.1), (0.6, 1.0), (0.4, 0.5)))  # as many, for more: no gain
    assert not beats_always(cv((0.5, 0.1), (0.6, 1.0), (0.4, 0.5)))  # fewer
