"""The decomposer's GRPO reward: a sampled decomposition is executed by the frozen
allocator and scored on the final answer (scripted models; routing logic only)."""

from subroute.allocate import FixedAllocator
from subroute.records import Example
from subroute.train.decomposer import OutcomeReward
from tests.fakes import ScriptedModel, make_pool


def _setup(cost_lambda: float = 0.0):
    m = ScriptedModel("m", {"Which company did Mirela Voss found": ("Voss Glassworks", 0.9),
                            "Where is Voss Glassworks based": ("Quellin", 0.9)}, default=("no idea", 0.9))
    pool = make_pool({"m": ("small", 1.0, m)})
    ex = Example(id="q1", question="Where is the company founded by Mirela Voss based?", answer="Quellin",
                 context="Mirela Voss founded Voss Glassworks.\n\nVoss Glassworks is based in Quellin.")
    return OutcomeReward(pool, FixedAllocator("m"), [ex], cost_lambda=cost_lambda), m


def _completion(text: str) -> list[dict]:
    return [{"role": "assistant", "content": text}]


def test_reward_is_the_final_answers_correctness():
    reward, m = _setup()
    good = "1. Which company did Mirela Voss found?\n2. Where is #1 based?"
    wrong = "1. Where was Mirela Voss born?"
    broken = "1. Where is #2 based?"  # cites a later step: unparseable
    r = reward(["p"] * 3, [_completion(good), _completion(wrong), _completion(broken)], ["q1"] * 3)
    assert r == [1.0, 0.0, 0.0]
    assert "Where is Voss Glassworks based?" in m.prompts[1][-1]["content"]  # #1 was substituted
    assert [h["correct"] for h in reward.history] == [True, False, False]
    assert reward.history[0]["cost"] > 0 and reward.history[2]["cost"] == 0


def test_cost_lambda_prefers_the_cheaper_correct_decomposition():
    reward, _ = _setup(cost_lambda=0.5)
    short = "1. Which company did Mirela Voss found?\n2. Where is #1 based?"
    padded = short + "\n3. Where is #2 based?\n4. Where is Voss Glassworks based?"
    r_short, r_padded = reward(["p"] * 2, [_completion(short), _completion(padded)], ["q1"] * 2)
    assert r_padded < r_short < 1  # both right; the longer run pays for its extra steps
    assert all(h["correct"] for h in reward.history) and reward.history[1]["cost"] > reward.history[0]["cost"]
