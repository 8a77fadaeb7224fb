"""The official openai client for a server of tests/servers.py, and a fixture that runs one."""

from __future__ import annotations

import contextlib

import openai
import pytest

from tests.servers import running


def client(base_url: str, *, key: str = "unused", retries: int = 0, timeout: float = 60) -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=key, max_retries=retries, timeout=timeout)


@pytest.fixture
def serve():
    """serve(app) -> base URL; the server stops at the end of the test."""
    with contextlib.ExitStack() as stack:
        yield lambda app: stack.enter_context(running(app))
