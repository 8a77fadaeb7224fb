"""Admission control and body limits: what keeps the server up under load.

Every chat request runs its synchronous model calls in a worker thread. At most
`max_concurrency` run at once (an anyio CapacityLimiter, so the thread pool never grows
past it) and at most `max_queue` more wait for a slot; a request beyond that is refused at
once with 429 and a `Retry-After` estimated from recent latencies, rather than piling up
memory and latency. Requests to one local model still serialise on that model's lock (a
llama.cpp context is not thread-safe), so concurrency pays off across models and across
served backends.

Bodies are read in chunks and refused with 413 as soon as they pass `max_body_bytes`, a
declared Content-Length over the limit before a byte is read.
"""

from __future__ import annotations

import math
import time
from typing import Callable, TypeVar

import anyio
from starlette.requests import Request

T = TypeVar("T")


class Overloaded(Exception):
    """The queue is full; `retry_after` seconds is the hint for the client."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"server busy: queue full; retry after {retry_after}s")


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body is larger than the server's limit of {limit} bytes")


class Admission:
    """A bounded queue in front of a bounded pool of worker threads."""

    def __init__(self, max_concurrency: int, max_queue: int) -> None:
        if max_concurrency < 1 or max_queue < 0:
            raise ValueError("max_concurrency must be >= 1 and max_queue >= 0")
        self.max_concurrency = max_concurrency
        self.max_queue = max_queue
        self.pending = 0  # running + waiting; only touched on the event loop thread
        self._limiter: anyio.CapacityLimiter | None = None
        self._latency_s = 1.0  # moving average of a request's run time, for Retry-After

    @property
    def running(self) -> int:
        return min(self.pending, self.max_concurrency)

    @property
    def waiting(self) -> int:
        return max(0, self.pending - self.max_concurrency)

    def retry_after(self) -> int:
        # the queue ahead drains max_concurrency requests per average latency
        return max(1, min(60, math.ceil(self._latency_s * (self.waiting + 1) / self.max_concurrency)))

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if self.pending >= self.max_concurrency + self.max_queue:
            raise Overloaded(self.retry_after())
        if self._limiter is None:  # created on the server's own event loop
            self._limiter = anyio.CapacityLimiter(self.max_concurrency)

        def timed() -> T:
            t0 = time.perf_counter()
            try:
                return fn(*args)
            finally:
                self._latency_s = 0.8 * self._latency_s + 0.2 * (time.perf_counter() - t0)

        self.pending += 1
        try:
            # the limiter is acquired on the loop: waiting requests hold no thread
            return await anyio.to_thread.run_sync(timed, limiter=self._limiter)
        finally:
            self.pending -= 1


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            raise BodyTooLarge(limit)
    return bytes(buf)
