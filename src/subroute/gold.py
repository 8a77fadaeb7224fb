"""Judging an answer against a gold step, the same for the benchmark's oracle and the
allocation labels, so the floor the router is measured against and the labels it is
trained on agree on what "solved" means.

A right answer is not always a usable one: a step a later step cites as #k must be short
enough to substitute there. Steps the router computes rather than asks (`program.exact_step`:
counting, intersections, arithmetic written out) are computed here too, so neither the
oracle nor the labels pay a model for them.
"""

from __future__ import annotations

from subroute.answers import is_short_answer
from subroute.program import exact_step
from subroute.scoring import score_step


def is_cited(steps, i: int) -> bool:
    """Whether a later step uses step i's answer (0-based) as #k."""
    return any(i + 1 in tuple(s.depends_on) for s in steps[i + 1:])


def solves_step(text: str, steps, i: int) -> bool:
    """Whether `text` solves gold step i (0-based) of a chain: right, and, when a later step
    cites it as #k, short enough to substitute there (a sentence around the right name
    breaks the next step); the last answer is scored like any final answer. Labels and the
    benchmark's oracle both judge steps by this."""
    return bool(score_step(text, steps[i]).correct) and (is_short_answer(text) or not is_cited(steps, i))


def exact_gold_step(steps, i: int) -> tuple[str, str] | None:
    """(kind, answer) when gold step i (0-based) is computed from the earlier gold answers
    (`program.exact_step`, as the router computes it) and that solves it; None when a model
    must answer it. Labels and the benchmark's oracle both skip the models on such steps."""
    e = exact_step(steps[i].question, [g.answer for g in steps])
    return (e[0], e[1]) if e is not None and solves_step(e[1], steps, i) else None
