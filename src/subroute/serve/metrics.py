"""Prometheus metrics, one registry per app.

A registry per app (not prometheus_client's global one) so tests and embedders can build
several apps in one process without "duplicated timeseries" errors. Request metrics are
labelled by the requested model's bounded label (see targets.py); token, call and cost
metrics by the *pool* model that did the work, because that is where the bill comes from:
a routed question charges several pool models.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from subroute.trace import Trace

CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.requests = Counter("subroute_requests", "Chat requests by model and HTTP status.",
                                ["model", "status"], registry=r)
        self.errors = Counter("subroute_errors", "Failed requests by model and error code.",
                              ["model", "code"], registry=r)
        self.latency = Histogram("subroute_request_latency_seconds", "Chat request latency, queueing included.",
                                 ["model"], registry=r,
                                 buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120))
        self.steps = Histogram("subroute_steps_per_question", "Subtasks per answered question.", ["model"],
                               registry=r, buckets=(1, 2, 3, 4, 5, 6, 8))
        self.calls = Counter("subroute_model_calls", "Calls to each pool model, by role.",
                             ["pool_model", "role"], registry=r)
        self.tokens = Counter("subroute_model_tokens", "Tokens through each pool model.",
                              ["pool_model", "direction"], registry=r)
        self.cost = Counter("subroute_model_cost_usd", "USD charged to each pool model.", ["pool_model"], registry=r)
        self.in_progress = Gauge("subroute_requests_in_progress", "Chat requests running or queued.", registry=r)
        self.queued = Gauge("subroute_requests_queued", "Chat requests waiting for a worker.", registry=r)

    def answered(self, label: str, trace: Trace) -> None:
        self.steps.labels(label).observe(len(trace.steps))
        for c in trace.calls:
            self.calls.labels(c.model, c.role).inc()
            self.tokens.labels(c.model, "in").inc(c.input_tokens)
            self.tokens.labels(c.model, "out").inc(c.output_tokens)
            self.cost.labels(c.model).inc(c.cost)

    def finished(self, label: str, status: int, seconds: float, code: str | None) -> None:
        self.requests.labels(label, str(status)).inc()
        self.latency.labels(label).observe(seconds)
        if code:
            self.errors.labels(label, code).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
