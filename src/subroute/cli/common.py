"""Options and helpers shared by subcommands."""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Callable, Iterable

import click

from subroute.pool import Pool

pool_option = click.option(
    "--pool", "pool_path", type=click.Path(dir_okay=False), default=None,
    help="Pool file (TOML). Default: the shipped local pool.",
)


def _option_type(cls: type, f: dataclasses.Field) -> Any:
    kind = typing.get_type_hints(cls)[f.name]
    lo, hi = f.metadata.get("min"), f.metadata.get("max")
    if kind is int:
        return click.IntRange(lo, hi) if lo is not None or hi is not None else int
    if kind is float:
        return click.FloatRange(lo, hi) if lo is not None or hi is not None else float
    if kind is str or kind == (str | None):  # an optional text: None (the field's default) until given
        return str
    raise TypeError(f"{cls.__name__}.{f.name}: no command-line option for a field of type {kind}")


def options_from(cls: type, names: Iterable[str], *, rename: dict[str, str] | None = None,
                 help_prefix: str = "") -> Callable:
    """click options for the fields `names` of the config dataclass `cls`, their default,
    help and range (metadata "help", "min", "max") taken from the field, so the command line
    and the config cannot disagree. Each option is `--field-name` unless `rename` gives it
    another flag ({"max_steps": "--steps"}); its parameter is the field's name, whatever the
    flag, for `config_from`. `help_prefix` says whose knob it is where the command has several
    ("decomposer " before "optimizer steps")."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    rename = rename or {}
    names = list(names)
    unknown = [n for n in [*names, *rename] if n not in fields]
    if unknown:
        raise TypeError(f"{cls.__name__} has no field {', '.join(unknown)}")

    def decorate(fn: Callable) -> Callable:
        for name in reversed(names):  # applied last first, so --help lists them in `names` order
            f = fields[name]
            flag = rename.get(name, "--" + name.replace("_", "-"))
            help_ = help_prefix + f.metadata.get("help", "")
            fn = click.option(flag, name, type=_option_type(cls, f), default=f.default, show_default=True,
                              help=help_[:1].upper() + help_[1:] + "." if help_ else None)(fn)
        return fn

    return decorate


def config_from(cls: type, params: dict[str, Any], **overrides: Any) -> Any:
    """An instance of the config dataclass `cls` from a command's parsed parameters: the
    fields named there (as `options_from` names them), the rest left at their defaults."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{**{k: v for k, v in params.items() if k in names}, **overrides})


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
