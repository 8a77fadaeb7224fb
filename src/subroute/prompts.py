"""Prompts shared by `ask`, the benchmark's direct baselines and the pipeline's steps.

Short-answer prompts: small models answer a lookup well when told to give the answer only
(shared MODELS.md measured SmolLM2 6/10 and Qwen-0.5B 10/10 on one-hop lookups this way).
"""

from __future__ import annotations

from subroute.errors import SubrouteError
from subroute.models.base import Message

# Every step of the pipeline pays for this line (34 tokens). A 13-token version ("Answer with
# a name, number, year or short phrase only.") was measured and not kept: on 80 gold steps of
# world 55 it kept step accuracy (qwen-0.5b 0.70 vs 0.69, qwen-1.5b 0.79 vs 0.81) at 156
# instead of 177 input tokens, but Qwen-0.5B's confidence came out lower, so the default
# threshold escalated more steps: `subroute demo` default router 0.542 at 58% of Qwen-1.5B's
# cost (this line: 0.583 at 51%), bench_serve cost 1.57x Qwen-1.5B (this line: 1.22x).
ANSWER_SYSTEM = (
    "You answer questions using the given context. Reply with the answer only: a name, "
    "a number, a year or a short phrase. No explanation, no full sentence."
)


# Chain of thought: the benchmark's cot:<model> baselines and the token router's labels.
COT_SYSTEM = (
    "Answer the question using the context. Think step by step in a few short sentences, "
    "then give the final answer on its own last line as 'Answer: <answer>', the answer only."
)


def check_question(question: str) -> str:
    q = question.strip()
    if not q:
        raise SubrouteError("the question is empty; pass a question, e.g. subroute ask \"Where was Mirela Voss born?\"")
    return q


def answer_messages(question: str, context: str | None = None) -> list[Message]:
    q = check_question(question)
    user = f"Context:\n{context.strip()}\n\nQuestion: {q}" if context and context.strip() else f"Question: {q}"
    return [{"role": "system", "content": ANSWER_SYSTEM}, {"role": "user", "content": user}]


def cot_messages(question: str, context: str | None = None) -> list[Message]:
    """`answer_messages` with the chain-of-thought system prompt (read with `parse_cot`)."""
    return [{"role": "system", "content": COT_SYSTEM}, answer_messages(question, context)[1]]
