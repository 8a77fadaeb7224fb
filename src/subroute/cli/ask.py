"""`subroute ask`: answer a question over a context with a model of the pool."""

from __future__ import annotations

import json
import sys

import click

from subroute.cli.common import load_pool, pool_option
from subroute.errors import SubrouteError
from subroute.prompts import answer_messages, check_question


def read_context(path: str | None) -> str | None:
    if path is None:
        return None
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except FileNotFoundError:
        raise SubrouteError(f"context file {path} not found; pass an existing text file to --context") from None
    except UnicodeDecodeError:
        raise SubrouteError(f"context file {path} is not UTF-8 text") from None
    except OSError as e:
        raise SubrouteError(f"cannot read context file {path}: {e.strerror}") from None


@click.command()
@click.argument("question")
@click.option("--context", "context_path", default=None, help="Text file with the documents to answer from ('-' for stdin).")
@click.option("--model", "model_name", default=None, help="Answer with this pool model (default: the pool's default_model).")
@click.option("--max-tokens", default=64, show_default=True, type=click.IntRange(1, 8192), help="Most tokens to generate.")
@click.option("--json", "as_json", is_flag=True, help="Print the full record as JSON.")
@pool_option
def ask(question: str, context_path: str | None, model_name: str | None, max_tokens: int,
        as_json: bool, pool_path: str | None) -> None:
    """Answer QUESTION from the --context documents."""
    question = check_question(question)
    context = read_context(context_path)
    pool = load_pool(pool_path)
    model = pool[model_name] if model_name else pool.default_model
    c = model.generate(answer_messages(question, context), max_tokens=max_tokens)
    if not c.text:
        raise SubrouteError(f"model '{model.name}' returned an empty answer; try a larger model with --model")
    if as_json:
        click.echo(json.dumps({"question": question, "answer": c.text, "pool": pool.source,
                               "completion": c.to_dict()}, indent=2))
        return
    click.echo(c.text)
    conf = c.confidence()
    click.echo(
        f"\n{c.model} · {c.usage.input_tokens} in / {c.usage.output_tokens} out tokens · "
        f"${c.cost:.7f} · {c.latency_s:.2f}s" + (f" · confidence {conf:.2f}" if conf is not None else ""),
        err=True,
    )
