"""Memorization probes: a verbatim cloze beside a paraphrased question, per fact.

Why both: the fictional Q&A paper (seeds/000) tells apart remembering a string from
knowing a fact. A model that fills the cloze (a document's own sentence with the answer
blanked, plus the document text before it as a prefix) but misses the question has
memorized text; one that answers the question in other words knows the fact.

Departure: the paper's paraphrases come from a hosted model; ours are the schema's question
templates, which never share the document sentence's wording beyond the names.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from subroute.worlds.documents import Corpus
from subroute.worlds.kinds import Builder
from subroute.worlds.schema import RELATIONS
from subroute.worlds.templates import cap

BLANK = "____"


@dataclass
class Probe:
    fact_id: str
    doc_id: str
    prefix: str  # the document text up to the answer (verbatim completion probe)
    cloze: str  # the stating sentence with the answer blanked
    question: str  # a paraphrase that asks for the same fact
    answer: str
    aliases: list[str]

    def to_dict(self) -> dict:
        return asdict(self)


def make_probes(corpus: Corpus, fact_ids: Iterable[str], seed: int = 0) -> list[Probe]:
    """One probe per fact that some document states with its answer in the same sentence."""
    w = corpus.world
    rng = random.Random(f"{w.seed}/probes/{seed}")
    builder = Builder(w, rng)
    out = []
    for fid in sorted(set(fact_ids)):
        f = w.facts[fid]
        rel = RELATIONS[f.relation]
        if not rel.questions or not w.follow(f.subject, f.relation) == [f.object]:
            continue  # multi-valued relations have no single-answer paraphrase
        answer = w.name(f.object)
        question = cap(builder.fmt(rng.choice(rel.questions), w.mention(f.subject), f.subject, f.object))
        for doc_id in corpus.docs_stating(fid):
            doc = corpus.get(doc_id)
            hit = _locate(doc, fid, answer)
            if hit is None:
                continue
            sentence, start, end = hit
            at = doc.text.find(sentence)
            out.append(Probe(fid, doc_id, doc.text[: at + start],
                             sentence[:start] + BLANK + sentence[end:], question, answer,
                             w.aliases(f.object)))
            break
    return out


def _locate(doc, fid: str, answer: str) -> tuple[str, int, int] | None:
    for sentence, fids in doc.sentences:
        if fid not in fids:
            continue
        m = re.search(r"(?<!\w)" + re.escape(answer) + r"(?!\w)", sentence)
        if m is None and answer.isdigit() and int(answer) >= 10000:
            m = re.search(re.escape(f"{int(answer):,}"), sentence)
        if m is not None:
            return sentence, m.start(), m.end()
    return None
