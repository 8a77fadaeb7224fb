"""The decomposer's CPU training path at tiny scale: a few LoRA SFT steps on real gold
decompositions, export as a llama.cpp LoRA GGUF, load it in llama.cpp, and check that
llama.cpp with the adapter generates what the PEFT model generates."""

import pytest

pytestmark = pytest.mark.slow


def test_tiny_sft_exports_an_adapter_llama_cpp_runs(tmp_path, default_pool):
    import gguf
    import torch
    from peft import PeftModel

    from subroute.bench.datasets import parse_example
    from subroute.learned import TrainedDecomposer, prompt_messages
    from subroute.train.decomposer import DecomposerConfig, load_base, train_sft
    from subroute.worlds import QuestionConfig, WorldConfig, build_world, generate_questions

    world = build_world(WorldConfig(seed=3, n_people=200))
    qs = generate_questions(world, QuestionConfig(n=6, min_hops=2, max_hops=2))
    exs = [parse_example(q.to_dict() if hasattr(q, "to_dict") else q.__dict__, default_id=str(i)) for i, q in enumerate(qs)]
    art = train_sft(default_pool, exs, tmp_path / "dec", DecomposerConfig(max_steps=3, batch_size=2, lr=5e-3))

    r = gguf.GGUFReader(str(art / "adapter.gguf"))
    names = [t.name for t in r.tensors]
    assert len(names) == 30 * 5 * 2 and "blk.0.attn_v.weight.lora_a" in names
    assert bytes(r.fields["general.type"].parts[-1]).decode() == "adapter"

    d = TrainedDecomposer(default_pool, art)
    q = exs[0].question
    out = d.decompose(q)
    assert out.calls and out.calls[0].model == "smollm2-135m" and out.cost > 0

    tok, base, _ = load_base(default_pool, "smollm2-135m")
    peft = PeftModel.from_pretrained(base, str(art / "peft")).eval()
    ids = tok.apply_chat_template(prompt_messages(q), add_generation_prompt=True, return_tensors="pt")
    ids = ids if torch.is_tensor(ids) else ids["input_ids"]
    ref = tok.decode(peft.generate(ids, max_new_tokens=24, do_sample=False)[0, ids.shape[1]:], skip_special_tokens=True)
    ours = d.model.generate(prompt_messages(q), __import__("subroute.models.base", fromlist=["x"]).GenerateParams(max_tokens=24)).text
    # the first words agree (quantized base in llama.cpp vs float base in torch may drift later)
    assert ours.split()[:4] == ref.strip().split()[:4]

    # SFT continued from that adapter: its rank kept, the history goes on, the weights start from it
    more = train_sft(default_pool, exs, tmp_path / "more", DecomposerConfig(max_steps=1, batch_size=2, lr=5e-3, rank=4),
                     start=art)
    m2 = __import__("json").loads((more / "manifest.json").read_text())
    assert m2["config"]["rank"] == 8 and m2["parent"]["from"] == str(art)
    steps = [h["step"] for h in m2["history"]]
    assert steps == sorted(steps) and m2["history"][-1].get("continued") and len(steps) > 1
    from safetensors.torch import load_file

    before, after = (load_file(str(p / "peft" / "adapter_model.safetensors")) for p in (art, more))
    k = next(k for k in before if "lora_B" in k)
    assert before[k].abs().sum() > 0 and (after[k] - before[k]).norm() < before[k].norm()

    # a folder with only its GGUF adapter (as shipped) is read back into the same LoRA weights
    import shutil

    from subroute.train.decomposer import load_trainable, read_trainable

    shipped = tmp_path / "shipped"
    shipped.mkdir()
    for name in ("adapter.gguf", "manifest.json"):
        shutil.copy(art / name, shipped / name)
    _, base2, base_path = load_base(default_pool, "smollm2-135m")
    back = load_trainable(base2, shipped, read_trainable(shipped, "continued SFT"), base_path).state_dict()
    for key, value in before.items():
        got = back[key.replace(".weight", ".default.weight")] if key not in back else back[key]
        assert torch.allclose(got.float(), value.float(), atol=2e-3, rtol=1e-2), key
    assert TrainedDecomposer(default_pool, more).decompose(q).calls

    # GRPO from the SFT artifact, the allocator frozen: one step, two samples of one question
    from subroute.allocate import FixedAllocator
    from subroute.train.decomposer import DecomposerGRPOConfig, train_grpo

    g = train_grpo(default_pool, exs[:1], art, tmp_path / "grpo", FixedAllocator("smollm2-135m"),
                   DecomposerGRPOConfig(steps=1, group_size=2, questions_per_step=1, max_completion_length=24))
    manifest = __import__("json").loads((g / "manifest.json").read_text())
    grpo = [h for h in manifest["history"] if h["phase"] == "grpo"]
    assert len(grpo) == 1 and 0 <= grpo[0]["accuracy"] <= 1 and manifest["grpo"]["config"]["steps"] == 1
    assert TrainedDecomposer(default_pool, g).decompose(q).calls


def test_artifact_for_another_pool_is_refused(tmp_path):
    from subroute import Pool, SubrouteError
    from subroute.learned import TrainedDecomposer

    (tmp_path / "manifest.json").write_text('{"kind": "decomposer", "version": 1, "base": {"name": "tiny", "identity": "x"}}')
    with pytest.raises(SubrouteError, match="trained on model 'tiny' of another pool"):
        TrainedDecomposer(Pool.load(), tmp_path)


def test_continuing_needs_a_folder_with_peft_or_its_gguf_adapter(tmp_path, default_pool):
    from subroute import SubrouteError
    from subroute.records import Example, GoldStep
    from subroute.train.decomposer import DecomposerConfig, train_sft

    ex = Example("0", "Where was the painter of X born?", "Tarnholm",
                 decomposition=[GoldStep("Who painted X?", "Ann"), GoldStep("Where was #1 born?", "Tarnholm")])
    (tmp_path / "shipped").mkdir()
    (tmp_path / "shipped" / "manifest.json").write_text('{"kind": "decomposer", "version": 1}')
    with pytest.raises(SubrouteError, match="has neither peft/ nor adapter.gguf"):
        train_sft(default_pool, [ex], tmp_path / "out", DecomposerConfig(max_steps=1), start=tmp_path / "shipped")
