"""Trace records: one CallRecord per call, its notes, and a trace's totals and order."""

import json

from subroute.models.base import Completion, Usage
from subroute.trace import ECHO_NOTE, CallRecord, StepRecord, Trace, write_traces
from tests.fakes import ScriptedModel, make_pool


def _pool():
    return make_pool({"s": ("small", 1.0, ScriptedModel("s", {})), "l": ("large", 10.0, ScriptedModel("l", {}))})


def _completion(model="s", text="Tarnholm", **extra) -> Completion:
    return Completion(model, text, Usage(100, 4), cost=0.5, latency_s=0.1, extra=extra)


def test_a_call_record_takes_tier_usage_and_says_what_happened():
    pool = _pool()
    r = CallRecord.of("step", _completion(echo=True, relisted=192), pool)
    assert (r.model, r.tier, r.role, r.input_tokens, r.output_tokens, r.cost) == ("s", "small", "step", 100, 4, 0.5)
    assert ECHO_NOTE in r.note and "asked again with 192 tokens" in r.note
    assert CallRecord.of("step", _completion(), pool).note is None
    p = CallRecord.of("step", _completion(text="24", program="abs(1979 - 2003)"), pool)
    assert p.program == "abs(1979 - 2003)" and p.text == "24"


def test_a_trace_counts_every_call_decomposition_first_integration_last(tmp_path):
    pool = _pool()
    dec, step, integ = (CallRecord.of(role, _completion(m), pool) for role, m in
                        [("decompose", "s"), ("step", "l"), ("integrate", "l")])
    s = StepRecord(1, "Where was X born?", "Where was X born?", (), None, "l", "large", "Tarnholm", 0.9, 1, 20, [step])
    t = Trace("t1", "Q?", "Tarnholm", "router", steps=[s], overhead=[dec, integ])
    assert [c.role for c in t.calls] == ["decompose", "step", "integrate"]
    assert t.cost == 1.5 and t.tokens == 3 * 104 and s.cost == 0.5
    write_traces(tmp_path / "t.jsonl", [t])
    d = json.loads((tmp_path / "t.jsonl").read_text())
    assert d["cost"] == 1.5 and d["steps"][0]["cost"] == 0.5 and d["steps"][0]["calls"][0]["tier"] == "large"


def test_a_token_routed_call_records_the_large_models_share_and_ask_prints_it():
    from subroute.cli.ask import format_trace

    pool = _pool()
    tr = {"small_in": 100, "small_out": 3, "large_in": 101, "large_out": 1, "large_calls": 1, "share": 0.25}
    r = CallRecord.of("step", _completion(tokenroute=tr), pool)
    assert r.large_share == 0.25 and CallRecord.of("step", _completion(), pool).large_share is None
    s = StepRecord(1, "Where was X born?", "Where was X born?", (), None, "s", "small", "Tarnholm", 0.9, 1, 20, [r])
    assert "25% of tokens by the large model" in format_trace(Trace("t", "Q?", "Tarnholm", "router", steps=[s]))
