"""The OpenAI-compatible server: `create_app(pool)` returns a FastAPI app whose
`/v1/chat/completions` routes a question across the pool (model `subroute`) or passes a
chat straight to one pool model (model = its pool name).

Why a server at all: applications already speak the OpenAI chat API, so pointing their
client's base URL here is the cheapest way to adopt a router (RouteLLM ships one for the
same reason). Needs the `serve` extra (fastapi, uvicorn, prometheus-client); `import
subroute` never imports this package.
"""

from subroute.serve.app import create_app

__all__ = ["create_app"]
