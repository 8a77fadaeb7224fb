"""Token-level routing (R2R) on held-out questions, in one run: accuracy of chain-of-thought
answers against the share of tokens the large model wrote, for the learned token router and
its baselines at the same target shares, beside each model of the pair alone; then the
token-routed generator's speed against the large model's.

    python benchmarks/bench_tokenroute.py [--router DIR] [--shares 0.1,0.2] [--rg-n 24] [--world 900]
        [--world-n 16] [--speed 6] [--plot docs/figures/tokenroute.png]

Questions: `--rg-n` reasoning-gym questions of the external suite's tasks at its evaluation
seed (1000, or `--rg-seed`; the shipped token router trained on seed 11), and the synthesis steps of `--world-n`
questions of held-out DecompBench world `--world`, each answered with the chain-of-thought
prompt of the benchmark's cot:<model> baselines (greedy, 320 tokens), scored by subroute's
scorer. Each router's threshold is the one that flagged the target share of its held-out
label positions (the artifact's manifest), so the routers are compared at equal target
share; the share each reached on these answers is printed beside it.

Speed: `--speed` questions answered uncached by Qwen-1.5B alone and by the token-routed
model at the first share, generated tokens per second of each (prompt time included).

`--end-to-end N`: the default router (shipped decomposer, gate, confidence rule at 0.5) on
the default pool, and on the same pool with the token-routed model (learned router, first
share) as a rung between Qwen-0.5B and Qwen-1.5B (examples/pools/tokenroute.toml), on N
questions of world `--world` (2-4 hops) and N reasoning-gym questions: right answers and cost.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from subroute import Pool
from subroute.bench.datasets import EXTERNAL_RG_SEED, EXTERNAL_RG_TASKS, reasoning_gym_examples, score
from subroute.bench.systems import parse_cot
from subroute.cache import CallCache
from subroute.models.tokenroute import shipped_router_dir
from subroute.prompts import cot_messages
from subroute.records import Example


def world_examples(seed: int, n: int) -> list[Example]:
    """Synthesis steps of `n` questions of world `seed`, as one-question examples."""
    from subroute.bench.datasets import parse_example
    from subroute.train.tokens import jobs_from_examples
    from subroute.worlds import QuestionConfig, WorldConfig, build_world, generate_questions

    world = build_world(WorldConfig(seed=seed))
    cfg = QuestionConfig(n=n, seed=seed)
    cfg.kinds = {"comparison": 2, "arithmetic": 2, "aggregation": 1, "word": 2}  # the training mix's kinds
    qs = generate_questions(world, cfg)
    exs = [parse_example(q.to_dict(), default_id=f"w{seed}-{i}") for i, q in enumerate(qs)]
    return [Example(id=j.id, question=j.question, answer=j.gold or "", meta={"source": "decompbench"})
            for j in jobs_from_examples(exs)]


def pool_with(routers: dict[str, dict]) -> Pool:
    import tomllib
    from importlib import resources

    data = tomllib.loads(resources.files("subroute").joinpath("default_pool.toml").read_text())
    data["pool"]["tiers"] = ["small", "medium", "mixed", "large"]
    for name, spec in routers.items():
        data["models"].append({"name": name, "backend": "tokenroute", "tier": "mixed", "small": "qwen-0.5b",
                               "large": "qwen-1.5b", **spec})
    return Pool.from_dict(data, source="<bench_tokenroute>")


def answer(pool: Pool, name: str, ex: Example) -> dict:
    c = pool[name].generate(cot_messages(ex.question, ex.context), max_tokens=320, logprobs=False)
    tr = c.extra.get("tokenroute")
    return {"correct": score(parse_cot(c.text), ex)[0], "cost": c.cost, "out": c.usage.output_tokens,
            "large": tr["large_out"] if tr else (c.usage.output_tokens if name == "qwen-1.5b" else 0)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--router", default=None, help="token-router folder (default: the shipped one)")
    ap.add_argument("--shares", default="0.1,0.2", help="target shares of large-model tokens")
    ap.add_argument("--baselines", default="entropy,top1,random")
    ap.add_argument("--rg-n", type=int, default=24)
    ap.add_argument("--rg-seed", type=int, default=EXTERNAL_RG_SEED, help="reasoning-gym seed (never a training one)")
    ap.add_argument("--world", type=int, default=900)
    ap.add_argument("--world-n", type=int, default=16)
    ap.add_argument("--speed", type=int, default=6, help="questions timed uncached (0: no timing)")
    ap.add_argument("--end-to-end", type=int, default=0, help="questions per set for the router end to end")
    ap.add_argument("--plot", default=None, help="write the accuracy-share curve here (PNG)")
    ap.add_argument("--json", dest="json_path", default=None, help="write the figures here")
    a = ap.parse_args()
    from tqdm import tqdm

    art = Path(a.router) if a.router else shipped_router_dir()
    manifest = json.loads((art / "manifest.json").read_text())
    shares = [float(s) for s in a.shares.split(",") if s]
    routed: dict[str, dict] = {}
    for sh in shares:
        key = min(manifest["thresholds"], key=lambda s: abs(float(s) - sh))
        routed[f"learned@{sh:g}"] = {"router": str(art), "share": sh}
        for b in [b for b in a.baselines.split(",") if b]:
            t = sh if b == "random" else manifest["baseline_thresholds"][b][key]
            routed[f"{b}@{sh:g}"] = {"router": b, "threshold": float(t), "share": sh}
    pool = pool_with(routed).use_cache(CallCache())
    exs = reasoning_gym_examples(list(EXTERNAL_RG_TASKS), a.rg_n, a.rg_seed) if a.rg_n else []
    exs += world_examples(a.world, a.world_n) if a.world_n else []
    systems = ["qwen-0.5b", "qwen-1.5b", *routed]
    rows: dict[str, list[dict]] = {}
    with tqdm(total=len(systems) * len(exs), desc="tokenroute", unit="q") as bar:
        for s in systems:
            bar.set_postfix_str(s)
            rows[s] = []
            for ex in exs:
                rows[s].append(answer(pool, s, ex))
                bar.update(1)
    big = rows["qwen-1.5b"]
    acc_l = sum(r["correct"] for r in big) / len(big)
    cost_l = sum(r["cost"] for r in big)
    table = {}
    print(f"\n{len(exs)} held-out questions ({a.rg_n} reasoning-gym seed {a.rg_seed}, "
          f"{len(exs) - a.rg_n} synthesis steps of world {a.world}); router {art}")
    print(f"{'system':<16} {'acc':>6} {'x 1.5B':>7} {'share':>6} {'cost x':>7}")
    for s in systems:
        rs = rows[s]
        acc = sum(r["correct"] for r in rs) / len(rs)
        share = sum(r["large"] for r in rs) / max(1, sum(r["out"] for r in rs))
        cost = sum(r["cost"] for r in rs) / cost_l
        table[s] = {"accuracy": acc, "of_large": acc / acc_l if acc_l else None, "share": share, "cost": cost}
        print(f"{s:<16} {acc:>6.3f} {acc / acc_l if acc_l else float('nan'):>7.2f} {share:>6.1%} {cost:>7.2f}")
    out = {"n": len(exs), "router": str(art), "table": table}
    if a.speed:
        sp_pool = pool_with({k: v for k, v in routed.items() if k == f"learned@{shares[0]:g}"})
        speed = {}
        for s in ("qwen-1.5b", "qwen-0.5b", f"learned@{shares[0]:g}"):
            toks, secs = 0, 0.0
            for ex in exs[: a.speed]:
                t0 = time.perf_counter()
                c = sp_pool[s].generate(cot_messages(ex.question, ex.context), max_tokens=320, logprobs=False)
                secs += time.perf_counter() - t0
                toks += c.usage.output_tokens
            speed[s] = toks / secs
        base = speed["qwen-1.5b"]
        print("\ngenerated tokens/s, uncached: " + ", ".join(f"{k} {v:.1f} ({v / base:.2f}x)" for k, v in speed.items()))
        out["tokens_per_s"] = speed
        out["ms_per_token"] = read_costs(sp_pool)
    if a.end_to_end:
        out["end_to_end"] = end_to_end(a.end_to_end, a.world, art, shares[0])
    if a.plot:
        plot(table, shares, a.plot, len(exs))
        print(f"plot: {a.plot}")
    if a.json_path:
        Path(a.json_path).write_text(json.dumps(out, indent=2) + "\n")


def read_costs(pool: Pool) -> dict:
    """Milliseconds per token for each model of the pair, writing (one token per evaluation)
    and reading in batches (its catch-up): what bounds the token-routed generator's speed,
    since the large model reads every token the small one writes."""
    text = ("The quick brown fox jumps over the lazy dog. " * 40).encode()
    res = {}
    for name in ("qwen-0.5b", "qwen-1.5b"):
        m = pool[name].backend
        with m._lock:
            toks = m.llm.tokenize(text, add_bos=False)[:144]
            m.llm.n_tokens = 0
            m.llm.eval(toks[:16])
            for k in (1, 16):
                m.llm.n_tokens = 16
                t0 = time.perf_counter()
                for j in range(16, 144, k):
                    m.llm.eval(toks[j:j + k])
                res[f"{name} batch {k}"] = (time.perf_counter() - t0) / 128 * 1000
    small, read, write = res["qwen-0.5b batch 1"], res["qwen-1.5b batch 16"], res["qwen-1.5b batch 1"]
    print(f"ms per token: qwen-0.5b writes {small:.1f}; qwen-1.5b writes {write:.1f}, reads {read:.1f} in batches "
          f"of 16; so a token-routed token costs at least {small + read:.1f} ms, at most "
          f"{write / (small + read):.2f}x qwen-1.5b's speed with no token from it")
    return res


def end_to_end(n: int, world: int, art: Path, share: float) -> dict:
    from subroute.bench.datasets import parse_example
    from subroute.bench.runner import run_systems
    from subroute.bench.systems import ReasonerSystem
    from subroute.reasoner import Reasoner
    from subroute.worlds import QuestionConfig, WorldConfig, build_world, generate_questions

    w = build_world(WorldConfig(seed=world))
    sets = {
        f"world {world}": [parse_example(q.to_dict(), default_id=f"w{world}-{i}") for i, q in
                           enumerate(generate_questions(w, QuestionConfig(n=n, seed=world, min_hops=2, max_hops=4)))],
        "reasoning-gym": reasoning_gym_examples(list(EXTERNAL_RG_TASKS), n, EXTERNAL_RG_SEED),
    }
    pools = {"default": Pool.load().use_cache(CallCache()),
             "with tokenroute": pool_with({"qwen-0.5b+1.5b": {"router": str(art), "share": share}}).use_cache(CallCache())}
    res: dict = {}
    print(f"\nend to end: the default router, confidence rule at 0.5 ({n} questions per set)")
    for set_name, exs in sets.items():
        for pool_name, p in pools.items():
            rs = run_systems([ReasonerSystem(Reasoner.default(p), pool_name, "router")], exs)
            calls = [c for r in rs for c in r.calls]
            tr = [c for c in calls if c.large_share is not None]
            acc = sum(r.correct for r in rs) / len(rs)
            cost = sum(r.cost for r in rs)
            res[f"{set_name}/{pool_name}"] = {"accuracy": acc, "cost": cost, "tokenroute_calls": len(tr)}
            print(f"  {set_name:<14} {pool_name:<16} {acc:.3f} @ ${cost:.5f}  ({len(tr)} token-routed calls)")
    return res


def plot(table: dict, shares: list[float], path: str, n: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    for fam, mark in (("learned", "o-"), ("entropy", "s--"), ("top1", "^--"), ("random", "x:")):
        pts = sorted((v["share"], v["accuracy"]) for k, v in table.items() if k.startswith(fam + "@"))
        if pts:
            pts = [(0.0, table["qwen-0.5b"]["accuracy"]), *pts, (1.0, table["qwen-1.5b"]["accuracy"])]
            ax.plot(*zip(*pts), mark, label=fam)
    for m, c in (("qwen-0.5b", "grey"), ("qwen-1.5b", "black")):
        ax.axhline(table[m]["accuracy"], color=c, lw=0.8, ls=":", label=f"{m} alone")
    ax.set_xlabel("share of tokens written by Qwen-1.5B")
    ax.set_ylabel(f"accuracy ({n} held-out questions, chain of thought)")
    ax.set_title("Token routing Qwen-0.5B / Qwen-1.5B")
    ax.legend(fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
