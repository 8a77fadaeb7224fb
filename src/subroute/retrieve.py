"""Per-subtask passage selection.

Why: three small-model steps that each re-read the whole context cost as much as one large
model reading it once (input tokens dominate short answers), so routing only saves money
when each step sees just the passages it needs. The context is split into passages
(paragraphs, long ones cut at sentence boundaries), indexed once per question with BM25
(``bm25s``), and each subtask takes its best-scoring passages within a token budget, kept
in their original order so documents read naturally. The step's query has earlier answers
substituted in, so a hop about "#1" searches for the entity #1 turned out to be.

Passages that name the query's entities in full come first (`query_names`): BM25 scores
words, so "Where was Gehainen Lyocir born?" otherwise prefers an interview with Kistra
Lyocir that says "born and raised" over the passage about Gehainen Lyocir that says "came
into the world". On 414 gold lookups of worlds 300-302 (2 to 5 hops, 16 distractor
documents) the one passage a step sees held the answer for 0.867 of them by BM25 alone and
0.918 with names first (4 distractors: 0.937 and 0.959).

Among passages that name as many of the query's names, the order is BM25 (scaled to the
best passage's score) plus twice the cosine between the query's and the passage's
sentence embeddings (all-MiniLM-L6-v2 on llama.cpp, `subroute.embed`), so that "When was
Rekruwav Systems founded?" finds "Rekruwav Systems opened its doors in 1962" among four
passages about the company without a shared verb. Most misses were such ties: on 498 gold
lookups of worlds 300-302 (48 questions each, 16 distractors) the one passage held the
answer for 0.914 with names then BM25 and 0.946 with the embedding in the tie-break
(weights 0.5, 1, 2, 3, 5 gave 0.934, 0.940, 0.946, 0.942, 0.938; the cosine alone 0.930).
"""

from __future__ import annotations

import re
from typing import Callable, Protocol

import numpy as np

Embed = Callable[[list[str]], np.ndarray]  # texts -> unit-length rows
SEMANTIC_WEIGHT = 2.0  # the cosine's weight against BM25 scaled to [0, 1]


def default_embed() -> Embed | None:
    """The sentence embedder when llama.cpp is installed (`[local]`), else None (BM25 only)."""
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        return None
    from subroute.embed import embed

    return embed

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'])")


def approx_tokens(text: str) -> int:
    """A tokenizer-free token count (words and punctuation marks); within ~20% of BPE
    counts on English prose, and the same for every model, so budgets are comparable."""
    return len(_TOKEN.findall(text))


def split_passages(context: str, max_tokens: int = 120) -> list[str]:
    passages: list[str] = []
    for para in re.split(r"\n\s*\n", context):
        para = " ".join(para.split())
        if not para:
            continue
        if approx_tokens(para) <= max_tokens:
            passages.append(para)
            continue
        cur: list[str] = []
        n = 0
        for sent in _SENT.split(para):
            k = approx_tokens(sent)
            if cur and n + k > max_tokens:
                passages.append(" ".join(cur))
                cur, n = [], 0
            cur.append(sent)
            n += k
        if cur:
            passages.append(" ".join(cur))
    return passages


# capitalised words that start a query or a name without being part of the name
_FUNCTION_WORDS = frozenset(
    "a an and are at by did do does for from how in is list name of on the to was were what when where which who "
    "whom whose why with".split())
_NAME_RUN = re.compile(r"[A-Z][\w'-]*(?:\s+(?:of\s+)?[A-Z][\w'-]*)*")


def query_names(query: str) -> list[str]:
    """The names a query mentions: runs of capitalised words ("Gehainen Lyocir", "Bank of
    Quellin"), less the question and function words that lead them ("Who", "In", "The")."""
    names: list[str] = []
    for m in _NAME_RUN.finditer(query):
        words = m.group(0).split()
        while words and words[0].lower() in _FUNCTION_WORDS:
            words = words[1:]
        if words and " ".join(words) not in names:
            names.append(" ".join(words))
    return names


class Retriever(Protocol):
    def select(self, query: str, budget_tokens: int) -> list[str]: ...


class BM25Retriever:
    """BM25 over one question's context passages, names first, a sentence embedding in the
    tie-break (`embed`: None for BM25 alone; by default the local embedder when installed)."""

    def __init__(self, context: str, *, passage_tokens: int = 120, embed: Embed | None | str = "default") -> None:
        import bm25s

        self._bm25s = bm25s
        self._embed: Embed | None = default_embed() if embed == "default" else embed  # type: ignore[assignment]
        self.context = context
        self.passages = split_passages(context, passage_tokens)
        self._sizes = [approx_tokens(p) for p in self.passages]
        self._index = None
        if self.passages:
            tok = bm25s.tokenize(self.passages, stopwords="en", show_progress=False)
            self._index = bm25s.BM25()
            self._index.index(tok, show_progress=False)

    def scores(self, query: str) -> list[float]:
        if self._index is None:
            return []
        q = self._bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)[0]
        return [float(s) for s in self._index.get_scores(q)] if q else [0.0] * len(self.passages)

    def similarities(self, query: str) -> list[float]:
        """Cosine between the query's and each passage's embedding (zeros without an embedder)."""
        if self._embed is None or not self.passages:
            return [0.0] * len(self.passages)
        passages = self._embed(self.passages)  # cached by text in the embedder: embedded once per process
        return [float(x) for x in passages @ self._embed([query])[0]]

    def select(self, query: str, budget_tokens: int) -> list[str]:
        """Best passages that fit `budget_tokens` (at least the best one), in context order:
        those naming more of the query's names (`query_names`) first, then by BM25 score
        (scaled to the best one's) plus SEMANTIC_WEIGHT times the embedding cosine."""
        sc = self.scores(query)
        names = [re.compile(r"\b" + re.escape(n) + r"\b") for n in query_names(query)]
        named = [sum(bool(n.search(p)) for n in names) for p in self.passages]
        top = max(sc, default=0.0) or 1.0
        sim = self.similarities(query) if len(sc) > 1 else [0.0] * len(sc)
        rank = [sc[i] / top + SEMANTIC_WEIGHT * sim[i] for i in range(len(sc))]
        order = sorted(range(len(sc)), key=lambda i: (-named[i], -rank[i], i))
        chosen: list[int] = []
        used = 0
        for i in order:
            if sc[i] <= 0 and chosen:
                break
            if chosen and used + self._sizes[i] > budget_tokens:
                continue
            chosen.append(i)
            used += self._sizes[i]
        return [self.passages[i] for i in sorted(chosen)]
