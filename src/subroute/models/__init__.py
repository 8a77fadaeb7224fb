"""Model backends: the `Model` protocol and its implementations.

- ``llamacpp``: local GGUF files through llama-cpp-python (llama.cpp).
- ``openai``: any OpenAI-compatible HTTP endpoint (vLLM, SGLang, Ollama, llama.cpp server,
  hosted APIs) through the official ``openai`` client.

Backends are imported lazily by `subroute.pool` so ``import subroute`` stays light.
"""

from subroute.models.base import Completion, Message, Model, TokenLogprob, Usage

__all__ = ["Completion", "Message", "Model", "TokenLogprob", "Usage"]
