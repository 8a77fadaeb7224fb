"""The learned allocator on labels with a known structure: lookups of a birthplace are
solved by the small model, arithmetic only by the large one. SFT must learn that; GRPO
with a cost penalty must not lose accuracy; artifacts must refuse another pool."""

import numpy as np
import pytest

from subroute.decompose import Subtask
from subroute.learned import LearnedAllocator
from subroute.train.allocator import (
    Outcomes,
    TrainConfig,
    evaluate,
    evaluate_rules,
    load_allocator,
    questions_from_labels,
    save_allocator,
    train_grpo,
    train_sft,
)
from subroute.train.labels import StepLabel, Try
from tests.fakes import ScriptedModel, make_pool

pytestmark = pytest.mark.slow  # loads the real MiniLM embedder

NAMES = ["Arvo Lint", "Mirela Voss", "Tomas Revik", "Ilsa Marrow", "Kaj Oren", "Pella Strand", "Dorin Vale",
         "Sela Quist", "Bram Tolle", "Nia Forde", "Odo Renn", "Lise Amber"]


def _pool():
    fakes = {n: ScriptedModel(n, {}, default=("x", 0.9)) for n in ("s", "m", "l")}
    return make_pool({"s": ("small", 0.1, fakes["s"]), "m": ("medium", 1.0, fakes["m"]), "l": ("large", 10.0, fakes["l"])},
                     tag="alloc")


def _labels(pool) -> list[StepLabel]:
    out = []
    for k, name in enumerate(NAMES):
        steps = [(f"In which town was {name} born?", {"s": True, "m": True, "l": True}, 0.9),
                 (f"What is {1900 + 7 * k} minus {1850 + 3 * k}?", {"s": False, "m": False, "l": True}, 0.3)]
        for i, (q, ok, conf) in enumerate(steps):
            tries = [Try(m, pool[m].tier, ok[m], pool[m].cost(100, 5), conf if m == "s" else 0.9, "a", 100, 5)
                     for m in ("s", "m", "l")]
            label = next(m for m in ("s", "m", "l") if ok[m])
            out.append(StepLabel(f"q{k}", i, 2, q, "synthesis" if i else "recall", "a", conf, tries, label, 7))
    return out


def test_sft_learns_cheapest_correct_and_grpo_keeps_it(tmp_path):
    pool = _pool()
    qs = questions_from_labels(_labels(pool))
    cfg = TrainConfig(sft_epochs=150, grpo_iters=15, batch_questions=6, cost_lambda=0.5)
    outcomes = Outcomes(pool)
    net = train_sft(qs, pool, cfg)
    m = evaluate(net, qs, pool, outcomes)
    assert m["accuracy"] == 1.0
    assert 1.0 <= m["cost_vs_oracle"] < 1.02  # the oracle's picks, plus the small probe before a large step
    assert m["cost_vs_largest"] < 0.6
    base = evaluate_rules(qs, pool, outcomes, thresholds=(0.5,))
    assert base["oracle"]["accuracy"] == 1.0 and base["all:l"]["accuracy"] == 1.0 and base["all:s"]["accuracy"] == 0.0
    assert base["oracle"]["cost"] < m["cost"] < base["all:l"]["cost"]
    # probe confidence 0.3 on arithmetic maps to the medium tier under (0.5, 0.25): wrong
    assert base["confidence@0.5"]["accuracy"] == 0.0
    log = []
    net = train_grpo(net, qs, pool, outcomes, cfg, log=log.append)
    assert evaluate(net, qs, pool, outcomes)["accuracy"] == 1.0
    assert len(log) == 15 and all(0 <= r["accuracy"] <= 1 for r in log)

    art = save_allocator(tmp_path / "alloc", net, pool, cfg, metrics=m, data={"seed": 7})
    net2, manifest = load_allocator(art, pool)
    assert manifest["metrics"]["accuracy"] == 1.0 and manifest["data"]["seed"] == 7
    # routing runs the saved policy in numpy: the same logits as the torch module
    import torch

    from subroute.learned import load_policy, pool_model_features

    policy, _ = load_policy(art, pool)
    feats = np.concatenate([q.feats for q in qs])
    with torch.no_grad():
        want = net2(torch.tensor(feats), torch.tensor(pool_model_features(pool))).numpy()
    assert np.allclose(policy(feats, pool_model_features(pool)), want, atol=1e-5)

    # in the pipeline: the lookup stays on the small model, the arithmetic goes large
    alloc = LearnedAllocator(str(art), pool)
    solve = lambda model: model.generate("q")  # noqa: E731
    easy = alloc.run(Subtask(1, "In which town was Odo Renn born?", n_steps=2), solve, pool)
    hard = alloc.run(Subtask(2, "What is 1977 minus 1901?", (1,), "synthesis", n_steps=2), solve, pool)
    assert easy.model.name == "s" and len(easy.calls) == 1
    assert hard.model.name == "l" and [r for r, _ in hard.calls] == ["probe", "step"]


def test_artifact_refuses_another_pool(tmp_path):
    pool = _pool()
    qs = questions_from_labels(_labels(pool))
    net = train_sft(qs, pool, TrainConfig(sft_epochs=5))
    art = save_allocator(tmp_path / "a", net, pool, TrainConfig(), metrics={}, data={})
    other = make_pool({"s": ("small", 0.1, ScriptedModel("s", {})), "l": ("large", 10.0, ScriptedModel("l", {}))})
    with pytest.raises(Exception, match="was trained for the pool .* not for .*retrain it for this pool"):
        load_allocator(art, other)
    with pytest.raises(Exception, match="not an allocator artifact"):
        load_allocator(tmp_path, pool)
    with pytest.raises(Exception, match="was trained for the pool .* not for .*retrain it for this pool"):
        LearnedAllocator(str(art), other)


def test_grpo_cost_term_alone_is_a_small_push():
    """Where every sample of a group is wrong the rewards differ only by lambda * cost; the
    advantage is not scaled by the group's std (Dr. GRPO), so that small difference stays a
    small push and does not drive the policy to the cheapest model."""
    torch = pytest.importorskip("torch")
    pool = _pool()
    labs = _labels(pool)
    for lab in labs:  # the same questions, but no model is ever right
        lab.tries = [Try(t.model, t.tier, False, t.cost, t.confidence, t.answer, 100, 5) for t in lab.tries]
    qs = questions_from_labels(labs)
    cfg = TrainConfig(sft_epochs=1, grpo_iters=20, batch_questions=6, cost_lambda=0.1, grpo_lr=1e-2)
    net = train_sft(qs, pool, TrainConfig(sft_epochs=1))  # near uniform: the samples of a group differ
    from subroute.learned import pool_model_features

    feats = torch.tensor(qs[0].feats)
    m = torch.tensor(pool_model_features(pool))
    before = torch.softmax(net(feats, m), -1).detach()
    train_grpo(net, qs, pool, Outcomes(pool), cfg)
    after = torch.softmax(net(feats, m), -1).detach()
    # the cheapest model gains (cheaper is better when nothing is right), but stays a choice:
    # with std-scaled advantages the same run put 0.9995 on it
    assert float(after[:, 0].mean()) > float(before[:, 0].mean()) and float(after[:, 0].mean()) < 0.8


def test_training_loads_one_openmp_runtime():
    """With subroute.train imported first, torch and llama.cpp share the system's libgomp
    (not torch's bundled copy, which llama.cpp was not built against)."""
    import subprocess
    import sys

    code = ("import subroute.train, torch, llama_cpp; "
            "libs = {l.split()[-1] for l in open('/proc/self/maps') if 'libgomp' in l}; "
            "assert len(libs) == 1 and 'torch' not in next(iter(libs)), libs")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_pick_below_the_probe_keeps_the_probes_answer(tmp_path):
    """The probe model has answered already, so a policy that names a smaller model gets the
    probe's answer (no extra call); evaluation and the GRPO reward score it the same way."""
    from subroute.learned import realised
    from subroute.train.allocator import probed_outcome

    fakes = {n: ScriptedModel(n, {}, default=(f"answer-{n}", 0.9)) for n in ("s", "m", "l")}
    pool = make_pool({"s": ("small", 0.1, fakes["s"]), "m": ("medium", 1.0, fakes["m"]), "l": ("large", 10.0, fakes["l"])},
                     tag="probe-m", probe="m")
    assert pool.probe_model.name == "m"
    assert [realised(pool, n) for n in ("s", "m", "l")] == ["m", "m", "l"]
    qs = questions_from_labels(_labels(_pool()))
    outcomes = Outcomes(pool)
    q = qs[0]
    ok_s, cost_s = probed_outcome(q, 1, "s", pool, outcomes)
    ok_m, cost_m = probed_outcome(q, 1, "m", pool, outcomes)
    ok_l, cost_l = probed_outcome(q, 1, "l", pool, outcomes)
    assert (ok_s, cost_s) == (ok_m, cost_m) == (False, q.outcomes[1]["m"].cost)
    assert ok_l and cost_l == q.outcomes[1]["l"].cost + q.outcomes[1]["m"].cost
