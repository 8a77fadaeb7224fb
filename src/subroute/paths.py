"""Where subroute keeps its files.

Models and call caches live under the user's cache dir (``platformdirs``), or under
``$SUBROUTE_HOME`` when it is set, so CI and tests can point at a shared, persistent folder.
"""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    env = os.environ.get("SUBROUTE_HOME")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("subroute"))


def models_dir() -> Path:
    """Folder of assembled model files; ``$SUBROUTE_MODELS`` overrides it."""
    env = os.environ.get("SUBROUTE_MODELS")
    return Path(env).expanduser() if env else home() / "models"


def cache_dir() -> Path:
    return home() / "cache"
