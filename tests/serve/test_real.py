"""The server with real models on 127.0.0.1, through the official openai client: the
default local pool (pass-through and router), 32 concurrent requests against the same
requests one at a time, and a served backend (llama-cpp-python's own OpenAI server)."""

from __future__ import annotations

import gc
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from subroute import Pool
from subroute.models.llamacpp import LlamaCppModel
from subroute.prompts import answer_messages
from subroute.reasoner import Reasoner
from subroute.serve import create_app
from tests.conftest import CONTEXT
from tests.fakes import DISTRACTORS
from tests.serve.conftest import client
from tests.servers import llama_cpp_server

pytestmark = pytest.mark.slow
QUESTION = "Where was the founder of Voss Glassworks born?"
SHORT = [f"Question {i}: " + q for i, q in enumerate(
    ["What is the capital of France?", "Name a colour.", "What is 2 plus 3?", "Say hello.",
     "Name an animal.", "What is water made of?", "Name a fruit.", "What day follows Monday?"])]


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def _ask(c: openai.OpenAI, model: str, q: str) -> str:
    r = c.chat.completions.create(model=model, messages=[{"role": "user", "content": q}], max_tokens=12, temperature=0)
    return r.choices[0].message.content


def test_default_pool_pass_through_and_router(serve, default_pool):
    base = serve(create_app(default_pool, token=""))
    c = client(base, timeout=120)
    assert {m.id for m in c.models.list().data} == {"subroute", "subroute:cascade", *default_pool.names}
    r = c.chat.completions.create(model="qwen-0.5b", max_tokens=16, messages=[
        {"role": "system", "content": "Answer with the place name only."},
        {"role": "user", "content": f"Context: {CONTEXT}\nQuestion: Where was Mirela Voss born?"}])
    assert "tarnholm" in r.choices[0].message.content.lower()
    assert r.usage.prompt_tokens > 30 and r.model_extra["subroute"]["cost"] > 0
    cut = c.chat.completions.create(model="smollm2-135m", max_tokens=2,
                                    messages=[{"role": "user", "content": "Write a long story."}])
    assert cut.choices[0].finish_reason == "length" and cut.usage.completion_tokens == 2
    # the router: same answer and same steps as the Reasoner called directly
    docs = CONTEXT + "\n\n" + DISTRACTORS  # longer than one step's passages: the router splits the question
    r = c.chat.completions.create(model="subroute", messages=[{"role": "system", "content": docs},
                                                              {"role": "user", "content": QUESTION}])
    info = r.model_extra["subroute"]
    trace = c.get(f"/traces/{info['trace_id']}", cast_to=object)
    direct = Reasoner.default(default_pool).answer(QUESTION, docs)
    direct_trace = direct.to_dict()
    assert r.choices[0].message.content == direct.answer and direct.answer
    assert [s["model"] for s in trace["steps"]] == [s["model"] for s in direct_trace["steps"]]
    assert info["steps"] == len(direct.steps) >= 1
    assert trace["overhead"][0]["role"] == "decompose"  # it decomposed (the shipped trained decomposer)
    assert trace["overhead"][0]["model"] == direct_trace["overhead"][0]["model"] == "smollm2-135m"
    assert r.usage.total_tokens == direct.tokens and info["cost"] == pytest.approx(direct.cost)


def test_32_concurrent_requests_match_sequential_ones_without_reloading(serve, default_pool):
    app = create_app(default_pool, token="", max_concurrency=8, max_queue=64)
    base = serve(app)
    c = client(base, timeout=120)
    backend = default_pool["smollm2-135m"].backend
    qs = SHORT * 4  # 32 requests, each question four times
    sequential = {q: _ask(c, "smollm2-135m", q) for q in SHORT}
    rss0 = _rss_mb()
    for round_ in range(2):
        t0 = time.time()
        with ThreadPoolExecutor(32) as ex:
            got = list(ex.map(lambda q: _ask(client(base, timeout=120), "smollm2-135m", q), qs))
        assert time.time() - t0 < 60
        assert got == [sequential[q] for q in qs]
        if round_ == 0:
            rss1 = _rss_mb()
    assert _rss_mb() - rss1 < 50, "memory grew across identical rounds"
    assert rss1 - rss0 < 200
    # one llama.cpp instance per GGUF file (and adapter: the trained decomposer runs SmolLM2
    # with its LoRA), the one the pool made before the requests
    assert default_pool["smollm2-135m"].backend is backend
    gc.collect()
    keys = [(o.path, o.lora_path) for o in gc.get_objects() if isinstance(o, LlamaCppModel)]
    assert len(keys) == len(set(keys)) and (backend.path, None) in keys
    # a second app over a freshly loaded pool file shares the same backends
    assert Pool.load()["smollm2-135m"].backend is backend
    assert app.state.admission.pending == 0


@pytest.fixture(scope="module")
def served_smol(default_pool):
    with llama_cpp_server(default_pool["smollm2-135m"].model_path()) as served:
        yield served


def test_served_backend_through_the_server_then_down(serve, served_smol, tmp_path):
    url, proc = served_smol
    f = tmp_path / "pool.toml"
    f.write_text(f"""
[[models]]
name = "served-smol"
backend = "openai"
base_url = "{url}"
model = "smol"
tier = "small"
price_in = 1.0
price_out = 2.0
timeout_s = 30
max_retries = 0

[[models]]
name = "local-smol"
backend = "llamacpp"
catalog = "smollm2-135m"
tier = "small"
params_b = 0.135
context_length = 4096
price_in = 1.0
price_out = 2.0
""")
    pool = Pool.load(f)
    base = serve(create_app(pool, token=""))
    c = client(base, timeout=120)
    msgs = answer_messages("Where was Mirela Voss born?", CONTEXT.split(". ")[0] + ".")
    r = c.chat.completions.create(model="served-smol", messages=msgs, max_tokens=16)
    assert "tarnholm" in r.choices[0].message.content.lower()
    assert r.choices[0].message.content == pool["served-smol"].generate(msgs, max_tokens=16).text
    assert r.usage.prompt_tokens > 20 and r.model_extra["subroute"]["cost"] == pytest.approx(
        (r.usage.prompt_tokens * 1.0 + r.usage.completion_tokens * 2.0) / 1e6)
    stream = c.chat.completions.create(model="served-smol", messages=msgs, max_tokens=16, stream=True)
    assert "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices) == r.choices[0].message.content
    # the backend goes away: a clear 502 naming it, and the server answers the next request
    proc.terminate()
    proc.wait(timeout=30)
    with pytest.raises(openai.APIStatusError) as ei:
        c.chat.completions.create(model="served-smol", messages=msgs, max_tokens=16)
    assert ei.value.status_code == 502 and ei.value.body["model"] == "served-smol"
    assert "cannot reach" in ei.value.message
    assert c.chat.completions.create(model="local-smol", messages=msgs, max_tokens=8).choices[0].message.content
