"""The OpenAI-compatible backend against real servers on 127.0.0.1: llama-cpp-python's own
server with the small default model, and tiny raw-socket servers that misbehave (hang,
answer garbage) to check timeouts, retries and error messages."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from subroute import BackendError, Pool
from subroute.prompts import answer_messages
from tests.conftest import CONTEXT
from tests.servers import RawServer, free_port, llama_cpp_server

pytestmark = pytest.mark.slow
KEY = "sk-test-SECRET-4f9d2a"


def _pool(tmp_path: Path, url: str, *, key_env: str | None = "SR_TEST_KEY", timeout: float = 30, retries: int = 1) -> Pool:
    key_line = f'api_key_env = "{key_env}"' if key_env else ""
    text = f"""
[[models]]
name = "served-smol"
backend = "openai"
base_url = "{url}"
model = "smol"
{key_line}
tier = "small"
price_in = 1.0
price_out = 2.0
timeout_s = {timeout}
max_retries = {retries}
"""
    f = tmp_path / "pool.toml"
    f.write_text(text)
    return Pool.load(f)


@pytest.fixture(scope="module")
def llama_server(default_pool):
    with llama_cpp_server(default_pool["smollm2-135m"].model_path(), api_key=KEY, threads=2) as (url, _):
        yield url


def test_served_model_answers_with_usage_cost_and_logprobs(llama_server, tmp_path, monkeypatch):
    monkeypatch.setenv("SR_TEST_KEY", KEY)
    m = _pool(tmp_path, llama_server)["served-smol"]
    c = m.generate(answer_messages("Where was Mirela Voss born?", CONTEXT.split(". ")[0] + "."), max_tokens=16)
    assert "tarnholm" in c.text.lower()
    assert c.usage.input_tokens > 20 and c.usage.output_tokens > 0
    assert c.cost == pytest.approx((c.usage.input_tokens * 1.0 + c.usage.output_tokens * 2.0) / 1e6)
    assert c.tokens and all(t.logprob <= 0 for t in c.tokens)
    assert KEY not in repr(m.backend) and KEY not in str(c.to_dict())


def test_wrong_key_is_rejected_without_showing_it(llama_server, tmp_path, monkeypatch):
    monkeypatch.setenv("SR_TEST_KEY", "sk-wrong-" + KEY[::-1])
    with pytest.raises(BackendError, match=r"rejected the API key from \$SR_TEST_KEY") as ei:
        _pool(tmp_path, llama_server)["served-smol"].generate("hi", max_tokens=4)
    assert KEY[::-1] not in str(ei.value)


def test_cli_ask_json_through_served_model_never_prints_key(llama_server, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from subroute.cli import main

    monkeypatch.setenv("SR_TEST_KEY", KEY)
    _pool(tmp_path, llama_server)
    ctx = tmp_path / "ctx.txt"
    ctx.write_text(CONTEXT.split(". ")[0] + ".")
    r = CliRunner().invoke(main, ["ask", "Where was Mirela Voss born?", "--context", str(ctx),
                                  "--pool", str(tmp_path / "pool.toml"), "--model", "served-smol", "--json"])
    assert r.exit_code == 0, r.output
    assert '"answer"' in r.output and KEY not in r.output


def test_unreachable_endpoint_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("SR_TEST_KEY", KEY)
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    with pytest.raises(BackendError, match=r"model 'served-smol': cannot reach http://127\.0\.0\.1:\d+/v1; is the server running"):
        _pool(tmp_path, url, retries=0)["served-smol"].generate("hi")


def test_hanging_server_times_out_after_bounded_retries(tmp_path, monkeypatch):
    monkeypatch.delenv("SR_TEST_KEY", raising=False)
    srv = RawServer(None)
    try:
        t0 = time.time()
        with pytest.raises(BackendError, match=r"no answer from .* within 0\.5s") as ei:
            _pool(tmp_path, f"http://127.0.0.1:{srv.port}/v1", key_env=None, timeout=0.5, retries=1)["served-smol"].generate("hi")
        assert ei.value.timeout
        assert time.time() - t0 < 10
        assert srv.requests == 2  # one try and one retry, then stop
    finally:
        srv.close()


@pytest.mark.parametrize("body", [b"this is not json at all", b'{"choices": "oops"', b'{"object": "chat.completion"}'])
def test_garbage_answer_is_a_clear_error(tmp_path, body):
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    srv = RawServer(head + body)
    try:
        with pytest.raises(BackendError, match=r"model 'served-smol': (garbled response|response from .* has no choices)"):
            _pool(tmp_path, f"http://127.0.0.1:{srv.port}/v1", key_env=None, retries=0)["served-smol"].generate("hi")
    finally:
        srv.close()


def test_server_error_status_names_model(tmp_path):
    body = b'{"error": {"message": "CUDA out of memory"}}'
    head = b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    srv = RawServer(head + body)
    try:
        with pytest.raises(BackendError, match=r"model 'served-smol': server error 500 .*CUDA out of memory"):
            _pool(tmp_path, f"http://127.0.0.1:{srv.port}/v1", key_env=None, retries=0)["served-smol"].generate("hi")
    finally:
        srv.close()
