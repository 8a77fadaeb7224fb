"""Real local models through llama.cpp (the default pool, pulled by .ci/run)."""

import math

import numpy as np
import pytest

from subroute import SubrouteError
from subroute.models.llamacpp import load_llama
from subroute.prompts import answer_messages
from tests.conftest import CONTEXT

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "model, context, question, answer",
    [
        # the 135M model handles a one-fact lookup, not a passage (shared MODELS.md: 6/10)
        ("smollm2-135m", CONTEXT.split(". ")[0] + ".", "Where was Mirela Voss born?", "tarnholm"),
        ("qwen-0.5b", CONTEXT, "In which year did Mirela Voss found Voss Glassworks?", "1958"),
        ("qwen-1.5b", CONTEXT, "Which river flows through the city where Voss Glassworks is based?", "ambrel"),
    ],
)
def test_each_default_model_answers(default_pool, model, context, question, answer):
    c = default_pool[model].generate(answer_messages(question, context), max_tokens=24)
    assert answer in c.text.lower()
    assert c.usage.input_tokens > 30 and c.usage.output_tokens == len(c.tokens) > 0
    assert c.cost == pytest.approx(default_pool[model].cost(c.usage.input_tokens, c.usage.output_tokens))
    assert all(t.logprob <= 0 for t in c.tokens)
    assert 0 < c.confidence() <= 1 and c.latency_s > 0


def test_logprobs_equal_llama_cpp_logits_all(default_pool):
    """Our last-position log-softmax gives the same numbers as llama-cpp-python keeping
    every position's logits (logits_all=True), its own route to logprobs."""
    import llama_cpp

    m = default_pool["smollm2-135m"]
    msgs = answer_messages("Where was Mirela Voss born?", CONTEXT)
    c = m.generate(msgs, max_tokens=12)
    backend = m.backend
    prompt, _ = backend.prompt_tokens(msgs)
    gen = [backend.llm.tokenize(t.token.encode(), add_bos=False, special=False) for t in c.tokens]
    gen_ids = [g[0] for g in gen]
    ref = load_llama(llama_cpp, model_path=backend.path, n_ctx=1024, logits_all=True, verbose=False, n_threads=2)
    ref.eval(prompt)  # then one token at a time, the way generation feeds them back
    for t in gen_ids[:-1]:
        ref.eval([t])
    scores = np.asarray(ref.scores[: ref.n_tokens], dtype=np.float64)
    for i, (tok, got) in enumerate(zip(gen_ids, c.tokens)):
        row = scores[len(prompt) - 1 + i]
        lse = row.max() + math.log(np.exp(row - row.max()).sum())
        assert got.logprob == pytest.approx(row[tok] - lse, abs=2e-3)


def test_prefix_cache_reuse_does_not_change_answers(default_pool):
    m = default_pool["qwen-0.5b"]
    q1 = answer_messages("Where was Mirela Voss born?", CONTEXT)
    q2 = answer_messages("What is the name of Mirela Voss's company?", CONTEXT)
    a1 = m.generate(q1, max_tokens=16).text
    a2 = m.generate(q2, max_tokens=16).text
    assert m.generate(q1, max_tokens=16).text == a1  # after q2 shared the prefix
    assert m.generate(q2, max_tokens=16).text == a2


def test_sampling_is_seeded(default_pool):
    m = default_pool["smollm2-135m"]
    kw = dict(max_tokens=16, temperature=1.0)
    a = m.generate("Name a color.", seed=7, **kw).text
    assert m.generate("Name a color.", seed=7, **kw).text == a


def test_context_longer_than_window_is_one_line_error(default_pool):
    long = "Tarnholm is a town. " * 1500
    with pytest.raises(SubrouteError, match=r"longer than its context window of 4096; shorten the context"):
        default_pool["smollm2-135m"].generate(answer_messages("Where?", long))


def test_model_loaded_once_across_pools(default_pool):
    from subroute import Pool

    assert Pool.load()["smollm2-135m"].backend is default_pool["smollm2-135m"].backend


def test_an_amx_build_loads_without_extra_buffer_types():
    """llama.cpp's AMX repacking crashes on Q4_K weights (ggml-org/llama.cpp#20824): on a
    build that reports AMX, models load with extra buffer types off, for that load only."""
    from types import SimpleNamespace

    from subroute.models.llamacpp import amx_build

    seen = []

    class Params:
        use_extra_bufts = True

    low = SimpleNamespace(llama_model_default_params=Params)
    fake = SimpleNamespace(llama_cpp=low, llama_print_system_info=lambda: b"CPU : AVX2 = 1 | AMX_INT8 = 1 |",
                           Llama=lambda **kw: seen.append(low.llama_model_default_params().use_extra_bufts))
    assert amx_build(fake)
    load_llama(fake, model_path="x")
    assert seen == [False] and low.llama_model_default_params is Params  # restored after the load
    fake.llama_print_system_info = lambda: b"CPU : AVX2 = 1 | AMX_INT8 = 0 |"
    load_llama(fake, model_path="x")
    assert seen == [False, True]
