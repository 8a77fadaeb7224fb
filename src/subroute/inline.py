"""Context that stands in the question: statements before the question are its context.

People and chat apps put the facts in the message itself ("Mirela Voss was born in
Quenhollow. Caius Voss is her brother. Where was the sister of Caius Voss born?") or paste
documents above it ("Context: ... Question: ..."). The decomposer is trained on questions,
and a step sees only the passages the retriever gives it, so facts left in the question
reach no step, and the decomposer tries to split the facts as if they were asked. Here the
message is read the way a person would: a ``Question:`` line (after ``Context:``, ``Facts:``
or a document) splits it there; otherwise the declarative sentences before the last
sentence that asks something are the context, kept together as one passage (a pronoun in
one statement refers to a name in another), and what asks is the question.

Only statements are taken: a message that is one question, or one whose last sentence asks
nothing, is left as it is. The caller's own context documents are kept and the statements
added after them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_QUESTION_LINE = re.compile(r"^[ \t]*(?:question|q)[ \t]*:", re.I | re.M)  # at the start of a line
_LEAD = re.compile(r"^\s*(?:context|facts?|documents?|passages?|background|given)\s*:\s*", re.I)
# a sentence ends at . ! ? (and a closing quote or bracket) followed by space; not inside "e.g." or "Dr."
_SENTENCE = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9])")
_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|St|Mt|Jr|Sr|Prof|vs|etc|e\.g|i\.e|No|Inc|Ltd|Co)\.$", re.I)
# a sentence that asks: ends with "?", or tells to find/compute something ("Name the town where ...")
_ASKS = re.compile(r"\?\s*$|^(?:find|compute|calculate|determine|name|list|give|tell|say|state|what|which|who|whom|"
                   r"whose|where|when|why|how)\b", re.I)
_IMPERATIVE = re.compile(r"^(?:find|compute|calculate|determine|name|list|give|tell me|state|work out)\b", re.I)


SETUP_WORDS = 40


@dataclass
class InlineContext:
    """A message read as a question over a context."""

    question: str
    statements: list[str] = field(default_factory=list)  # taken from the message, in order
    how: str | None = None  # "question line" | "statements" | "given", or None when nothing was taken

    @property
    def for_decomposer(self) -> str:
        """What the decomposer reads: the question, after the statements before it when they
        are a short setup (at most `SETUP_WORDS` words: "Each person who works for Brevik
        Mills pays 5 dollars. How many dollars do they pay in all?", "Think of the founder
        of X. Where was that person born?"), since the question alone names nothing then.
        Longer statements, a "Question:" line's context and a "Given that" clause stay
        context only: the question stands by itself there."""
        if self.how == "statements" and len(" ".join(self.statements).split()) <= SETUP_WORDS:
            return " ".join([*self.statements, self.question])
        return self.question

    def context(self, documents: str | None = None) -> str | None:
        """The caller's documents, then the statements as one passage."""
        parts = [p for p in ((documents or "").strip(), " ".join(self.statements).strip()) if p]
        return "\n\n".join(parts) or None

    @property
    def note(self) -> str | None:
        if not self.statements:
            return None
        text = " ".join(self.statements)
        shown = text if len(text) <= 120 else text[:117] + "..."
        return f"took {len(self.statements)} statement(s) of the question as context: {shown}"


def sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations ("Dr. Voss") and decimals together."""
    out: list[str] = []
    for piece in _SENTENCE.split(text.strip()):
        piece = piece.strip()
        if not piece:
            continue
        if out and _ABBREV.search(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def asks(sentence: str) -> bool:
    return bool(_ASKS.search(sentence.strip()))


# "Given that A, and that B, what ...?": the facts in a clause before the question
_GIVEN = re.compile(r"^(?:given|suppose|assume|if we know)\s+(?:that\s+)?(?P<facts>.+?),\s*"
                    r"(?P<question>(?:(?:to|in|on|at|for|from|by|with|of|during|after|before|since|under)\s+)?"
                    r"(?:what|which|who|whom|whose|where|when|why|how|is|are|was|were|did|does|do|can|name|"
                    r"find)\b[^,]*\?)\s*$", re.I | re.S)
_AND_THAT = re.compile(r",?\s*\band that\s+", re.I)


def split_inline(message: str) -> InlineContext:
    """Read `message` as statements (its context) and a question."""
    text = message.strip()
    given = _GIVEN.match(" ".join(text.split()))
    if given:
        facts = [f.strip().rstrip(",") for f in _AND_THAT.split(given.group("facts")) if f.strip()]
        q = given.group("question").strip()
        return InlineContext(q[0].upper() + q[1:], [f"{f[0].upper()}{f[1:]}." for f in facts], "given")
    marks = list(_QUESTION_LINE.finditer(text))
    if marks:
        before, after = text[: marks[-1].start()], text[marks[-1].end():].strip()
        before = _LEAD.sub("", before, count=1).strip()
        if before or not after:  # "Context: ... Question:" with nothing after it asks nothing: an empty question
            return InlineContext(after, [before] if before else [], "question line")
    lead = _LEAD.match(text)
    body = text[lead.end():] if lead else text
    if "\n\n" in body.strip():  # documents pasted above a last paragraph that asks
        paras = [p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
        if len(paras) > 1 and asks(paras[-1]) and not any(asks(s) for p in paras[:-1] for s in sentences(p)[-1:]):
            return InlineContext(paras[-1], ["\n\n".join(paras[:-1])], "statements")
    ss = sentences(" ".join(body.split()))
    if len(ss) < 2 or not (ss[-1].rstrip().endswith("?") or _IMPERATIVE.match(ss[-1])):
        return InlineContext(text)
    # the question starts at the first of the trailing sentences that ask
    k = len(ss) - 1
    while k > 0 and asks(ss[k - 1]) and ss[k - 1].rstrip().endswith("?"):
        k -= 1
    statements = [s for s in ss[:k] if not asks(s) or not s.rstrip().endswith("?")]
    if not statements or len(statements) != k:
        return InlineContext(text)
    return InlineContext(" ".join(ss[k:]), statements, "statements")
