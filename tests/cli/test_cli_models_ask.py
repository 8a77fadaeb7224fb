import json

import pytest
from click.testing import CliRunner

from subroute.cli import main
from tests.conftest import CONTEXT


def run(*args, **kw):
    return CliRunner().invoke(main, list(args), **kw)


def one_line_error(r, code: int, pattern: str) -> None:
    import re

    assert r.exit_code == code, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), r.output
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in r.output


def test_empty_question():
    one_line_error(run("ask", "   "), 1, "the question is empty")


def test_unknown_model_lists_known():
    one_line_error(run("ask", "hi", "--model", "gpt-9"), 1, "unknown model 'gpt-9'.*qwen-1.5b")


def test_malformed_pool_file(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text('[[models]]\nname = "x"\nbackend = "openai"\ntier = "small"\nprice_in = 1\nprice_out = 1\n')
    one_line_error(run("ask", "hi", "--pool", str(f)), 2, rf"pool file {f}: models\[0\]: an openai model needs `base_url`")


def test_missing_model_names_the_pull_command(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBROUTE_MODELS", str(tmp_path))
    # the backend of a pool model is shared per file path, so a fresh folder is a fresh model
    one_line_error(run("ask", "hi", "--model", "qwen-0.5b"), 1, "not downloaded .* subroute models pull qwen-0.5b")
    r = run("models", "list")
    assert r.exit_code == 0 and "missing" in r.output and "subroute models pull" in r.output


def test_models_list_json(default_pool):
    r = run("models", "list", "--json")
    assert r.exit_code == 0
    recs = {m["name"]: m for m in json.loads(r.output)["models"]}
    assert recs["qwen-1.5b"]["status"] == "verified" and recs["qwen-1.5b"]["tier"] == "large"
    assert recs["smollm2-135m"]["bytes"] == 98_362_432


def test_pull_when_present_is_a_no_op(default_pool):
    r = run("models", "pull", "smollm2-135m")
    assert r.exit_code == 0 and "verified at" in r.output


@pytest.mark.slow
def test_ask_json_record(default_pool, tmp_path):
    ctx = tmp_path / "notes.txt"
    ctx.write_text(CONTEXT)
    r = run("ask", "In which year was Voss Glassworks founded?", "--context", str(ctx), "--model", "qwen-0.5b", "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.output[r.output.index("{"):])
    assert "1958" in rec["answer"]
    c = rec["completion"]
    assert c["model"] == "qwen-0.5b" and c["usage"]["total_tokens"] > 0 and c["cost"] > 0
    assert c["tokens"] and c["confidence"] is not None


@pytest.mark.slow
def test_pull_all_prepares_the_router_embedder(default_pool):
    from subroute import embed

    r = run("models", "pull")
    assert r.exit_code == 0, r.output
    assert "router embedder (all-MiniLM-L6-v2): " in r.output and str(embed.gguf_path()) in r.output
    assert embed.gguf_path().is_file()
