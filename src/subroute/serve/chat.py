"""From an OpenAI chat to what subroute answers.

The router answers a *question over a context*, so a chat is read as one: the last user
message is the question; system messages and earlier turns are the context (documents an
application pastes into the system prompt or an earlier turn are what the question is
about). A last user message written as ``Context: ... Question: ...`` (the shape subroute's
own prompts use, and a common RAG template) is split at ``Question:``, and statements
before a question become context, as the pipeline does for every caller. A pass-through keeps
the chat as it is, so a pool model sees exactly what the application sent.
"""

from __future__ import annotations

from subroute.inline import split_inline
from subroute.models.base import Message
from subroute.serve.schemas import ChatMessage


class EmptyQuestion(ValueError):
    """The chat has no user message, or its last one is empty: a 400."""


def last_user(messages: list[ChatMessage]) -> int:
    for i in range(len(messages) - 1, -1, -1):
        if messages[i].role == "user":
            return i
    raise EmptyQuestion("the chat has no user message; the last user message is the question")


def question_and_context(messages: list[ChatMessage]) -> tuple[str, str | None]:
    """(message, context) for the router; raises EmptyQuestion. The message is the last user
    message as sent, and the context the other messages: the pipeline reads the message as it
    reads any (`subroute.inline`: a ``Question:`` line or statements before the question are
    its context), so the trace records what it took as context, as for `ask` and the API."""
    i = last_user(messages)
    parts = [m.text.strip() for k, m in enumerate(messages) if k != i and m.text.strip()]
    message = messages[i].text.strip()
    if not message or not split_inline(message).question.strip():
        raise EmptyQuestion("the question (the last user message) is empty; send a question")
    return message, "\n\n".join(parts) or None


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
