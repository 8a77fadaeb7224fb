"""A disk cache of model calls, so re-running a benchmark costs nothing.

Keyed by the model's identity (its pool spec: backend, file or endpoint, context length),
the exact messages and the decoding parameters. Only deterministic calls are cached
(temperature 0), since a sampled call is *meant* to differ. A cached completion keeps its
recorded tokens and latency and is re-priced with the pool's current prices; it is marked
``cached=True`` so reports can tell. SQLite (stdlib) holds it: one file, safe across
threads behind a lock, and across processes through SQLite's own locking.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from subroute import paths
from subroute.models.base import Completion, GenerateParams, Message

# Part of every key: bumped when a change in this project changes what a call returns for
# the same model and prompt, so that calls cached before it are never served after it.
# 2: llama.cpp evaluates a prompt's last token alone (models/llamacpp.py, commit 1e4c352);
# calls cached before gave slightly different log-probabilities and, at times, answers.
SCHEMA_VERSION = 2


class CallCache:
    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else paths.cache_dir() / "calls.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._db.execute("CREATE TABLE IF NOT EXISTS calls (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.commit()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(model_identity: dict[str, Any], messages: list[Message], params: GenerateParams) -> str:
        blob = json.dumps([SCHEMA_VERSION, model_identity, messages, params.__dict__], sort_keys=True, default=list)
        return hashlib.sha256(blob.encode()).hexdigest()

    def get(self, key: str) -> Completion | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM calls WHERE key = ?", (key,)).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        c = Completion.from_dict(json.loads(row[0]))
        c.cached = True
        return c

    def put(self, key: str, c: Completion) -> None:
        d = c.to_dict()
        d.pop("confidence", None)
        d["usage"].pop("total_tokens", None)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO calls (key, value) VALUES (?, ?)", (key, json.dumps(d)))
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()
