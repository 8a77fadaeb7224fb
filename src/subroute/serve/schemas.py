"""Request and response bodies of the chat API, as pydantic models.

Requests ignore fields we do not use (clients send `user`, `presence_penalty`, ...), so an
unchanged application keeps working; fields we do use are validated and a bad one is a 422
that names it. Responses are OpenAI's `chat.completion` / `chat.completion.chunk` shapes
with one extra top-level field, `subroute`, carrying the cost and the trace id; OpenAI's
clients keep unknown fields, so they reach the application untouched.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Role = Literal["system", "developer", "user", "assistant"]


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: str
    text: str = ""

    @field_validator("type")
    @classmethod
    def _text_only(cls, v: str) -> str:
        if v != "text":
            raise ValueError(f"content part of type '{v}' is not supported; send text parts only")
        return v


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role = Field(description="system, developer (taken as system), user or assistant.")
    content: str | list[ContentPart] | None = Field(None, description="Text, or a list of text parts.")

    @property
    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content)


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="ignore")

    include_usage: bool = Field(False, description="Send a last chunk with the usage before [DONE].")


class ChatRequest(BaseModel):
    """What `/v1/chat/completions` reads from the request body."""

    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, description="`subroute`, `subroute:<config>` or a pool model's name.")
    messages: list[ChatMessage] = Field(min_length=1, description="The chat; the last user message is the question.")
    max_tokens: int | None = Field(None, ge=1, le=8192, description="Most tokens per answer (per step when routed).")
    max_completion_tokens: int | None = Field(None, ge=1, le=8192, description="Newer name for max_tokens.")
    temperature: float | None = Field(None, ge=0, le=2, description="Pass-through only; default 0 (greedy).")
    seed: int | None = Field(None, description="Sampling seed (pass-through, temperature > 0).")
    stop: str | list[str] | None = Field(None, description="Stop strings (pass-through).")
    stream: bool = Field(False, description="Send the answer as server-sent events.")
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=1, description="Only one choice is produced.")

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def stops(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: str
    logprobs: None = None


class UsageOut(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class SubrouteInfo(BaseModel):
    cost: float = Field(description="USD, summed over every call the answer took.")
    trace_id: str = Field(description="GET /v1/traces/{trace_id} returns the trace.")
    steps: int = Field(description="Subtasks the question was split into (1 for pass-through).")
    router: str = Field(description="The router or `direct:<model>` that answered.")


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: UsageOut
    subroute: SubrouteInfo


class Delta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: str | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice]
    usage: UsageOut | None = None
    subroute: SubrouteInfo | None = None

    def sse(self) -> str:
        return f"data: {self.model_dump_json(exclude_none=True)}\n\n"


def error_body(message: str, type_: str, code: str, **extra: Any) -> dict[str, Any]:
    """OpenAI's error shape; `extra` adds keys such as the failing model's name."""
    return {"error": {"message": message, "type": type_, "code": code, "param": None, **extra}}
