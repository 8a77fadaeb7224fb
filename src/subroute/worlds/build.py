"""Seeded generation of a plausible world.

Why this order: places first, then people sorted by birth year, then couples, then parents
chosen among couples born 18 to 45 years before the child, so no one can be their own
ancestor (every parent is strictly older); organizations are founded by someone aged 20 to
60, so a founder is always born before the founding; works and events come after the
people they involve. Every draw comes from one `random.Random(seed)`, and candidate pools
are found by bisection on sorted years, so a 10,000-person world builds in about a second.

Departure from PhantomWiki-style generators: relations are typed and dated (founding,
acquisition, release, event years), which is what arithmetic and comparison questions need.
"""

from __future__ import annotations

import bisect
import random

from subroute.worlds.names import NameMaker
from subroute.worlds.world import Entity, Fact, World, WorldConfig

OCCUPATIONS = ("architect", "engineer", "botanist", "painter", "journalist", "cartographer",
               "violinist", "surgeon", "economist", "potter", "astronomer", "teacher", "chef",
               "lawyer", "pilot", "geologist", "novelist", "photographer", "carpenter",
               "librarian", "glassblower", "translator", "beekeeper", "mathematician")
ORG_KINDS = {"company": ("Works", "Industries", "Holdings", "Systems", "Labs"),
             "studio": ("Studios", "Pictures"), "bank": ("Bank", "Savings"),
             "foundation": ("Foundation", "Trust"), "brewery": ("Brewing", "Breweries"),
             "publisher": ("Press", "Books"), "institute": ("Institute",),
             "shipyard": ("Shipyards", "Marine")}
WORK_KINDS = {  # verb, creator noun, release verb, release noun, genres
    "novel": ("wrote", "author", "published", "publication",
              ("mystery", "historical fiction", "science fiction", "romance", "satire")),
    "film": ("directed", "director", "released", "release",
             ("drama", "thriller", "documentary", "comedy", "western")),
    "album": ("recorded", "artist", "released", "release",
              ("jazz", "folk", "electronic", "ambient", "choral")),
    "painting": ("painted", "painter", "completed", "completion",
                 ("landscape", "portrait", "still life", "abstract")),
    "play": ("wrote", "playwright", "first staged", "premiere",
             ("tragedy", "farce", "comedy of manners", "historical drama")),
}
TITLE_NOUNS = ("Letters", "Harbor", "Winter", "Garden", "Lantern", "Orchard", "Crossing",
               "Tide", "Archive", "Ballad", "Hours", "Bridge", "Mirror", "Summer")
EVENT_KINDS = ("Festival", "Summit", "Regatta", "Expedition", "Exhibition", "Congress",
               "Fair", "Tournament", "Marathon", "Symposium")
CITY_ENDS = ("", "", "", "holm", "ford", "by", "wick", "mere", "stad", "ton")
COUNTRY_ENDS = ("ia", "ora", "avia", "eth", "und", "istan", "ar")


def build_world(config: WorldConfig | None = None, **overrides) -> World:
    """Build the world of `config` (knobs validated; bad ones raise ConfigError)."""
    cfg = (config or WorldConfig(**overrides)).resolved()
    return _Builder(cfg).run()


class _Builder:
    def __init__(self, cfg: WorldConfig) -> None:
        self.c = cfg
        self.rng = random.Random(cfg.seed)
        self.names = NameMaker(self.rng)
        self.entities: list[Entity] = []
        self.facts: list[Fact] = []

    def fact(self, s: str, rel: str, o) -> None:
        self.facts.append(Fact(f"f{len(self.facts):07d}", s, rel, o))

    def run(self) -> World:
        self.places()
        self.people()
        self.orgs()
        self.person_links()
        self.works()
        self.events()
        return World(self.c, self.entities, self.facts)

    # --- places --------------------------------------------------------------------
    def places(self) -> None:
        c, r = self.c, self.rng
        self.countries = [f"n{i:05d}" for i in range(c.n_countries)]
        self.cities = [f"c{i:05d}" for i in range(c.n_cities)]
        self.rivers = [f"r{i:05d}" for i in range(c.n_rivers)]
        for eid in self.countries:
            name = self.names.word("country", (2, 2), r.choice(COUNTRY_ENDS))
            self.entities.append(Entity(eid, "country", name))
        for eid in self.rivers:
            self.entities.append(Entity(eid, "river", self.names.stem("river") + " River",
                                        {"article": "1"}))
            self.fact(eid, "length_km", r.randint(40, 3200))
        members: dict[str, list[str]] = {n: [] for n in self.countries}
        used: set[str] = set()
        for i, eid in enumerate(self.cities):
            for _ in range(50):  # a stem plus an ending may spell an earlier city's name
                stem = self.names.stem("city")
                end = r.choice(CITY_ENDS)
                name = stem.rstrip("aeiou") + end if end else stem
                if name not in used:
                    break
            used.add(name)
            self.entities.append(Entity(eid, "city", name))
            country = self.countries[i] if i < len(self.countries) else r.choice(self.countries)
            members[country].append(eid)
            self.fact(eid, "country", country)
            if r.random() < c.p_river:
                self.fact(eid, "river", r.choice(self.rivers))
            self.fact(eid, "population", int(10 ** r.uniform(4.0, 6.5)) // 100 * 100)
        for n in self.countries:
            self.fact(n, "capital", r.choice(members[n]))

    # --- people and families -------------------------------------------------------
    def people(self) -> None:
        c, r = self.c, self.rng
        births = sorted(r.randint(c.start_year, c.end_year - 20) for _ in range(c.n_people))
        self.pid = [f"p{i:06d}" for i in range(c.n_people)]
        self.birth = dict(zip(self.pid, births))
        self.births = births  # sorted, aligned with self.pid
        self.gender = {p: r.choice("fm") for p in self.pid}
        self.spouse: dict[str, str] = {}
        women = sorted((p for p in self.pid if self.gender[p] == "f"),
                       key=lambda p: self.birth[p] + r.uniform(-5, 5))
        men = sorted((p for p in self.pid if self.gender[p] == "m"),
                     key=lambda p: self.birth[p] + r.uniform(-5, 5))
        couples = []
        for w, m in zip(women, men):
            if abs(self.birth[w] - self.birth[m]) <= 12 and r.random() < c.p_married:
                self.spouse[w], self.spouse[m] = m, w
                couples.append((max(self.birth[w], self.birth[m]), min(self.birth[w], self.birth[m]), m, w))
        couples.sort()
        keys = [cp[0] for cp in couples]
        self.parents: dict[str, tuple[str, str]] = {}
        self.children: dict[tuple[str, str], list[str]] = {}
        for p in self.pid:
            b = self.birth[p]
            if r.random() >= c.p_parents:
                continue
            lo, hi = bisect.bisect_left(keys, b - 45), bisect.bisect_right(keys, b - 18)
            for _ in range(4):
                if lo >= hi:
                    break
                _, young, father, mother = couples[r.randrange(lo, hi)]
                kids = self.children.setdefault((father, mother), [])
                if young >= b - 45 and self.spouse.get(p) not in kids and p not in (father, mother):
                    kids.append(p)
                    self.parents[p] = (father, mother)
                    break
        self.name_people()
        for p in self.pid:
            self.fact(p, "born_year", self.birth[p])
            self.fact(p, "birthplace", r.choice(self.cities))
            self.fact(p, "occupation", r.choice(OCCUPATIONS))
            if p in self.parents:
                self.fact(p, "father", self.parents[p][0])
                self.fact(p, "mother", self.parents[p][1])
            if p in self.spouse and p < self.spouse[p]:
                self.fact(p, "spouse", self.spouse[p])
        for kids in self.children.values():
            for i, a in enumerate(kids):
                for b2 in kids[i + 1:]:
                    self.fact(min(a, b2), "sibling", max(a, b2))

    def name_people(self) -> None:
        r, n = self.rng, len(self.pid)
        pools = {g: self.names.first_names(g, max(40, n // 25)) for g in "fm"}
        surname: dict[str, str] = {}
        taken: set[str] = set()
        for p in self.pid:  # birth order: fathers are named before their children
            fam = surname.get(self.parents[p][0]) if p in self.parents else None
            for attempt in range(40):
                if fam is None or attempt >= 20:
                    fam = self.names.surname()
                full = f"{r.choice(pools[self.gender[p]])} {fam}"
                if full.lower() not in taken:
                    break
            else:  # pragma: no cover - 40 tries with fresh surnames never all collide
                raise RuntimeError("could not name a person uniquely")
            taken.add(full.lower())
            surname[p] = fam
            self.entities.append(Entity(p, "person", full, {"gender": self.gender[p]}))

    def born_between(self, lo: int, hi: int) -> tuple[int, int]:
        return bisect.bisect_left(self.births, lo), bisect.bisect_right(self.births, hi)

    def person_links(self) -> None:
        c, r = self.c, self.rng
        fam = {p: set(self.parents.get(p, ())) | {self.spouse.get(p)} for p in self.pid}
        friends: set[tuple[str, str]] = set()
        for p in self.pid:
            b = self.birth[p]
            if r.random() < c.p_mentor:
                lo, hi = self.born_between(b - 40, b - 10)
                for _ in range(3):
                    if lo >= hi:
                        break
                    m = self.pid[r.randrange(lo, hi)]
                    if m not in fam[p]:
                        self.fact(p, "mentor", m)
                        break
            if r.random() < c.p_employed:
                hi = bisect.bisect_right(self.org_years, b + 50)
                if hi:
                    self.fact(p, "employer", self.org_ids[r.randrange(hi)])
            lo, hi = self.born_between(b - 12, b + 12)
            for _ in range(3):
                if r.random() < c.friends_mean / 3:
                    f = self.pid[r.randrange(lo, hi)]
                    pair = (min(p, f), max(p, f))
                    if f != p and f not in fam[p] and pair not in friends:
                        friends.add(pair)
        for a, b2 in sorted(friends):
            self.fact(a, "friend", b2)

    # --- organizations, works, events ---------------------------------------------
    def orgs(self) -> None:
        c, r = self.c, self.rng
        hi = bisect.bisect_right(self.births, c.end_year - 20)
        rows = []
        for _ in range(c.n_orgs):
            founder = self.pid[r.randrange(hi)]
            b = self.birth[founder]
            rows.append((r.randint(b + 20, min(b + 60, c.end_year)), founder))
        rows.sort()
        self.org_ids = [f"o{i:05d}" for i in range(len(rows))]
        self.org_years = [y for y, _ in rows]
        for i, (eid, (year, founder)) in enumerate(zip(self.org_ids, rows)):
            kind = r.choice(sorted(ORG_KINDS))
            name = f"{self.names.stem('org')} {r.choice(ORG_KINDS[kind])}"
            self.entities.append(Entity(eid, "org", name, {"subkind": kind}))
            self.fact(eid, "founder", founder)
            self.fact(eid, "founded_year", year)
            self.fact(eid, "based_in", r.choice(self.cities))
            earlier = bisect.bisect_left(self.org_years, year)  # founded strictly before
            if earlier and year < c.end_year and r.random() < c.p_acquired:
                self.fact(eid, "acquired_by", self.org_ids[r.randrange(earlier)])
                self.fact(eid, "acquired_year", r.randint(year + 1, c.end_year))

    def works(self) -> None:
        c, r = self.c, self.rng
        hi = bisect.bisect_right(self.births, c.end_year - 18)
        for i in range(c.n_works):
            eid = f"w{i:05d}"
            creator = self.pid[r.randrange(hi)]
            b = self.birth[creator]
            kind = r.choice(sorted(WORK_KINDS))
            stem = self.names.stem("work")
            forms = [f"The {stem} {r.choice(TITLE_NOUNS)}", stem, f"Beyond {stem}"]
            title = r.choice(forms + ([f"Songs of {stem}"] if kind == "album" else []))
            self.entities.append(Entity(eid, "work", title, {"subkind": kind}))
            self.fact(eid, "creator", creator)
            self.fact(eid, "work_year", r.randint(b + 18, min(b + 70, c.end_year)))
            self.fact(eid, "genre", r.choice(WORK_KINDS[kind][4]))

    def events(self) -> None:
        c, r = self.c, self.rng
        for i in range(c.n_events):
            eid = f"e{i:05d}"
            kind = r.choice(EVENT_KINDS)
            self.entities.append(Entity(eid, "event", f"{self.names.stem('event')} {kind}",
                                        {"article": "1", "subkind": kind.lower()}))
            year = r.randint(c.start_year + 40, c.end_year)
            self.fact(eid, "event_year", year)
            self.fact(eid, "event_place", r.choice(self.cities))
            lo, hi = self.born_between(year - 80, year - 16)
            k = min(r.randint(2, c.max_participants), hi - lo)
            for p in sorted(self.pid[j] for j in r.sample(range(lo, hi), k)):
                self.fact(eid, "participant", p)
