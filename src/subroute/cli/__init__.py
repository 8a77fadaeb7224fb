"""The `subroute` command line: a click group, one module per subcommand.

Every `SubrouteError` becomes ``error: <one line>`` on stderr and a non-zero exit; no
traceback reaches a user for a problem they can fix.
"""

from __future__ import annotations

import sys

import click

from subroute.errors import SubrouteError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except SubrouteError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group)
@click.version_option(package_name="subroute")
def main() -> None:
    """subroute: split hard questions into subtasks and route each to the cheapest model
    in a pool that still gets it right."""


def _register() -> None:
    # Each subcommand lives in its own module and is imported lazily-cheap (no heavy deps
    # at import: llama.cpp, torch, datasets are imported inside the commands that use them).
    from subroute.cli import ask, bench, demo, gen, models, serve, train

    main.add_command(models.models)
    main.add_command(ask.ask)
    main.add_command(bench.bench)
    main.add_command(demo.demo)
    main.add_command(gen.gen)
    main.add_command(serve.serve)
    main.add_command(train.train)


_register()
