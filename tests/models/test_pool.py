from pathlib import Path

import pytest

from subroute import ConfigError, Pool, SubrouteError

SERVED = """
[pool]
name = "mixed"
tiers = ["small", "large"]
local_price_per_billion_params = 0.1

[[models]]
name = "tiny"
backend = "llamacpp"
path = "models/tiny.gguf"
tier = "small"
params_b = 0.5

[[models]]
name = "big"
backend = "openai"
base_url = "http://127.0.0.1:9/v1"
model = "gpt-x"
api_key_env = "BIG_KEY"
tier = "large"
price_in = 2.5
price_out = 10.0
"""


def test_default_pool_loads_with_prices_proportional_to_params():
    pool = Pool.load()
    assert pool.names == ["smollm2-135m", "qwen-0.5b", "qwen-1.5b"]
    assert pool.tiers == ["small", "medium", "large"]
    assert pool.default_model.name == "qwen-1.5b"
    small, large = pool["smollm2-135m"], pool["qwen-1.5b"]
    assert small.price_in == pytest.approx(0.1 * 0.135)
    assert large.price_out / small.price_out == pytest.approx(1.54 / 0.135)
    assert large.cost(1_000_000, 0) == pytest.approx(0.154)


def test_served_model_and_relative_path(tmp_path: Path):
    f = tmp_path / "pool.toml"
    f.write_text(SERVED)
    pool = Pool.load(f)
    assert pool["tiny"].model_path() == tmp_path / "models" / "tiny.gguf"
    assert pool["big"].cost(1000, 1000) == pytest.approx((1000 * 2.5 + 1000 * 10) / 1e6)
    assert [m.name for m in pool] == ["tiny", "big"]


@pytest.mark.parametrize(
    "mutate, expect",
    [
        (lambda s: s.replace('model = "gpt-x"\n', ""), r"models\[1\].*needs `model`"),
        (lambda s: s.replace('tier = "large"', 'tier = "huge"'), "tier 'huge' is not one of"),
        (lambda s: s.replace("price_in = 2.5", "prize_in = 2.5"), r"models\[1\]\.prize_in: unknown key"),
        (lambda s: s.replace('path = "models/tiny.gguf"', ""), "exactly one of `path` or `catalog`"),
        (lambda s: s.replace("local_price_per_billion_params = 0.1", ""), "no price; set price_in"),
        (lambda s: s.replace('name = "big"', 'name = "tiny"'), "duplicate model name 'tiny'"),
        (lambda s: s.replace("[[models]]", "[[models]", 1), "not valid TOML"),
        (lambda s: s.replace("price_out = 10.0", "price_out = -1"), "price_out: Input should be greater than or equal to 0"),
        (lambda s: s.replace('backend = "openai"', 'backend = "ollama"'), "backend: Input should be"),
    ],
)
def test_malformed_pool_file_names_file_key_and_problem(tmp_path: Path, mutate, expect):
    f = tmp_path / "bad.toml"
    f.write_text(mutate(SERVED))
    with pytest.raises(ConfigError, match=expect) as ei:
        Pool.load(f)
    msg = str(ei.value)
    assert str(f) in msg and "\n" not in msg


def test_missing_pool_file_and_unknown_model(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        Pool.load(tmp_path / "nope.toml")
    with pytest.raises(SubrouteError, match="unknown model 'gpt'.*smollm2-135m, qwen-0.5b, qwen-1.5b"):
        Pool.load()["gpt"]


def test_missing_local_file_says_so(tmp_path: Path):
    f = tmp_path / "pool.toml"
    f.write_text(SERVED)
    with pytest.raises(SubrouteError, match="tiny.gguf not found; fix `path`"):
        Pool.load(f)["tiny"].generate("hi")


def test_missing_api_key_is_one_line_and_names_the_variable(tmp_path: Path, monkeypatch):
    monkeypatch.delenv("BIG_KEY", raising=False)
    f = tmp_path / "pool.toml"
    f.write_text(SERVED)
    with pytest.raises(SubrouteError, match=r"needs an API key in the environment variable BIG_KEY"):
        Pool.load(f)["big"].generate("hi")
