"""Local GGUF models through llama-cpp-python (llama.cpp).

Why a decode loop of our own instead of ``create_chat_completion``: llama-cpp-python only
returns log-probabilities when the model is created with ``logits_all=True``, which keeps a
row of logits for *every prompt token* and made SmolLM2 ~8x and Gemma ~30x slower here
(shared MODELS.md). Routing needs the probabilities of the *generated* tokens only, so we
evaluate the prompt once, then per step read the last position's logits
(``llama_get_logits_ith(ctx, -1)``), take a log-softmax over the vocabulary, pick the token
(argmax at temperature 0, seeded sampling otherwise), and feed it back. The overhead is one
numpy pass over the vocabulary per token; ``benchmarks/bench_local.py`` measures it against
llama-cpp-python's own generation.

The chat template is the one stored in the GGUF (``tokenizer.chat_template``), rendered by
llama-cpp-python's Jinja2 formatter, as its own server does. The KV cache is reused across
calls for the longest common token prefix (same system prompt and context), and a lock
serialises calls because a llama.cpp context is not thread-safe.

On CPUs with AMX (Intel Sapphire Rapids and newer), a llama.cpp built for the machine
repacks Q4_K weights into its AMX buffer type and then crashes on the first evaluation
(SIGSEGV in ``ggml_backend_amx_mul_mat``, ggml-org/llama.cpp#20824; seen here with all three
default models). `load_llama` therefore loads with llama.cpp's extra buffer types off when
the build reports AMX, which keeps the plain CPU path.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from typing import Any, Iterator

import numpy as np

from subroute.errors import BackendError, SubrouteError, missing_extra
from subroute.models.base import Completion, GenerateParams, Message, TokenLogprob, Usage


def import_llama():
    try:
        import llama_cpp
    except ImportError:
        raise missing_extra("llama-cpp-python", "local") from None
    return llama_cpp


_LOAD_LOCK = threading.Lock()


def amx_build(llama_cpp: Any) -> bool:
    """Whether this llama.cpp build repacks weights for AMX (see the module docstring)."""
    try:
        info = llama_cpp.llama_print_system_info()
    except Exception:  # an older or stripped build: nothing to turn off
        return False
    return "AMX_INT8 = 1" in (info.decode(errors="replace") if isinstance(info, bytes) else str(info))


@contextmanager
def _model_params(llama_cpp: Any, **fields: Any) -> Iterator[None]:
    # llama-cpp-python's Llama() takes no argument for these fields of llama_model_params:
    # it builds them from llama_model_default_params(), so that is what is set for one load
    low = llama_cpp.llama_cpp
    default = low.llama_model_default_params

    def params():
        p = default()
        for k, v in fields.items():
            if hasattr(p, k):
                setattr(p, k, v)
        return p

    with _LOAD_LOCK:
        low.llama_model_default_params = params
        try:
            yield
        finally:
            low.llama_model_default_params = default


def load_llama(llama_cpp: Any, **kwargs: Any) -> Any:
    """`llama_cpp.Llama(**kwargs)`, with the extra buffer types off on an AMX build."""
    if not amx_build(llama_cpp):
        return llama_cpp.Llama(**kwargs)
    with _model_params(llama_cpp, use_extra_bufts=False):
        return llama_cpp.Llama(**kwargs)


def check_fits(name: str, n_prompt: int, n_ctx: int) -> None:
    """Refuse a prompt that leaves no room in the context window for one generated token."""
    if n_prompt + 1 > n_ctx:
        raise SubrouteError(
            f"model '{name}': the prompt is {n_prompt} tokens, longer than its context window of "
            f"{n_ctx}; shorten the context or raise context_length in the pool file"
        )


class LlamaCppModel:
    """A GGUF file loaded once; `generate` returns tokens with their log-probabilities."""

    def __init__(self, name: str, path: os.PathLike | str, *, n_ctx: int | None = None,
                 n_threads: int | None = None, seed: int = 0, lora_path: str | None = None) -> None:
        llama_cpp = import_llama()
        self.name = name
        self.path = str(path)
        self._lock = threading.Lock()
        self.lora_path = lora_path
        threads = n_threads or max(1, min(os.cpu_count() or 1, 8))
        try:
            self.llm = load_llama(
                llama_cpp, model_path=self.path, n_ctx=n_ctx or 4096, n_threads=threads,
                n_threads_batch=threads, logits_all=False, seed=seed, verbose=False, lora_path=lora_path,
            )
        except (ValueError, RuntimeError) as e:
            raise SubrouteError(f"model '{name}': llama.cpp could not load {self.path} ({e}); is it a GGUF file?") from None
        self._llama_cpp = llama_cpp
        self.n_ctx = self.llm.n_ctx()
        self.n_vocab = self.llm.n_vocab()
        md = self.llm.metadata
        template = md.get("tokenizer.chat_template")
        if not template:
            raise SubrouteError(
                f"model '{name}': {self.path} has no chat template; subroute needs an instruction-tuned GGUF"
            )
        m = self.llm._model
        eos_id, bos_id = m.token_eos(), m.token_bos()
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=m.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=m.token_get_text(bos_id) if bos_id != -1 else "",
        )
        self._vocab = m.vocab

    # -- tokens ------------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def prompt_tokens(self, messages: list[Message]) -> tuple[list[int], list[str]]:
        r = self._formatter(messages=messages)
        toks = self.llm.tokenize(r.prompt.encode("utf-8"), add_bos=not r.added_special, special=True)
        stops = [s for s in (r.stop if isinstance(r.stop, list) else [r.stop] if r.stop else []) if s]
        return toks, stops

    def _is_eog(self, tok: int) -> bool:
        return bool(self._llama_cpp.llama_vocab_is_eog(self._vocab, tok))

    def _last_logits(self) -> np.ndarray:
        ptr = self._llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def _eval_prompt(self, toks: list[int]) -> None:
        """Evaluate `toks`, reusing the KV cache for the prefix shared with the last call.

        The last prompt token is always evaluated on its own, after the rest: its logits
        (the first generated token's distribution) then come from the same one-token
        computation whether the prefix was reused or not. Evaluated inside a batch, they
        differ from a one-token evaluation on some builds (by up to 0.7 in a logit with an
        AVX2 build: the same seeded sample drew another first token on a repeated prompt)."""
        llm = self.llm
        n = 0
        limit = min(llm.n_tokens, len(toks) - 1)  # re-evaluate at least one token for logits
        ids = llm.input_ids
        while n < limit and ids[n] == toks[n]:
            n += 1
        llm.n_tokens = n
        if n < len(toks) - 1:
            llm.eval(toks[n:-1])
        llm.eval(toks[-1:])

    # -- generation --------------------------------------------------------------------
    def generate(self, messages: list[Message], params: GenerateParams) -> Completion:
        toks, template_stops = self.prompt_tokens(messages)
        check_fits(self.name, len(toks), self.n_ctx)
        max_new = min(params.max_tokens, self.n_ctx - len(toks))
        stops = [s for s in (*params.stop, *template_stops) if s]
        rng = np.random.default_rng(params.seed)
        out_ids: list[int] = []
        out_lp: list[float] = []
        text_bytes = b""
        finish = "length"
        with self._lock:
            try:
                self._eval_prompt(toks)
                for _ in range(max_new):
                    logits = self._last_logits().astype(np.float64)
                    if params.temperature > 0:
                        z = logits / params.temperature
                        p = np.exp(z - z.max())
                        p /= p.sum()
                        tok = int(rng.choice(self.n_vocab, p=p))
                    else:
                        tok = int(np.argmax(logits))
                    if self._is_eog(tok):
                        finish = "stop"
                        break
                    mx = logits.max()
                    lse = mx + np.log(np.exp(logits - mx).sum())
                    out_ids.append(tok)
                    out_lp.append(float(logits[tok] - lse))
                    text_bytes += self.llm.detokenize([tok], special=False)
                    text = text_bytes.decode("utf-8", errors="ignore")
                    if stops and any(s in text for s in stops):
                        finish = "stop"
                        break
                    self.llm.eval([tok])
            except Exception as e:  # llama.cpp decode failures surface as RuntimeError
                if isinstance(e, SubrouteError):
                    raise
                raise BackendError(self.name, f"llama.cpp failed: {e}") from None
        text, tokens = self.finish(text_bytes, stops, out_ids, out_lp, params.logprobs)
        return Completion(
            model=self.name, text=text, usage=Usage(len(toks), len(out_ids)),
            finish_reason=finish, tokens=tokens,
        )

    def finish(self, text_bytes: bytes, stops: list[str], ids: list[int], logprobs: list[float],
               keep_logprobs: bool) -> tuple[str, list[TokenLogprob] | None]:
        """A decode loop's output: the text up to the first stop string, stripped, and (when
        asked for) each generated token with its log-probability."""
        text = text_bytes.decode("utf-8", errors="replace")
        for s in stops:
            if s in text:
                text = text[: text.index(s)]
        tokens = None
        if keep_logprobs:
            tokens = [
                TokenLogprob(self.llm.detokenize([t], special=False).decode("utf-8", errors="replace"), lp)
                for t, lp in zip(ids, logprobs)
            ]
        return text.strip(), tokens
