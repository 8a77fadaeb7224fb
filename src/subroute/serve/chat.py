"""From an OpenAI chat to what subroute answers.

The router answers a *question over a context*, so a chat is read as one: the last user
message is the question; system messages and earlier turns are the context (documents an
application pastes into the system prompt or an earlier turn are what the question is
about). A last user message written as ``Context: ... Question: ...`` (the shape subroute's
own prompts use, and a common RAG template) is split at ``Question:``. A pass-through keeps
the chat as it is, so a pool model sees exactly what the application sent.
"""

from __future__ import annotations

import re

from subroute.models.base import Message
from subroute.serve.schemas import ChatMessage

_QUESTION = re.compile(r"^[ \t]*question[ \t]*:", re.I | re.M)  # at the start of a line
_CONTEXT = re.compile(r"^\s*context\s*:", re.I)


class EmptyQuestion(ValueError):
    """The chat has no user message, or its last one is empty: a 400."""


def last_user(messages: list[ChatMessage]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            return i
    raise EmptyQuestion("the chat has no user message; the last user message is the question")


def question_and_context(messages: list[ChatMessage]) -> tuple[str, str | None]:
    """(question, context) for the router; raises EmptyQuestion."""
    i = last_user(messages)
    text = messages[i].text
    parts = [m.text.strip() for k, m in enumerate(messages) if k != i and m.text.strip()]
    marks = list(_QUESTION.finditer(text))
    if marks:
        before, text = text[: marks[-1].start()], text[marks[-1].end():]
        before = _CONTEXT.sub("", before, count=1).strip()
        if before:
            parts.append(before)
    question = text.strip()
    if not question:
        raise EmptyQuestion("the question (the last user message) is empty; send a question")
    return question, "\n\n".join(parts) or None


def as_messages(messages: list[ChatMessage]) -> tuple[list[Message], str]:
    """The chat for a pass-through, and its question (for the trace); raises EmptyQuestion."""
    question = messages[last_user(messages)].text.strip()
    if not question:
        raise EmptyQuestion("the last user message is empty; send a question")
    out: list[Message] = []
    for m in messages:
        role = "system" if m.role == "developer" else m.role
        out.append({"role": role, "content": m.text})  # type: ignore[typeddict-item]
    return out, question
