"""A scripted model for unit tests of routing logic (never used by the product).

`ScriptedModel(rules)` answers the first rule whose key occurs in the last user message,
with every generated token at probability `prob`; it records what it was asked.
"""

from __future__ import annotations

import math
import uuid

from subroute import pool as pool_module
from subroute.errors import BackendError
from subroute.models.base import Completion, GenerateParams, Message, TokenLogprob, Usage
from subroute.pool import Pool


class ScriptedModel:
    def __init__(self, name: str, rules: dict[str, tuple[str, float]], default: tuple[str, float] = ("", 1.0),
                 fail: bool = False) -> None:
        self.name = name
        self.rules = rules
        self.default = default
        self.fail = fail
        self.prompts: list[list[Message]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, messages: list[Message], params: GenerateParams) -> Completion:
        self.prompts.append(messages)
        if self.fail:
            raise BackendError(self.name, "cannot reach http://127.0.0.1:9/v1; is the server running?")
        last = messages[-1]["content"]
        text, prob = next((v for k, v in self.rules.items() if k in last), self.default)
        toks = [TokenLogprob(w, math.log(prob)) for w in text.split()] if params.logprobs else None
        n_in = sum(len(m["content"].split()) for m in messages)
        return Completion(self.name, text, Usage(n_in, len(text.split())), tokens=toks)


def make_pool(models: dict[str, tuple[str, float, ScriptedModel]], tag: str | None = None,
              probe: str | None = None) -> Pool:
    """models: name -> (tier, price per million tokens, scripted backend); `tag` names the
    fake endpoint (a fresh one by default, so pools do not share backends)."""
    tag = tag or uuid.uuid4().hex
    specs = [
        {"name": n, "backend": "openai", "base_url": f"http://fake-{tag}/v1", "model": n, "tier": tier,
         "price_in": price, "price_out": price}
        for n, (tier, price, _) in models.items()
    ]
    settings: dict = {"tiers": ["small", "medium", "large"]}
    if probe:
        settings["probe"] = probe
    pool = Pool.from_dict({"pool": settings, "models": specs})
    for n, (_, _, fake) in models.items():
        pool_module._BACKENDS[pool[n]._key()] = fake
    return pool


# a three-step chain for tests of the pipeline and the executor
VOSS_CONTEXT = """Voss Glassworks was founded by Mirela Voss in 1958.

Mirela Voss was born in Tarnholm.

Tarnholm lies in the country of Velmark.

Orvane Foods sells bread in Kessel."""


# the same facts among documents about other things: more than one step's passage budget
# (100 tokens), so a router with a gate splits the question instead of reading it whole
DISTRACTORS = "\n\n".join([
    "Kessel is a market town on the Amber coast, known for its salt flats, its harbour and a fish market "
    "that opens before dawn every day of the year except the winter festival.",
    "The Orvane Foods bakery in Kessel was opened in 1987 and employs forty people who bake rye bread, "
    "oat cakes and the honey buns the town is known for across the region.",
    "Amber coast ferries leave Kessel harbour twice a day for the islands, weather permitting, and the "
    "crossing takes a little under two hours in calm seas.",
])
VOSS_DOCUMENTS = VOSS_CONTEXT + "\n\n" + DISTRACTORS


def voss_chain(decomp_text="1. Who founded Voss Glassworks?\n2. Where was #1 born?\n3. In which country is #2?"):
    """A three-step chain over VOSS_CONTEXT: small answers the first two steps surely and the
    third unsurely, d decomposes, l answers the rest. Returns (pool, small, large, dec)."""
    small = ScriptedModel("s", {"Who founded": ("Mirela Voss", 0.95), "Where was Mirela Voss born": ("Tarnholm", 0.95),
                                "In which country is Tarnholm": ("Velmark", 0.2)})
    large = ScriptedModel("l", {"Break the question": (decomp_text, 1.0)}, default=("Velmark", 0.99))
    large.rules = {}
    large.default = ("Velmark", 0.99)
    dec = ScriptedModel("d", {}, default=(decomp_text, 1.0))
    pool = make_pool({"s": ("small", 0.1, small), "d": ("medium", 1.0, dec), "l": ("large", 10.0, large)})
    return pool, small, large, dec
