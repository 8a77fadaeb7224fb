"""Invented, pronounceable names, unique within a world.

Why syllables: names built from onset + vowel (+ coda) read like names ("Varnel",
"Teshida") yet are not in any model's pretraining as facts, so no question can be answered
from prior knowledge. A blocklist rejects syllable strings that happen to be real, famous
first names or places ("Maria", "Paris"). Each invented word is reserved for one role
(first name, surname, place stem, ...), so a city is never named like a family and the
answer string of one hop never hides inside the name of another entity.

Departure from the fictional Q&A paper (seeds/000): it asked a hosted model for names and
events; here everything comes from a seeded `random.Random`, so it needs no network and
the same seed gives the same names.
"""

from __future__ import annotations

import random

_ONSETS = ("b", "br", "d", "dr", "f", "g", "gr", "k", "kr", "l", "m", "n", "p", "r", "s",
           "st", "t", "th", "tr", "v", "z", "h", "j", "sh", "c", "ly", "w")
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "o", "ai", "ei", "ou", "ia")
_CODAS = ("", "", "", "n", "r", "l", "s", "th", "m", "nd", "rk", "st", "v", "sh")
_FEMALE_ENDS = ("a", "ia", "elle", "ine", "ra", "ette", "wen", "ys")
_MALE_ENDS = ("o", "an", "ek", "ar", "is", "ov", "en", "us")
_SURNAME_ENDS = ("", "", "wyn", "ard", "ek", "ova", "ir", "an", "eth", "oss", "ley", "ane")

# Real, famous first names, surnames and places that syllables could spell. Not complete
# (nothing can be), but it removes the names a reader would recognise at once.
BLOCKLIST = frozenset("""
ada adam alan alba alma amelia ana anna ava bach bali bern boston cara carla chad china
clara cora cuba dallas dana dante daria darwin delhi denver diana dina dora elena ella
emma erin eva ford gandhi gina goa hanna hera homer india iris java kara karen kenya kiev
kira lana lara laura lena leon lima linda lisa luna lyon mali malta mara maria marta mary
milan mina minsk mira mona moscow nadia nero nina nora oslo paris pera peru plato riga
rio rita roma rome rosa sara sofia sparta stalin tara teresa tesla tina tokyo troy vera
verdi vienna zara zeus luke mark paul john thor odin loki ra osiris isis anubis
sam tom tim jim dan ben kim lee rick vito elvis lenin marx mao tito castro bolivar
""".split())


class NameMaker:
    """Draws invented words; every word is reserved for the first role that drew it."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._role: dict[str, str] = {}

    def _syllables(self, n: int) -> str:
        r = self.rng
        parts = [r.choice(_ONSETS) + r.choice(_VOWELS) for _ in range(n)]
        return "".join(parts) + r.choice(_CODAS)

    def word(self, role: str, syllables: tuple[int, int] = (2, 3), end: str = "",
             tries: int = 200) -> str:
        """A new word for `role`, never handed to another role. Bounded retries."""
        for _ in range(tries):
            base = self._syllables(self.rng.randint(*syllables))
            if end:
                base = base.rstrip("aeiouy") + end
            w = base.capitalize()
            low = w.lower()
            if not (4 <= len(low) <= 11) or low in BLOCKLIST or low in self._role:
                continue
            if any(c * 3 in low for c in "abcdefghijklmnopqrstuvwxyz"):
                continue
            self._role[low] = role
            return w
        raise RuntimeError(f"could not draw a new {role} name in {tries} tries")

    def first_names(self, gender: str, n: int) -> list[str]:
        ends = _FEMALE_ENDS if gender == "f" else _MALE_ENDS
        return [self.word("first-" + gender, (1, 2), self.rng.choice(ends)) for _ in range(n)]

    def surname(self) -> str:
        return self.word("surname", (2, 2), self.rng.choice(_SURNAME_ENDS))

    def stem(self, role: str) -> str:
        return self.word(role, (2, 3))
