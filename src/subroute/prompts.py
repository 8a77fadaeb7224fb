"""Prompts shared by `ask`, the benchmark's direct baselines and the pipeline's steps.

Short-answer prompts: small models answer a lookup well when told to give the answer only
(shared MODELS.md measured SmolLM2 6/10 and Qwen-0.5B 10/10 on one-hop lookups this way).
"""

from __future__ import annotations

from subroute.errors import SubrouteError
from subroute.models.base import Message

# 13 tokens. Every step of the pipeline pays for this line, so it is short: on 80 gold steps
# of a held-out world (seed 55) this wording kept accuracy (qwen-0.5b 0.70, qwen-1.5b 0.79)
# against the earlier 34-token instruction (0.69, 0.81) at 156 instead of 177 input tokens
# a step; "Reply with the answer only." (6 tokens) lost synthesis steps (4/10 against 6/10).
ANSWER_SYSTEM = "Answer with a name, number, year or short phrase only."


def check_question(question: str) -> str:
    q = question.strip()
    if not q:
        raise SubrouteError("the question is empty; pass a question, e.g. subroute ask \"Where was Mirela Voss born?\"")
    return q


def answer_messages(question: str, context: str | None = None) -> list[Message]:
    q = check_question(question)
    user = f"Context:\n{context.strip()}\n\nQuestion: {q}" if context and context.strip() else f"Question: {q}"
    return [{"role": "system", "content": ANSWER_SYSTEM}, {"role": "user", "content": user}]
