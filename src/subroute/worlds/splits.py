"""Held-out splits: by world seed, by document style, by hop count.

Why three: a router trained on one world must work on another (seed split); a reader that
learned one style's phrasing must read another (style split: test questions are supported
only by held-out styles, train questions never see them, distractors included); and a
decomposer trained on short chains should generalize to longer ones (hop split: questions
with at least K hops are test).

The style split must act while contexts are assembled, so it lives in
`QuestionConfig.held_out_styles`; the seed and hop splits only label questions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from subroute.errors import ConfigError
from subroute.worlds.documents import STYLES


@dataclass(frozen=True)
class SplitSpec:
    by: str = "none"  # none | seed | style | hops
    hops: int = 0  # hops split: questions with >= hops recall steps are test
    worlds: int = 0  # seed split: the last `worlds` world seeds are test
    styles: tuple[str, ...] = ()  # style split: held-out styles

    @classmethod
    def parse(cls, text: str) -> "SplitSpec":
        """'none', 'hops:K', 'seed:K' or 'style:a,b' (the --split flag)."""
        by, _, arg = (text or "none").partition(":")
        try:
            if by == "none" and not arg:
                return cls()
            if by == "hops":
                return cls("hops", hops=int(arg))
            if by == "seed":
                return cls("seed", worlds=int(arg or 1))
            if by == "style":
                styles = tuple(s for s in arg.split(",") if s)
                bad = sorted(set(styles) - set(STYLES))
                if styles and not bad:
                    return cls("style", styles=styles)
        except ValueError:
            pass
        raise ConfigError(f"--split {text!r} not understood; use none, hops:K, seed:K or "
                          f"style:S1,S2 with styles from {', '.join(STYLES)}")


def label(questions: Iterable, spec: SplitSpec, test_seeds: Iterable[int] = ()) -> None:
    """Set `split` on questions for the seed and hop splits (style is set at generation)."""
    seeds = set(test_seeds)
    for q in questions:
        if spec.by == "hops":
            q.split = "test" if q.hops >= spec.hops else "train"
        elif spec.by == "seed":
            q.split = "test" if q.world_seed in seeds else "train"


def split_questions(questions: Iterable) -> dict[str, list]:
    """Group questions by their `split` label, in their original order."""
    out: dict[str, list] = {}
    for q in questions:
        out.setdefault(q.split, []).append(q)
    return out
