"""Shared fixtures. Real-model tests are marked `slow` and still run in CI: the default
pool is pulled by .ci/run before the tests, and a test that finds a model missing fails
with the command that fetches it rather than skipping silently."""

from __future__ import annotations

import pytest

import subroute.train  # noqa: F401  (loads llama.cpp before any test loads torch: one libgomp for both)
from subroute import Pool


@pytest.fixture(autouse=True)
def _bm25_only_in_fast_tests(request, monkeypatch):
    """Fast tests (fakes, no real models) retrieve by names and BM25 alone; the real
    embedder's tie-break is a real model, so only `slow` tests load it."""
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setattr("subroute.retrieve.default_embed", lambda: None)


@pytest.fixture(scope="session")
def default_pool() -> Pool:
    pool = Pool.load()
    from subroute.models import catalog

    missing = [m.name for m in pool if catalog.get(m.spec.catalog).status() == "missing"]
    if missing:
        pytest.fail(f"default models missing: {missing}; run: subroute models pull")
    return pool


CONTEXT = (
    "Mirela Voss was born in Tarnholm in 1931. She became a glassblower and in 1958 founded "
    "Voss Glassworks, a company based in Quellin. The river Ambrel flows through Quellin."
)
