"""The relation schema: one table drives facts, document sentences and question phrasing.

Why one table: the world builder, the document writer, the question generator and the
resolver must agree on what a relation means; if each kept its own list they would drift
and a question could ask for something no document states. A relation is one row here.

Each forward relation has an inverse, computed from the same facts (``founder`` and
``founded`` are one fact read from either side), so the resolver can walk both ways and a
question can say "the studio founded by X" as well as "the founder of Y".

Template fields: ``{s}`` the subject mention; ``{sp}`` its possessive ("Brevik Mills'"),
used only where the subject is a bare name (so "the founder of X's mother" is never
written); ``{k}`` the object's kind word ("studio");
``{og}`` the object's spouse word ("husband"); ``{sv}``/``{cn}``/``{rv}``/``{rn}`` the
subject work's verb, creator noun, release verb and release noun ("wrote", "author",
"published", "publication").
"""

from __future__ import annotations

from dataclasses import dataclass

ENTITY_KINDS = ("person", "city", "country", "river", "org", "work", "event")
VALUE_KINDS = ("year", "number", "text")
KIND_WORD = {"person": "person", "city": "city", "country": "country", "river": "river",
             "org": "organization", "work": "work", "event": "event"}


@dataclass(frozen=True)
class Relation:
    """One relation between a subject entity and an object (entity or value)."""

    name: str
    subject: str  # entity kind
    object: str  # entity kind or value kind
    functional: bool  # at most one object per subject, by construction of the world
    questions: tuple[str, ...] = ()  # asking for the single object
    phrase: str | None = None  # noun phrase naming the object, for nesting in chains
    set_questions: tuple[str, ...] = ()  # asking for all objects
    count_question: str | None = None
    clause: str | None = None  # describes an object: "took part in {s}" (s = subject)
    inverse: str | None = None
    moment: str | None = None  # year relations: "the founding of {s}"
    when: str | None = None  # year relations: "{s} was founded"
    forward: bool = True  # False: derived by reading forward facts backwards
    # Other wordings, drawn only when a generator asks for varied phrasing
    # (`QuestionConfig.phrasing`): the canonical ones above keep a seed's plain questions.
    phrases: tuple[str, ...] = ()  # other noun phrases: possessive, relative clause
    asks: tuple[str, ...] = ()  # other single-object questions

    @property
    def entity_valued(self) -> bool:
        return self.object in ENTITY_KINDS


def _r(name, subject, obj, functional, **kw) -> Relation:
    return Relation(name, subject, obj, functional, **kw)


_FORWARD = [
    _r("born_year", "person", "year", True,
       questions=("In what year was {s} born?", "When was {s} born?"),
       moment="the birth of {s}", when="{s} was born",
       asks=("What year was {s} born in?", "What is the birth year of {s}?")),
    _r("birthplace", "person", "city", True, inverse="born_here",
       questions=("In which city was {s} born?", "Where was {s} born?"),
       phrase="the city where {s} was born",
       phrases=("the birthplace of {s}", "{sp} birthplace", "the city {s} comes from"),
       asks=("What city was {s} born in?", "What is the birthplace of {s}?")),
    _r("occupation", "person", "text", True,
       questions=("What is the occupation of {s}?", "What does {s} do for a living?"),
       asks=("What does {s} work as?", "What job does {s} have?")),
    _r("mother", "person", "person", True, inverse="child",
       questions=("Who is the mother of {s}?",), phrase="the mother of {s}",
       phrases=("{sp} mother", "the person who is the mother of {s}"),
       asks=("Name the mother of {s}.",)),
    _r("father", "person", "person", True, inverse="child",
       questions=("Who is the father of {s}?",), phrase="the father of {s}",
       phrases=("{sp} father", "the person who is the father of {s}"),
       asks=("Name the father of {s}.",)),
    _r("spouse", "person", "person", True, inverse="spouse",
       questions=("Who is {s} married to?", "Who is the spouse of {s}?"),
       phrase="the {og} of {s}",
       phrases=("{sp} {og}", "the person {s} is married to", "the spouse of {s}"),
       asks=("Whom did {s} marry?", "Name the spouse of {s}.")),
    _r("sibling", "person", "person", False, inverse="sibling",
       set_questions=("Who are the siblings of {s}?",),
       count_question="How many siblings does {s} have?", clause="is a sibling of {s}"),
    _r("mentor", "person", "person", True, inverse="mentee",
       questions=("Who mentored {s}?", "Who was the mentor of {s}?"),
       phrase="the mentor of {s}",
       phrases=("{sp} mentor", "the person who mentored {s}", "the one {s} trained under"),
       asks=("Who trained {s}?", "Name the mentor of {s}.")),
    _r("friend", "person", "person", False, inverse="friend",
       set_questions=("Who are the friends of {s}?",),
       count_question="How many friends does {s} have?", clause="is a friend of {s}"),
    _r("employer", "person", "org", True, inverse="employee",
       questions=("Which organization does {s} work for?", "Who employs {s}?"),
       phrase="the {k} that employs {s}",
       phrases=("{sp} employer", "the {k} {s} works for", "the employer of {s}"),
       asks=("Where does {s} work?", "Which {k} employs {s}?")),
    _r("country", "city", "country", True, inverse="city_in",
       questions=("In which country is {s}?", "Which country is {s} in?"),
       phrase="the country where {s} lies",
       phrases=("the country {s} is in", "the country that {s} belongs to"),
       asks=("What country is {s} located in?", "Name the country of {s}.")),
    _r("river", "city", "river", True, inverse="city_on",
       questions=("Which river flows through {s}?",),
       phrase="the river that flows through {s}",
       phrases=("the river {s} lies on", "the river running through {s}", "{sp} river"),
       asks=("What river runs through {s}?", "Name the river that flows through {s}.")),
    _r("population", "city", "number", True,
       questions=("What is the population of {s}?", "How many people live in {s}?"),
       asks=("How many residents does {s} have?", "How many inhabitants does {s} have?")),
    _r("capital", "country", "city", True, inverse="capital_of",
       questions=("What is the capital of {s}?",), phrase="the capital of {s}",
       phrases=("{sp} capital", "the capital city of {s}", "the city that serves as the capital of {s}"),
       asks=("Which city is the capital of {s}?", "Name the capital of {s}.")),
    _r("length_km", "river", "number", True,
       questions=("What is the length in kilometres of {s}?",),
       asks=("How long is {s}, in kilometres?", "How many kilometres long is {s}?")),
    _r("founder", "org", "person", True, inverse="founded",
       questions=("Who founded {s}?",), phrase="the founder of {s}",
       phrases=("{sp} founder", "the person who founded {s}", "the one who started {s}"),
       asks=("Who started {s}?", "Who is the founder of {s}?")),
    _r("founded_year", "org", "year", True,
       questions=("In what year was {s} founded?", "When was {s} founded?"),
       moment="the founding of {s}", when="{s} was founded",
       asks=("What year was {s} founded in?", "In which year was {s} established?")),
    _r("based_in", "org", "city", True, inverse="org_in",
       questions=("In which city is {s} based?", "Where is {s} headquartered?"),
       phrase="the city where {s} is based",
       phrases=("the city {s} is based in", "the home city of {s}",
                "the city where {s} has its headquarters"),
       asks=("Where is {s} based?", "What city is {s} based in?")),
    _r("acquired_by", "org", "org", True, inverse="acquired",
       questions=("Which organization acquired {s}?",), phrase="the {k} that acquired {s}",
       phrases=("the {k} that bought {s}", "the buyer of {s}", "the {k} {s} was acquired by"),
       asks=("Who bought {s}?", "Which {k} bought {s}?")),
    _r("acquired_year", "org", "year", True,
       questions=("In what year was {s} acquired?",),
       moment="the acquisition of {s}", when="{s} was acquired",
       asks=("When was {s} acquired?", "What year was {s} bought?")),
    _r("creator", "work", "person", True, inverse="created",
       questions=("Who {sv} {s}?",), phrase="the {cn} of {s}",
       phrases=("{sp} {cn}", "the person who {sv} {s}", "the {cn} behind {s}"),
       asks=("Who made {s}?", "Who is the {cn} of {s}?")),
    _r("work_year", "work", "year", True,
       questions=("In what year was {s} {rv}?",),
       moment="the {rn} of {s}", when="{s} was {rv}",
       asks=("When was {s} {rv}?", "What year did {s} come out?")),
    _r("genre", "work", "text", True,
       questions=("What genre is {s}?", "To which genre does {s} belong?"),
       asks=("Which genre is {s}?", "What is the genre of {s}?")),
    _r("event_year", "event", "year", True,
       questions=("In what year did {s} take place?", "When was {s} held?"),
       moment="{s}", when="{s} took place",
       asks=("What year was {s} held?", "When did {s} happen?")),
    _r("event_place", "event", "city", True, inverse="event_in",
       questions=("In which city did {s} take place?", "Where was {s} held?"),
       phrase="the city where {s} took place",
       phrases=("the city that hosted {s}", "the host city of {s}", "the city {s} was held in"),
       asks=("What city hosted {s}?", "Where did {s} happen?")),
    _r("participant", "event", "person", False, inverse="took_part_in",
       set_questions=("Who took part in {s}?",),
       count_question="How many people took part in {s}?", clause="took part in {s}"),
]

_INVERSE = [
    _r("born_here", "city", "person", False, forward=False,
       set_questions=("Who was born in {s}?",),
       count_question="How many people were born in {s}?", clause="was born in {s}"),
    _r("child", "person", "person", False, forward=False,
       questions=("Who is the only child of {s}?",), phrase="the only child of {s}",
       set_questions=("Who are the children of {s}?",),
       count_question="How many children does {s} have?", clause="is a child of {s}",
       phrases=("{sp} only child", "the only son or daughter of {s}"),
       asks=("Name the only child of {s}.",)),
    _r("mentee", "person", "person", False, forward=False,
       questions=("Who was the only protégé of {s}?",), phrase="the only protégé of {s}",
       set_questions=("Whom did {s} mentor?",),
       count_question="How many people did {s} mentor?", clause="was mentored by {s}",
       phrases=("{sp} only protégé", "the only person {s} mentored"),
       asks=("Who is the only person {s} mentored?",)),
    _r("employee", "org", "person", False, forward=False,
       set_questions=("Who works for {s}?",),
       count_question="How many people work for {s}?", clause="works for {s}"),
    _r("city_in", "country", "city", False, forward=False,
       set_questions=("Which cities are in {s}?",),
       count_question="How many cities are in {s}?", clause="lies in {s}"),
    _r("city_on", "river", "city", False, forward=False,
       set_questions=("Which cities lie on {s}?",),
       count_question="How many cities lie on {s}?", clause="lies on {s}"),
    _r("capital_of", "city", "country", True, forward=False,
       questions=("Of which country is {s} the capital?",),
       phrase="the country whose capital is {s}",
       phrases=("the country that has {s} as its capital", "the country governed from {s}"),
       asks=("Which country has {s} as its capital?",)),
    _r("founded", "person", "org", False, forward=False,
       questions=("Which {k} did {s} found?",), phrase="the {k} founded by {s}",
       set_questions=("Which organizations did {s} found?",),
       count_question="How many organizations did {s} found?", clause="was founded by {s}",
       phrases=("the {k} that {s} founded", "the {k} {s} started"),
       asks=("What {k} did {s} start?",)),
    _r("org_in", "city", "org", False, forward=False,
       set_questions=("Which organizations are based in {s}?",),
       count_question="How many organizations are based in {s}?", clause="is based in {s}"),
    _r("acquired", "org", "org", False, forward=False,
       set_questions=("Which organizations did {s} acquire?",),
       count_question="How many organizations did {s} acquire?", clause="was acquired by {s}"),
    _r("created", "person", "work", False, forward=False,
       questions=("Which {k} did {s} create?",), phrase="the {k} created by {s}",
       set_questions=("Which works did {s} create?",),
       count_question="How many works did {s} create?", clause="was created by {s}",
       phrases=("the {k} that {s} made", "the {k} made by {s}"),
       asks=("What {k} did {s} make?",)),
    _r("event_in", "city", "event", False, forward=False,
       set_questions=("Which events took place in {s}?",),
       count_question="How many events took place in {s}?", clause="took place in {s}"),
    _r("took_part_in", "person", "event", False, forward=False,
       set_questions=("Which events did {s} take part in?",),
       count_question="In how many events did {s} take part?",
       clause="had {s} among its participants"),
]

RELATIONS: dict[str, Relation] = {r.name: r for r in _FORWARD + _INVERSE}
FORWARD: tuple[str, ...] = tuple(r.name for r in _FORWARD)
SYMMETRIC = frozenset({"spouse", "sibling", "friend"})

# For each relation, the relations that read the same facts the other way round: the
# backward walk ("who is described by a hop onto t?") and intersections use it.
OPPOSITE: dict[str, tuple[str, ...]] = {}
for _f in _FORWARD:
    if _f.inverse:
        OPPOSITE.setdefault(_f.name, ())
        OPPOSITE[_f.name] = tuple(sorted(set(OPPOSITE[_f.name]) | {_f.inverse}))
        OPPOSITE[_f.inverse] = tuple(sorted(set(OPPOSITE.get(_f.inverse, ())) | {_f.name}))


def outgoing(kind: str) -> list[Relation]:
    """Relations whose subject is an entity of `kind`, in table order."""
    return [r for r in RELATIONS.values() if r.subject == kind]


# Comparable attributes: (relation, mode) -> wording. "min" picks the smallest value.
# Tuple: comparative, superlative, 2-item question, 3-item question, value label.
COMPARE: dict[tuple[str, str], tuple[str, str, str, str, str]] = {
    ("born_year", "min"): ("elder", "eldest", "Who was born earlier, {a} or {b}?",
                           "Of {items}, who was born first?", "born in"),
    ("born_year", "max"): ("younger", "youngest", "Who was born later, {a} or {b}?",
                           "Of {items}, who was born last?", "born in"),
    ("founded_year", "min"): ("older", "oldest", "Which was founded earlier, {a} or {b}?",
                              "Of {items}, which was founded first?", "founded in"),
    ("founded_year", "max"): ("newer", "newest", "Which was founded later, {a} or {b}?",
                              "Of {items}, which was founded last?", "founded in"),
    ("work_year", "min"): ("earlier", "earliest", "Which came out earlier, {a} or {b}?",
                           "Of {items}, which came out first?", "from"),
    ("work_year", "max"): ("later", "latest", "Which came out later, {a} or {b}?",
                           "Of {items}, which came out last?", "from"),
    ("event_year", "min"): ("earlier", "earliest", "Which took place earlier, {a} or {b}?",
                            "Of {items}, which took place first?", "held in"),
    ("event_year", "max"): ("later", "latest", "Which took place later, {a} or {b}?",
                            "Of {items}, which took place last?", "held in"),
    ("population", "max"): ("larger", "largest", "Which city has more inhabitants, {a} or {b}?",
                            "Of {items}, which city has the most inhabitants?", "population"),
    ("population", "min"): ("smaller", "smallest", "Which city has fewer inhabitants, {a} or {b}?",
                            "Of {items}, which city has the fewest inhabitants?", "population"),
    ("length_km", "max"): ("longer", "longest", "Which river is longer, {a} or {b}?",
                           "Of {items}, which river is the longest?", "length"),
    ("length_km", "min"): ("shorter", "shortest", "Which river is shorter, {a} or {b}?",
                           "Of {items}, which river is the shortest?", "length"),
}
YEAR_RELATIONS = ("born_year", "founded_year", "acquired_year", "work_year", "event_year")
