"""`subroute serve`: the OpenAI-compatible server under uvicorn.

Local models are loaded before the port opens (unless --lazy), so the first request does
not pay for loading a GGUF and a missing model fails at start with the fix, not at the first
request. The bearer token comes from $SUBROUTE_SERVER_TOKEN only (never a flag: flags show
up in `ps` and shell history), and is never printed.
"""

from __future__ import annotations

import click

from subroute.cli.common import load_pool, pool_option
from subroute.errors import missing_extra
from subroute.reasoner import DEFAULT_THRESHOLD


@click.command()
@pool_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (0.0.0.0 for all).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="TCP port.")
@click.option("--max-concurrency", default=4, show_default=True, type=click.IntRange(1, 256),
              help="Requests running model calls at once.")
@click.option("--max-queue", default=64, show_default=True, type=click.IntRange(0, 100_000),
              help="Requests that may wait for a slot; more get 429 with Retry-After.")
@click.option("--max-body-bytes", default=1_000_000, show_default=True, type=click.IntRange(1024),
              help="Larger request bodies get 413.")
@click.option("--traces", "trace_limit", default=1000, show_default=True, type=click.IntRange(1),
              help="Traces kept in memory for GET /v1/traces/{id}.")
@click.option("--threshold", default=DEFAULT_THRESHOLD, show_default=True, type=click.FloatRange(0, 1),
              help="Threshold of the `subroute` router.")
@click.option("--lazy", is_flag=True, help="Load local models on first use instead of at start.")
@click.option("--log-level", default="info", show_default=True,
              type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(pool_path: str | None, host: str, port: int, max_concurrency: int, max_queue: int, max_body_bytes: int,
          trace_limit: int, threshold: float, lazy: bool, log_level: str) -> None:
    """Serve the pool over the OpenAI chat API: model `subroute` routes, `subroute:<threshold>`
    routes at that threshold, a pool model's name answers with that model alone."""
    try:
        import uvicorn
    except ImportError:
        raise missing_extra("uvicorn", "serve") from None
    from subroute.serve import create_app
    from subroute.serve.auth import TOKEN_ENV, token_from_env

    pool = load_pool(pool_path)
    app = create_app(pool, max_concurrency=max_concurrency, max_queue=max_queue, max_body_bytes=max_body_bytes,
                     trace_limit=trace_limit, threshold=threshold)
    if not lazy:
        for m in pool:
            if m.spec.backend in ("llamacpp", "tokenroute"):
                click.echo(f"loading {m.name} ...", err=True)
                m.backend  # noqa: B018 - loads the GGUF once; shared by every request
    auth = f"bearer token from ${TOKEN_ENV}" if token_from_env() else f"off (set ${TOKEN_ENV} to require a token)"
    click.echo(f"subroute serving pool '{pool.settings.name}' ({', '.join(pool.names)}) at "
               f"http://{host}:{port}/v1 · auth {auth}", err=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level)
