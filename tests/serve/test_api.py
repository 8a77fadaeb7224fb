"""The server's API against scripted pools and misbehaving raw-socket backends, through
the official openai client and raw HTTP on 127.0.0.1: shapes, errors, limits, auth,
streaming, traces and metrics. Fast: no real model is loaded here (see test_real.py)."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from subroute import pool as pool_module
from subroute.models.base import Completion, GenerateParams, Message
from subroute.pool import Pool
from subroute.serve import create_app
from subroute.serve.chat import EmptyQuestion, question_and_context
from subroute.serve.schemas import ChatMessage
from tests.fakes import VOSS_DOCUMENTS, ScriptedModel, make_pool
from tests.serve.conftest import client
from tests.servers import RawServer, free_port

DECOMP = "1. Who founded Voss Glassworks?\n2. Where was #1 born?"


def _pool() -> Pool:
    small = ScriptedModel("small", {"Who founded": ("Mirela Voss", 0.95), "Where was Mirela Voss born": ("Tarnholm", 0.95)},
                          default=("small says hi", 0.9))
    large = ScriptedModel("large", {"Break the question": (DECOMP, 1.0)}, default=("large says hi", 0.99))
    large.rules = {}
    large.default = (DECOMP, 1.0)  # the large model decomposes (it is the pool's default model)
    return make_pool({"small": ("small", 0.1, small), "large": ("large", 10.0, large)})


def _post(base: str, body: bytes, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    host, port = base.split("//")[1].split("/")[0].split(":")
    h = http.client.HTTPConnection(host, int(port), timeout=20)
    h.request("POST", "/v1/chat/completions", body=body, headers={"Content-Type": "application/json", **(headers or {})})
    r = h.getresponse()
    data = r.read()
    h.close()
    return r.status, json.loads(data), dict(r.getheaders())


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _metrics(base: str, token: str | None = None) -> dict[tuple[str, tuple], float]:
    status, body = _get(base.removesuffix("/v1") + "/metrics", token)
    assert status == 200
    out = {}
    for fam in text_string_to_metric_families(body.decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


# the documents in a system message, as applications send them (without them, or with a context shorter than
# one step's passages, the gate routes the question whole)
USER = [{"role": "system", "content": VOSS_DOCUMENTS},
        {"role": "user", "content": "Where was the founder of Voss Glassworks born?"}]


# -- chat to question and context ---------------------------------------------------------

def test_last_user_message_is_the_question_and_the_rest_the_context():
    msgs = [ChatMessage(role="system", content="Mirela Voss was born in Tarnholm."),
            ChatMessage(role="user", content="Who is she?"), ChatMessage(role="assistant", content="A glassblower."),
            ChatMessage(role="user", content=[{"type": "text", "text": "Where was she born?"}])]
    q, ctx = question_and_context(msgs)
    assert q == "Where was she born?"
    assert ctx == "Mirela Voss was born in Tarnholm.\n\nWho is she?\n\nA glassblower."


def test_context_question_parts_are_split_only_at_a_line_start():
    from subroute.inline import split_inline

    # the message goes to the pipeline as sent; the pipeline splits it, and its trace says so
    msg = "Context:\nVoss was born in Tarnholm.\n\nQuestion: Where?"
    q, ctx = question_and_context([ChatMessage(role="user", content=msg)])
    assert (q, ctx) == (msg, None)
    inline = split_inline(q)
    assert (inline.question, inline.context(ctx)) == ("Where?", "Voss was born in Tarnholm.")
    q, ctx = question_and_context([ChatMessage(role="user", content="What is the question: why?")])
    assert (split_inline(q).question, split_inline(q).context(ctx)) == ("What is the question: why?", None)
    with pytest.raises(EmptyQuestion):
        question_and_context([ChatMessage(role="user", content="Context:\nVoss was born in Tarnholm.\n\nQuestion: ")])


# -- answers --------------------------------------------------------------------------------

def test_models_lists_routers_and_every_pool_model(serve):
    base = serve(create_app(_pool(), token=""))
    ids = [m.id for m in client(base).models.list().data]
    assert ids == ["subroute", "subroute:cascade", "small", "large"]
    assert client(base).models.retrieve("large").model_extra["subroute"]["tier"] == "large"


def test_router_answers_with_usage_cost_and_a_trace(serve):
    app = create_app(_pool(), token="")
    base = serve(app)
    r = client(base).chat.completions.create(model="subroute", messages=[
        {"role": "system", "content": "Voss Glassworks was founded by Mirela Voss.\n\nMirela Voss was born in Tarnholm."},
        *USER])
    assert r.object == "chat.completion" and r.model == "subroute"
    assert r.choices[0].message.content == "Tarnholm" and r.choices[0].finish_reason == "stop"
    info = r.model_extra["subroute"]
    assert info["steps"] == 2 and info["router"] == "subroute"
    status, body = _get(f"{base}/traces/{info['trace_id']}")
    trace = json.loads(body)
    assert status == 200 and [s["model"] for s in trace["steps"]] == ["small", "small"]
    assert trace["steps"][1]["query"] == "Where was Mirela Voss born?"
    # usage sums every call: the decomposition and both steps
    calls = [c for s in trace["steps"] for c in s["calls"]] + trace["overhead"]
    assert r.usage.prompt_tokens == sum(c["input_tokens"] for c in calls)
    assert r.usage.completion_tokens == sum(c["output_tokens"] for c in calls)
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
    assert info["cost"] == pytest.approx(trace["cost"]) and info["cost"] > 0


def test_statements_in_the_chat_message_are_the_traces_context(serve):
    base = serve(create_app(_pool(), token=""))
    msg = "Voss Glassworks was founded by Mirela Voss. Mirela Voss was born in Tarnholm. " + USER[-1]["content"]
    r = client(base).chat.completions.create(model="subroute:cascade", messages=[{"role": "user", "content": msg}])
    trace = json.loads(_get(f"{base}/traces/{r.model_extra['subroute']['trace_id']}")[1])
    assert trace["question"] == USER[-1]["content"]
    assert trace["context_taken"] == ["Voss Glassworks was founded by Mirela Voss.", "Mirela Voss was born in Tarnholm."]


def test_pass_through_sends_the_chat_unchanged_to_that_model_alone(serve):
    pool = _pool()
    base = serve(create_app(pool, token=""))
    msgs = [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hello"}]
    r = client(base).chat.completions.create(model="small", messages=msgs, max_tokens=5)
    assert r.choices[0].message.content == "small says hi" and r.model == "small"
    assert r.model_extra["subroute"] == {"cost": pytest.approx((r.usage.prompt_tokens + r.usage.completion_tokens) * 0.1 / 1e6),
                                         "trace_id": r.id.removeprefix("chatcmpl-"), "steps": 1, "router": "direct:small"}
    small, large = pool["small"].backend, pool["large"].backend
    assert small.prompts == [[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hello"}]]
    assert large.prompts == []


def test_router_thresholds_and_cascade_by_name(serve):
    base = serve(create_app(_pool(), token=""))
    c = client(base)
    for name in ["subroute:0.99", "subroute:cascade@0.5", "subroute:cascade"]:
        r = c.chat.completions.create(model=name, messages=USER)
        assert r.model == name and r.model_extra["subroute"]["router"] == name
    # 0.99 is above the small model's confidence: every step is escalated to the large model
    r = c.chat.completions.create(model="subroute:0.99", messages=USER)
    trace = json.loads(_get(f"{base}/traces/{r.model_extra['subroute']['trace_id']}")[1])
    assert [s["model"] for s in trace["steps"]] == ["large", "large"]


def test_streaming_sends_openai_chunks_then_done(serve):
    base = serve(create_app(_pool(), token=""))
    stream = client(base).chat.completions.create(model="small", messages=[{"role": "user", "content": "hi"}],
                                                  stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == "small says hi"
    finals = [ch for ch in chunks if ch.choices and ch.choices[0].finish_reason]
    assert len(finals) == 1 and finals[0].choices[0].finish_reason == "stop"
    assert finals[0].model_extra["subroute"]["steps"] == 1
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert len({ch.id for ch in chunks}) == 1
    # raw: the wire ends with [DONE]
    host, port = base.split("//")[1].split("/")[0].split(":")
    h = http.client.HTTPConnection(host, int(port), timeout=20)
    h.request("POST", "/v1/chat/completions", body=json.dumps({"model": "small", "messages": USER, "stream": True}),
              headers={"Content-Type": "application/json"})
    r = h.getresponse()
    assert r.getheader("content-type").startswith("text/event-stream")
    assert r.read().decode().rstrip().endswith("data: [DONE]")


def test_traces_are_bounded(serve):
    base = serve(create_app(_pool(), token="", trace_limit=3))
    ids = [client(base).chat.completions.create(model="small", messages=USER).model_extra["subroute"]["trace_id"]
           for _ in range(5)]
    assert [_get(f"{base}/traces/{i}")[0] for i in ids] == [404, 404, 200, 200, 200]
    status, body = _get(f"{base}/traces/nope")
    assert status == 404 and json.loads(body)["error"]["code"] == "trace_not_found"


# -- bad input: 400 / 404 / 413 / 422, never a 500 -----------------------------------------

@pytest.mark.parametrize("body, status, code", [
    (b'{"model": "small", "messages": [', 400, "invalid_json"),
    (b"\xff\xfe garbage", 400, "invalid_json"),
    (b"[1, 2]", 400, "invalid_json"),
    (b'{"messages": [{"role": "user", "content": "hi"}]}', 422, "missing_field"),
    (b'{"model": "small"}', 422, "missing_field"),
    (b'{"model": "small", "messages": []}', 422, "invalid_value"),
    (b'{"model": "small", "messages": [{"role": "tool", "content": "hi"}]}', 422, "invalid_value"),
    (b'{"model": "small", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}', 422, "invalid_value"),
    (b'{"model": "small", "messages": [{"role": "user", "content": "hi"}], "n": 3}', 422, "invalid_value"),
    (b'{"model": "small", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}', 422, "invalid_value"),
    (b'{"model": "small", "messages": [{"role": "user", "content": "   "}]}', 400, "empty_question"),
    (b'{"model": "subroute", "messages": [{"role": "user", "content": "Context: x\\nQuestion: "}]}', 400, "empty_question"),
    (b'{"model": "small", "messages": [{"role": "system", "content": "only a system prompt"}]}', 400, "empty_question"),
    (b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}', 404, "model_not_found"),
    (b'{"model": "subroute:1.5", "messages": [{"role": "user", "content": "hi"}]}', 404, "model_not_found"),
])
def test_bad_requests_get_4xx_with_a_message(serve, body, status, code):
    base = serve(create_app(_pool(), token=""))
    got, err, _ = _post(base, body)
    assert (got, err["error"]["code"]) == (status, code), err
    assert err["error"]["message"] and err["error"]["type"] == "invalid_request_error"
    if code == "model_not_found":
        assert "subroute, subroute:cascade, small, large" in err["error"]["message"]
    if code == "invalid_value" and b"image_url" in body:
        assert "send text parts only" in err["error"]["message"]


def test_oversized_body_is_413_declared_or_chunked(serve):
    base = serve(create_app(_pool(), token="", max_body_bytes=10_000))
    with pytest.raises(openai.APIStatusError) as ei:
        client(base).chat.completions.create(model="small", messages=[{"role": "user", "content": "x" * 50_000}])
    assert ei.value.status_code == 413 and "limit of 10000 bytes" in ei.value.message
    # chunked transfer: no Content-Length to check up front; refused while reading
    host, port = base.split("//")[1].split("/")[0].split(":")
    h = http.client.HTTPConnection(host, int(port), timeout=20)
    body = json.dumps({"model": "small", "messages": [{"role": "user", "content": "y" * 50_000}]}).encode()
    h.request("POST", "/v1/chat/completions", body=iter([body[i:i + 4096] for i in range(0, len(body), 4096)]),
              headers={"Content-Type": "application/json"}, encode_chunked=True)
    r = h.getresponse()
    assert r.status == 413 and json.loads(r.read())["error"]["code"] == "request_too_large"
    # and the server still answers
    assert client(base).chat.completions.create(model="small", messages=USER).choices[0].message.content


def test_unknown_path_and_method_are_openai_shaped(serve):
    base = serve(create_app(_pool(), token=""))
    status, body = _get(base + "/nothing-here")
    assert status == 404 and json.loads(body)["error"]["code"] == "not_found"
    status, body = _get(base + "/chat/completions")
    assert status == 405 and json.loads(body)["error"]["code"] == "method_not_allowed"


# -- auth --------------------------------------------------------------------------------------

def test_bearer_token_from_env_guards_everything_but_healthz(serve, monkeypatch, caplog):
    token = "sr-server-token-7c1e9b"
    monkeypatch.setenv("SUBROUTE_SERVER_TOKEN", token)
    caplog.set_level(logging.DEBUG)
    base = serve(create_app(_pool()))
    root = base.removesuffix("/v1")
    for key in ["wrong", token + "x", ""]:
        with pytest.raises(openai.AuthenticationError) as ei:
            client(base, key=key or "none").chat.completions.create(model="small", messages=USER)
        assert ei.value.status_code == 401 and ei.value.body["code"] == "invalid_api_key"
    # 401 and nothing else: no model list, no error detail about the request
    status, body = _post(base, b"not json", {"Authorization": "Bearer wrong"})[:2]
    assert status == 401 and body["error"]["message"] == "missing or invalid bearer token"
    for path in ["/v1/models", "/metrics", "/v1/traces/abc", "/v1/nothing"]:
        assert _get(root + path)[0] == 401, path
    assert _get(root + "/healthz") == (200, b'{"status":"ok"}')
    ok = client(base, key=token).chat.completions.create(model="small", messages=USER)
    assert ok.choices[0].message.content == "small says hi"
    assert _get(root + "/metrics", token)[0] == 200
    assert token not in caplog.text


# -- load: bounded concurrency, bounded queue -------------------------------------------------

class Gate(ScriptedModel):
    """A model that answers only once the test opens the gate; counts who is inside."""

    def __init__(self, name: str) -> None:
        super().__init__(name, {}, default=("done", 0.9))
        self.gate = threading.Event()
        self.inside = 0
        self.most_inside = 0
        self._lock = threading.Lock()

    def generate(self, messages: list[Message], params: GenerateParams) -> Completion:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            assert self.gate.wait(20), "the test never opened the gate"
            return super().generate(messages, params)
        finally:
            with self._lock:
                self.inside -= 1


def _wait_for(cond, timeout: float = 10) -> None:
    deadline = time.time() + timeout
    while not cond():
        assert time.time() < deadline, "condition not reached"
        time.sleep(0.01)


def test_requests_beyond_the_queue_get_429_with_retry_after(serve):
    gate = Gate("slow")
    app = create_app(make_pool({"slow": ("small", 0.1, gate)}), token="", max_concurrency=2, max_queue=3)
    base = serve(app)
    adm = app.state.admission
    with ThreadPoolExecutor(5) as ex:
        futs = [ex.submit(client(base).chat.completions.create, model="slow", messages=USER) for _ in range(5)]
        _wait_for(lambda: adm.pending == 5 and gate.inside == 2)
        with pytest.raises(openai.RateLimitError) as ei:
            client(base).chat.completions.create(model="slow", messages=USER)
        assert ei.value.status_code == 429 and ei.value.body["code"] == "queue_full"
        assert int(ei.value.response.headers["retry-after"]) >= 1
        m = _metrics(base)
        assert m[("subroute_requests_queued", ())] == 3 and m[("subroute_requests_in_progress", ())] == 5
        gate.gate.set()
        assert [f.result(timeout=20).choices[0].message.content for f in futs] == ["done"] * 5
    assert gate.most_inside == 2 and adm.pending == 0
    assert client(base).chat.completions.create(model="slow", messages=USER).choices[0].message.content == "done"


def test_concurrency_is_bounded_and_queued_requests_all_finish(serve):
    gate = Gate("g")
    gate.gate.set()
    orig = gate.generate

    def slow(messages, params):
        time.sleep(0.05)
        return orig(messages, params)

    gate.generate = slow  # type: ignore[method-assign]
    app = create_app(make_pool({"g": ("small", 0.1, gate)}), token="", max_concurrency=3, max_queue=64)
    base = serve(app)
    t0 = time.time()
    with ThreadPoolExecutor(40) as ex:
        rs = list(ex.map(lambda i: client(base).chat.completions.create(
            model="g", messages=[{"role": "user", "content": f"q{i}"}]), range(40)))
    assert all(r.choices[0].message.content == "done" for r in rs)
    assert gate.most_inside <= 3 and time.time() - t0 < 20


# -- faults: backends down, hanging, answering garbage -----------------------------------------

@pytest.fixture
def faulty():
    body = b"<html>502 from a proxy that is not an API</html>"
    garbage = RawServer(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                        b"Connection: close\r\n\r\n%s" % (len(body), body))
    hang = RawServer(None)
    urls = {"down": f"http://127.0.0.1:{free_port()}/v1", "hang": f"http://127.0.0.1:{hang.port}/v1",
            "garbage": f"http://127.0.0.1:{garbage.port}/v1"}
    specs = [{"name": n, "backend": "openai", "base_url": u, "model": n, "tier": "large", "price_in": 1.0,
              "price_out": 1.0, "timeout_s": 0.5, "max_retries": 0} for n, u in urls.items()]
    ok = ScriptedModel("ok", {}, default=("fine", 0.99))
    specs.append({"name": "ok", "backend": "openai", "base_url": "http://fake-ok-serve/v1", "model": "ok",
                  "tier": "small", "price_in": 0.1, "price_out": 0.1})
    pool = Pool.from_dict({"pool": {"tiers": ["small", "large"], "default_model": "hang"}, "models": specs})
    pool_module._BACKENDS[pool["ok"]._key()] = ok
    yield pool
    garbage.close()
    hang.close()


@pytest.mark.parametrize("model, status, code, says", [
    ("down", 502, "backend_error", "cannot reach"),
    ("garbage", 502, "backend_error", "garbled response"),
    ("hang", 504, "backend_timeout", "no answer from"),
    ("subroute", 504, "backend_timeout", "no answer from"),  # the router's decomposer is 'hang'
])
def test_backend_faults_are_502_504_naming_the_model_and_the_server_stays_up(serve, faulty, model, status, code, says):
    base = serve(create_app(faulty, token=""))
    c = client(base)
    t0 = time.time()
    with pytest.raises(openai.APIStatusError) as ei:
        c.chat.completions.create(model=model, messages=USER)
    assert time.time() - t0 < 10
    err = ei.value.body
    assert ei.value.status_code == status and err["code"] == code
    failing = "hang" if model == "subroute" else model
    assert err["model"] == failing and f"model '{failing}'" in err["message"] and says in err["message"]
    assert c.chat.completions.create(model="ok", messages=USER).choices[0].message.content == "fine"
    m = _metrics(base)
    assert m[("subroute_errors_total", (("code", code), ("model", model)))] == 1
    assert m[("subroute_requests_total", (("model", model), ("status", str(status))))] == 1


# -- metrics -------------------------------------------------------------------------------------

def test_metrics_count_requests_tokens_cost_and_steps_per_pool_model(serve):
    base = serve(create_app(_pool(), token=""))
    c = client(base)
    routed = c.chat.completions.create(model="subroute", messages=USER)
    direct = c.chat.completions.create(model="large", messages=USER)
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="nope", messages=USER)
    m = _metrics(base)
    req = lambda model, status: m.get(("subroute_requests_total", (("model", model), ("status", status))))  # noqa: E731
    assert req("subroute", "200") == 1 and req("large", "200") == 1 and req("-", "404") == 1
    assert m[("subroute_steps_per_question_sum", (("model", "subroute"),))] == 2
    assert m[("subroute_request_latency_seconds_count", (("model", "large"),))] == 1
    tokens = sum(v for (name, labels), v in m.items() if name == "subroute_model_tokens_total")
    assert tokens == routed.usage.total_tokens + direct.usage.total_tokens
    cost = sum(v for (name, _), v in m.items() if name == "subroute_model_cost_usd_total")
    assert cost == pytest.approx(routed.model_extra["subroute"]["cost"] + direct.model_extra["subroute"]["cost"])
    assert m[("subroute_model_calls_total", (("pool_model", "large"), ("role", "decompose")))] == 1
    # thresholds a client invents share one label
    c.chat.completions.create(model="subroute:0.123", messages=USER)
    c.chat.completions.create(model="subroute:0.456", messages=USER)
    assert _metrics(base)[("subroute_requests_total", (("model", "subroute:custom"), ("status", "200")))] == 2


def test_apps_have_their_own_registries(serve):
    a, b = create_app(_pool(), token=""), create_app(_pool(), token="")
    assert a.state.metrics.registry is not b.state.metrics.registry


def test_pool_model_names_cannot_shadow_the_routers():
    from subroute import ConfigError

    pool = make_pool({"subroute:fast": ("small", 0.1, ScriptedModel("x", {}))})
    with pytest.raises(ConfigError, match="reserved for the server's routers"):
        create_app(pool, token="")


def test_cli_serve_reports_a_bad_pool_in_one_line(tmp_path):
    from click.testing import CliRunner

    from subroute.cli import main

    r = CliRunner().invoke(main, ["serve", "--pool", str(tmp_path / "missing.toml"), "--lazy"])
    assert r.exit_code == 2 and "error: pool file" in r.output and "not found" in r.output
