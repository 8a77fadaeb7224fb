"""Summary figures on a hand-built benchmark whose every number is worked out by hand.

Four examples (e1, e2 with 2 hops; e3, e4 with 3 hops). Costs per question:
direct:small 0.001, direct:mid 0.005, direct:large 0.010, router@0.5 0.0025 (probe on
small 0.0005 + step on medium 0.002), router@0.9 0.00375, oracle 0.002.
Correct: small e1; mid e1-e3; large e1-e3 (e4 failed with an error, its call still
charged); router@0.5 e1-e3; router@0.9 and oracle all four.
"""

from __future__ import annotations

import pytest

from subroute.bench.metrics import apgr, best_single, pareto_front, summarize
from subroute.bench.records import Result
from subroute.records import Example
from subroute.trace import CallRecord

IDS = ["e1", "e2", "e3", "e4"]


def _call(tier: str, cost: float, role: str = "answer", tin: int = 100, tout: int = 10, lat: float = 0.1) -> CallRecord:
    return CallRecord(f"m-{tier}", tier, role, tin, tout, cost, lat)  # type: ignore[arg-type]


def _direct(model: str, tier: str, cost: float, correct: set[str], failed: str = "") -> list[Result]:
    return [Result(f"direct:{model}", "direct", i, "x", i in correct, 1.0 if i in correct else 0.0,
                   [_call(tier, cost)], error="timed out" if i == failed else None) for i in IDS]


def scenario() -> tuple[list[Result], list[Example]]:
    examples = [Example(i, f"q {i}", "a", meta={"hops": 2 if i in ("e1", "e2") else 3}) for i in IDS]
    rs: list[Result] = []
    rs += _direct("small", "small", 0.001, {"e1"})
    rs += _direct("mid", "medium", 0.005, {"e1", "e2", "e3"})
    rs += _direct("large", "large", 0.010, {"e1", "e2", "e3"}, failed="e4")
    hops = {"e1": [True, True], "e2": [True, True], "e3": [True, False], "e4": [True, True]}
    for i in IDS:
        rs.append(Result("router@0.5", "router", i, "x", i != "e4", 0.5,
                         [_call("small", 0.0005, "probe"), _call("medium", 0.002, "step")], 0.5, hops[i]))
    for i in IDS:
        rs.append(Result("router@0.9", "router", i, "x", True, 1.0,
                         [_call("small", 0.00075, "probe"), _call("large", 0.003, "step")], 0.9))
    for i in IDS:
        rs.append(Result("oracle", "oracle", i, "a", True, 1.0, [_call("small", 0.002, "step")], None, [True, True]))
    return rs, examples


@pytest.fixture()
def rows() -> dict[str, dict]:
    rs, exs = scenario()
    return {r["name"]: r for r in summarize(rs, exs)}


def test_rows_sorted_by_family_then_cost() -> None:
    rs, exs = scenario()
    names = [r["name"] for r in summarize(rs, exs)]
    assert names == ["direct:small", "direct:mid", "direct:large", "router@0.5", "router@0.9", "oracle"]


def test_basic_figures(rows: dict[str, dict]) -> None:
    r = rows["router@0.5"]
    assert (r["family"], r["param"], r["n"]) == ("router", 0.5, 4)
    assert r["accuracy"] == pytest.approx(0.75)
    assert r["f1"] == pytest.approx(0.5)
    assert r["cost"] == pytest.approx(0.01)
    assert r["cost_per_question"] == pytest.approx(0.0025)
    assert (r["input_tokens"], r["output_tokens"], r["tokens"]) == (800, 80, 880)
    assert r["latency_s"] == pytest.approx(0.2)
    assert (r["calls"], r["failed"]) == (8, 0)
    assert rows["direct:large"]["failed"] == 1
    assert rows["direct:large"]["cost"] == pytest.approx(0.04)
    assert rows["direct:small"]["accuracy"] == pytest.approx(0.25)


def test_best_single_breaks_ties_by_cost(rows: dict[str, dict]) -> None:
    assert best_single(rows.values())["name"] == "direct:mid"  # type: ignore[index]
    assert best_single([rows["router@0.5"]]) is None


def test_relative_costs(rows: dict[str, dict]) -> None:
    assert rows["router@0.5"]["cost_reduction_vs_best_single"] == pytest.approx(0.5)
    assert rows["router@0.9"]["cost_reduction_vs_best_single"] == pytest.approx(0.25)
    assert rows["direct:large"]["cost_reduction_vs_best_single"] == pytest.approx(-1.0)
    assert rows["direct:mid"]["cost_reduction_vs_best_single"] == pytest.approx(0.0)
    assert rows["router@0.9"]["accuracy_vs_best_single"] == pytest.approx(0.25)
    assert rows["router@0.5"]["cost_above_oracle"] == pytest.approx(0.25)
    assert rows["direct:large"]["cost_above_oracle"] == pytest.approx(4.0)
    assert rows["oracle"]["cost_above_oracle"] == pytest.approx(0.0)


def test_hops_and_compositionality_gap(rows: dict[str, dict]) -> None:
    r = rows["router@0.5"]
    assert r["per_hop_accuracy"] == pytest.approx(7 / 8)
    assert r["hop_aligned"] == 4
    # e1, e2, e4 had every hop right; e4's final answer was wrong anyway
    assert r["compositionality_gap"] == pytest.approx(1 / 3)
    assert r["accuracy_by_hops"] == {"2": 1.0, "3": 0.5}
    assert rows["oracle"]["compositionality_gap"] == 0.0
    assert rows["router@0.9"]["per_hop_accuracy"] is None
    assert rows["router@0.9"]["compositionality_gap"] is None


def test_breakdowns(rows: dict[str, dict]) -> None:
    r = rows["router@0.5"]
    assert set(r["calls_by_tier"]) == {"small", "medium"}
    assert r["calls_by_tier"]["small"]["calls"] == 4
    assert r["calls_by_tier"]["small"]["cost"] == pytest.approx(0.002)
    assert r["calls_by_tier"]["medium"]["cost"] == pytest.approx(0.008)
    assert r["calls_by_tier"]["medium"]["tokens"] == 440
    assert r["calls_by_role"]["probe"]["calls"] == 4
    assert r["calls_by_role"]["step"]["cost"] == pytest.approx(0.008)


def test_pareto_marks_and_apgr(rows: dict[str, dict]) -> None:
    assert {n for n, r in rows.items() if r["on_pareto_front"]} == {"direct:small", "oracle"}
    # weak = direct:small (0.004, 0.25), strong = direct:mid (0.02, 0.75); normalized router
    # points (0.375, 1.0) and (0.6875, 1.5): area 0.1875 + 0.390625 + 0.46875
    assert rows["router@0.5"]["apgr"] == pytest.approx(1.046875)
    assert rows["router@0.9"]["apgr"] == rows["router@0.5"]["apgr"]
    assert rows["direct:mid"]["apgr"] == pytest.approx(0.5)
    assert rows["oracle"]["apgr"] == pytest.approx(0.1875 + 1.125)


def test_without_references_the_relative_figures_are_null() -> None:
    rs, exs = scenario()
    only = [r for r in rs if r.system.startswith("router")]
    rows = summarize(only, exs)
    assert all(r["cost_reduction_vs_best_single"] is None and r["cost_above_oracle"] is None for r in rows)
    assert all(r["apgr"] is None for r in rows)


def test_failed_result_without_calls_counts_as_wrong() -> None:
    ex = [Example("e1", "q", "a"), Example("e2", "q", "a")]
    rs = [Result("direct:m", "direct", "e1", "a", True, 1.0, [_call("small", 0.5)]),
          Result("direct:m", "direct", "e2", "", False, 0.0, [], error="boom")]
    (row,) = summarize(rs, ex)
    assert (row["n"], row["accuracy"], row["cost"], row["failed"]) == (2, 0.5, 0.5, 1)
    assert row["accuracy_by_hops"] is None and row["cost_above_oracle"] is None


def test_pareto_front() -> None:
    pts = [(1.0, 0.5), (2.0, 0.5), (0.5, 0.2), (3.0, 0.9), (1.0, 0.5), (1.0, 0.4), (4.0, 0.9)]
    assert pareto_front(pts) == [(0.5, 0.2), (1.0, 0.5), (3.0, 0.9)]
    assert pareto_front([]) == []


def test_apgr_definition() -> None:
    weak, strong = (1.0, 0.2), (3.0, 0.6)
    assert apgr([strong], weak, strong) == pytest.approx(0.5)  # the same as mixing weak and strong
    assert apgr([weak], weak, strong) == pytest.approx(0.0)
    # strong accuracy at half the strong model's extra cost: triangle 0.25 + rectangle 0.5
    assert apgr([(2.0, 0.6)], weak, strong) == pytest.approx(0.75)
    # a dominated point adds nothing; spending beyond the strong model is credited only by mixing
    assert apgr([(2.0, 0.6), (2.5, 0.4)], weak, strong) == pytest.approx(0.75)
    assert apgr([(5.0, 0.6)], weak, strong) == pytest.approx(0.25)  # mixed with weak: y=0.5 at x=1
    assert apgr([(2.0, 0.6)], weak, (1.0, 0.6)) is None
    assert apgr([(2.0, 0.6)], weak, (3.0, 0.2)) is None
