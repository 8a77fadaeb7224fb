"""The package's layers stack: a module imports only from its own floor or below, and no
imports go round in a circle (imports under TYPE_CHECKING aside). Function-level imports
count: a lazy import is still a dependency. See docs/design.md "Layout"."""

from __future__ import annotations

import ast
from pathlib import Path

import subroute

SRC = Path(subroute.__file__).parent

# lowest first; a dotted prefix names a whole package
FLOORS: list[tuple[str, ...]] = [
    ("records", "scoring", "errors", "paths"),
    ("models", "worlds"),
    ("pool", "retrieve", "embed", "cache"),
    ("decompose", "trace", "answers", "gold", "program", "prompts", "inline"),
    ("allocate", "learned"),
    ("execute", "gate"),
    ("reasoner",),
    ("bench", "train", "serve"),
    ("cli",),
]
TOP = {"bench", "train", "serve", "cli"}  # what the runtime below them must never import


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def floor(module: str) -> int:
    if module == "subroute":
        return len(FLOORS)  # the package's public API sits above everything it exports
    first = module.split(".")[1]
    for i, names in enumerate(FLOORS):
        if first in names:
            return i
    raise AssertionError(f"module {module} is on no floor: add it to FLOORS in tests/test_layers.py")


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def imports_of(path: Path, modules: set[str]) -> set[str]:
    """Modules of subroute imported by the file at `path`, outside `if TYPE_CHECKING:`."""
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("subroute"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("subroute"):
            for a in node.names:  # `from subroute import paths` imports a module, not the package's API
                sub = f"{node.module}.{a.name}"
                out.add(sub if sub in modules else node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    return out


def graph() -> dict[str, set[str]]:
    files = {module_name(p): p for p in SRC.rglob("*.py")}
    return {m: imports_of(p, set(files)) - {m} for m, p in files.items()}


def test_every_import_goes_to_the_same_floor_or_below() -> None:
    bad = [f"{m} (floor {floor(m)}) imports {d} (floor {floor(d)})"
           for m, deps in sorted(graph().items()) for d in sorted(deps) if floor(d) > floor(m)]
    assert not bad, "\n".join(bad)


def test_the_runtime_never_imports_bench_train_serve_or_cli() -> None:
    bad = [f"{m} imports {d}" for m, deps in sorted(graph().items()) if m.split(".")[1:2] and
           m.split(".")[1] not in TOP and m != "subroute" for d in sorted(deps) if d.split(".")[1] in TOP]
    assert not bad, "\n".join(bad)


def test_no_circle_of_imports() -> None:
    g = graph()
    # a package's __init__ re-exports its submodules; an edge into it from one of them is no circle
    # of dependence, so only edges between distinct modules that are not a package and its own member count
    def real(m: str, d: str) -> bool:
        return not d.startswith(m + ".") and not m.startswith(d + ".")

    state: dict[str, int] = {}
    stack: list[str] = []
    circles: list[str] = []

    def dfs(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for d in sorted(g.get(m, ())):
            if not real(m, d):
                continue
            if state.get(d) == 1:
                circles.append(" -> ".join(stack[stack.index(d):] + [d]))
            elif d not in state:
                dfs(d)
        stack.pop()
        state[m] = 2

    for m in sorted(g):
        if m not in state:
            dfs(m)
    assert not circles, "\n".join(circles)


def test_the_check_sees_a_violation(tmp_path: Path) -> None:
    """The checker itself: a lazy import of the harness from a runtime module is found."""
    f = tmp_path / "execute.py"
    f.write_text("def f():\n    from subroute.bench.records import Result\n")
    assert imports_of(f, {"subroute.bench.records"}) == {"subroute.bench.records"}
    g = tmp_path / "checks.py"
    g.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from subroute.cli import main\n")
    assert imports_of(g, set()) == set()
