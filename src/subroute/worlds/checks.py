"""Validity checks run on every generated question (and usable on any read back from disk).

Each check returns a list of problems, empty when the question passes, so a caller can
report all of them at once. What they guarantee:
  - resolution: the ops execute over the world to exactly the stored step answers, fact ids
    and final answer (unique entity, exact set, no tie in a comparison);
  - the answer string (and every member of a set answer) does not occur in the question;
  - every hop is needed: no single fact links an entity named earlier in a chain to a later
    hop's answer, no earlier entity has the same relation with the same value, every input
    of an intersection is larger than its result, and a comparison's loser would not lead
    to the same final answer;
  - structure: depends_on matches the ops, recall/synthesis types match the ops, `hops`
    counts the recall steps, `shape` matches the dependency graph;
  - support: every recall step's facts are listed by a supporting document whose text names
    both ends of the fact, and every gold step answer is stated in one of them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from subroute.worlds.documents import Corpus, contains, fact_holds
from subroute.worlds.kinds import CHAIN, FAN_IN, PARALLEL
from subroute.worlds.resolver import ResolveError, refs, resolve
from subroute.worlds.templates import join_names
from subroute.worlds.world import Atom, World

if TYPE_CHECKING:
    from subroute.worlds.questions import Question


def render_values(world: World, values, is_set: bool) -> tuple[str, list[str] | None]:
    """The answer string of a step result, and the member list for set answers."""
    names = sorted(world.name(v) for v in values)
    if is_set:
        return join_names(names), names
    return names[0], None


def is_set_op(op: dict, n_values: int) -> bool:
    return bool(op.get("set")) or (op.get("op") == "intersect" and n_values > 1)


def infer_shape(steps) -> str:
    """chain: one root; parallel-then-join: two independent roots; fan-in: three or more."""
    needed: set[int] = set()
    todo = [len(steps)]
    while todo:
        k = todo.pop()
        if k not in needed:
            needed.add(k)
            todo.extend(steps[k - 1].depends_on)
    roots = sum(1 for k in needed if not steps[k - 1].depends_on)
    return CHAIN if roots <= 1 else PARALLEL if roots == 2 else FAN_IN


def check_structure(q: "Question") -> list[str]:
    out = []
    for i, s in enumerate(q.decomposition, 1):
        if sorted(s.depends_on) != sorted(refs(s.op)):
            out.append(f"step {i}: depends_on {s.depends_on} does not match its op")
        want = "recall" if s.op.get("op") == "hop" else "synthesis"
        if s.type != want:
            out.append(f"step {i}: type {s.type} should be {want}")
    if q.decomposition:
        if q.hops != sum(s.type == "recall" for s in q.decomposition):
            out.append(f"hops {q.hops} is not the number of recall steps")
        if q.shape != infer_shape(q.decomposition):
            out.append(f"shape {q.shape} does not match the dependencies ({infer_shape(q.decomposition)})")
    return out


def check_resolution(q: "Question", world: World) -> list[str]:
    try:
        results = resolve(world, [s.op for s in q.decomposition])
    except (ResolveError, KeyError, TypeError) as e:
        return [f"does not resolve: {e}"]
    out = []
    for i, (s, r) in enumerate(zip(q.decomposition, results), 1):
        ans, members = render_values(world, r.values, is_set_op(s.op, len(r.values)))
        if s.answer != ans or s.answer_set != members:
            out.append(f"step {i}: stored answer {s.answer!r} but the world says {ans!r}")
        if sorted(s.fact_ids) != sorted(r.fact_ids):
            out.append(f"step {i}: fact ids {s.fact_ids} but the world says {list(r.fact_ids)}")
    last = q.decomposition[-1] if q.decomposition else None
    if last is None or q.answer != last.answer or q.answer_set != last.answer_set:
        out.append("final answer differs from the last step's answer")
    return out


def check_answer_not_in_question(q: "Question") -> list[str]:
    golds = [q.answer, *q.aliases, *(q.answer_set or [])]
    hits = [g for g in golds if contains(q.question, g)]
    return [f"answer {h!r} occurs in the question" for h in hits]


def check_no_shortcut(q: "Question", world: World) -> list[str]:
    try:
        results = resolve(world, [s.op for s in q.decomposition])
    except (ResolveError, KeyError, TypeError) as e:
        return [f"does not resolve: {e}"]
    vals = [r.values for r in results]

    def source(i: int) -> tuple[Atom, int | None]:
        """The entity a hop step starts from, and the step that produced it (if any)."""
        arg = q.decomposition[i - 1].op["arg"]
        if isinstance(arg, str) and arg.startswith("#"):
            return vals[int(arg[1:]) - 1][0], int(arg[1:])
        return arg, None

    out = []
    for j, s in enumerate(q.decomposition, 1):
        op = s.op
        if op.get("op") == "intersect":
            common = set(vals[j - 1])
            for a in op["args"]:
                if set(vals[int(a[1:]) - 1]) == common:
                    out.append(f"step {j}: input {a} alone already gives the intersection")
        if op.get("op") != "hop":
            continue
        _, prev = source(j)
        # ancestors at distance >= 2: the sources of this step's source, and so on
        k = prev
        while k is not None and q.decomposition[k - 1].op.get("op") == "hop":
            anc, k = source(k)
            if not world.is_entity(anc):
                break
            for v in ([] if op.get("set") else vals[j - 1]):  # members of a set may be
                if world.is_entity(v) and v in world.neighbors(str(anc)):  # linked anyhow
                    out.append(f"step {j}: {world.name(v)} is one fact away from "
                               f"{world.name(anc)}, so the hops between are not needed")
            if list(world.follow(str(anc), op["rel"])) == list(vals[j - 1]):
                out.append(f"step {j}: {world.name(anc)} has the same {op['rel']}, "
                           "so the hops between are not needed")
    out.extend(_compare_shortcuts(q, world, vals))
    return sorted(set(out))


def _compare_shortcuts(q: "Question", world: World, vals) -> list[str]:
    """After a comparison, would a loser reach the same final answer?"""
    out = []
    steps = q.decomposition
    for c, s in enumerate(steps, 1):
        if s.op.get("op") != "compare":
            continue
        chain, ref = [], f"#{c}"
        for j, t in enumerate(steps, 1):
            if t.op.get("op") == "hop" and t.op.get("arg") == ref:
                chain.append(t.op["rel"])
                ref = f"#{j}"
        if not chain or ref != f"#{len(steps)}":
            continue
        winner = vals[c - 1][0]
        for item, _ in s.op["items"]:
            loser = vals[int(item[1:]) - 1][0] if str(item).startswith("#") else item
            if loser == winner:
                continue
            cur: Atom | None = loser
            for rel in chain:
                nxt = world.follow(str(cur), rel) if world.is_entity(cur) else []
                cur = nxt[0] if len(nxt) == 1 else None
                if cur is None:
                    break
            if cur is not None and cur == vals[-1][0]:
                out.append(f"step {c}: {world.name(loser)} leads to the same answer, "
                           "so the comparison is not needed")
    return out


def check_supported(q: "Question", world: World, corpus: Corpus) -> list[str]:
    docs = [corpus.get(d) for d in q.supporting_doc_ids]
    out = []
    for d in docs:
        if q.context and d.text not in q.context:
            out.append(f"supporting document {d.id} is missing from the context")
    for i, s in enumerate(q.decomposition, 1):
        if s.type != "recall":
            continue
        for fid in s.fact_ids:
            if not any(fid in d.fact_ids and fact_holds(world, d, fid) for d in docs):
                out.append(f"step {i}: fact {fid} is stated in no supporting document")
        stating = [d for d in docs if set(s.fact_ids) & set(d.fact_ids)]
        for a in s.answer_set or [s.answer]:
            if not any(contains(d.text, a) for d in stating):
                out.append(f"step {i}: answer {a!r} is not stated in its supporting documents")
    return out


def check_question(q: "Question", world: World, corpus: Corpus | None = None) -> list[str]:
    """All checks; the support check only when a corpus is given."""
    problems = check_structure(q) + check_resolution(q, world)
    problems += check_answer_not_in_question(q) + check_no_shortcut(q, world)
    if corpus is not None:
        problems += check_supported(q, world, corpus)
    return problems
