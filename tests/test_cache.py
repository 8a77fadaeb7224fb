from subroute.cache import CallCache
from tests.fakes import ScriptedModel, make_pool


def test_deterministic_calls_are_cached_and_repriced(tmp_path):
    fake = ScriptedModel("m", {}, default=("Tarnholm", 0.9))
    pool = make_pool({"m": ("small", 1.0, fake)}).use_cache(CallCache(tmp_path / "c.sqlite"))
    a = pool["m"].generate("Where?")
    b = pool["m"].generate("Where?")
    assert len(fake.prompts) == 1 and b.cached and not a.cached
    assert b.text == a.text and b.cost == a.cost and b.tokens == a.tokens
    pool["m"].price_in = 2.0
    assert pool["m"].generate("Where?").cost > a.cost
    pool["m"].generate("Where?", temperature=0.7)
    pool["m"].generate("Where?", temperature=0.7)
    assert len(fake.prompts) == 3  # sampled calls are never cached


def test_cache_survives_reopening(tmp_path):
    fake = ScriptedModel("m", {}, default=("x", 0.9))
    make_pool({"m": ("small", 1.0, fake)}, tag="same").use_cache(CallCache(tmp_path / "c.sqlite"))["m"].generate("q")
    fake2 = ScriptedModel("m", {}, default=("x", 0.9))
    p2 = make_pool({"m": ("small", 1.0, fake2)}, tag="same").use_cache(CallCache(tmp_path / "c.sqlite"))
    assert p2["m"].generate("q").cached and fake2.prompts == []


def test_a_key_names_the_schema_version_so_older_calls_are_not_served(monkeypatch):
    from subroute import cache
    from subroute.models.base import GenerateParams

    msgs = [{"role": "user", "content": "hi"}]
    now = cache.CallCache.key({"m": 1}, msgs, GenerateParams())
    monkeypatch.setattr(cache, "SCHEMA_VERSION", cache.SCHEMA_VERSION - 1)
    assert cache.CallCache.key({"m": 1}, msgs, GenerateParams()) != now
