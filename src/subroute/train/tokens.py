"""Training the token router (R2R, seeds/004): path-following labels, then a small network.

Labels (R2R's Algorithm 1, `label_path`): the large model answers a question greedily with
chain of thought; along its answer, at every position, the small model's next token is read
from the same prefix. Where the two agree the position is *identical* (the small model may
write it). Where they differ, the large model continues greedily for a short window from the
prefix plus the small model's token; the window from the prefix plus its own token is its
answer itself. The two windows are then judged:

- the same text once case, spaces and punctuation are set aside: *neutral*;
- both windows reach an ``Answer:`` line and the task's gold answer is known: *divergent*
  when the small token's window answers otherwise than the large one's;
- otherwise the large model is asked whether the two continuations say the same
  (``verifier``; R2R uses a 32B-class verifier, here the pair's large model judges).

Identical and neutral positions are labelled small (0), divergent ones large (1). A record
per question (features of every position, labels, and each judged divergence with both
windows) goes to a resumable JSONL file; building shows progress and runs on Ray when given
a cluster, as allocation labels do (`subroute.train.labels.map_jobs`).

The router (`fit_router`): an MLP over `subroute.models.tokenroute.FEATURES`, trained with
class weighting (the positive class is rare) and early stopping on held-out questions, then
written in numpy form (``weights.npz``) with the thresholds that flag a target share of
held-out positions.
"""

from __future__ import annotations

import json
import re
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from subroute.errors import SubrouteError
from subroute.models.catalog import hash_file
from subroute.models.tokenroute import (
    FEATURES,
    TOKENROUTE_VERSION,
    TokenRouter,
    identity_digest,
    softmax_stats,
    token_features,
)
from subroute.pool import Pool, PoolModel
from subroute.prompts import cot_messages
from subroute.records import Example

SHARES = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4)
DEFAULT_SHARE = 0.2
VERIFY_SYSTEM = (
    "You compare two ways a partial answer could go on. Reply 'same' if both continuations say the same "
    "thing and lead to the same result, 'different' if they differ in meaning, a number, a name or a step."
)


@dataclass(frozen=True)
class TokenJob:
    """One question to answer with chain of thought along the large model's path."""

    id: str
    question: str
    context: str | None = None
    gold: str | None = None
    source: str = ""


def jobs_from_examples(examples: list[Example], *, synthesis_only: bool = True) -> list[TokenJob]:
    """DecompBench questions give their synthesis steps (earlier gold answers filled in, the
    steps that reason rather than look up); other examples give the whole question."""
    from subroute.decompose import is_synthesis
    from subroute.train.labels import gold_step_jobs

    out = []
    for ex in examples:
        if ex.decomposition:
            for j in gold_step_jobs(ex):
                if not synthesis_only or is_synthesis(j.step.type, tuple(j.step.depends_on)):
                    out.append(TokenJob(f"{ex.id}/{j.index}", j.query, None, j.step.answer, "decompbench"))
        else:
            out.append(TokenJob(ex.id, ex.question, ex.context, ex.answer, str(ex.meta.get("source", "external"))))
    return out


@dataclass
class TokenLabelConfig:
    max_tokens: int = field(default=256, metadata={"help": "longest chain-of-thought answer labelled",
                                                   "min": 8, "max": 2048})
    window: int = field(default=12, metadata={"help": "tokens the small token's continuation runs before it is "
                                                      "compared with the large model's path", "min": 2, "max": 64})
    judge: str = "outcome"  # or "verifier": the large model asked whether the two windows say the same


@dataclass
class PathRecord:
    """The labels along one large-model answer."""

    id: str
    source: str
    text: str
    features: list[list[float]]
    labels: list[int]
    kinds: str  # per position: i(dentical), n(eutral), d(ivergent)
    divergences: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> str:
        d = asdict(self)
        d["features"] = [[round(v, 5) for v in row] for row in self.features]
        return json.dumps(d)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "PathRecord":
        if len(d["features"]) != len(d["labels"]) or len(d["labels"]) != len(d["kinds"]):
            raise ValueError("features, labels and kinds differ in length")
        return cls(**d)


def _norm(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _answer_line(text: str) -> str | None:
    m = re.search(r"answer\s*:\s*(.+)", text, flags=re.I)
    return m.group(1).strip() if m else None


def _greedy(model: Any, ids: list[int], n: int, *, to_answer: bool = False) -> list[int]:
    """Up to `n` greedy tokens after `ids` (which reuse the KV cache's shared prefix); with
    `to_answer`, stop once an ``Answer:`` line is complete."""
    model._eval_prompt(ids)
    out: list[int] = []
    for _ in range(n):
        tok = int(np.argmax(model._last_logits()))
        if model._is_eog(tok):
            break
        out.append(tok)
        if to_answer and "\n" in model.llm.detokenize([tok], special=False).decode("utf-8", errors="ignore"):
            done = model.llm.detokenize(out, special=False).decode("utf-8", errors="ignore")
            if re.search(r"answer\s*:\s*\S.*\n", done, flags=re.I):
                break
        model.llm.eval([tok])
    return out


def verify_same(large: PoolModel, question: str, before: str, a: str, b: str) -> bool:
    """The large model's judgement: do continuations `a` and `b` of `before` say the same?"""
    user = (f"Question: {question[-600:]}\n\nPartial answer: ...{before[-400:]}\n\n"
            f"Continuation A: {a}\nContinuation B: {b}\n\nDo A and B say the same? Reply same or different.")
    c = large.generate([{"role": "system", "content": VERIFY_SYSTEM}, {"role": "user", "content": user}],
                       max_tokens=3, logprobs=False)
    return not c.text.strip().lower().startswith("diff")


def _merges(a: str, b: str) -> bool:
    """Whether the small token's window `a` rejoins the large model's path `b` (a longer
    stretch of it): the same words after a different token ("their birth years" for "the
    birth years"), which R2R's verifier would call neutral."""
    na, nb = _norm(a), _norm(b)
    if na == nb[: len(na)] or nb.startswith(na) or na.startswith(nb):
        return True
    tail = na[-12:]
    return len(tail) >= 6 and tail in nb


def _final(text: str) -> str:
    from subroute.scoring import normalize

    line = _answer_line(text)
    if line is None:
        lines = [x for x in text.splitlines() if x.strip()]
        line = lines[-1] if lines else ""
    return normalize(line)


def label_path(small: PoolModel, large: PoolModel, job: TokenJob, cfg: TokenLabelConfig | None = None) -> PathRecord:
    """Path-following labels along the large model's greedy chain-of-thought answer to `job`."""
    cfg = cfg or TokenLabelConfig()
    t0 = time.perf_counter()
    s, lg = small.backend, large.backend
    toks, stops = s.prompt_tokens(cot_messages(job.question, job.context))
    budget = min(cfg.max_tokens, min(s.n_ctx, lg.n_ctx) - len(toks) - 1)

    def text(ids: list[int]) -> str:
        return s.llm.detokenize([t for t in ids if not lg._is_eog(t)], special=False).decode("utf-8", errors="replace")

    resp: list[int] = []
    preds: list[int] = []
    feats: list[np.ndarray] = []
    kinds: list[str] = []
    divs: list[dict[str, Any]] = []
    pending: list[tuple[int, int, str, str]] = []
    written = b""  # the large model's answer so far, for its stop strings
    with s._lock, lg._lock:
        s._eval_prompt(toks)
        lg._eval_prompt(toks)
        for i in range(budget):
            lps, ent = softmax_stats(s._last_logits())
            ys = int(np.argmax(lps))
            yl = int(np.argmax(lg._last_logits()))
            feats.append(token_features(lps, text([ys]), i, ent))
            preds.append(ys)
            resp.append(yl)
            if lg._is_eog(yl):
                break
            written += s.llm.detokenize([yl], special=False)
            if stops and any(st in written.decode("utf-8", errors="ignore") for st in stops):
                break
            s.llm.eval([yl])
            lg.llm.eval([yl])
        answer = _final(text(resp))
        for i, (ys, yl) in enumerate(zip(preds, resp)):
            if ys == yl:
                kinds.append("i")
                continue
            own = text(resp[i:i + cfg.window + 8])
            if s._is_eog(ys) or lg._is_eog(yl):  # one would stop here, the other go on
                a = "" if s._is_eog(ys) else text([ys, *_greedy(lg, toks + resp[:i] + [ys], cfg.window - 1)])
                judge, divergent = "end", bool(_norm(a if lg._is_eog(yl) else own))
            else:
                a = text([ys, *_greedy(lg, toks + resp[:i] + [ys], cfg.window - 1)])
                if _merges(a, own):
                    judge, divergent = "merge", False
                elif cfg.judge == "verifier":
                    pending.append((len(kinds), i, a, own))
                    judge, divergent = "verifier", False  # judged below, with the models' locks released
                else:  # R2R's question, answered by the outcome: does this token change the final answer?
                    rest = [ys, *_greedy(lg, toks + resp[:i] + [ys], budget - i - 1, to_answer=True)]
                    judge, divergent = "outcome", _final(text(rest)) != answer
                    a = text(rest)
            kinds.append("d" if divergent else "n")
            divs.append({"i": i, "small": a, "large": own, "judge": judge, "divergent": divergent})
    for k, i, a, own in pending:
        d = not verify_same(large, job.question, text(resp[:i]), a, own)
        kinds[k] = "d" if d else "n"
        next(x for x in divs if x["i"] == i)["divergent"] = d
    return PathRecord(job.id, job.source, text(resp), [f.tolist() for f in feats], [1 if k == "d" else 0 for k in kinds],
                      "".join(kinds), divs, round(time.perf_counter() - t0, 2))


def read_paths(path: str | Path) -> list[PathRecord]:
    from subroute.train.labels import read_records

    return read_records(path, PathRecord.from_dict, "token labels", "token-label record")


def token_pair(pool: Pool, small: str | None, large: str | None) -> tuple[PoolModel, PoolModel]:
    ms = [m for m in pool.models if m.spec.backend == "llamacpp"]
    if small is None or large is None:
        tr = next((m for m in pool.models if m.members), None)
        if tr is not None:
            return tr.members  # type: ignore[return-value]
        if len(ms) < 2:
            raise SubrouteError("token routing needs two local models in the pool; name them with --small and --large")
        small, large = small or ms[-2].name, large or ms[-1].name
    return pool[small], pool[large]


def _remote_path(pool_path: str | None, small: str, large: str, job: TokenJob, cfg: dict) -> str:
    from subroute.cache import CallCache

    pool = Pool.load(pool_path).use_cache(CallCache())
    s, lg = pool[small], pool[large]
    return label_path(s, lg, job, TokenLabelConfig(**cfg)).to_json()


def build_token_labels(pool: Pool, jobs: list[TokenJob], out: str | Path, *, small: str | None = None,
                       large: str | None = None, cfg: TokenLabelConfig | None = None, pool_path: str | None = None,
                       ray_address: str | None = None, progress: bool = True) -> list[PathRecord]:
    """Label `jobs` into `out` (JSONL, one record per question), resuming what is there."""
    from tqdm import tqdm

    from subroute.train.labels import map_jobs

    cfg = cfg or TokenLabelConfig()
    s, lg = token_pair(pool, small, large)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    have = read_paths(out)
    done = {r.id for r in have}
    if have:
        out.write_text("".join(r.to_json() + "\n" for r in have), encoding="utf-8")
    todo = [j for j in jobs if j.id not in done]
    stream: Iterator[str] = map_jobs(
        lambda j: label_path(s, lg, j, cfg).to_json(), _remote_path,
        [(pool_path, s.name, lg.name, j, asdict(cfg)) for j in todo], todo, ray_address)
    with open(out, "a", encoding="utf-8") as f, tqdm(total=len(todo), desc="token labels", unit="q",
                                                    file=sys.stderr, disable=not progress) as bar:
        for line in stream:
            f.write(line + "\n")
            f.flush()
            have.append(PathRecord.from_dict(json.loads(line)))
            bar.update(1)
    return have


# -- the router ------------------------------------------------------------------------------
@dataclass
class RouterConfig:
    hidden: int = field(default=32, metadata={"help": "hidden units of the token router", "min": 1, "max": 1024})
    epochs: int = field(default=200, metadata={"help": "most training epochs (early stopping on held-out AUC)",
                                               "min": 1, "max": 10000})
    lr: float = 3e-3
    weight_decay: float = 5e-4
    dropout: float = 0.1
    patience: int = 20
    heldout_frac: float = 0.25
    seed: int = 0


def _split(records: list[PathRecord], frac: float, seed: int) -> tuple[list[PathRecord], list[PathRecord]]:
    ids = sorted({r.id.split("/")[0] for r in records})
    rng = np.random.default_rng(seed)
    rng.shuffle(ids)
    held = set(ids[: max(1, int(round(frac * len(ids))))])
    return [r for r in records if r.id.split("/")[0] not in held], [r for r in records if r.id.split("/")[0] in held]


def _xy(records: list[PathRecord]) -> tuple[np.ndarray, np.ndarray]:
    x = np.array([row for r in records for row in r.features], dtype=np.float64).reshape(-1, len(FEATURES))
    y = np.array([v for r in records for v in r.labels], dtype=np.float64)
    return x, y


def auc(scores: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (the probability a divergent position outscores a small one)."""
    pos, neg = scores[y == 1], scores[y == 0]
    if not len(pos) or not len(neg):
        return float("nan")
    order = np.argsort(np.concatenate([pos, neg]), kind="mergesort")
    ranks = np.empty(len(order))
    ranks[order] = np.arange(1, len(order) + 1)
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def recall_at_share(scores: np.ndarray, y: np.ndarray, share: float) -> tuple[float, float]:
    """(threshold, share of divergent positions flagged) when the top `share` of positions are flagged."""
    t = float(np.quantile(scores, 1 - share))
    return t, float(((scores >= t) & (y == 1)).sum() / max(1, (y == 1).sum()))


def fit_router(records: list[PathRecord], out_dir: str | Path, pool: Pool, *, small: PoolModel, large: PoolModel,
               cfg: RouterConfig | None = None, extra: dict[str, Any] | None = None,
               progress: bool = True) -> dict[str, Any]:
    """Train the learned token router on `records`, write it to `out_dir`, return its manifest."""
    import torch

    cfg = cfg or RouterConfig()
    train, held = _split(records, cfg.heldout_frac, cfg.seed)
    xt, yt = _xy(train)
    xv, yv = _xy(held)
    if yt.sum() < 5 or yv.sum() < 1:
        raise SubrouteError(f"too few divergent positions to train on ({int(yt.sum())} in training, {int(yv.sum())} "
                            "held out); label more questions")
    mean, scale = xt.mean(0), xt.std(0) + 1e-6
    torch.manual_seed(cfg.seed)
    net = torch.nn.Sequential(torch.nn.Linear(len(FEATURES), cfg.hidden), torch.nn.ReLU(),
                              torch.nn.Dropout(cfg.dropout), torch.nn.Linear(cfg.hidden, 1))
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    pos_weight = torch.tensor([(len(yt) - yt.sum()) / yt.sum()], dtype=torch.float32)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    Xt = torch.tensor((xt - mean) / scale, dtype=torch.float32)
    Yt = torch.tensor(yt, dtype=torch.float32)
    Xv = torch.tensor((xv - mean) / scale, dtype=torch.float32)
    best, best_state, since = -1.0, None, 0
    g = torch.Generator().manual_seed(cfg.seed)
    for _epoch in range(cfg.epochs):
        net.train()
        for idx in torch.randperm(len(Xt), generator=g).split(512):
            opt.zero_grad()
            loss = loss_fn(net(Xt[idx])[:, 0], Yt[idx])
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            a = auc(net(Xv)[:, 0].numpy(), yv)
        if a > best + 1e-4:
            best, best_state, since = a, {k: v.clone() for k, v in net.state_dict().items()}, 0
        else:
            since += 1
            if since >= cfg.patience:
                break
    net.load_state_dict(best_state)  # type: ignore[arg-type]
    layers = [(net[0].weight.detach().numpy().T.copy(), net[0].bias.detach().numpy().copy()),
              (net[3].weight.detach().numpy().T.copy(), net[3].bias.detach().numpy().copy())]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "weights.npz", mean=mean, scale=scale,
             **{f"w{i}": w for i, (w, _) in enumerate(layers)}, **{f"b{i}": b for i, (_, b) in enumerate(layers)})
    learned = TokenRouter("learned", 0.5, layers=layers, mean=mean, scale=scale)
    scores = {"learned": learned.score_many(xv), "entropy": TokenRouter.baseline("entropy", 0).score_many(xv),
              "top1": TokenRouter.baseline("top1", 0).score_many(xv)}
    metrics: dict[str, Any] = {"auc": {k: round(auc(v, yv), 4) for k, v in scores.items()},
                               "recall_at_share": {k: {str(sh): round(recall_at_share(v, yv, sh)[1], 4)
                                                       for sh in SHARES} for k, v in scores.items()}}
    thresholds = {str(sh): recall_at_share(scores["learned"], yv, sh)[0] for sh in SHARES}
    baseline_thresholds = {k: {str(sh): recall_at_share(scores[k], yv, sh)[0] for sh in SHARES}
                           for k in ("entropy", "top1")}
    kinds = "".join(r.kinds for r in records)
    manifest = {
        "kind": "tokenroute", "version": TOKENROUTE_VERSION, "features": list(FEATURES), "layers": len(layers),
        "hidden": cfg.hidden, "threshold": thresholds[str(DEFAULT_SHARE)], "default_share": DEFAULT_SHARE,
        "thresholds": thresholds, "baseline_thresholds": baseline_thresholds,
        "weights_sha256": hash_file(out / "weights.npz"),
        "pair": {role: {"name": m.name, "identity": identity_digest(m.identity())}
                 for role, m in (("small", small), ("large", large))},
        "pool_source": pool.source, "config": asdict(cfg),
        "data": {"questions": len(records), "positions": len(kinds), "identical": kinds.count("i"),
                 "neutral": kinds.count("n"), "divergent": kinds.count("d"),
                 "heldout_questions": len(held), "judges": _judges(records), **(extra or {})},
        "metrics": metrics, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _judges(records: list[PathRecord]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        for d in r.divergences:
            out[d["judge"]] = out.get(d["judge"], 0) + 1
    return out
