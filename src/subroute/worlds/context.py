"""Context assembly: the supporting documents of a question plus distractors, in a budget.

Why distractors come half from the neighbourhood: documents about entities one fact away
from the question's entities share names with the supporting ones, so a reader cannot
find the answer by spotting the only familiar name; the other half is drawn at random.

Token counting is pluggable (`TokenCounter = Callable[[str], int]`). The default,
`approx_tokens`, counts words and punctuation marks with a regex: no tokenizer download,
deterministic, and a rough stand-in only: it is not calibrated against any tokenizer, and it
undercounts invented names, which BPE splits into several pieces. Pass a real tokenizer's
counter when a model's exact window matters.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from subroute.worlds.documents import Corpus, Document

TokenCounter = Callable[[str], int]
_TOKEN = re.compile(r"\w+|[^\w\s]")


def approx_tokens(text: str) -> int:
    """Words plus punctuation marks: a cheap, documented stand-in for a tokenizer."""
    return len(_TOKEN.findall(text))


class BudgetError(ValueError):
    """The supporting documents alone do not fit the token budget."""

    def __init__(self, needed: int, budget: int) -> None:
        super().__init__(f"supporting documents need {needed} tokens, budget is {budget}")
        self.needed = needed
        self.budget = budget


@dataclass
class Context:
    text: str
    doc_ids: list[str]  # in the order they appear in `text`
    supporting_doc_ids: list[str]
    n_tokens: int


def render(doc: Document) -> str:
    return f"Title: {doc.title}\n{doc.text}"


def choose_supporting(corpus: Corpus, fact_ids: Iterable[str], rng: random.Random,
                      styles: tuple[str, ...] | None = None) -> list[str] | None:
    """One document per fact, reusing a chosen document when it already states the fact.
    None when some fact is told in no document of the allowed styles."""
    chosen: list[str] = []
    covered: set[str] = set()
    for fid in sorted(set(fact_ids)):
        if fid in covered:
            continue
        docs = [d for d in corpus.docs_stating(fid)
                if styles is None or d.split("/")[1] in styles]
        if not docs:
            return None
        pick = rng.choice(docs)
        chosen.append(pick)
        covered.update(corpus.planned_fact_ids(pick))
    return chosen


def assemble_context(corpus: Corpus, supporting: list[str], rng: random.Random, *,
                     n_distractors: int = 4, budget: int = 3000,
                     near: Iterable[str] = (), styles: tuple[str, ...] | None = None,
                     count_tokens: TokenCounter = approx_tokens) -> Context:
    """Supporting docs plus up to `n_distractors` others, shuffled, within `budget` tokens.

    Raises BudgetError when the supporting documents alone exceed the budget; distractors
    that would overflow it are skipped.
    """
    world = corpus.world
    cost = {d: count_tokens(render(corpus.get(d))) + 2 for d in supporting}
    used = sum(cost.values())
    if used > budget:
        raise BudgetError(used, budget)
    taken = set(supporting)
    pool: list[str] = []
    for e in sorted(set(near)):
        for nb in sorted(world.neighbors(e)):
            pool.extend(corpus.doc_ids(nb))
    rng.shuffle(pool)
    near_pool = [d for d in pool if d not in taken and (styles is None or d.split("/")[1] in styles)]
    distractors: list[str] = []
    tries = 0
    while len(distractors) < n_distractors and tries < 4 * n_distractors + 8:
        tries += 1
        if near_pool and (tries % 2 == 1):
            d = near_pool.pop()
        else:
            kind = rng.choice(sorted(world.by_kind))
            ids = corpus.doc_ids(rng.choice(world.by_kind[kind]))
            d = rng.choice(ids)
        if d in taken or (styles is not None and d.split("/")[1] not in styles):
            continue
        c = count_tokens(render(corpus.get(d))) + 2
        if used + c > budget:
            continue
        taken.add(d)
        distractors.append(d)
        used += c
    order = list(supporting) + distractors
    rng.shuffle(order)
    text = "\n\n".join(render(corpus.get(d)) for d in order)
    return Context(text, order, sorted(supporting), count_tokens(text))
