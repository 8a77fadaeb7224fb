"""Model names and what answers them.

`subroute` is the default router (`Reasoner.default` at the server's threshold);
`subroute:<t>` the same router at threshold t in [0, 1]; `subroute:cascade` or
`subroute:cascade@<t>` the prompted decomposer with a FrugalGPT-style cascade; every pool
model's own name passes the chat through to that model alone. Each target runs
synchronously (the server calls it in a worker thread) and returns a `Trace`, so routed and
pass-through answers are charged, counted and looked up the same way.

Metrics are labelled by model name, and a client can invent any number of thresholds, so
`label` folds the ones not listed by /v1/models into `subroute:custom`: label cardinality
stays bounded whatever clients send.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from subroute.allocate import CascadeAllocator
from subroute.errors import ConfigError
from subroute.pool import Pool, PoolModel
from subroute.reasoner import Reasoner
from subroute.serve.chat import as_messages, question_and_context
from subroute.serve.schemas import ChatRequest
from subroute.trace import CallRecord, StepRecord, Trace

ROUTER = "subroute"
CASCADE_THRESHOLD = 0.7
ROUTER_MAX_TOKENS = 64  # per step, when the request gives no max_tokens


@dataclass
class Answer:
    trace: Trace
    finish_reason: str = "stop"  # "length" when a pass-through hit max_tokens


class Target(Protocol):
    name: str  # the model id as requested, normalised
    label: str  # its metrics label (bounded set)
    kind: str  # "router" or "model"

    def run(self, req: ChatRequest) -> Answer:
        """Answer the chat; raises SubrouteError (BackendError names the failing model)."""
        ...


@dataclass
class RouterTarget:
    pool: Pool
    name: str
    label: str
    threshold: float
    cascade: bool = False
    kind: str = "router"

    def reasoner(self) -> Reasoner:
        # built per request: cheap (no model is loaded here) and keeps requests independent
        r = Reasoner.default(self.pool, threshold=self.threshold)
        if self.cascade:  # the same decomposer, a cascade for the steps
            return Reasoner(self.pool, r.decomposer, CascadeAllocator(self.threshold), name=self.name)
        r.name = self.name
        return r

    def run(self, req: ChatRequest) -> Answer:
        question, context = question_and_context(req.messages)
        r = self.reasoner()
        r.max_tokens = req.token_limit or ROUTER_MAX_TOKENS
        return Answer(r.answer(question, context, raise_errors=True))


@dataclass
class PassThroughTarget:
    pool: Pool
    model: PoolModel
    kind: str = "model"

    @property
    def name(self) -> str:
        return self.model.name

    @property
    def label(self) -> str:
        return self.model.name

    def run(self, req: ChatRequest) -> Answer:
        messages, question = as_messages(req.messages)
        c = self.model.generate(
            messages, max_tokens=req.token_limit or 256, temperature=req.temperature or 0.0,
            stop=req.stops, seed=req.seed or 0,
        )
        call = CallRecord.of("step", c, self.pool)
        step = StepRecord(1, question, question, (), None, c.model, self.model.tier, c.text, c.confidence(),
                          0, 0, [call])
        t = Trace(uuid.uuid4().hex[:16], question, c.text, f"direct:{c.model}", steps=[step], wall_s=c.latency_s)
        return Answer(t, c.finish_reason)


class UnknownModel(LookupError):
    """A model name the server does not serve: a 404 that lists the known names."""


class Targets:
    """Resolves request model names; built once per app."""

    def __init__(self, pool: Pool, threshold: float) -> None:
        for n in pool.names:
            if n == ROUTER or n.startswith(ROUTER + ":"):
                raise ConfigError(f"pool model name '{n}' is reserved for the server's routers; rename it in the pool file")
        self.pool = pool
        self.threshold = threshold
        self._fixed: dict[str, Target] = {
            ROUTER: RouterTarget(pool, ROUTER, ROUTER, threshold),
            f"{ROUTER}:cascade": RouterTarget(pool, f"{ROUTER}:cascade", f"{ROUTER}:cascade", CASCADE_THRESHOLD, True),
        }
        for m in pool.models:
            self._fixed[m.name] = PassThroughTarget(pool, m)

    @property
    def names(self) -> list[str]:
        return list(self._fixed)

    def resolve(self, name: str) -> Target:
        if name in self._fixed:
            return self._fixed[name]
        if name.startswith(ROUTER + ":"):
            spec = name[len(ROUTER) + 1:]
            cascade = spec.startswith("cascade@")
            t = _threshold(spec[len("cascade@"):] if cascade else spec)
            if t is not None:
                norm = f"{ROUTER}:{'cascade@' if cascade else ''}{t:g}"
                return RouterTarget(self.pool, norm, f"{ROUTER}:custom", t, cascade)
        raise UnknownModel(
            f"unknown model '{name[:100]}'; this server serves: {', '.join(self.names)}, "
            f"and {ROUTER}:<threshold> or {ROUTER}:cascade@<threshold> with a threshold in [0, 1]"
        )


def _threshold(s: str) -> float | None:
    try:
        t = float(s)
    except ValueError:
        return None
    return t if 0.0 <= t <= 1.0 else None
