"""DecompBench: fictional worlds and multi-hop questions with gold decompositions.

One seeded symbolic world is the single source of truth; documents (six webtext styles)
and answers (computed by a resolver) are both derived from it. See docs/decompbench.md.

    from subroute.worlds import WorldConfig, build_world, QuestionConfig, generate_questions
    world = build_world(WorldConfig(seed=0, n_people=1000))
    questions = generate_questions(world, QuestionConfig(n=100, min_hops=2, max_hops=4))

Pure Python; `import subroute.worlds` loads no model and no network library.
"""

from subroute.worlds.build import build_world
from subroute.worlds.checks import check_question, infer_shape
from subroute.worlds.context import Context, TokenCounter, approx_tokens, assemble_context
from subroute.worlds.documents import STYLES, Corpus, Document
from subroute.worlds.io import read_jsonl, read_world, to_hf_dataset, write_jsonl, write_world
from subroute.worlds.kinds import KINDS, MAX_HOPS, SHAPES
from subroute.worlds.probes import Probe, make_probes
from subroute.worlds.questions import (
                                       FORMAT_VERSION,
                                       Question,
                                       QuestionConfig,
                                       Step,
                                       add_distractors,
                                       generate_questions,
)
from subroute.worlds.resolver import ResolveError, resolve
from subroute.worlds.splits import SplitSpec, split_questions
from subroute.worlds.world import Entity, Fact, World, WorldConfig

__all__ = [
    "FORMAT_VERSION", "KINDS", "MAX_HOPS", "SHAPES", "STYLES",
    "Context", "Corpus", "Document", "Entity", "Fact", "Probe", "Question", "QuestionConfig",
    "ResolveError", "SplitSpec", "Step", "TokenCounter", "World", "WorldConfig",
    "add_distractors", "approx_tokens", "assemble_context", "build_world", "check_question", "generate_questions",
    "infer_shape", "make_probes", "read_jsonl", "read_world", "resolve", "split_questions",
    "to_hf_dataset", "write_jsonl", "write_world",
]
