"""Rules on the shape of an answer, shared by the allocators (how confident is this answer?),
the executor (can a later step use it as #k? is it a list the token limit cut off?) and
gold-step judging (is a right answer also usable?).

Small models fail in recognisable shapes: a sentence where a name was asked, a list that
loops on one item, the question's own words handed back. Each rule here names one of
them, so every part of the router reads an answer the same way.
"""

from __future__ import annotations

import re
from collections import Counter

from subroute.models.base import Completion
from subroute.scoring import normalize, split_items

MAX_ANSWER_WORDS = 6


def is_short_answer(text: str, max_words: int = MAX_ANSWER_WORDS) -> bool:
    """An answer a later step can use as #k: not empty, not a sentence (a list answer is
    fine as long as each item is short), and not one item over and over ("Vialalorton,
    Vialalorton, Vialalorton, ...": Qwen-0.5B loops so on a list it cannot find, at
    confidence 0.5 and 0.59 on two of 96 questions of worlds 300 and 301)."""
    items = [x.lower() for x in split_items(text)]
    looping = max(Counter(items).values(), default=0) >= 3
    return bool(items) and not looping and all(len(item.split()) <= max_words for item in items)


_CHOICE = re.compile(r"\bor\b", re.IGNORECASE)


def echoes(answer: str, query: str) -> bool:
    """Whether an answer only repeats words of its own question ("Who directed The Loushith
    Hours?" -> "The Loushith Hours", "In which country is Tranelo?" -> "Tranelo"). Small
    models answer so when the passage does not say it plainly, and confidently. It is never
    the answer to a lookup, except where the question offers a choice ("A or B?")."""
    a = normalize(answer).split()
    q = normalize(query).split()
    if not a or _CHOICE.search(query):
        return False
    return any(q[i:i + len(a)] == a for i in range(len(q) - len(a) + 1))


def step_confidence(c: Completion, alpha: float, max_words: int = MAX_ANSWER_WORDS) -> float | None:
    """The alpha-quantile token probability; 0 for an empty or a rambling answer, and for a
    lookup's answer that only repeats its question (`subroute.execute.StepPrompt` marks those), so
    the rules escalate it."""
    if not is_short_answer(c.text, max_words) or c.extra.get("echo"):
        return 0.0
    return c.confidence(alpha)
