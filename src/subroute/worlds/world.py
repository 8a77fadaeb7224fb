"""The symbolic world: entities, facts, and the indexes the resolver walks.

Why a fact list as the single source of truth: documents are rendered from facts and
answers are computed from facts, so a document and an answer can never disagree. Every
relation is stored once in its forward direction; the inverse index ("who founded what")
is derived here, so the two sides cannot drift either.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

from subroute.errors import ConfigError
from subroute.worlds.schema import RELATIONS, SYMMETRIC

Atom = str | int  # an entity id, a year/number, or a text value


@dataclass
class WorldConfig:
    """Knobs of a world. Counts left at None are derived from `n_people`."""

    seed: int = field(default=0, metadata={"help": "seed of every random choice"})
    n_people: int = field(default=1000, metadata={"help": "number of people"})
    n_cities: int | None = field(default=None, metadata={"help": "cities (default people/40)"})
    n_countries: int | None = field(default=None, metadata={"help": "countries (default cities/8)"})
    n_rivers: int | None = field(default=None, metadata={"help": "rivers (default cities/3)"})
    n_orgs: int | None = field(default=None, metadata={"help": "organizations (default people/6)"})
    n_works: int | None = field(default=None, metadata={"help": "works (default people/3)"})
    n_events: int | None = field(default=None, metadata={"help": "events (default people/20)"})
    p_parents: float = field(default=0.75, metadata={"help": "chance a person has known parents"})
    p_married: float = field(default=0.6, metadata={"help": "chance a person is married"})
    p_mentor: float = field(default=0.35, metadata={"help": "chance a person has a mentor"})
    p_employed: float = field(default=0.6, metadata={"help": "chance a person has an employer"})
    friends_mean: float = field(default=0.8, metadata={"help": "mean friends drawn per person (max 3)"})
    p_acquired: float = field(default=0.25, metadata={"help": "chance an organization was acquired"})
    p_river: float = field(default=0.8, metadata={"help": "chance a city lies on a river"})
    max_participants: int = field(default=6, metadata={"help": "most participants of an event (>= 2)"})
    start_year: int = field(default=1900, metadata={"help": "earliest birth year"})
    end_year: int = field(default=2024, metadata={"help": "the present; no date after it"})

    def resolved(self) -> "WorldConfig":
        """A copy with derived counts filled in and every knob validated."""
        c = WorldConfig(**asdict(self))
        if c.n_people < 1:
            raise ConfigError(f"n_people (--people) must be at least 1, got {c.n_people}; "
                              "give a positive number of people")
        c.n_cities = c.n_cities if c.n_cities is not None else max(4, c.n_people // 40)
        c.n_countries = c.n_countries if c.n_countries is not None else max(2, c.n_cities // 8)
        c.n_rivers = c.n_rivers if c.n_rivers is not None else max(2, c.n_cities // 3)
        c.n_orgs = c.n_orgs if c.n_orgs is not None else max(2, c.n_people // 6)
        c.n_works = c.n_works if c.n_works is not None else max(2, c.n_people // 3)
        c.n_events = c.n_events if c.n_events is not None else max(2, c.n_people // 20)
        for name in ("n_cities", "n_countries", "n_rivers", "n_orgs", "n_works", "n_events"):
            if getattr(c, name) < 1:
                raise ConfigError(f"{name} (--world-opt {name}=N) must be at least 1, got "
                                  f"{getattr(c, name)}; give a positive count or leave it unset")
        if c.n_countries > c.n_cities:
            raise ConfigError(f"n_countries ({c.n_countries}) exceeds n_cities ({c.n_cities}); "
                              "every country needs a capital city: raise n_cities")
        for f in fields(c):
            if f.name.startswith("p_") and not 0.0 <= getattr(c, f.name) <= 1.0:
                raise ConfigError(f"{f.name} must be a probability in [0, 1], got "
                                  f"{getattr(c, f.name)}")
        if not 0.0 <= c.friends_mean <= 3.0:
            raise ConfigError(f"friends_mean must be in [0, 3], got {c.friends_mean}")
        if c.max_participants < 2:
            raise ConfigError(f"max_participants must be at least 2, got {c.max_participants}")
        if c.end_year - c.start_year < 100:
            raise ConfigError("end_year - start_year must be at least 100 years so that "
                              f"families fit, got {c.end_year - c.start_year}")
        return c


@dataclass
class Entity:
    id: str
    kind: str
    name: str
    attrs: dict[str, str] = field(default_factory=dict)  # gender, subkind, article


@dataclass(frozen=True)
class Fact:
    id: str
    subject: str
    relation: str
    object: Atom


class World:
    """Entities and facts of one seed, with forward and inverse indexes."""

    def __init__(self, config: WorldConfig, entities: list[Entity], facts: list[Fact]) -> None:
        self.config = config
        self.seed = config.seed
        self.entities: dict[str, Entity] = {e.id: e for e in entities}
        self.facts: dict[str, Fact] = {f.id: f for f in facts}
        self.by_kind: dict[str, list[str]] = {}
        for e in entities:
            self.by_kind.setdefault(e.kind, []).append(e.id)
        for ids in self.by_kind.values():
            ids.sort()
        self.by_name: dict[str, str] = {}
        for e in entities:
            if e.name.lower() in self.by_name:
                raise ValueError(f"duplicate name {e.name!r} in world {self.seed}")
            self.by_name[e.name.lower()] = e.id
        self._out: dict[tuple[str, str], list[Atom]] = {}
        self._fid: dict[tuple[str, str, Atom], str] = {}
        self._about: dict[str, list[str]] = {}  # entity -> ids of facts it is part of
        for f in facts:
            self._add(f.subject, f.relation, f.object, f.id)
            rel = RELATIONS[f.relation]
            self._about.setdefault(f.subject, []).append(f.id)
            if rel.entity_valued:
                self._about.setdefault(str(f.object), []).append(f.id)
                inv = rel.name if rel.name in SYMMETRIC else rel.inverse
                if inv:
                    self._add(str(f.object), inv, f.subject, f.id)
        for v in self._out.values():
            v.sort(key=lambda a: (isinstance(a, str), a))
        self._neighbors: dict[str, set[str]] | None = None

    def _add(self, s: str, rel: str, o: Atom, fid: str) -> None:
        self._out.setdefault((s, rel), []).append(o)
        self._fid[(s, rel, o)] = fid

    # --- lookups -------------------------------------------------------------------
    def follow(self, eid: str, relation: str) -> list[Atom]:
        """Objects of `relation` from `eid` (sorted); empty when none."""
        return self._out.get((eid, relation), [])

    def fact_id(self, eid: str, relation: str, obj: Atom) -> str:
        return self._fid[(eid, relation, obj)]

    def facts_about(self, eid: str) -> list[Fact]:
        """Facts where `eid` is the subject or the object, in id order."""
        return [self.facts[i] for i in self._about.get(eid, [])]

    def neighbors(self, eid: str) -> set[str]:
        """Entities linked to `eid` by one fact (either direction)."""
        if self._neighbors is None:
            nb: dict[str, set[str]] = {}
            for f in self.facts.values():
                if RELATIONS[f.relation].entity_valued:
                    nb.setdefault(f.subject, set()).add(str(f.object))
                    nb.setdefault(str(f.object), set()).add(f.subject)
            self._neighbors = nb
        return self._neighbors.get(eid, set())

    def is_entity(self, atom: Atom) -> bool:
        return isinstance(atom, str) and atom in self.entities

    def name(self, atom: Atom) -> str:
        """The answer string of an atom: an entity's name, or the value as text."""
        return self.entities[atom].name if self.is_entity(atom) else str(atom)

    def mention(self, eid: str) -> str:
        """How running text refers to an entity ("the Orsa River", "Brevik Mills")."""
        e = self.entities[eid]
        return ("the " + e.name) if e.attrs.get("article") else e.name

    def aliases(self, atom: Atom) -> list[str]:
        """Other strings that name the same answer (the main name excluded)."""
        if self.is_entity(atom):
            e = self.entities[atom]
            return ["the " + e.name] if e.attrs.get("article") else []
        if isinstance(atom, int) and atom >= 10000:  # populations, never years
            return [f"{atom:,}"]
        return []

    def stats(self) -> dict[str, int]:
        out = {k: len(v) for k, v in sorted(self.by_kind.items())}
        out["facts"] = len(self.facts)
        return out
