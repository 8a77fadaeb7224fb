"""subroute: split a question into subtasks and route each to the cheapest capable model.

    from subroute import Pool, Reasoner
    pool = Pool.load()  # the default local pool; Pool.load("pool.toml") for yours
    trace = Reasoner.default(pool).answer("Where was the founder of Elm Press born?", context)
    print(trace.answer, trace.cost)

The public API is listed in ``__all__``; everything else is private. Importing subroute is
cheap (numpy, no model): llama.cpp, torch and friends are imported only where a model or a
trainer needs them.
"""

from subroute.allocate import (
                               Allocation,
                               Allocator,
                               CascadeAllocator,
                               ConfidenceAllocator,
                               FixedAllocator,
                               RandomAllocator,
)
from subroute.decompose import (
                               Decomposer,
                               Decomposition,
                               GoldDecomposer,
                               PromptedDecomposer,
                               SingleStepDecomposer,
                               Subtask,
)
from subroute.errors import BackendError, ConfigError, ModelNotAvailable, SubrouteError
from subroute.learned import LearnedAllocator, TrainedDecomposer
from subroute.models.base import Completion, Message, TokenLogprob, Usage
from subroute.pool import ModelSpec, Pool, PoolModel
from subroute.reasoner import Reasoner
from subroute.records import Example, GoldStep
from subroute.trace import CallRecord, StepRecord, Trace
from subroute.worlds import QuestionConfig, WorldConfig, build_world, generate_questions

__all__ = [
    "Allocation", "Allocator", "BackendError", "CallRecord", "CascadeAllocator", "Completion", "ConfidenceAllocator",
    "ConfigError", "Decomposer", "Decomposition", "Example", "FixedAllocator", "GoldDecomposer", "GoldStep",
    "LearnedAllocator", "Message", "ModelNotAvailable", "ModelSpec", "Pool", "PoolModel", "PromptedDecomposer",
    "QuestionConfig", "RandomAllocator", "Reasoner", "SingleStepDecomposer", "StepRecord", "SubrouteError",
    "Subtask", "TokenLogprob", "Trace", "TrainedDecomposer", "Usage", "WorldConfig", "build_world",
    "generate_questions",
]
__version__ = "0.1.0"
