"""Webtext-like documents rendered from the world's facts, several styles per entity.

Why lazy: a 10,000-person world has ~20,000 entities and ~60,000 documents; a question
needs a handful. A `Corpus` plans which facts each document of an entity states (cheap,
deterministic) and renders a document only when asked, seeded by (world seed, entity,
style), so output does not depend on the order documents are requested.

Plan per entity: the first document (the style the entity is most at home in) states every
fact about it; each further document states a random part, and every fact goes into at
least one of them, so each fact is told at least twice in different styles and words.

The rewrite hook (`rewrite=`) takes a rendered `Document` and returns a new one, for a later
model-based rewriter. Its output is re-checked: a fact id is kept only if the document
still contains both ends of the fact; lost ids are dropped (or raise with `strict=True`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from subroute.errors import ConfigError, SubrouteError
from subroute.worlds.build import WORK_KINDS
from subroute.worlds.schema import SYMMETRIC
from subroute.worlds.templates import FIRST, LIST_KEYS, PARTICIPLE, THIRD, article, cap, join_names, variants
from subroute.worlds.world import Fact, World

STYLES = ("encyclopedia", "news", "blog", "forum", "company", "interview")
PREFERRED = {
    "person": ("encyclopedia", "interview", "blog", "forum", "news"),
    "org": ("company", "encyclopedia", "news", "forum"),
    "work": ("encyclopedia", "blog", "forum", "news"),
    "event": ("news", "encyclopedia", "blog", "forum"),
    "city": ("encyclopedia", "blog", "forum", "interview"),
    "country": ("encyclopedia", "blog", "news"),
    "river": ("encyclopedia", "blog", "forum"),
}
_TITLES = {
    "encyclopedia": ("{N}",),
    "news": ("{N}: what we know", "Inside {N}", "A closer look at {N}", "{N} in focus"),
    "blog": ("Notes on {N}", "Why I keep reading about {N}", "My deep dive into {N}"),
    "forum": ("Thread: anyone know much about {N}?", "Info on {N}?", "{N} - discussion"),
    "company": ("{N} | About", "About {N}", "{N}: profile"),
    "interview": ("In conversation with {N}", "Interview: {N}", "Ten minutes with {N}"),
}
_PREFIX = {"blog": ("Apparently, ", "Fun fact: ", "Also, ", "From what I read, ", "", "", ""),
           "forum": ("iirc ", "pretty sure ", "fwiw ", "", "", ""),
           "news": ("According to records, ", "", "", "")}
# First words of templates that may be lowercased after a prefix ("Apparently, she ...");
# any other first word is a name and keeps its capital.
_LOWER_OK = re.compile(r"^(He|She|It|His|Her|Its|The|My|By|Records|About|Participants|Over) ")


@dataclass
class Document:
    id: str
    entity: str
    style: str
    title: str
    text: str
    fact_ids: list[str]
    # (sentence, fact ids it states), for cloze probes; empty once a rewrite changed the text
    sentences: list[tuple[str, list[str]]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"id": self.id, "entity": self.entity, "style": self.style,
                "title": self.title, "text": self.text, "fact_ids": self.fact_ids}


Unit = tuple[str, list[tuple[Fact, object]]]  # template key, [(fact, the other side)]


def normalize_text(text: str) -> str:
    """Lowercase, commas inside numbers removed, spaces squeezed (for containment checks)."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower())
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def contains(text: str, needle: str) -> bool:
    n, t = normalize_text(needle), normalize_text(text)
    return bool(n) and re.search(r"(?<!\w)" + re.escape(n) + r"(?!\w)", t) is not None


class Corpus:
    """All documents of a world, planned eagerly per entity on demand, rendered lazily."""

    def __init__(self, world: World, styles: tuple[str, ...] | list[str] = STYLES,
                 docs_per_entity: int = 3,
                 rewrite: Callable[[Document], Document] | None = None,
                 strict: bool = False) -> None:
        bad = sorted(set(styles) - set(STYLES))
        if bad or not styles:
            raise ConfigError(f"unknown or empty document styles {bad or list(styles)}; "
                              f"choose from {', '.join(STYLES)} (--styles)")
        if docs_per_entity < 1:
            raise ConfigError(f"docs_per_entity must be at least 1, got {docs_per_entity}")
        self.world = world
        self.styles = tuple(s for s in STYLES if s in styles)
        self.docs_per_entity = docs_per_entity
        self.rewrite = rewrite
        self.strict = strict
        self._plans: dict[str, list[tuple[str, list[int]]]] = {}
        self._units: dict[str, list[Unit]] = {}
        self._docs: dict[str, Document] = {}

    # --- planning -------------------------------------------------------------------
    def units(self, eid: str) -> list[Unit]:
        """Groups of facts about `eid` that a document states together."""
        if eid in self._units:
            return self._units[eid]
        groups: dict[str, list[tuple[Fact, object]]] = {}
        order: list[str] = []
        for f in self.world.facts_about(eid):
            if f.subject == eid:
                key, other = f.relation, f.object
            elif f.relation in SYMMETRIC:
                key, other = f.relation, f.subject
            elif "~" + f.relation in THIRD:
                key, other = "~" + f.relation, f.subject
            else:
                continue
            gkey = key if key in LIST_KEYS else f"{key}#{f.id}"
            if gkey not in groups:
                groups[gkey] = []
                order.append(gkey)
            groups[gkey].append((f, other))
        self._units[eid] = [(g.split("#")[0], groups[g]) for g in order]
        return self._units[eid]

    def plan(self, eid: str) -> list[tuple[str, list[int]]]:
        """[(style, indexes of units it states)] for the documents of `eid`."""
        if eid in self._plans:
            return self._plans[eid]
        rng = random.Random(f"{self.world.seed}/plan/{eid}")
        kind = self.world.entities[eid].kind
        pref = [s for s in PREFERRED[kind] if s in self.styles]
        rest = [s for s in self.styles if s not in pref]
        chosen = pref[:1] + rng.sample(pref[1:], len(pref) - 1) + rng.sample(rest, len(rest))
        if not pref:
            chosen = rest
        chosen = chosen[: self.docs_per_entity]
        n_units = len(self.units(eid))
        plan = [(chosen[0], list(range(n_units)))]
        extra = [[i for i in range(n_units) if rng.random() < 0.5] for _ in chosen[1:]]
        for i in range(n_units):
            if extra and not any(i in e for e in extra):
                extra[rng.randrange(len(extra))].append(i)
        for e in extra:  # no document without a single fact
            if not e and n_units:
                e.append(rng.randrange(n_units))
        plan += [(s, sorted(e)) for s, e in zip(chosen[1:], extra)]
        self._plans[eid] = plan
        return plan

    def doc_ids(self, eid: str) -> list[str]:
        return [f"{eid}/{style}" for style, _ in self.plan(eid)]

    def planned_fact_ids(self, doc_id: str) -> list[str]:
        """Fact ids a document states, without rendering it."""
        eid, style = doc_id.split("/")
        units = self.units(eid)
        for s, idx in self.plan(eid):
            if s == style:
                return sorted(f.id for i in idx for f, _ in units[i][1])
        raise KeyError(doc_id)

    def docs_stating(self, fact_id: str) -> list[str]:
        """Ids of documents that state `fact_id` (planned, so no rendering)."""
        f = self.world.facts[fact_id]
        ends = [f.subject] + ([str(f.object)] if self.world.is_entity(f.object) else [])
        return [d for e in ends for d in self.doc_ids(e) if fact_id in self.planned_fact_ids(d)]

    # --- rendering ------------------------------------------------------------------
    def get(self, doc_id: str) -> Document:
        if doc_id not in self._docs:
            doc = self._render(doc_id)
            if self.rewrite is not None:
                doc = self._checked_rewrite(doc)
            self._docs[doc_id] = doc
        return self._docs[doc_id]

    def documents(self) -> Iterator[Document]:
        """Every document of the world, in entity-id order (renders them all)."""
        for eid in sorted(self.world.entities):
            for d in self.doc_ids(eid):
                yield self.get(d)

    def _checked_rewrite(self, doc: Document) -> Document:
        new = self.rewrite(doc)
        kept = [fid for fid in new.fact_ids if fid in doc.fact_ids and fact_holds(self.world, new, fid)]
        lost = sorted(set(doc.fact_ids) - set(kept))
        if lost and self.strict:
            raise SubrouteError(f"rewrite of document {doc.id} lost facts {', '.join(lost)}; "
                                "keep every name, year and number of the original")
        return replace(new, id=doc.id, entity=doc.entity, fact_ids=sorted(kept), sentences=[])

    def _render(self, doc_id: str) -> Document:
        w = self.world
        eid, style = doc_id.split("/")
        units = self.units(eid)
        idx = dict(self.plan(eid))[style]
        rng = random.Random(f"{w.seed}/doc/{doc_id}")
        e = w.entities[eid]
        ment = w.mention(eid)
        chosen = [units[i] for i in idx]
        if style != "encyclopedia":
            rng.shuffle(chosen)
        first_person = style == "interview" and e.kind == "person"
        sents: list[tuple[str, list[str]]] = []
        for n, (key, items) in enumerate(chosen):
            fids = sorted(f.id for f, _ in items)
            if first_person and key in FIRST:
                ask = FIRST[key][0]
                forms = {k: v[1] for k, v in FIRST.items()}
                template = rng.choice(variants(forms, key, len(items)))
                text = "Q: " + ask + "\nA: " + self._fill(template, eid, items, "I")
            else:
                subj = ment if n == 0 or rng.random() < 0.5 else None
                text = self._fill(rng.choice(variants(THIRD, key, len(items))), eid, items, subj)
                pre = rng.choice(_PREFIX.get(style, ("",)))
                if pre and _LOWER_OK.match(text):
                    text = pre + text[0].lower() + text[1:]
                elif pre:
                    text = pre + text
                if style == "forum":
                    text = f"user_{rng.randint(100, 999)}: {text}"
                elif style == "company" and e.kind != "org":
                    text = "- " + text
                elif first_person or style == "interview":
                    text = "A: " + text
            sents.append((text, fids))
        titles = _TITLES[style] if e.kind == "person" or style != "interview" else ("Ask a local: {N}",)
        title = rng.choice(titles)
        title = title.format(N=cap(ment) if title.startswith("{N}") else ment)
        intro, outro = _frame(style, e.kind, ment, rng)
        body = [t for t in [intro] + [s for s, _ in sents] + [outro] if t]
        sep = "\n" if style in ("forum", "interview", "company") else " "
        fact_ids = sorted({fid for _, fids in sents for fid in fids})
        return Document(doc_id, eid, style, title, sep.join(body), fact_ids, sents)

    def statement(self, fact_id: str, rng: random.Random) -> tuple[str, list[str]]:
        """One sentence that states `fact_id` with its subject named (no pronoun), and the ids
        of every fact it states: a list fact (siblings, participants, ...) is stated with its
        whole list, as documents state it, so no statement implies a wrong count."""
        w = self.world
        f = w.facts[fact_id]
        for eid in (f.subject, f.object):
            if not w.is_entity(eid):
                continue
            for key, items in self.units(eid):
                if any(x.id == fact_id for x, _ in items):
                    text = self._fill(rng.choice(variants(THIRD, key, len(items))), eid, items, w.mention(eid))
                    return text, sorted(x.id for x, _ in items)
        raise SubrouteError(f"fact {fact_id} is stated by no template")

    def _fill(self, template: str, eid: str, items: list[tuple[Fact, object]],
              subj: str | None) -> str:
        """Fill a template; subj None means a pronoun where the template allows one."""
        w = self.world
        e = w.entities[eid]
        pron, poss = {"f": ("she", "her"), "m": ("he", "his")}.get(e.attrs.get("gender", ""), ("it", "its"))
        if subj == "I":
            pron, poss = "I", "my"
        mention = subj if subj and subj != "I" else w.mention(eid)
        lead = mention if subj else pron
        others = [o for _, o in items]
        o = others[0]
        fields = {"S": cap(lead), "Sp": cap(lead + "'s" if subj else poss),
                  "s": mention, "sp": poss,
                  "olist": join_names([w.mention(x) if w.is_entity(x) else str(x) for x in others]),
                  "o": w.mention(o) if w.is_entity(o) else str(o)}
        fields["O"] = cap(fields["o"])
        fields["on"] = f"{o:,}" if isinstance(o, int) and o >= 10000 else str(o)
        fields["ao"] = article(str(o))
        sk = e.attrs.get("subkind", "")
        if e.kind == "work":
            verb, noun, rv, _, _ = WORK_KINDS[sk]
            fields.update(sv=verb, spp=PARTICIPLE[verb], rv=rv, sk=sk)
        if w.is_entity(o) and w.entities[o].kind == "work":
            verb, noun, *_ = WORK_KINDS[w.entities[o].attrs["subkind"]]
            fields.update(ov=verb, ocn=noun)
        out = template.format(**fields)
        return cap(out) if out[:1].islower() and not subj == "I" else out


def _frame(style: str, kind: str, name: str, rng: random.Random) -> tuple[str, str]:
    if style == "news":
        return (rng.choice(("(Staff report)", "(Local desk)")) + f" Readers have asked about {name}.",
                "More details are expected in the coming weeks.")
    if style == "blog":
        return (f"I've been reading about {name} lately, and here is what I found.",
                "That's all for now, thanks for reading!")
    if style == "forum":
        return (f"user_{rng.randint(100, 999)}: Trying to find info on {name}. Anything helps.", "")
    if style == "company":
        return ((f"Welcome to {name}. Our story:" if kind == "org" else f"Profile: {cap(name)}. Key facts:"), "")
    if style == "interview":
        if kind == "person":
            return (f"We sat down with {name}.", "")
        return (f"We asked a local guide about {name}.\nQ: What should readers know?", "")
    return ("", "")


def fact_holds(world: World, doc: Document, fact_id: str) -> bool:
    """True if the document's text names both ends of the fact (entity or value)."""
    f = world.facts[fact_id]
    ends = [f.subject, f.object]
    for end in ends:
        if end == doc.entity:
            if not contains(doc.text, world.entities[end].name):
                return False
            continue
        text = world.name(end)
        if not contains(doc.text, text):
            return False
    return True
