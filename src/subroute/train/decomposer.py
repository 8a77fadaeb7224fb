"""The trained decomposer: LoRA SFT of a small pool model on gold decompositions, run by
llama.cpp with the adapter.

Why this shape: the prompted decomposer needs five few-shot turns (~350 tokens) on the
largest model for every question, which made it most of the router's cost. A small model
fine-tuned to emit numbered sub-questions needs only a one-line instruction, so a
decomposition costs a few dozen tokens of the cheapest model.

Training (TRL's SFTTrainer with a PEFT LoRA config, on torch, CPU or GPU): the base model
is the pool's own GGUF file, de-quantized by transformers; prompts are the system line plus
the question, completions the gold steps as "1. ...\\n2. ... #1 ..."; loss on completions
only. The adapter targets the attention value/output and MLP projections: llama.cpp's
converter permutes q/k rows for llama-architecture models, and leaving q/k alone keeps our
export exact without that permutation.

Export: the PEFT adapter is written as a llama.cpp LoRA GGUF (``general.type = adapter``,
``adapter.lora.alpha``, tensors ``<gguf name>.lora_a`` [r, in] and ``.lora_b`` [out, r],
names from gguf-py's tensor map), and llama.cpp applies it on top of the quantized base at
load time, at full llama.cpp speed.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from subroute.decompose import GivenDecomposer, parse_steps
from subroute.errors import SubrouteError, missing_extra
from subroute.inline import split_inline
from subroute.learned import DECOMPOSER_VERSION, SYSTEM, prompt_messages
from subroute.pool import Pool
from subroute.records import Example
from subroute.retrieve import approx_tokens
from subroute.scoring import score_example

TARGET_MODULES = ["v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def target_text(ex: Example) -> str:
    return "\n".join(f"{i}. {s.question}" for i, s in enumerate(ex.decomposition or [], 1))


@dataclass
class DecomposerConfig:
    """The decomposer's LoRA SFT knobs, and the one source of their defaults: `subroute train
    decomposer` and `train all` derive their options from these fields (default, help, and
    the range in "min"/"max")."""

    base: str = field(default="smollm2-135m", metadata={"help": "pool model to fine-tune (a llamacpp model)"})
    rank: int = field(default=8, metadata={"help": "LoRA rank", "min": 1})
    alpha: float = field(default=16.0, metadata={"help": "LoRA alpha (scale = alpha / rank)"})
    max_steps: int = field(default=120, metadata={"help": "optimizer steps", "min": 1})
    batch_size: int = field(default=8, metadata={"help": "sequences per step", "min": 1})
    lr: float = field(default=1e-3, metadata={"help": "learning rate"})
    max_length: int = field(default=192, metadata={"help": "tokens per training sequence", "min": 32})
    seed: int = field(default=0, metadata={"help": "seed"})


def _require_training():
    try:
        import peft  # noqa: F401
        import torch  # noqa: F401
        import trl  # noqa: F401
    except ImportError:
        raise missing_extra("torch, trl and peft", "train") from None


def load_base(pool: Pool, base: str):
    """Tokenizer and float model of a pool's GGUF file, through transformers."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    pm = pool[base]
    if pm.spec.backend != "llamacpp":
        raise SubrouteError(f"the decomposer base must be a local llamacpp model; '{base}' is {pm.spec.backend}")
    path = pm.model_path()
    from subroute.models import catalog

    if pm.spec.catalog:
        catalog.get(pm.spec.catalog).require()
    tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name)
    # transformers de-quantizes GGUF weights to float32 on load but keeps a GGUF
    # "quantization" tag, which makes its Trainer refuse to train; the tag is all that is left
    model.hf_quantizer = None
    model.is_quantized = False
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    return tok, model, path


def read_trainable(src: str | Path, what: str) -> dict:
    """The manifest of a decomposer folder that training can start from: one with peft/,
    or with only its GGUF adapter (the shipped one), which `load_trainable` reads back;
    `what` names the training in the error."""
    src = Path(src)
    try:
        manifest = json.loads((src / "manifest.json").read_text())
    except (OSError, ValueError):
        raise SubrouteError(f"{src} is not a decomposer artifact; train one first with: subroute train decomposer") from None
    if not (src / "peft").is_dir() and not (src / "adapter.gguf").is_file():
        raise SubrouteError(f"{src} has neither peft/ nor adapter.gguf; "
                            f"{what} starts from a folder written by: subroute train decomposer")
    return manifest


def load_trainable(model, src: str | Path, manifest: dict, base_gguf: Path):
    """`model` with the adapter of decomposer folder `src`, trainable: from its peft/ folder,
    else read back from its GGUF adapter (float16, as shipped) into a fresh LoRA of the
    manifest's rank and alpha."""
    from peft import LoraConfig, PeftModel, get_peft_model

    src = Path(src)
    if (src / "peft").is_dir():
        return PeftModel.from_pretrained(model, str(src / "peft"), is_trainable=True)
    kept = manifest["config"]
    lora = LoraConfig(r=kept["rank"], lora_alpha=kept["alpha"], lora_dropout=0.0, target_modules=TARGET_MODULES,
                      task_type="CAUSAL_LM")
    peft_model = get_peft_model(model, lora)
    import_gguf_lora(peft_model, src / "adapter.gguf", base_gguf)
    return peft_model


def _lora_names(peft_model, base_gguf: Path) -> dict[str, str]:
    """PEFT lora_A state key -> the GGUF name of the base tensor it adapts."""
    import gguf

    reader = gguf.GGUFReader(str(base_gguf))
    arch = bytes(reader.fields["general.architecture"].parts[-1]).decode()
    n_blocks = int(reader.fields[f"{arch}.block_count"].parts[-1][0])
    arch_enum = next(k for k, v in gguf.MODEL_ARCH_NAMES.items() if v == arch)
    names = gguf.get_tensor_name_map(arch_enum, n_blocks)
    base_names = {t.name for t in reader.tensors}
    out = {}
    for key in sorted(peft_model.state_dict()):
        if ".lora_A." not in key:
            continue
        hf = key.replace("base_model.model.", "").replace(".lora_A.weight", ".weight").replace(".lora_A.default.weight", ".weight")
        dest = names.get_name(hf, try_suffixes=(".weight",))
        if dest is None or dest not in base_names:
            raise SubrouteError(f"cannot map LoRA tensor {hf} to a tensor of {base_gguf.name}")
        out[key] = dest
    return out


def import_gguf_lora(peft_model, adapter_gguf: Path, base_gguf: Path) -> int:
    """Load a llama.cpp LoRA GGUF (as `export_gguf_lora` writes it) into `peft_model`'s
    LoRA weights; returns the number of adapted tensors."""
    import gguf
    import torch

    tensors = {t.name: t for t in gguf.GGUFReader(str(adapter_gguf)).tensors}
    state = peft_model.state_dict()
    new = {}
    for key, dest in _lora_names(peft_model, base_gguf).items():
        for part, suffix in ((key, ".lora_a"), (key.replace("lora_A", "lora_B"), ".lora_b")):
            t = tensors.get(dest + suffix)
            if t is None:
                raise SubrouteError(f"{adapter_gguf} has no tensor {dest + suffix}; it is not an adapter of this base")
            value = torch.tensor(t.data.copy(), dtype=state[part].dtype).reshape(state[part].shape)
            new[part] = value
    missing = peft_model.load_state_dict(new, strict=False)
    if missing.unexpected_keys:
        raise SubrouteError(f"unexpected LoRA tensors: {missing.unexpected_keys[:3]}")
    return len(new) // 2


def data_provenance(examples: list[Example]) -> dict:
    """Where training examples came from, for a manifest: DecompBench world seeds (so test
    worlds can be checked against the training ones), reasoning-gym tasks and seeds (never
    the ones evaluated on), and how many decompositions each source wrote (gold, or found by
    `subroute train search`)."""
    out: dict = {}
    seeds = sorted({ex.meta["world_seed"] for ex in examples if ex.meta.get("world_seed") is not None})
    if seeds:
        out["world_seeds"] = seeds
    rg = [ex for ex in examples if ex.meta.get("source") == "reasoning_gym"]
    if rg:
        out["reasoning_gym"] = {"tasks": sorted({str(ex.meta.get("task")) for ex in rg}),
                                "seeds": sorted({ex.meta.get("seed") for ex in rg if ex.meta.get("seed") is not None}),
                                "n": len(rg)}
    found: dict[str, int] = {}
    for ex in examples:
        src = str(ex.meta.get("decomposition_source") or "gold")
        found[src] = found.get(src, 0) + 1
    if set(found) != {"gold"}:
        out["decompositions"] = found
    return out


def train_sft(pool: Pool, examples: list[Example], out: str | Path, cfg: DecomposerConfig,
              log: Callable[[dict], None] | None = None, start: str | Path | None = None) -> Path:
    """Fine-tune, export the GGUF adapter, write the artifact folder; returns it. With
    `start` (a folder written by this function), SFT continues that adapter instead of a
    fresh one (its base, rank and alpha are kept; `cfg` gives the steps, batch and lr)."""
    _require_training()
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import TrainerCallback
    from trl import SFTConfig, SFTTrainer

    rows = [{"prompt": prompt_messages(split_inline(ex.question).for_decomposer), "completion": [{"role": "assistant", "content": target_text(ex)}]}
            for ex in examples if ex.decomposition]
    if not rows:
        raise SubrouteError("no examples with gold decompositions to train the decomposer on")
    parent = read_trainable(start, "continued SFT") if start is not None else None
    if parent is not None:
        kept = parent["config"]
        cfg = replace(cfg, base=kept["base"], rank=kept["rank"], alpha=kept["alpha"])
    tok, model, base_path = load_base(pool, cfg.base)
    if parent is not None:
        model = load_trainable(model, start, parent, base_path)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    history: list[dict] = []

    class _Log(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):  # noqa: D401
            if logs and "loss" in logs:
                rec = {"phase": "sft", "step": state.global_step, "loss": float(logs["loss"])}
                history.append(rec)
                if log:
                    log(rec)

    args = SFTConfig(
        output_dir=str(out / "trainer"), max_steps=cfg.max_steps, per_device_train_batch_size=cfg.batch_size,
        learning_rate=cfg.lr, lr_scheduler_type="cosine", warmup_steps=max(1, cfg.max_steps // 20),
        logging_steps=max(1, cfg.max_steps // 20), save_strategy="no", report_to=[], seed=cfg.seed,
        max_length=cfg.max_length, completion_only_loss=True, disable_tqdm=False,
        use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available(),
    )
    lora = LoraConfig(r=cfg.rank, lora_alpha=cfg.alpha, lora_dropout=0.0, target_modules=TARGET_MODULES,
                      task_type="CAUSAL_LM")
    t0 = time.perf_counter()
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok,
                         peft_config=None if parent is not None else lora, callbacks=[_Log()])
    trainer.train()
    seconds = time.perf_counter() - t0
    peft_model = trainer.model
    peft_model.save_pretrained(str(out / "peft"))
    export_gguf_lora(peft_model, base_path, out / "adapter.gguf", alpha=cfg.alpha)
    from subroute.learned import pool_signature

    sig = [m for m in pool_signature(pool) if m["name"] == cfg.base]
    manifest = {"kind": "decomposer", "version": DECOMPOSER_VERSION, "base": sig[0], "config": asdict(cfg),
                "system": SYSTEM, "train_examples": len(rows), "train_seconds": seconds, "history": history,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    manifest["data"] = data_provenance([ex for ex in examples if ex.decomposition])
    if not manifest["data"]:
        del manifest["data"]
    if parent is not None:  # the earlier stages, so the manifest tells the whole training
        manifest["parent"] = {"from": str(start), **{k: parent[k] for k in ("config", "train_examples", "train_seconds",
                                                                          "data") if k in parent}}
        before = parent.get("history", [])
        last = max((h["step"] for h in before), default=0)
        manifest["history"] = before + [{**h, "step": h["step"] + last, "continued": True} for h in history]
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


def export_gguf_lora(peft_model, base_gguf: Path, out: Path, *, alpha: float) -> Path:
    """Write a PEFT LoRA adapter as a llama.cpp LoRA GGUF."""
    import gguf
    import numpy as np

    arch = bytes(gguf.GGUFReader(str(base_gguf)).fields["general.architecture"].parts[-1]).decode()
    writer = gguf.GGUFWriter(str(out), arch)
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha))
    state = {k: v for k, v in peft_model.state_dict().items() if "lora_" in k}
    n = 0
    for key, dest in _lora_names(peft_model, base_gguf).items():
        a = state[key].detach().float().cpu().numpy()
        b = state[key.replace("lora_A", "lora_B")].detach().float().cpu().numpy()
        # float16 halves the shipped file; llama.cpp applies F16 adapters to quantized bases
        writer.add_tensor(dest + ".lora_a", np.ascontiguousarray(a, dtype=np.float16))
        writer.add_tensor(dest + ".lora_b", np.ascontiguousarray(b, dtype=np.float16))
        n += 1
    if not n:
        raise SubrouteError("the model has no LoRA tensors to export")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out


@dataclass
class DecomposerGRPOConfig:
    """The decomposer's GRPO knobs, and the one source of their defaults: `subroute train
    grpo` and `train all` derive their options from these fields (default, help, and the
    range in "min"/"max")."""

    steps: int = field(default=20, metadata={"help": "GRPO optimizer steps", "min": 1})
    group_size: int = field(default=4, metadata={"help": "G: decompositions sampled per question", "min": 2})
    questions_per_step: int = field(default=2, metadata={"help": "questions per step", "min": 1})
    lr: float = field(default=1e-4, metadata={"help": "learning rate"})
    temperature: float = field(default=1.0, metadata={
        "help": "sampling temperature of the G decompositions; an SFT'd decomposer is peaked, "
                "and identical samples carry no signal", "min": 0.1, "max": 3.0})
    max_completion_length: int = field(default=160, metadata={"help": "tokens per sampled decomposition", "min": 1})
    epsilon: float = field(default=0.2, metadata={"help": "PPO ratio clipping"})
    iterations: int = field(default=2, metadata={"help": "passes over each sampled batch (clipping acts from the 2nd)"})
    cost_lambda: float = field(default=0.0, metadata={
        "help": "reward = correct - lambda * cost / cost of the largest model on the whole context"})
    seed: int = field(default=0, metadata={"help": "seed"})


class OutcomeReward:
    """GRPO's reward for one sampled decomposition: the routed pipeline (allocator frozen)
    runs its steps on the question's context, and the final answer is scored against the
    gold answer: 1 or 0 (seeds/001's binary outcome reward), minus `cost_lambda` times the
    run's cost relative to the largest model reading the whole context, when asked. An
    unparseable decomposition, or one whose run fails, scores 0. Model calls go through the
    pool's call cache, so a decomposition sampled twice is executed once."""

    __name__ = "final_answer"

    def __init__(self, pool: Pool, allocator, examples: list[Example], *, cost_lambda: float = 0.0,
                 max_steps: int = 8) -> None:
        from subroute.reasoner import Reasoner

        self.given = GivenDecomposer()
        self.reasoner = Reasoner(pool, self.given, allocator, name="grpo-reward")
        self.pool = pool
        self.by_id = {e.id: e for e in examples}
        self.cost_lambda = cost_lambda
        self.max_steps = max_steps
        self.history: list[dict] = []

    def score(self, text: str, ex: Example) -> tuple[float, bool, float]:
        """(reward, correct, cost relative to the largest model on the whole context)."""
        try:
            self.given.steps = parse_steps(text, max_steps=self.max_steps)
        except ValueError:
            return 0.0, False, 0.0
        t = self.reasoner.answer(ex.question, ex.context or None, ex)
        ok = t.error is None and bool(score_example(t.answer, ex).correct)
        # normaliser: the largest model reading the question and its whole context once
        ref = self.pool.models[-1].cost(approx_tokens(f"{ex.question} {ex.context or ''}"), 8) or 1.0
        return float(ok) - self.cost_lambda * t.cost / ref, ok, t.cost / ref

    def __call__(self, prompts, completions, example_id, **kw) -> list[float]:
        out = []
        for comp, ex_id in zip(completions, example_id):
            text = comp[-1]["content"] if isinstance(comp, list) else str(comp)
            r, ok, cost = self.score(text, self.by_id[ex_id])
            out.append(r)
            self.history.append({"example_id": ex_id, "reward": r, "correct": ok, "cost": cost})
        return out


def train_grpo(pool: Pool, examples: list[Example], sft_artifact: str | Path, out: str | Path, allocator,
               cfg: DecomposerGRPOConfig, log: Callable[[dict], None] | None = None) -> Path:
    """GRPO of an SFT'd decomposer on the final-answer reward with `allocator` frozen
    (TRL's GRPOTrainer: G samples per question, advantages relative to the group, PPO
    clipping); exports the adapter and writes an artifact folder like `train_sft`'s."""
    _require_training()
    import torch
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    src = Path(sft_artifact)
    sft_manifest = read_trainable(src, "GRPO")
    rows = [{"prompt": prompt_messages(split_inline(ex.question).for_decomposer), "example_id": ex.id} for ex in examples if ex.answer]
    if not rows:
        raise SubrouteError("no examples with answers to reward the decomposer on")
    base_cfg = DecomposerConfig(**sft_manifest["config"])
    tok, model, base_path = load_base(pool, base_cfg.base)
    model = load_trainable(model, src, sft_manifest, base_path)
    reward = OutcomeReward(pool, allocator, examples, cost_lambda=cfg.cost_lambda)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    history: list[dict] = []

    class _Log(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kw):  # noqa: D401
            if logs and "reward" in logs:
                rec = {"phase": "grpo", "step": state.global_step, "reward": float(logs["reward"]),
                       "loss": float(logs.get("loss", 0.0))}
                recent = reward.history[-cfg.group_size * cfg.questions_per_step:]
                if recent:
                    rec["accuracy"] = sum(h["correct"] for h in recent) / len(recent)
                    rec["cost"] = sum(h["cost"] for h in recent) / len(recent)
                history.append(rec)
                if log:
                    log(rec)

    args = GRPOConfig(
        output_dir=str(out / "trainer"), max_steps=cfg.steps, learning_rate=cfg.lr,
        per_device_train_batch_size=cfg.group_size * cfg.questions_per_step, num_generations=cfg.group_size,
        max_completion_length=cfg.max_completion_length, temperature=cfg.temperature, beta=0.0,
        epsilon=cfg.epsilon, num_iterations=cfg.iterations, logging_steps=1, save_strategy="no", report_to=[],
        seed=cfg.seed, use_cpu=not torch.cuda.is_available(), bf16=torch.cuda.is_available(), disable_tqdm=False,
    )
    t0 = time.perf_counter()
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args, train_dataset=Dataset.from_list(rows),
                          processing_class=tok, callbacks=[_Log()])
    trainer.train()
    seconds = time.perf_counter() - t0
    peft_model = trainer.model
    peft_model.save_pretrained(str(out / "peft"))
    export_gguf_lora(peft_model, base_path, out / "adapter.gguf", alpha=base_cfg.alpha)
    manifest = {**sft_manifest, "history": sft_manifest.get("history", []) + history,
                "grpo": {"config": asdict(cfg), "from": str(src), "allocator": getattr(allocator, "name", "?"),
                         "train_questions": len(rows), "train_seconds": seconds},
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return out


