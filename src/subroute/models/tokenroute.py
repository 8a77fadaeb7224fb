"""Token-level routing (R2R, seeds/004): the small model writes, the large one steps in
only at the tokens a router flags.

Two local models that share one tokenizer (the default pool's Qwen2.5-Coder-0.5B and
-1.5B) decode one sequence together. At every position the small model's logits give the
router its features (`token_features`: the small model's top-k log-probabilities, entropy,
the kind of token it would write, where in the answer it is); when the router's score is
over its threshold, the large model writes that token instead. Each model keeps its own KV
cache: the large model is idle until it is called, then catches up on every token it has
not seen (the prompt, and what the small model wrote since its last call) in one batched
evaluation, and its token is fed to the small model like any other. Decoding is greedy.

What it costs is counted per model (`TokenRouteUsage`): the small model reads the prompt and
every token the large one wrote, and writes its own; the large model reads the prompt once
it is first called plus every catch-up token, and writes the tokens it chose. The pool
charges each at that model's prices (`subroute.pool`), so a routed answer costs what its
two models did.

Routers (`TokenRouter`): ``learned`` is a small network trained on path-following labels
(`subroute train tokens`, R2R's Algorithm 1), run here in numpy; ``entropy`` and ``top1``
threshold the small model's entropy or its top-1 probability (R2R ships the entropy router
for this comparison); ``random`` flags a seeded random share of tokens.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from subroute.errors import BackendError, SubrouteError
from subroute.models.base import Completion, GenerateParams, Message, Usage
from subroute.models.llamacpp import check_fits

TOKENROUTE_VERSION = 1
TOP_K = 8
KINDS = ("digit", "space", "punct", "word", "other")
FEATURES = (*(f"lp{i + 1}" for i in range(TOP_K)), "entropy", "margin", *(f"kind_{k}" for k in KINDS), "position")
ROUTER_KINDS = ("learned", "entropy", "top1", "random")


def token_kind(text: str) -> str:
    s = text.strip()
    if not s:
        return "space"
    if any(ch.isdigit() for ch in s):
        return "digit"
    if all(not ch.isalnum() for ch in s):
        return "punct"
    if s.isalpha():
        return "word"
    return "other"


def log_softmax(logits: np.ndarray) -> np.ndarray:
    return softmax_stats(logits)[0]


def softmax_stats(logits: np.ndarray) -> tuple[np.ndarray, float]:
    """(log-probabilities, entropy in nats) of one position's logits, from one pass of exp."""
    z = np.asarray(logits, dtype=np.float32)
    e = np.exp(z - z.max())
    total = float(e.sum())
    lp = z - (float(z.max()) + math.log(total))
    return lp, float(-(e @ lp) / total)


def token_features(logprobs: np.ndarray, top_text: str, position: int, entropy: float | None = None) -> np.ndarray:
    """Features of one position from the small model's log-probabilities over the vocabulary
    (`FEATURES` names them): what the router reads before the token is written."""
    top = np.partition(logprobs, -TOP_K)[-TOP_K:].astype(np.float64)
    top = np.sort(top)[::-1]
    if entropy is None:
        p = np.exp(logprobs.astype(np.float64))
        entropy = float(-(p * np.where(p > 0, logprobs, 0.0)).sum())
    kind = token_kind(top_text)
    onehot = [1.0 if kind == k else 0.0 for k in KINDS]
    return np.array([*top, entropy, top[0] - top[1], *onehot, math.log1p(position)], dtype=np.float64)


class TokenRouter:
    """Scores a position (`score`, higher: hand it to the large model) and flags it when the
    score reaches `threshold`. Built by `TokenRouter.load` from an artifact folder, or by
    `TokenRouter.baseline` for the entropy, top-1 and random rules."""

    def __init__(self, kind: str, threshold: float, *, layers: list[tuple[np.ndarray, np.ndarray]] | None = None,
                 mean: np.ndarray | None = None, scale: np.ndarray | None = None, name: str | None = None,
                 identity: dict[str, Any] | None = None, manifest: dict[str, Any] | None = None) -> None:
        if kind not in ROUTER_KINDS:
            raise SubrouteError(f"unknown token router '{kind}'; use one of: {', '.join(ROUTER_KINDS)}")
        if kind == "learned" and not layers:
            raise SubrouteError("a learned token router needs its network; load one with TokenRouter.load")
        self.kind = kind
        self.threshold = float(threshold)
        self.layers = layers or []
        self.mean = mean
        self.scale = scale
        self.name = name or f"{kind}@{threshold:g}"
        self.identity = identity or {"kind": kind, "threshold": self.threshold}
        self.manifest = manifest or {}  # a loaded artifact's manifest.json

    @classmethod
    def baseline(cls, kind: str, threshold: float) -> "TokenRouter":
        """``entropy`` (flags where the small model's entropy in nats reaches `threshold`),
        ``top1`` (where 1 - its top token's probability does) or ``random`` (a random share
        `threshold` of positions, seeded by the call's seed)."""
        if kind == "learned":
            raise SubrouteError("the learned token router is an artifact; load it with TokenRouter.load")
        return cls(kind, threshold)

    def score_many(self, x: np.ndarray) -> np.ndarray:
        """Scores of feature rows `x` [n, len(FEATURES)] (the random router has none: it
        flags a share of positions whatever they hold)."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if self.kind == "entropy":
            return x[:, FEATURES.index("entropy")]
        if self.kind == "top1":
            return 1.0 - np.exp(x[:, FEATURES.index("lp1")])
        if self.kind == "random":
            raise SubrouteError("the random token router scores no position; it flags a share of them")
        h = (x - self.mean) / self.scale
        for i, (w, b) in enumerate(self.layers):
            h = h @ w + b
            if i < len(self.layers) - 1:
                h = np.maximum(h, 0.0)
        return 1.0 / (1.0 + np.exp(-np.clip(h[:, 0], -50, 50)))

    def flags(self, x: np.ndarray, rng: np.random.Generator | None = None) -> bool:
        if self.kind == "random":  # its threshold is the share of positions it flags
            return bool((rng or np.random.default_rng(0)).random() < self.threshold)
        return bool(self.score_many(x)[0] >= self.threshold)

    # -- artifact -------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | Path, *, threshold: float | None = None, share: float | None = None) -> "TokenRouter":
        """The learned router in an artifact folder (`subroute train tokens`). The threshold is
        the manifest's default, or the one it recorded for a target `share` of large-model
        tokens (on its validation labels), or `threshold` itself."""
        p = Path(path)
        man = p / "manifest.json"
        if not man.is_file():
            raise SubrouteError(f"no token-router artifact at {p} (manifest.json missing); "
                                "train one with: subroute train tokens")
        try:
            m = json.loads(man.read_text())
            if m.get("kind") != "tokenroute" or m.get("version") != TOKENROUTE_VERSION:
                raise ValueError("not a token router of this version")
            w = np.load(p / "weights.npz")
            layers = [(w[f"w{i}"], w[f"b{i}"]) for i in range(int(m["layers"]))]
            mean, scale = w["mean"], w["scale"]
            if list(m["features"]) != list(FEATURES):
                raise ValueError("its features are not this version's")
        except (OSError, ValueError, KeyError) as e:
            raise SubrouteError(f"token-router artifact {p} is unreadable ({e}); retrain it with: "
                                "subroute train tokens") from None
        if threshold is None:
            shares = m.get("thresholds") or {}
            if share is not None:
                key = min(shares, key=lambda s: abs(float(s) - share), default=None)
                if key is None:
                    raise SubrouteError(f"token-router artifact {p} records no thresholds; pass threshold")
                threshold = float(shares[key])
            else:
                threshold = float(m["threshold"])
        ident = {"kind": "learned", "threshold": threshold, "weights": m.get("weights_sha256")}
        return cls("learned", threshold, layers=layers, mean=mean, scale=scale,
                   name=f"learned@{threshold:.3g}", identity=ident, manifest=m)


def shipped_router_dir() -> Path:
    """The learned token router shipped for the default pool's Qwen-0.5B/Qwen-1.5B pair."""
    from importlib import resources

    return Path(str(resources.files("subroute").joinpath("artifacts", "tokenroute")))


def identity_digest(identity: dict[str, Any]) -> str:
    """A short digest of a pool model's identity (`PoolModel.identity`), as artifacts record it."""
    import hashlib

    return hashlib.sha256(json.dumps(identity, sort_keys=True, default=str).encode()).hexdigest()[:16]


def check_pair(router: TokenRouter, path: str | Path, small: Any, large: Any, *, model_name: str) -> None:
    """Check that the learned `router`, loaded from `path`, was trained for the pool models
    `small` and `large` (their identities) and holds the weights its manifest recorded."""
    from subroute.models.catalog import hash_file

    p, m = Path(path), router.manifest
    pair = m.get("pair") or {}
    for role, pm in (("small", small), ("large", large)):
        want = (pair.get(role) or {}).get("identity")
        if want != identity_digest(pm.identity()):
            raise SubrouteError(f"model '{model_name}': the token router at {p} was trained for "
                                f"{(pair.get(role) or {}).get('name', '?')} as its {role} model, not for {pm.name}; "
                                "retrain it for this pair with: subroute train tokens --pool FILE")
    if m.get("weights_sha256") != hash_file(p / "weights.npz"):
        raise SubrouteError(f"model '{model_name}': {p / 'weights.npz'} does not match its manifest's sha256; "
                            "reinstall subroute or retrain with: subroute train tokens")


@dataclass
class TokenRouteUsage:
    """Tokens each model of a token-routed call read and wrote."""

    small_in: int = 0
    small_out: int = 0
    large_in: int = 0
    large_out: int = 0
    large_calls: int = 0

    @property
    def share(self) -> float:
        """Share of the written tokens that the large model wrote."""
        n = self.small_out + self.large_out
        return self.large_out / n if n else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "share": self.share}


def usage_of(c: Completion) -> TokenRouteUsage | None:
    d = c.extra.get("tokenroute")
    if not d:
        return None
    return TokenRouteUsage(**{k: int(d[k]) for k in ("small_in", "small_out", "large_in", "large_out", "large_calls")})


class TokenRoutedModel:
    """Two `LlamaCppModel`s decoding one sequence, token by token, as `router` says. Follows
    the `Model` protocol: `generate` returns a `Completion` with per-token log-probabilities
    (of the model that wrote each token) and, in ``extra["tokenroute"]``, the tokens each
    model read and wrote, and which wrote each token (``extra["by"]``, "s"/"l" per token)."""

    def __init__(self, name: str, small: Any, large: Any, router: TokenRouter) -> None:
        self.name = name
        self.small, self.large, self.router = small, large, router
        if small.n_vocab != large.n_vocab:
            raise SubrouteError(f"model '{name}': {small.name} and {large.name} do not share a tokenizer "
                                f"({small.n_vocab} and {large.n_vocab} tokens); token routing needs one vocabulary")
        probe = "Token routing: 12 apples, 3.5 km -- café."
        if small.llm.tokenize(probe.encode()) != large.llm.tokenize(probe.encode()):
            raise SubrouteError(f"model '{name}': {small.name} and {large.name} tokenize text differently; "
                                "token routing needs one tokenizer")
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return self.small.count_tokens(text)

    def generate(self, messages: list[Message], params: GenerateParams) -> Completion:
        """Greedy token-routed decoding (temperature is ignored: routing is defined along
        greedy paths, and the router was trained on them)."""
        small, large = self.small, self.large
        toks, template_stops = small.prompt_tokens(messages)
        n_ctx = min(small.n_ctx, large.n_ctx)
        check_fits(self.name, len(toks), n_ctx)
        max_new = min(params.max_tokens, n_ctx - len(toks))
        stops = [s for s in (*params.stop, *template_stops) if s]
        rng = np.random.default_rng(params.seed)
        use = TokenRouteUsage(small_in=len(toks))
        seq = list(toks)
        out_ids: list[int] = []
        out_lp: list[float] = []
        by: list[str] = []
        text_bytes = b""
        finish = "length"
        large_seen = 0  # tokens of `seq` in the large model's KV cache
        unseen = 0  # tokens the small model wrote since the large model last read the sequence
        with self._lock, small._lock, large._lock:
            try:
                small._eval_prompt(toks)
                for i in range(max_new):
                    lp, ent = softmax_stats(small._last_logits())
                    tok = int(np.argmax(lp))
                    piece = small.llm.detokenize([tok], special=False).decode("utf-8", errors="replace")
                    x = token_features(lp, piece, i, ent)
                    if self.router.flags(x, rng):
                        if large_seen == 0:  # the prompt and everything written so far
                            use.large_in += len(seq)
                            large._eval_prompt(seq)
                        else:  # one batched catch-up (its own last token is not charged again)
                            use.large_in += unseen
                            large.llm.eval(seq[large_seen:])
                        large_seen, unseen = len(seq), 0
                        use.large_calls += 1
                        lp = log_softmax(large._last_logits())
                        tok = int(np.argmax(lp))
                        who = "l"
                    else:
                        who = "s"
                    if small._is_eog(tok):
                        finish = "stop"
                        break
                    out_ids.append(tok)
                    out_lp.append(float(lp[tok]))
                    by.append(who)
                    if who == "l":
                        use.large_out += 1
                    else:
                        use.small_out += 1
                        unseen += 1
                    text_bytes += small.llm.detokenize([tok], special=False)
                    text = text_bytes.decode("utf-8", errors="ignore")
                    if stops and any(s in text for s in stops):
                        finish = "stop"
                        break
                    seq.append(tok)
                    if who == "l":
                        use.small_in += 1
                    small.llm.eval([tok])
            except Exception as e:
                if isinstance(e, SubrouteError):
                    raise
                raise BackendError(self.name, f"llama.cpp failed: {e}") from None
        text, tokens = small.finish(text_bytes, stops, out_ids, out_lp, params.logprobs)
        return Completion(model=self.name, text=text, usage=Usage(len(toks), len(out_ids)),
                          finish_reason=finish, tokens=tokens,
                          extra={"tokenroute": use.to_dict(), "by": "".join(by)})

