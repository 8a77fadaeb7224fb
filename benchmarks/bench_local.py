"""Generated tokens per second, per default model: through subroute (our decode loop with
per-token log-probabilities) against llama-cpp-python directly in the same run, plus
llama-cpp-python's own route to log-probabilities (logits_all=True), to show what our loop
saves.

    python benchmarks/bench_local.py [--tokens 96] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import llama_cpp

from subroute import Pool
from subroute.models.llamacpp import load_llama

PROMPT = [{"role": "user", "content": "Write a long story about a lighthouse keeper who finds a map."}]


def direct_tps(llm: llama_cpp.Llama, toks: list[int], n: int, logprobs: bool) -> float:
    llm.reset()
    t0 = time.perf_counter()
    r = llm.create_completion(prompt=toks, max_tokens=n, temperature=0.0, logprobs=1 if logprobs else None)
    return r["usage"]["completion_tokens"] / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=96)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    pool = Pool.load()
    print(f"{'model':<14}{'subroute tok/s':>16}{'llama.cpp tok/s':>17}{'ratio':>8}{'logits_all tok/s':>18}{'ours/logits_all':>17}")
    for m in pool:
        ours = m.backend
        toks, _ = ours.prompt_tokens(PROMPT)
        direct = load_llama(llama_cpp, model_path=ours.path, n_ctx=ours.n_ctx, n_threads=a.threads, n_threads_batch=a.threads,
                            logits_all=False, verbose=False)
        full = load_llama(llama_cpp, model_path=ours.path, n_ctx=1024, n_threads=a.threads, n_threads_batch=a.threads,
                          logits_all=True, verbose=False)
        s, d, f = [], [], []
        for _ in range(a.repeats):
            ours.llm.reset()  # no prefix reuse: measure prompt + generation like the others
            t0 = time.perf_counter()
            c = m.generate(PROMPT, max_tokens=a.tokens)
            s.append(c.usage.output_tokens / (time.perf_counter() - t0))
            d.append(direct_tps(direct, toks, a.tokens, False))
            f.append(direct_tps(full, toks, a.tokens, True))
        ms, md, mf = max(s), max(d), max(f)
        print(f"{m.name:<14}{ms:>16.1f}{md:>17.1f}{ms / md:>8.2f}{mf:>18.1f}{ms / mf:>17.2f}")
        del direct, full


if __name__ == "__main__":
    main()
