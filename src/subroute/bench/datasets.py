"""Where benchmark examples come from: DecompBench JSONL files and reasoning-gym tasks.

The JSONL format is the one the worlds generator writes, and deliberately forgiving about
what is *absent*: a line needs only `question` and `answer`, so any question/answer(/context)
file a user already has can be benchmarked (no decomposition then, hence no oracle and no
per-hop figures). What is *present* must be well formed: a malformed line stops the load
with one line naming the file, the line number and the problem, because a benchmark that
silently skips questions reports numbers about a different dataset than the user thinks.

Keys per line: `question`, `answer` (required); `id` (default: the line number), `aliases`,
`answer_set`, `context`, `decomposition` (steps with `question`, `answer`, `type`
recall|synthesis, `depends_on` as 1-based indices of earlier steps, `aliases`); every other
key goes to `Example.meta` (`hops`, `shape`, `kind`, `seed`, ...). Two conveniences: an
`answer` given as a list is a set answer, and a `context` given as a list of documents is
joined with blank lines.

reasoning-gym (an externally written generator of procedural tasks) is the second source,
so the router is not only measured on data this project wrote. Its examples are scored by
reasoning-gym's own `score_answer` for their task (`score`): its tasks have answers that
subroute's scorer would judge differently ("67 days, 01:04:00", a relation word), and a
figure on someone else's benchmark should be the one its authors would compute. The
defaults are tasks with short answers that the small default models sometimes get right,
with easier settings than reasoning-gym's defaults (its default `basic_arithmetic`
multiplies 4-digit numbers, which no model of the default pool can do).

The external suite (`subroute bench --suite external`, `EXTERNAL_SETS`) is three sets no
generator of this project wrote: questions with their facts inline, multi-hop questions
over short notes in everyday wording (both hand-written, in `bench/external/`), and six
reasoning-gym tasks (word problems, counting, relations, calendar, equations).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from subroute.errors import SubrouteError, missing_extra
from subroute.records import Example, GoldStep
from subroute.scoring import score_example

KNOWN_KEYS = {"id", "question", "answer", "aliases", "answer_set", "context", "decomposition"}
STEP_TYPES = ("recall", "synthesis")

# Easier settings than reasoning-gym's defaults, for tasks a sub-2B model can sometimes do.
RG_PRESETS: dict[str, dict[str, Any]] = {
    "chain_sum": {"min_terms": 2, "max_terms": 3, "min_digits": 1, "max_digits": 2},
    "basic_arithmetic": {"min_terms": 2, "max_terms": 3, "min_digits": 1, "max_digits": 2,
                         "operators": ("+", "-", "*")},
    "leg_counting": {"min_animals": 2, "max_animals": 3, "max_instances": 5},
    "family_relationships": {},
}
DEFAULT_RG_TASKS: tuple[str, ...] = tuple(RG_PRESETS)
# the external suite's reasoning-gym tasks, and the seed it draws them with (never a training seed)
EXTERNAL_RG_TASKS: tuple[str, ...] = ("basic_arithmetic", "leg_counting", "family_relationships", "calendar_arithmetic",
                                      "letter_counting", "simple_equations")
EXTERNAL_RG_SEED = 1000
EXTERNAL_SETS: tuple[str, ...] = ("inline", "multihop", "reasoning-gym")

# reasoning-gym entries by example id, for its own scorer (kept out of `Example.meta`, which is plain data)
_RG_ENTRIES: dict[str, tuple[str, dict]] = {}


class _LineError(Exception):
    """A problem with one line; `load_jsonl` adds the file and line number."""


def load_jsonl(path: str | Path) -> list[Example]:
    """Read a DecompBench-format JSONL file; blank lines are skipped.

    Raises `SubrouteError` (one line: file, line number, problem) for a missing or
    unreadable file, a line that is not a JSON object, a missing or empty `question`, a
    missing `answer`, a field of the wrong type, a bad decomposition, a duplicate id, or a
    file without examples.
    """
    p = Path(path)
    if not p.is_file():
        raise SubrouteError(f"dataset file '{p}' not found" if not p.exists() else f"dataset '{p}' is not a file")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SubrouteError(f"cannot read dataset '{p}': {e}") from None
    examples: list[Example] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise _LineError(f"not valid JSON ({e.msg} at column {e.colno})") from None
            ex = parse_example(obj, default_id=str(lineno))
        except _LineError as e:
            raise SubrouteError(f"{p}, line {lineno}: {e}") from None
        if ex.id in seen:
            raise SubrouteError(f"{p}, line {lineno}: duplicate id '{ex.id}' (first on line {seen[ex.id]})")
        seen[ex.id] = lineno
        examples.append(ex)
    if not examples:
        raise SubrouteError(f"dataset '{p}' contains no examples (expected one JSON object per line)")
    return examples


def parse_example(obj: Any, *, default_id: str) -> Example:
    """One JSONL record as an `Example`; raises `_LineError` naming the bad key."""
    if not isinstance(obj, dict):
        raise _LineError(f"expected a JSON object, got {_kind(obj)}")
    if "question" not in obj:
        raise _LineError("missing 'question'")
    question = _text(obj["question"], "'question'")
    if not question.strip():
        raise _LineError("empty 'question'")
    if "answer" not in obj:
        raise _LineError("missing 'answer'")
    answer_set = _str_list(obj["answer_set"], "'answer_set'") if obj.get("answer_set") is not None else None
    if isinstance(obj["answer"], list):
        items = _str_list(obj["answer"], "'answer'")
        answer, answer_set = ", ".join(items), answer_set or items
    else:
        answer = _scalar(obj["answer"], "'answer'")
    raw_id = obj.get("id")
    ex_id = default_id if raw_id is None else _scalar(raw_id, "'id'")
    context = obj.get("context")
    if isinstance(context, list):
        context = "\n\n".join(_str_list(context, "'context'"))
    elif context is not None:
        context = _text(context, "'context'")
    decomposition = _decomposition(obj["decomposition"]) if obj.get("decomposition") else None
    return Example(
        id=ex_id, question=question, answer=answer,
        aliases=_str_list(obj.get("aliases") or [], "'aliases'"), answer_set=answer_set, context=context,
        decomposition=decomposition, meta={k: v for k, v in obj.items() if k not in KNOWN_KEYS},
    )


def _decomposition(raw: Any) -> list[GoldStep]:
    if not isinstance(raw, list):
        raise _LineError(f"'decomposition' must be a list of steps, got {_kind(raw)}")
    steps: list[GoldStep] = []
    for i, s in enumerate(raw, start=1):
        where = f"decomposition step {i}"
        if not isinstance(s, dict):
            raise _LineError(f"{where} must be an object, got {_kind(s)}")
        for key in ("question", "answer"):
            if key not in s:
                raise _LineError(f"{where}: missing '{key}'")
        q = _text(s["question"], f"{where}: 'question'")
        if not q.strip():
            raise _LineError(f"{where}: empty 'question'")
        kind = s.get("type", "recall")
        if kind not in STEP_TYPES:
            raise _LineError(f"{where}: 'type' must be one of {', '.join(STEP_TYPES)}, not {kind!r}")
        deps = s.get("depends_on") or []
        if not isinstance(deps, list) or any(isinstance(d, bool) or not isinstance(d, int) for d in deps):
            raise _LineError(f"{where}: 'depends_on' must be a list of 1-based step numbers")
        bad = [d for d in deps if not 1 <= d < i]
        if bad:
            raise _LineError(f"{where}: 'depends_on' cites {bad[0]}, which is not an earlier step")
        aset = s.get("answer_set")
        steps.append(GoldStep(q, _scalar(s["answer"], f"{where}: 'answer'"), kind, tuple(deps),
                              tuple(_str_list(s.get("aliases") or [], f"{where}: 'aliases'")),
                              tuple(_str_list(aset, f"{where}: 'answer_set'")) if aset else None))
    return steps


def _kind(v: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(v), "a number")


def _text(v: Any, name: str) -> str:
    if not isinstance(v, str):
        raise _LineError(f"{name} must be a string, got {_kind(v)}")
    return v


def _scalar(v: Any, name: str) -> str:
    """A string, or a number written as one (answers like 42 are common in JSONL)."""
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return str(v)
    raise _LineError(f"{name} must be a string or a number, got {_kind(v)}")


def _str_list(v: Any, name: str) -> list[str]:
    if not isinstance(v, list):
        raise _LineError(f"{name} must be a list of strings, got {_kind(v)}")
    return [_scalar(x, f"each item of {name}") for x in v]


def reasoning_gym_examples(tasks: list[str], n: int, seed: int) -> list[Example]:
    """`n` examples generated offline by reasoning-gym, spread round-robin over `tasks`
    (empty: `DEFAULT_RG_TASKS`), interleaved so that the first k of them mix the tasks.

    Tasks in `RG_PRESETS` use its easier settings; any other reasoning-gym task runs with
    its own defaults. Same `(tasks, n, seed)`, same examples. Scored by subroute's scorer
    (see the module docstring). `meta` carries `source="reasoning_gym"`, `task`, `seed`,
    and reasoning-gym's scalar metadata.
    """
    try:
        import reasoning_gym
        from reasoning_gym.factory import DATASETS
    except ImportError:
        raise missing_extra("reasoning-gym", "bench") from None
    tasks = list(tasks) or list(DEFAULT_RG_TASKS)
    if n < 1:
        raise SubrouteError(f"the number of reasoning-gym examples must be at least 1, not {n}")
    unknown = [t for t in tasks if t not in DATASETS]
    if unknown:
        raise SubrouteError(f"unknown reasoning-gym task '{unknown[0]}'; try one of: "
                            + ", ".join(sorted(set(DEFAULT_RG_TASKS) | set(sorted(DATASETS)[:8]))))
    counts = [n // len(tasks) + (1 if i < n % len(tasks) else 0) for i in range(len(tasks))]
    per_task: list[list[Example]] = []
    for task, k in zip(tasks, counts):
        if k == 0:
            per_task.append([])
            continue
        try:
            ds = reasoning_gym.create_dataset(task, size=k, seed=seed, **RG_PRESETS.get(task, {}))
        except Exception as e:  # reasoning-gym validates its configs with asserts and ValueErrors
            raise SubrouteError(f"reasoning-gym could not generate task '{task}': {e}") from None
        exs = []
        for i, entry in enumerate(ds):
            meta = {k2: v for k2, v in (entry.get("metadata") or {}).items()
                    if isinstance(v, (str, int, float, bool)) and k2 != "source_dataset"}
            meta.update(source="reasoning_gym", task=task, seed=seed)
            ex = Example(id=f"rg-{task}-{seed}-{i}", question=str(entry["question"]).strip(),
                         answer=str(entry["answer"]).strip(), meta=meta)
            _RG_ENTRIES[ex.id] = (task, entry)
            exs.append(ex)
        per_task.append(exs)
    return [exs[i] for i in range(max(counts)) for exs in per_task if i < len(exs)]


def score(prediction: str, ex: Example) -> tuple[bool, float]:
    """(correct, f1) of a prediction: reasoning-gym's own scorer for its tasks (correct at
    a full score), subroute's (`scoring.score_example`) for everything else."""
    got = _RG_ENTRIES.get(ex.id)
    if got is not None:
        import reasoning_gym

        task, entry = got
        try:
            s = float(reasoning_gym.get_score_answer_fn(task)(prediction, entry))
        except Exception:  # a scorer that cannot read the answer scores it wrong
            s = 0.0
        return s >= 1.0, s
    r = score_example(prediction, ex)
    return bool(r.correct), r.f1


def external_examples(name: str, n: int | None = None) -> list[Example]:
    """One set of the external suite (`EXTERNAL_SETS`), its first `n` examples."""
    if name == "reasoning-gym":
        return reasoning_gym_examples(list(EXTERNAL_RG_TASKS), n or 24, EXTERNAL_RG_SEED)
    if name not in EXTERNAL_SETS:
        raise SubrouteError(f"unknown external set '{name}'; choose from {', '.join(EXTERNAL_SETS)}")
    from importlib import resources

    exs = load_jsonl(Path(str(resources.files("subroute"))) / "bench" / "external" / f"{name}.jsonl")
    for e in exs:
        e.meta.setdefault("source", f"external:{name}")
    return exs[:n] if n else exs
