"""`subroute ask`: answer a question over a context, routed across the pool by default."""

from __future__ import annotations

import json
import sys

import click

from subroute.cli.common import load_pool, pool_option
from subroute.errors import SubrouteError
from subroute.prompts import answer_messages, check_question
from subroute.reasoner import DEFAULT_THRESHOLD, ROUTES, Reasoner
from subroute.trace import ECHO_NOTE, Trace


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


def format_trace(t: Trace) -> str:
    """The steps as a tree, then what it all cost."""
    lines = [t.answer or "(no answer)", ""]
    for c in t.overhead[:1]:
        lines.append(f"decompose  {c.model} · ${c.cost:.7f} · {c.latency_s:.2f}s")
    if t.context_taken:
        lines.append(f"context    {len(t.context_taken)} statement(s) of the question")
    lines.append("route      by steps" if t.route == "steps" else f"route      the whole question ({t.route_reason})")
    for k, s in enumerate(t.steps):
        branch = "└─" if k == len(t.steps) - 1 else "├─"
        conf = f" · conf {s.confidence:.2f}" if s.confidence is not None else ""
        lines.append(f"{branch} {s.index}. {s.query}  →  {s.answer}")
        pad = "   " if k == len(t.steps) - 1 else "│  "
        last = s.calls[-1] if s.calls else None
        how = f"{s.passages} passage(s)" if s.calls or not s.note else s.note
        if last is not None and last.program:  # a program step: show what was computed
            how = f"program {last.program}" if last.note is None else f"program failed ({last.note}); answered plainly"
        echoed = [c for c in s.calls[:-1] if c.note == ECHO_NOTE]
        if echoed:  # why a confident-looking probe was escalated
            how += f" · escalated: {echoed[0].model} said {echoed[0].text.strip()!r}, which only repeats the question"
        who = f"{s.model} ({s.tier})" if s.tier else s.model
        if last is not None and last.large_share is not None:
            who += f" · {last.large_share:.0%} of tokens by the large model"
        lines.append(f"{pad}   {who}{conf} · {len(s.calls)} call(s) · ${s.cost:.7f} · {how}")
    for n in t.notes:
        lines.append(f"note: {n}")
    lines.append(f"total: {len(t.calls)} calls · {t.tokens} tokens · ${t.cost:.7f} · {t.wall_s:.2f}s")
    return "\n".join(lines)


@click.command()
@click.argument("question")
@click.option("--context", "context_path", default=None, help="Text file with the documents to answer from ('-' for stdin).")
@click.option("--model", "model_name", default=None, help="Answer with this one pool model instead of routing.")
@click.option("--router", "router", default=None,
              help="Router: a folder from `subroute train`, or 'prompted' (default: the trained router shipped for the pool).")
@click.option("--threshold", default=None, type=click.FloatRange(0, 1),
              help=f"Use the confidence rule at this threshold instead of a learned allocator (prompted default {DEFAULT_THRESHOLD}).")
@click.option("--route", type=click.Choice(["auto", *ROUTES]), default="auto", show_default=True,
              help="Route: the gate's choice (auto), or by steps, the whole question, or the whole question as one program.")
@click.option("--max-tokens", default=64, show_default=True, type=click.IntRange(1, 8192), help="Most tokens per answer.")
@click.option("--trace", "trace_path", default=None, type=click.Path(dir_okay=False), help="Append the trace (JSONL) to this file.")
@click.option("--json", "as_json", is_flag=True, help="Print the full record as JSON.")
@pool_option
def ask(question: str, context_path: str | None, model_name: str | None, router: str | None,
        threshold: float | None, route: str, max_tokens: int,
        trace_path: str | None, as_json: bool, pool_path: str | None) -> None:
    """Answer QUESTION from the --context documents: split into steps, each routed to the
    cheapest model the router trusts (or one model with --model)."""
    question = check_question(question)
    context = read_context(context_path)
    pool = load_pool(pool_path)
    if model_name:
        model = pool[model_name]
        c = model.generate(answer_messages(question, context), max_tokens=max_tokens)
        if not c.text:
            raise SubrouteError(f"model '{model.name}' returned an empty answer; try a larger model with --model")
        if as_json:
            click.echo(json.dumps({"question": question, "answer": c.text, "pool": pool.source,
                                   "completion": c.to_dict()}, indent=2))
            return
        click.echo(c.text)
        conf = c.confidence()
        tr = c.extra.get("tokenroute")
        click.echo(f"\n{c.model} · {c.usage.input_tokens} in / {c.usage.output_tokens} out tokens · "
                   f"${c.cost:.7f} · {c.latency_s:.2f}s" + (f" · confidence {conf:.2f}" if conf is not None else "")
                   + (f" · {tr['share']:.0%} of tokens by the large model" if tr else ""), err=True)
        return
    r = Reasoner.default(pool, threshold=threshold, router=router)
    r.max_tokens = max_tokens
    t = r.answer(question, context, route=None if route == "auto" else route)
    if trace_path:
        with open(trace_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(t.to_dict()) + "\n")
    if t.error:
        raise SubrouteError(t.error)
    if as_json:
        click.echo(json.dumps(t.to_dict(), indent=2))
    else:
        click.echo(format_trace(t))
