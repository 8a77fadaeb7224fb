"""A real uvicorn server on 127.0.0.1 in a thread, and the official openai client for it."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Iterator

import openai
import pytest
import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(app) -> Iterator[str]:
    """Serve `app` on a free 127.0.0.1 port; yields the base URL (…/v1)."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off", timeout_graceful_shutdown=5))
    th = threading.Thread(target=server.run, daemon=True)
    th.start()
    deadline = time.time() + 20
    while not server.started:
        if time.time() > deadline or not th.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        th.join(timeout=15)


def client(base_url: str, *, key: str = "unused", retries: int = 0, timeout: float = 60) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=retries, timeout=timeout)


@pytest.fixture
def serve():
    """serve(app) -> base URL; the server stops at the end of the test."""
    with contextlib.ExitStack() as stack:
        yield lambda app: stack.enter_context(running(app))
