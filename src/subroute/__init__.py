"""subroute: split a question into subtasks and route each to the cheapest capable model.

The public API is listed in ``__all__``; everything else is private. Importing subroute is
cheap: llama.cpp, torch and friends are imported only where a model or trainer needs them.
"""

from subroute.errors import BackendError, ConfigError, ModelNotAvailable, SubrouteError
from subroute.models.base import Completion, Message, TokenLogprob, Usage
from subroute.pool import ModelSpec, Pool, PoolModel

__all__ = [
    "BackendError",
    "Completion",
    "ConfigError",
    "Message",
    "ModelNotAvailable",
    "ModelSpec",
    "Pool",
    "PoolModel",
    "SubrouteError",
    "TokenLogprob",
    "Usage",
]
__version__ = "0.1.0"
