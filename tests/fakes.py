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
