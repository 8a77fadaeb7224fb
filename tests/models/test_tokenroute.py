"""Token-level routing: the pool's tokenroute kind, routers, and the generator on the real pair."""

import json
import tomllib
from importlib import resources

import numpy as np
import pytest

from subroute import Pool, SubrouteError
from subroute.errors import ConfigError
from subroute.models.base import Completion, Usage
from subroute.models.tokenroute import FEATURES, TokenRouter, token_features, token_kind
from subroute.prompts import cot_messages


def _pool(**spec) -> Pool:
    data = tomllib.loads(resources.files("subroute").joinpath("default_pool.toml").read_text())
    data["pool"]["tiers"] = ["small", "medium", "mixed", "large"]
    m = {"name": "pair", "backend": "tokenroute", "tier": "mixed", "small": "qwen-0.5b", "large": "qwen-1.5b", **spec}
    data["models"].append({k: v for k, v in m.items() if v is not None})  # None: leave the key out
    return Pool.from_dict(data, source="<test>")


@pytest.mark.parametrize("spec, msg", [
    ({"small": None}, "needs `small` and `large`"),
    ({"path": "x.gguf"}, "`path` is not for tokenroute"),
    ({"price_in": 1.0}, "`price_in` is not for tokenroute"),
    ({"router": "entropy"}, "needs a `threshold`"),
    ({"large": "nope"}, "large 'nope' is not a llamacpp model of the pool"),
    ({"large": "qwen-0.5b"}, "the same model"),
])
def test_tokenroute_spec_errors_name_the_fix(spec, msg):
    with pytest.raises(ConfigError, match=msg):
        _pool(**spec)


def test_tokenroute_fields_are_refused_on_other_models():
    data = tomllib.loads(resources.files("subroute").joinpath("default_pool.toml").read_text())
    data["models"][0]["threshold"] = 0.5
    with pytest.raises(ConfigError, match="`threshold` is for tokenroute models"):
        Pool.from_dict(data)


def test_prices_and_charge_follow_who_wrote_what():
    pool = _pool(router="entropy", threshold=1.0, share=0.25)
    m, s, lg = pool["pair"], pool["qwen-0.5b"], pool["qwen-1.5b"]
    assert m.members == (s, lg)
    assert m.price_in == pytest.approx(s.price_in + lg.price_in)
    assert m.price_out == pytest.approx(0.75 * s.price_out + 0.25 * lg.price_out)
    c = Completion("pair", "x", Usage(100, 50), extra={"tokenroute": {
        "small_in": 110, "small_out": 40, "large_in": 140, "large_out": 10, "large_calls": 3, "share": 0.2}})
    assert m.charge(c) == pytest.approx(s.cost(110, 40) + lg.cost(140, 10))
    plain = Completion("qwen-1.5b", "x", Usage(100, 50))
    assert lg.charge(plain) == pytest.approx(lg.cost(100, 50))


def test_identity_changes_with_the_router_and_not_for_other_models():
    a, b = _pool(router="entropy", threshold=1.0), _pool(router="entropy", threshold=2.0)
    assert a["pair"].identity() != b["pair"].identity()
    assert "threshold" not in a["qwen-1.5b"].identity()  # other models keep their cache keys
    assert Pool.load()["qwen-1.5b"].identity() == a["qwen-1.5b"].identity()


def test_features_and_baseline_scores():
    lp = np.log(np.array([0.7, 0.2, 0.1] + [1e-12] * 20))
    x = token_features(lp, " 12", 3)
    assert len(x) == len(FEATURES)
    f = dict(zip(FEATURES, x))
    assert f["lp1"] == pytest.approx(np.log(0.7)) and f["kind_digit"] == 1.0
    assert f["entropy"] == pytest.approx(-(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)), abs=1e-6)
    assert TokenRouter.baseline("entropy", 0.5).flags(x) and not TokenRouter.baseline("entropy", 1.0).flags(x)
    assert TokenRouter.baseline("top1", 0.25).flags(x) and not TokenRouter.baseline("top1", 0.35).flags(x)
    rng = np.random.default_rng(0)
    share = np.mean([TokenRouter.baseline("random", 0.2).flags(x, rng) for _ in range(2000)])
    assert 0.15 < share < 0.25
    assert [token_kind(t) for t in ("\n", "Paris", ",", "3rd")] == ["space", "word", "punct", "digit"]


def test_learned_router_artifact_roundtrip_and_errors(tmp_path):
    from subroute.models.catalog import hash_file

    w0, b0, w1, b1 = np.ones((len(FEATURES), 2)), np.zeros(2), np.ones((2, 1)), np.array([-1.0])
    np.savez(tmp_path / "weights.npz", mean=np.zeros(len(FEATURES)), scale=np.ones(len(FEATURES)),
             w0=w0, b0=b0, w1=w1, b1=b1)
    man = {"kind": "tokenroute", "version": 1, "features": list(FEATURES), "layers": 2, "threshold": 0.5,
           "thresholds": {"0.1": 0.9, "0.2": 0.7}, "weights_sha256": hash_file(tmp_path / "weights.npz")}
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    r = TokenRouter.load(tmp_path, share=0.2)
    assert r.threshold == 0.7 and TokenRouter.load(tmp_path).threshold == 0.5
    x = np.zeros((1, len(FEATURES)))
    x[0, 0] = 1.0  # h = relu(1, 1) -> 2 - 1 = 1 -> sigmoid 0.73
    assert r.score_many(x)[0] == pytest.approx(1 / (1 + np.exp(-1.0)))
    with pytest.raises(SubrouteError, match="train one with: subroute train tokens"):
        TokenRouter.load(tmp_path / "missing")
    man["features"] = ["other"]
    (tmp_path / "manifest.json").write_text(json.dumps(man))
    with pytest.raises(SubrouteError, match="unreadable .*retrain"):
        TokenRouter.load(tmp_path)


def test_fit_router_learns_a_separable_signal(tmp_path):
    """Divergent positions have a flat distribution (high entropy) in this synthetic set: the
    trained router must rank them first (held-out AUC), and record thresholds per share."""
    from subroute.train.tokens import PathRecord, fit_router

    rng = np.random.default_rng(0)
    recs = []
    for q in range(40):
        y = (rng.random(60) < 0.1).astype(int)
        feats = []
        for v in y:
            row = rng.normal(size=len(FEATURES))
            row[FEATURES.index("entropy")] += 3.0 * v
            feats.append(row.tolist())
        recs.append(PathRecord(f"q{q}", "test", "", feats, y.tolist(), "".join("d" if v else "i" for v in y)))
    pool = _pool(router="entropy", threshold=1.0)
    man = fit_router(recs, tmp_path, pool, small=pool["qwen-0.5b"], large=pool["qwen-1.5b"])
    assert man["metrics"]["auc"]["learned"] > 0.9
    assert set(man["thresholds"]) >= {"0.1", "0.2"}
    assert TokenRouter.load(tmp_path, share=0.1).threshold >= TokenRouter.load(tmp_path, share=0.2).threshold


@pytest.mark.slow
def test_extreme_thresholds_reproduce_each_model_and_charge_it(default_pool):
    """Never flagging is the small model's greedy answer; always flagging is the large
    model's (its catch-up evaluations must keep its cache exact)."""
    data = tomllib.loads(resources.files("subroute").joinpath("default_pool.toml").read_text())
    data["pool"]["tiers"] = ["small", "medium", "mixed", "large"]
    for name, th in (("never", 99.0), ("always", -1.0), ("some", 0.6)):
        data["models"].append({"name": name, "backend": "tokenroute", "tier": "mixed", "small": "qwen-0.5b",
                               "large": "qwen-1.5b", "router": "entropy", "threshold": th})
    pool = Pool.from_dict(data)
    msgs = cot_messages("A box holds 12 eggs. How many eggs are in 3 boxes?")
    small = pool["qwen-0.5b"].generate(msgs, max_tokens=40)
    large = pool["qwen-1.5b"].generate(msgs, max_tokens=40)
    never = pool["never"].generate(msgs, max_tokens=40)
    always = pool["always"].generate(msgs, max_tokens=40)
    assert never.text == small.text and never.extra["tokenroute"]["large_out"] == 0
    assert always.text == large.text and always.extra["tokenroute"]["share"] == 1.0
    assert never.cost == pytest.approx(pool["qwen-0.5b"].cost(never.usage.input_tokens, never.usage.output_tokens))
    some = pool["some"].generate(msgs, max_tokens=40)
    tr = some.extra["tokenroute"]
    assert 0 < tr["share"] < 1 and tr["large_calls"] >= 1 and len(some.extra["by"]) == some.usage.output_tokens
    assert tr["small_out"] + tr["large_out"] == some.usage.output_tokens == len(some.tokens)
    # the large model read the prompt once and then only what the small one wrote
    assert tr["large_in"] <= some.usage.input_tokens + tr["small_out"]


@pytest.mark.slow
def test_shipped_router_loads_for_the_default_pair(default_pool):
    pool = _pool()
    r = pool["pair"].backend.router
    assert r.kind == "learned" and 0 < r.threshold < 1


@pytest.mark.slow
def test_a_router_trained_for_another_pair_is_refused(default_pool, tmp_path):
    import shutil

    from subroute.models.tokenroute import shipped_router_dir

    shutil.copytree(shipped_router_dir(), tmp_path / "r")
    man = json.loads((tmp_path / "r" / "manifest.json").read_text())
    man["pair"]["large"]["identity"] = "0" * 16
    (tmp_path / "r" / "manifest.json").write_text(json.dumps(man))
    pool = _pool(router=str(tmp_path / "r"))
    with pytest.raises(SubrouteError, match="trained for .* as its large model"):
        pool["pair"].backend


@pytest.mark.slow
def test_label_path_marks_identical_and_judged_positions(default_pool):
    from subroute.train.tokens import TokenJob, TokenLabelConfig, label_path

    job = TokenJob("t", "Which is larger, 17 or 71?", gold="71")
    r = label_path(default_pool["qwen-0.5b"], default_pool["qwen-1.5b"], job, TokenLabelConfig(max_tokens=40, window=6))
    assert len(r.features) == len(r.labels) == len(r.kinds) > 0
    assert set(r.kinds) <= {"i", "n", "d"} and r.kinds.count("i") > len(r.kinds) / 2
    assert len(r.divergences) == len(r.kinds) - r.kinds.count("i")
    assert all(d["judge"] in ("end", "merge", "outcome") for d in r.divergences)
    assert [1 if k == "d" else 0 for k in r.kinds] == r.labels
