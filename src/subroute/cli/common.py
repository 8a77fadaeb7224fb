"""Options and helpers shared by subcommands."""

from __future__ import annotations

import click

from subroute.pool import Pool

pool_option = click.option(
    "--pool", "pool_path", type=click.Path(dir_okay=False), default=None,
    help="Pool file (TOML). Default: the shipped local pool.",
)


def load_pool(pool_path: str | None) -> Pool:
    return Pool.load(pool_path)


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()  # noqa: E731
    return "\n".join([line(headers), line(["-" * w for w in widths]), *map(line, rows)])
