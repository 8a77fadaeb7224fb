"""The resolver: executes a question's decomposition over the world.

Why: answers are never written by hand or by the code that phrases a question. Each step
carries a small machine-readable op; the resolver runs the ops in order over the world's
fact index and returns each step's value and the ids of the facts it read. The generator
fills answers from it, and the checks run it again on questions read back from disk.

Ops (``#k`` is the result of step k, 1-based):
  {"op": "hop", "rel": R, "arg": E|"#k", "set": false}  follow relation R; exactly one
      result unless "set" is true (then every result, at least one)
  {"op": "count", "arg": "#k"}                          size of a set
  {"op": "compare", "mode": "min"|"max", "items": [[E|"#k", "#v"], ...]}
      the item whose value is smallest/largest; ties are an error (no unique answer)
  {"op": "intersect", "args": ["#a", "#b", ...]}        members common to every set
  {"op": "diff", "args": ["#a", "#b"], "abs": bool}     value a minus value b
  {"op": "calc", "fn": "add"|"sub"|"mul", "args": [x, y]}  x + y, x - y or x * y, where
      each of x, y is "#k" (a number) or an integer the question states (word problems);
      an optional "unit" names what the number counts ("dollars"), for answer aliases
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from subroute.worlds.schema import RELATIONS
from subroute.worlds.world import Atom, World

_REF = re.compile(r"^#(\d+)$")
_CALC = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}


class ResolveError(ValueError):
    """A decomposition that does not execute to a unique answer over the world."""


@dataclass(frozen=True)
class StepResult:
    values: tuple[Atom, ...]
    fact_ids: tuple[str, ...]


def refs(op: dict) -> list[int]:
    """1-based step indexes an op reads, in order of first use."""
    found: list[int] = []

    def visit(x) -> None:
        if isinstance(x, str):
            m = _REF.match(x)
            if m and int(m.group(1)) not in found:
                found.append(int(m.group(1)))
        elif isinstance(x, (list, tuple)):
            for y in x:
                visit(y)

    for key in ("arg", "args", "items"):
        visit(op.get(key))
    return found


def resolve(world: World, ops: Sequence[dict]) -> list[StepResult]:
    """Run `ops` in order; raise ResolveError on anything that is not a unique answer."""
    out: list[StepResult] = []

    def get(x: Atom) -> tuple[Atom, ...]:
        if isinstance(x, str) and _REF.match(x):
            k = int(x[1:])
            if not 1 <= k <= len(out):
                raise ResolveError(f"reference {x} is not an earlier step")
            return out[k - 1].values
        if not world.is_entity(x):
            raise ResolveError(f"unknown entity {x!r}")
        return (x,)

    def single(x: Atom) -> Atom:
        vals = get(x)
        if len(vals) != 1:
            raise ResolveError(f"{x} has {len(vals)} values where one is needed")
        return vals[0]

    def number(x: Atom) -> int:
        v = single(x)
        if not isinstance(v, int):
            raise ResolveError(f"{x} is not a number")
        return v

    for i, op in enumerate(ops, 1):
        name = op.get("op")
        if any(k >= i for k in refs(op)):
            raise ResolveError(f"step {i} refers to itself or a later step")
        if name == "hop":
            rel = op.get("rel")
            if rel not in RELATIONS:
                raise ResolveError(f"step {i}: unknown relation {rel!r}")
            src = single(op["arg"])
            vals = tuple(world.follow(str(src), rel))
            if not vals:
                raise ResolveError(f"step {i}: {world.name(src)} has no {rel}")
            if not op.get("set") and len(vals) != 1:
                raise ResolveError(f"step {i}: {rel} of {world.name(src)} is not unique ({len(vals)})")
            out.append(StepResult(vals, tuple(world.fact_id(str(src), rel, v) for v in vals)))
        elif name == "count":
            out.append(StepResult((len(get(op["arg"])),), ()))
        elif name == "compare":
            items = [(single(e), number(v)) for e, v in op["items"]]
            if len(items) < 2:
                raise ResolveError(f"step {i}: a comparison needs two items or more")
            values = sorted(v for _, v in items)
            if len(set(values)) != len(values):
                raise ResolveError(f"step {i}: tie between compared values")
            best = min(items, key=lambda t: t[1]) if op["mode"] == "min" else max(items, key=lambda t: t[1])
            out.append(StepResult((best[0],), ()))
        elif name == "intersect":
            sets = [set(get(a)) for a in op["args"]]
            common = set.intersection(*sets)
            if not common:
                raise ResolveError(f"step {i}: empty intersection")
            out.append(StepResult(tuple(sorted(common, key=str)), ()))
        elif name == "calc":
            fn, args = op.get("fn"), op.get("args", [])
            if fn not in _CALC or len(args) != 2:
                raise ResolveError(f"step {i}: calc needs fn add, sub or mul and two args, got {fn!r}, {args!r}")
            a, b = (x if isinstance(x, int) and not isinstance(x, bool) else number(x) for x in args)
            out.append(StepResult((_CALC[fn](a, b),), ()))
        elif name == "diff":
            d = number(op["args"][0]) - number(op["args"][1])
            out.append(StepResult((abs(d) if op.get("abs") else d,), ()))
        else:
            raise ResolveError(f"step {i}: unknown op {name!r}")
    return out
