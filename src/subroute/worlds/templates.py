"""Sentence templates: how one fact (or one list of facts) is said.

Why several variants per relation and a first-person set: the fictional Q&A paper
(seeds/000) separates verbatim memorization from knowing a fact by telling each fact in
several documents; here each fact gets a different sentence in each document, so a
verbatim string and a fact are different things.

Keys: a relation name when the document's entity is the fact's subject; ``~relation`` when
it is the object ("She founded Brevik Mills" in the founder's page). List keys (siblings,
children, participants...) always state the whole list, never part of it, so no document
implies a wrong count. Every template contains the other side verbatim ({o}, {on}, {olist}),
which is what the "gold answer is stated in its documents" check relies on.
"""

from __future__ import annotations

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")

# (singular forms, plural forms); singular is used when the list has one item.
LIST_KEYS = {"sibling", "friend", "participant", "~mother", "~father", "~acquired_by",
             "~country", "~river"}

THIRD: dict[str, tuple[tuple[str, ...], tuple[str, ...]] | tuple[str, ...]] = {
    "born_year": ("{S} was born in {o}.", "Records show that {s} was born in {o}.",
                  "{S} came into the world in {o}."),
    "birthplace": ("{S} was born in the city of {o}.", "{S} is a native of {o}.",
                   "{Sp} birthplace is {o}."),
    "occupation": ("{S} works as {ao}.", "By profession, {s} is {ao}.", "{S} is {ao} by trade."),
    "mother": ("{Sp} mother is {o}.", "{O} is the mother of {s}."),
    "father": ("{Sp} father is {o}.", "{O} is the father of {s}."),
    "spouse": ("{S} is married to {o}.", "{S} and {o} are married.", "{Sp} spouse is {o}."),
    "sibling": (("{Sp} only sibling is {olist}.", "{S} grew up with one sibling, {olist}."),
                ("{Sp} siblings are {olist}.", "{S} grew up with {sp} siblings {olist}.")),
    "mentor": ("{S} was mentored by {o}.", "{Sp} mentor was {o}.", "{S} trained under {o}."),
    "friend": (("{S} is close friends with {olist}.", "{S} counts {olist} as a friend."),
               ("{S} is close friends with {olist}.", "{S} counts {olist} as friends.")),
    "employer": ("{S} works for {o}.", "{S} is employed by {o}.", "{S} has a job at {o}."),
    "country": ("{S} is a city in {o}.", "{S} lies in {o}.", "{S} is located in {o}."),
    "river": ("{O} flows through {s}.", "{S} sits on the banks of {o}.", "{S} lies on {o}."),
    "population": ("{S} has a population of {on}.", "About {on} people live in {s}.",
                   "{S} is home to {on} residents."),
    "capital": ("The capital of {s} is {o}.", "{Sp} capital is {o}.",
                "{S} is governed from {o}, its capital."),
    "length_km": ("{S} is {o} kilometres long.", "{S} runs for {o} kilometres."),
    "founder": ("{S} was founded by {o}.", "{O} founded {s}.", "{S} was started by {o}."),
    "founded_year": ("{S} was founded in {o}.", "{S} was established in {o}.",
                     "{S} has existed since {o}, the year it was founded."),
    "based_in": ("{S} is based in {o}.", "{S} has its headquarters in {o}.",
                 "{Sp} home base is {o}."),
    "acquired_by": ("{S} was acquired by {o}.", "{O} bought {s}.",
                    "{S} became part of {o} through an acquisition."),
    "acquired_year": ("{S} was acquired in {o}.", "The acquisition of {s} was completed in {o}."),
    "creator": ("{S} was {spp} by {o}.", "{O} {sv} {s}.", "{S} is the work of {o}."),
    "work_year": ("{S} was {rv} in {o}.", "{S} first appeared in {o}."),
    "genre": ("{S} is {ao} {sk}.", "{S} belongs to the {o} genre."),
    "event_year": ("{S} took place in {o}.", "{S} was held in the year {o}."),
    "event_place": ("{S} was held in {o}.", "{S} was hosted by the city of {o}.",
                    "The city of {o} hosted {s}."),
    "participant": (("The only participant of {s} was {olist}.",),
                    ("Participants of {s} included {olist}, and no one else.",
                     "{olist} took part in {s}.", "The participants of {s} were {olist}.")),
    "~founder": ("{S} founded {o}.", "{S} is the founder of {o}."),
    "~creator": ("{S} {ov} {o}.", "{S} is the {ocn} of {o}."),
    "~participant": ("{S} took part in {o}.", "{S} was among the participants of {o}."),
    "~mother": (("{Sp} only child is {olist}.",), ("{Sp} children are {olist}.",
                                                    "{S} is the mother of {olist}.")),
    "~father": (("{Sp} only child is {olist}.",), ("{Sp} children are {olist}.",
                                                    "{S} is the father of {olist}.")),
    "~acquired_by": (("{S} acquired {olist}.",), ("{S} acquired {olist}.",
                                                   "Over the years {s} bought {olist}.")),
    "~capital": ("{S} is the capital of {o}.", "{S} serves as the capital of {o}."),
    "~country": (("The only city of {s} is {olist}.",), ("The cities of {s} are {olist}.",
                                                          "{S} consists of the cities {olist}.")),
    "~river": (("The only city on {s} is {olist}.",), ("The cities on {s} are {olist}.",
                                                        "{olist} all lie on {s}.")),
}

# Interview answers by a person about themself: (interviewer's question, answers).
FIRST: dict[str, tuple[str, tuple[str, ...] | tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "born_year": ("When were you born?", ("I was born in {o}.", "{o}, that is the year I was born.")),
    "birthplace": ("Where are you from?", ("I was born in {o}.", "I'm from {o}, born and raised.")),
    "occupation": ("What do you do?", ("I work as {ao}.", "I'm {ao}.")),
    "mother": ("Tell us about your mother.", ("My mother is {o}.",)),
    "father": ("And your father?", ("My father is {o}.",)),
    "spouse": ("Are you married?", ("Yes, I'm married to {o}.",)),
    "sibling": ("Do you have siblings?", (("One: my sibling is {olist}.",),
                                          ("Yes, my siblings are {olist}.",))),
    "mentor": ("Who shaped you early on?", ("{O} was my mentor.", "I was mentored by {o}.")),
    "friend": ("Who are your closest friends?", (("I'm close friends with {olist}.",),
                                                 ("I'm close friends with {olist}.",))),
    "employer": ("Where do you work these days?", ("I work for {o}.", "I'm employed by {o}.")),
    "~founder": ("You also started an organization, right?", ("Yes, I founded {o}.",)),
    "~creator": ("Which of your works should people know?", ("I {ov} {o}.",)),
    "~participant": ("Any memorable events?", ("I took part in {o}.",)),
    "~mother": ("Do you have children?", (("Yes, my only child is {olist}.",),
                                          ("Yes, my children are {olist}.",))),
    "~father": ("Do you have children?", (("Yes, my only child is {olist}.",),
                                          ("Yes, my children are {olist}.",))),
}

PARTICIPLE = {"wrote": "written", "directed": "directed", "recorded": "recorded",
              "painted": "painted"}


def variants(table: dict, key: str, n_items: int) -> tuple[str, ...]:
    """The templates for `key`; list keys pick the singular or plural forms."""
    entry = table[key]
    if key in LIST_KEYS:
        return entry[0] if n_items == 1 else entry[1]
    return entry


def join_names(names: list[str]) -> str:
    """'A', 'A and B', 'A, B and C' (the form the set-answer parser reads back)."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def article(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def cap(text: str) -> str:
    return text[:1].upper() + text[1:]
