"""Question builders, one per kind: they choose entities and phrase text and ops.

Why builders only draft: a builder picks a path through the world and writes the question
and one op per step, but never the answers; the resolver computes those from the ops and
the checks decide whether the draft is kept. A builder that returns None simply found no
fitting path this time (the caller retries, within a bound).

Hops are counted as recall steps (one fact or one fact set looked up), as in HotpotQA and
MuSiQue: "Who was born earlier, A's mother or B's founder?" has 4 hops and one synthesis
step. Departures from MuSiQue/PhantomWiki: comparisons and arithmetic always reach their
operands through at least one hop, or ask about the winner, so the answer string never
appears in the question; every step carries its recall/synthesis type.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from subroute.worlds.build import WORK_KINDS
from subroute.worlds.schema import COMPARE, KIND_WORD, OPPOSITE, RELATIONS, YEAR_RELATIONS
from subroute.worlds.templates import NUMBER_WORDS, cap
from subroute.worlds.world import World

CHAIN, PARALLEL, FAN_IN = "chain", "parallel-then-join", "fan-in"
SHAPES = (CHAIN, PARALLEL, FAN_IN)
MAX_HOPS = 8
# kind -> shape -> (min hops, max hops) a builder can produce
FEASIBLE: dict[str, dict[str, tuple[int, int]]] = {
    "recall": {CHAIN: (1, 1)},
    "compositional": {CHAIN: (2, MAX_HOPS)},
    "aggregation": {CHAIN: (1, MAX_HOPS)},
    "comparison": {PARALLEL: (3, MAX_HOPS), FAN_IN: (4, MAX_HOPS)},
    "intersection": {PARALLEL: (2, MAX_HOPS)},
    "arithmetic": {PARALLEL: (2, MAX_HOPS)},
    "word": {CHAIN: (1, MAX_HOPS)},
}
KINDS = tuple(FEASIBLE)
_HOP_RELS = {k: [r for r in RELATIONS.values() if r.subject == k and r.phrase]
             for k in KIND_WORD}
_ANSWER_RELS = {k: [r for r in RELATIONS.values() if r.subject == k and r.questions]
                for k in KIND_WORD}
_SET_RELS = {k: [r for r in RELATIONS.values() if r.subject == k and r.set_questions]
             for k in KIND_WORD}


@dataclass
class DraftStep:
    question: str
    op: dict
    type: str  # recall | synthesis


@dataclass
class Draft:
    kind: str
    question: str
    steps: list[DraftStep] = field(default_factory=list)

    def add(self, question: str, op: dict, type_: str = "recall") -> str:
        self.steps.append(DraftStep(question, op, type_))
        return f"#{len(self.steps)}"


class Builder:
    """Walks the world and phrases what it finds.

    `phrasing` is the chance that a noun phrase or question is worded another way than
    the schema's canonical one (a possessive, a relative clause, another question form, a
    chain told in two sentences); those choices come from `wording`, a stream of their own,
    so the walk (and with phrasing 0 every question) of a seed stays the same."""

    def __init__(self, world: World, rng: random.Random, *, phrasing: float = 0.0,
                 wording: random.Random | None = None) -> None:
        self.w = world
        self.rng = rng
        self.phrasing = phrasing
        self.wording = wording or random.Random(0)
        self.kinds = [k for k in ("person", "org", "work", "event", "city", "country", "river")
                      if world.by_kind.get(k)]

    # --- phrasing --------------------------------------------------------------------
    def varied(self) -> bool:
        return self.phrasing > 0 and self.wording.random() < self.phrasing

    def phrase(self, rel: str, bare: bool) -> str:
        """The noun phrase template of `rel`; possessives only after a bare name."""
        r = RELATIONS[rel]
        alts = [p for p in r.phrases if bare or "{sp}" not in p]
        return self.wording.choice(alts) if alts and self.varied() else r.phrase

    def ask(self, rel: str) -> str:
        """A single-object question template of `rel` (the walk's draw is always made)."""
        r = RELATIONS[rel]
        canonical = self.rng.choice(r.questions)
        return self.wording.choice(r.asks) if r.asks and self.varied() else canonical

    def fmt(self, template: str, s: str, subj: str, obj) -> str:
        w, f = self.w, {"s": s, "sp": s + ("'" if s.endswith("s") else "'s")}
        if w.is_entity(obj):
            o = w.entities[obj]
            f["k"] = self.kind_word(obj)
            f["og"] = "husband" if o.attrs.get("gender") == "m" else "wife"
        if w.is_entity(subj) and w.entities[subj].kind == "work":
            verb, noun, rv, rn, _ = WORK_KINDS[w.entities[subj].attrs["subkind"]]
            f.update(sv=verb, cn=noun, rv=rv, rn=rn)
        return template.format_map(_Missing(f))

    def np(self, start_text: str, start: str, path: list[tuple[str, str]]) -> str:
        text, cur = start_text, start
        for i, (rel, obj) in enumerate(path):
            bare = i == 0 and start_text == self.w.mention(start)
            text = self.fmt(self.phrase(rel, bare), text, cur, obj)
            cur = obj
        return text

    def kind_word(self, eid: str) -> str:
        """'person', 'studio', 'city': what an entity is called (orgs and works by subkind)."""
        e = self.w.entities[eid]
        return e.attrs.get("subkind") if e.kind in ("org", "work") else KIND_WORD[e.kind]

    def that(self, eid: str) -> str:
        """'that person', 'that studio', 'that city': the entity referred back to."""
        return "that " + self.kind_word(eid)

    def hop_steps(self, d: Draft, start: str, path: list[tuple[str, str]], arg: str | None = None) -> str:
        """Append one recall step per hop of `path`; return the ref (or id) of its end."""
        ref, cur = arg or start, start
        for rel, obj in path:
            s = self.w.mention(cur) if ref == cur else ref
            q = self.fmt(self.rng.choice(RELATIONS[rel].questions), s, cur, obj)
            ref = d.add(cap(q), {"op": "hop", "rel": rel, "arg": ref})
            cur = obj
        return ref

    # --- walking ---------------------------------------------------------------------
    def entity(self, kind: str | None = None) -> str:
        return self.rng.choice(self.w.by_kind[kind or self.rng.choice(self.kinds)])

    def forward(self, start: str, n: int, visited: set[str]) -> list[tuple[str, str]] | None:
        path, cur = [], start
        for _ in range(n):
            opts = []
            for r in _HOP_RELS[self.w.entities[cur].kind]:
                res = self.w.follow(cur, r.name)
                if len(res) == 1 and res[0] not in visited:
                    opts.append((r.name, str(res[0])))
            if not opts:
                return None
            rel, cur = self.rng.choice(opts)
            visited.add(cur)
            path.append((rel, cur))
        return path

    def backward(self, target: str, n: int, visited: set[str]) -> tuple[str, list] | None:
        """A named start and an n-hop path from it that ends at `target`."""
        path: list[tuple[str, str]] = []
        cur = target
        for _ in range(n):
            opts = []
            kind = self.w.entities[cur].kind
            for r in RELATIONS.values():
                if r.phrase is None or r.object != kind:
                    continue
                for opp in OPPOSITE.get(r.name, ()):
                    for y in self.w.follow(cur, opp):
                        if y not in visited and self.w.follow(str(y), r.name) == [cur]:
                            opts.append((str(y), r.name))
            if not opts:
                return None
            y, rel = self.rng.choice(sorted(opts))
            path.insert(0, (rel, cur))
            visited.add(y)
            cur = y
        return cur, path

    def final(self, eid: str, visited: set[str]) -> tuple[str, object] | None:
        opts = []
        for r in _ANSWER_RELS[self.w.entities[eid].kind]:
            res = self.w.follow(eid, r.name)
            if len(res) == 1 and res[0] not in visited:
                opts.append((r.name, res[0]))
        return self.rng.choice(opts) if opts else None

    def walk(self, hops: int):
        """A random start entity and a forward path of `hops - 1` relations from it:
        (start, visited, path, end entity), or None when no such path exists."""
        start = self.entity()
        visited = {start}
        path = self.forward(start, hops - 1, visited)
        if path is None:
            return None
        return start, visited, path, (path[-1][1] if path else start)

    # --- kinds -----------------------------------------------------------------------
    def recall(self, hops: int, shape: str) -> Draft | None:
        return self.compositional(1, shape, kind="recall")

    def compositional(self, hops: int, shape: str, kind: str = "compositional") -> Draft | None:
        walk = self.walk(hops)
        if walk is None:
            return None
        start, visited, path, end = walk
        fin = self.final(end, visited)
        if fin is None:
            return None
        rel, obj = fin
        text = self.np(self.w.mention(start), start, path)
        tmpl = self.ask(rel)
        if path and self.varied():  # the chain told first, the question about "that person"
            lead = self.wording.choice(_TOLD_FIRST)
            question = lead.format(np=text) + " " + cap(self.fmt(tmpl, self.that(end), end, obj))
        else:
            question = cap(self.fmt(tmpl, text, end, obj))
        d = Draft(kind, question)
        self.hop_steps(d, start, path + [(rel, obj)])
        return d

    def aggregation(self, hops: int, shape: str) -> Draft | None:
        walk = self.walk(hops)
        if walk is None:
            return None
        start, visited, path, end = walk
        count = self.rng.random() < 0.5
        opts = []
        for r in _SET_RELS[self.w.entities[end].kind]:
            res = self.w.follow(end, r.name)
            if count and 1 <= len(res) <= 6 or not count and 2 <= len(res) <= 5:
                if not visited & set(map(str, res)):
                    opts.append(r)
        if not opts:
            return None
        r = self.rng.choice(opts)
        text = self.np(self.w.mention(start), start, path)
        tmpl = r.count_question if count else self.rng.choice(r.set_questions)
        d = Draft("aggregation", cap(self.fmt(tmpl, text, end, None)))
        ref = self.hop_steps(d, start, path)
        s = self.w.mention(end) if ref == start else ref
        ref = d.add(cap(self.fmt(self.rng.choice(r.set_questions), s, end, None)),
                    {"op": "hop", "rel": r.name, "arg": ref, "set": True})
        if count:
            d.add(f"How many entries are in {ref}?", {"op": "count", "arg": ref}, "synthesis")
        return d

    def _comparables(self, m: int) -> tuple[str, str, list[str]] | None:
        rel, mode = self.rng.choice(sorted(COMPARE))
        kind = RELATIONS[rel].subject
        pool = self.w.by_kind.get(kind, [])
        items: list[str] = []
        seen: set = set()
        for _ in range(8 * m):
            e = self.rng.choice(pool)
            v = self.w.follow(e, rel)
            if len(v) == 1 and e not in items and v[0] not in seen:
                items.append(e)
                seen.add(v[0])
                if len(items) == m:
                    return rel, mode, items
        return None

    def comparison(self, hops: int, shape: str) -> Draft | None:
        m = 3 if shape == FAN_IN else 2
        variants = (["superlative"] if hops - m >= 1 else []) + (["bridge"] if hops >= 2 * m else [])
        picked = self._comparables(m)
        if not variants or picked is None:
            return None
        rel, mode, items = picked
        comp, sup, two, three, label = COMPARE[(rel, mode)]
        visited = set(items)
        if self.rng.choice(variants) == "superlative":
            names = [self.w.mention(e) for e in items]
            lead = (f"the {comp} of {names[0]} and {names[1]}" if m == 2
                    else f"the {sup} of {names[0]}, {names[1]} and {names[2]}")
            values = [self.w.follow(e, rel)[0] for e in items]
            winner = items[values.index(min(values) if mode == "min" else max(values))]
            path = self.forward(winner, hops - m - 1, visited)
            end = path[-1][1] if path else winner
            fin = self.final(end, visited) if path is not None else None
            if fin is None:
                return None
            text = self.np(lead, winner, path)
            d = Draft("comparison", cap(self.fmt(self.ask(fin[0]), text, end, fin[1])))
            pairs = [(e, self.hop_steps(d, e, [(rel, self.w.follow(e, rel)[0])])) for e in items]
            ref = self._compare_step(d, pairs, mode, rel, named=True)
            self.hop_steps(d, winner, path + [fin], arg=ref)
            return d
        bridges = _split(hops - m, m, self.rng, minimum=1)
        described = []
        for e, b in zip(items, bridges):
            got = self.backward(e, b, visited)
            if got is None:
                return None
            described.append(got)
        nps = [self.np(self.w.mention(s), s, p) for s, p in described]
        text = (two.format(a=nps[0], b=nps[1]) if m == 2
                else three.format(items=f"{nps[0]}, {nps[1]} and {nps[2]}"))
        d = Draft("comparison", cap(text))
        pairs = []
        for (s, p), e in zip(described, items):
            end_ref = self.hop_steps(d, s, p)
            pairs.append((end_ref, self.hop_steps(d, e, [(rel, self.w.follow(e, rel)[0])], arg=end_ref)))
        self._compare_step(d, pairs, mode, rel, named=False)
        return d

    def _compare_step(self, d: Draft, pairs, mode: str, rel: str, named: bool) -> str:
        _, _, two, three, label = COMPARE[(rel, mode)]
        shown = [f"{self.w.mention(e) if named else e} ({label} {v})" for e, v in pairs]
        q = (two.format(a=shown[0], b=shown[1]) if len(shown) == 2
             else three.format(items=f"{shown[0]}, {shown[1]} and {shown[2]}"))
        return d.add(q, {"op": "compare", "mode": mode, "items": [list(p) for p in pairs]},
                     "synthesis")

    def intersection(self, hops: int, shape: str) -> Draft | None:
        kind = self.rng.choice([k for k in ("person", "org", "work", "event", "city") if k in self.kinds])
        x = self.entity(kind)
        cands = []
        for r in RELATIONS.values():
            if r.object != kind or not r.clause:
                continue
            for opp in OPPOSITE.get(r.name, ()):
                for s in self.w.follow(x, opp):
                    members = self.w.follow(str(s), r.name)
                    if x in members and len(members) >= 2:
                        cands.append((r.name, str(s)))
        cands = sorted(set(cands))
        self.rng.shuffle(cands)
        pair = None
        for i, a in enumerate(cands):
            for b in cands[i + 1:]:
                if a[1] != b[1] and set(self.w.follow(a[1], a[0])) & set(self.w.follow(b[1], b[0])) == {x}:
                    pair = [a, b]
                    break
            if pair:
                break
        if pair is None:
            return None
        visited = {x, pair[0][1], pair[1][1]}
        sides = []
        for (rel, src), b in zip(pair, _split(hops - 2, 2, self.rng, minimum=0)):
            got = self.backward(src, b, visited)
            if got is None:
                return None
            sides.append((rel, src, *got))
        who = "Who" if kind == "person" else f"Which {KIND_WORD[kind]}"
        clauses = [RELATIONS[rel].clause.format(s=self.np(self.w.mention(s), s, p))
                   for rel, _, s, p in sides]
        d = Draft("intersection", f"{who} {clauses[0]} and {clauses[1]}?")
        refs = []
        for rel, src, s, p in sides:
            ref = self.hop_steps(d, s, p)
            arg = self.w.mention(src) if ref == src else ref
            refs.append(d.add(cap(self.fmt(self.rng.choice(RELATIONS[rel].set_questions), arg, src, None)),
                              {"op": "hop", "rel": rel, "arg": ref, "set": True}))
        word = KIND_WORD[kind]
        d.add(f"Which {word} appears in both {refs[0]} and {refs[1]}?",
              {"op": "intersect", "args": refs}, "synthesis")
        return d

    def arithmetic(self, hops: int, shape: str) -> Draft | None:
        w, rng = self.w, self.rng
        b1, b2 = _split(hops - 2, 2, rng, minimum=0)
        e2 = self.entity(rng.choice([k for k in ("org", "work", "event", "person") if k in self.kinds]))
        r2 = rng.choice([r for r in YEAR_RELATIONS if w.follow(e2, r)])
        y2 = w.follow(e2, r2)[0]
        if rng.random() < 0.5:  # age of a person at a moment
            linked = [str(p) for r in ("founder", "creator", "participant") for p in w.follow(e2, r)]
            pool = linked if linked and rng.random() < 0.5 else [self.entity("person") for _ in range(20)]
            people = [p for p in pool if p != e2 and 0 < y2 - w.follow(p, "born_year")[0] <= 100]
            if not people:
                return None
            e1, r1, age = rng.choice(people), "born_year", True
        else:
            e1 = self.entity(rng.choice([k for k in ("org", "work", "event", "person") if k in self.kinds]))
            r1, age = rng.choice([r for r in YEAR_RELATIONS if w.follow(e1, r)]), False
            if e1 == e2 or w.follow(e1, r1)[0] == y2:
                return None
        visited = {e1, e2}
        got1, got2 = self.backward(e1, b1, visited), self.backward(e2, b2, visited)
        if got1 is None or got2 is None:
            return None
        np1, np2 = (self.np(w.mention(s), s, p) for s, p in (got1, got2))
        if age:
            text = f"How old was {np1} when {self.fmt(RELATIONS[r2].when, np2, e2, None)}?"
        else:
            m1, m2 = (self.fmt(RELATIONS[r].moment, n, e, None) for r, n, e in ((r1, np1, e1), (r2, np2, e2)))
            text = f"How many years passed between {m1} and {m2}?"
        d = Draft("arithmetic", cap(text))
        refs = []
        for (s, p), e, r in ((got1, e1, r1), (got2, e2, r2)):
            end = self.hop_steps(d, s, p)
            refs.append(self.hop_steps(d, e, [(r, w.follow(e, r)[0])], arg=end))
        if age:
            d.add(f"How old is someone born in {refs[0]} in the year {refs[1]}?",
                  {"op": "diff", "args": [refs[1], refs[0]], "abs": False}, "synthesis")
        else:
            d.add(f"How many years are there between {refs[0]} and {refs[1]}?",
                  {"op": "diff", "args": [refs[0], refs[1]], "abs": True}, "synthesis")
        return d

    def word(self, hops: int, shape: str) -> Draft | None:
        """An arithmetic word problem over world facts: a count times a price or a quota,
        an age or an anniversary, a round trip. The question states one number of its own;
        the last step computes with it (a `calc` op), so its gold step is a program step."""
        w, rng = self.w, self.rng
        walk = self.walk(hops)
        if walk is None:
            return None
        start, visited, path, end = walk
        kind = w.entities[end].kind
        mode = rng.choice(["count"] + [m for m, (needs, _) in _WORD_READS.items() if needs == kind])
        if mode == "count":  # the last recall step reads a set: its size times a number
            sets = [r for r in _SET_RELS[kind] if r.clause
                    and 2 <= len(w.follow(end, r.name)) <= 8
                    and not visited & set(map(str, w.follow(end, r.name)))]
            if not sets:
                return None
            r = rng.choice(sets)
            each, total, unit = rng.choice(_EACH[r.object])
            n = rng.randint(2, 12)
            text = self.np(w.mention(start), start, path)
            who = "who" if r.object == "person" else "that"
            d = Draft("word", cap(f"Each {KIND_WORD[r.object]} {who} {r.clause.format(s=text)} "
                                  f"{each.format(n=n)}. {total}"))
            ref = self.hop_steps(d, start, path)
            arg = w.mention(end) if ref == start else ref
            ref = d.add(cap(self.fmt(rng.choice(r.set_questions), arg, end, None)),
                        {"op": "hop", "rel": r.name, "arg": ref, "set": True})
            ref = d.add(f"How many entries are in {ref}?", {"op": "count", "arg": ref}, "synthesis")
            d.add(f"What is {n} * {ref}?", {"op": "calc", "fn": "mul", "args": [n, ref], "unit": unit},
                  "synthesis")
            return d
        rel = _WORD_READS[mode][1]
        got = w.follow(end, rel)
        if len(got) != 1:
            return None
        value = got[0]
        text = self.np(w.mention(start), start, path)
        if mode == "age":
            year = value + rng.randint(18, 95)
            question, fn, args, unit = (f"How old will {text} be in {year}?", "sub", [year, "#"], "years")
        elif mode == "turn":
            n = rng.choice((18, 21, 30, 40, 50, 60, 65, 70, 80))
            question, fn, args, unit = (f"In what year did {text} turn {n}?", "add", ["#", n], "")
        elif mode == "anniversary":
            n = rng.choice((10, 25, 50, 75, 100, 150))
            question, fn, args, unit = (f"In what year does {text} celebrate {n} years since "
                                        "its founding?", "add", ["#", n], "")
        elif mode == "trip":
            question, fn, args, unit = (f"A boat travels the whole length of {text} and back again. "
                                        "How many kilometres does it travel?", "mul", [2, "#"], "kilometres")
        else:  # tickets
            n = rng.randint(2, 6)
            question, fn, args, unit = (f"Every resident of {text} buys {NUMBER_WORDS[n]} tickets to a "
                                        "fair. How many tickets are sold?", "mul", [n, "#"], "tickets")
        d = Draft("word", cap(question))
        ref = self.hop_steps(d, start, path + [(rel, value)])
        args = [ref if a == "#" else a for a in args]
        sym = {"add": "+", "sub": "-", "mul": "*"}[fn]
        d.add(f"What is {args[0]} {sym} {args[1]}?", {"op": "calc", "fn": fn, "args": args, "unit": unit},
              "synthesis")
        return d


# How a chain is told before its question in varied phrasing ("that person" follows).
_TOLD_FIRST = ("Think of {np}.", "Consider {np}.", "Take {np}.", "Start from {np}.")
# Word problems other than a count: the kind of entity each needs at the end of its walk,
# and the number it reads there.
_WORD_READS = {"age": ("person", "born_year"), "turn": ("person", "born_year"),
               "anniversary": ("org", "founded_year"), "trip": ("river", "length_km"),
               "tickets": ("city", "population")}
# For a set of members of a kind: (what each does, the question, the answer's unit).
_EACH = {
    "person": (("pays {n} dollars for a ticket", "How many dollars do they pay in all?", "dollars"),
               ("brings {n} guests to a dinner", "How many guests come in total?", "guests"),
               ("plants {n} trees", "How many trees are planted altogether?", "trees")),
    "city": (("sends {n} delegates to a summit", "How many delegates are sent in all?", "delegates"),
             ("builds {n} new schools", "How many schools are built altogether?", "schools")),
    "org": (("pays a fee of {n} dollars", "How many dollars are paid in all?", "dollars"),
            ("hires {n} interns", "How many interns are hired altogether?", "interns")),
    "work": (("sells for {n} dollars", "How many dollars do all of them cost together?", "dollars"),),
    "event": (("lasted {n} days", "How many days did they last in all?", "days"),),
}


def _split(total: int, parts: int, rng: random.Random, minimum: int) -> list[int]:
    """A random composition of `total` into `parts` numbers, each at least `minimum`."""
    out = [minimum] * parts
    for _ in range(total - minimum * parts):
        out[rng.randrange(parts)] += 1
    return out


class _Missing(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
