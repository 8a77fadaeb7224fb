"""Served models over the OpenAI-compatible chat API (vLLM, SGLang, Ollama, the llama.cpp
server, hosted APIs), through the official ``openai`` client.

The client gives us per-request timeouts and bounded retries with exponential backoff (on
connection errors, 408/409/429 and 5xx) out of the box, which is why it is used rather than
raw HTTP. Log-probabilities are requested when the caller wants them; a server that refuses
them (some do, e.g. llama.cpp's Python server without ``logits_all``) is asked once more
without, and remembered, so routing falls back to confidence-free strategies for that model.

The API key is read from the environment variable the pool file *names*; the key itself is
never stored in a spec, record, trace or error message.
"""

from __future__ import annotations

import os
import threading

from subroute.errors import BackendError, ModelNotAvailable, SubrouteError
from subroute.models.base import Completion, GenerateParams, Message, TokenLogprob, Usage


class OpenAIModel:
    def __init__(self, name: str, *, base_url: str, model: str, api_key_env: str | None = None,
                 timeout_s: float = 60.0, max_retries: int = 2, context_length: int | None = None) -> None:
        self.name = name
        self.base_url = base_url
        self.model = model
        self.api_key_env = api_key_env
        self.context_length = context_length
        key = "not-needed"  # local servers accept anything; the client requires a value
        if api_key_env:
            key = os.environ.get(api_key_env, "")
            if not key:
                raise ModelNotAvailable(
                    f"model '{name}' needs an API key in the environment variable {api_key_env}; set it and retry"
                )
        import openai

        self._openai = openai
        self._client = openai.OpenAI(base_url=base_url, api_key=key, timeout=timeout_s, max_retries=max_retries)
        self._timeout_s = timeout_s
        self._logprobs_ok = True
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return f"OpenAIModel(name={self.name!r}, base_url={self.base_url!r}, model={self.model!r})"

    def count_tokens(self, text: str) -> int | None:
        return None

    def _create(self, messages: list[Message], params: GenerateParams, logprobs: bool):
        kw = dict(model=self.model, messages=messages, max_tokens=params.max_tokens,
                  temperature=params.temperature, seed=params.seed)
        if params.stop:
            kw["stop"] = list(params.stop)
        if logprobs:
            # top_logprobs too: llama-cpp-python's server returns none without it
            kw["logprobs"] = True
            kw["top_logprobs"] = 1
        return self._client.chat.completions.create(**kw)

    def generate(self, messages: list[Message], params: GenerateParams) -> Completion:
        o = self._openai
        want_lp = params.logprobs and self._logprobs_ok
        try:
            try:
                r = self._create(messages, params, want_lp)
            except o.BadRequestError as e:
                if want_lp and "logprob" in str(e).lower():
                    with self._lock:
                        self._logprobs_ok = False
                    r = self._create(messages, params, False)
                else:
                    raise
        except o.APITimeoutError:
            raise BackendError(self.name, f"no answer from {self.base_url} within {self._timeout_s:g}s (after retries)",
                               timeout=True) from None
        except o.APIConnectionError:
            raise BackendError(self.name, f"cannot reach {self.base_url}; is the server running and the URL right?") from None
        except o.AuthenticationError:
            raise BackendError(self.name, f"{self.base_url} rejected the API key from ${self.api_key_env}; check the key") from None
        except o.NotFoundError:
            raise BackendError(self.name, f"{self.base_url} does not serve model '{self.model}'; check `model` in the pool file") from None
        except o.BadRequestError as e:
            msg = _short(e)
            if "context" in msg.lower() and ("length" in msg.lower() or "window" in msg.lower()):
                raise SubrouteError(f"model '{self.name}': the prompt is longer than its context window ({msg})") from None
            raise BackendError(self.name, f"request refused: {msg}") from None
        except o.APIStatusError as e:
            raise BackendError(self.name, f"server error {e.status_code} from {self.base_url}: {_short(e)}") from None
        except (ValueError, TypeError, KeyError) as e:  # unparseable body
            raise BackendError(self.name, f"garbled response from {self.base_url} ({type(e).__name__})") from None
        if not getattr(r, "choices", None):
            raise BackendError(self.name, f"response from {self.base_url} has no choices")
        ch = r.choices[0]
        text = (ch.message.content or "") if ch.message else ""
        tokens = None
        lp = getattr(ch, "logprobs", None)
        if want_lp and lp is not None and lp.content:
            tokens = [TokenLogprob(t.token, float(t.logprob)) for t in lp.content]
        u = r.usage
        usage = Usage(u.prompt_tokens, u.completion_tokens) if u else Usage(0, len(tokens or []))
        return Completion(model=self.name, text=text.strip(), usage=usage,
                          finish_reason=ch.finish_reason or "stop", tokens=tokens)


def _short(e: Exception) -> str:
    """The server's own error message, one line, bounded."""
    body = getattr(e, "body", None)
    msg = None
    if isinstance(body, dict):
        err = body.get("error")
        msg = err.get("message") if isinstance(err, dict) else body.get("message")
    return " ".join(str(msg or e).split())[:200]
