"""Program steps: a step that computes over numbers is answered by a program, not a guess.

Why: small models compare and subtract numbers badly when asked for the answer outright.
On the 45 gold comparison and arithmetic steps of two training worlds (seeds 55, 56),
asked for the answer, Qwen-0.5B was right on 14 (it says "10" to every "how many years
between") and Qwen-1.5B on 31, at 88 input and output tokens a step; asked for one Python
expression that computes the answer (two example turns), evaluated here, they were right
on 36 and 45, at 199 tokens (the evaluation is exact; the model only has to pick the
operation and copy the numbers). A third example turn (a three-way comparison) cost 82
more tokens a step for no gain (36 and 44). This is program-of-thought prompting (Chen
et al., 2022; PAL, Gao et al., 2023) sized for the pool's code models.

A step is a program step when it is a synthesis step with at least two numbers in its
text (earlier answers substituted): "Which took place later, the X (held in 1972) or the Y
(held in 2001)?", "How many years are there between 1979 and 2003?". The expression is
evaluated by ``simpleeval`` (no imports, no private attributes; a whitelist of functions:
arithmetic, argmax/argmin, a bounded ``range``, ``date``, ``timedelta``; string methods),
never by ``eval``. A program may also be an equation in one unknown, which is solved
(`solve`), or lines that define names and end with the answer (`evaluate_program`). One
that does not evaluate to an answer is a `ProgramError`; the caller then asks the same
model plainly (see `execute.StepPrompt`).
"""

from __future__ import annotations

import ast
import datetime
import re
import warnings
from dataclasses import dataclass
from typing import Any

from subroute.decompose import substitute
from subroute.errors import SubrouteError
from subroute.inline import sentences
from subroute.models.base import Message
from subroute.scoring import normalize, parse_set, split_items

_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
_FENCE = re.compile(r"^```(?:python|py)?\s*|\s*```$")

# Few-shot as alternating chat turns (shared MODELS.md: packed shots fail on these models).
PROGRAM_SYSTEM = "Write one Python expression that computes the answer. Output only the expression."
PROGRAM_SHOTS: list[Message] = [
    {"role": "user", "content": "Question: Which was founded earlier, Ash Bank (founded in 1990) or Elm Press (founded in 1975)?"},
    {"role": "assistant", "content": 'argmin({"Ash Bank": 1990, "Elm Press": 1975})'},
    {"role": "user", "content": "Question: How many years are there between 2010 and 1987?"},
    {"role": "assistant", "content": "abs(2010 - 1987)"},
]


# Comparison words and the end of the scale they ask for. Qwen-0.5B writes the function of
# its example turn whatever the question asks: on the 92 program steps of worlds 55, 56, 300
# and 301 (gold steps, 2 to 5 hops) it wrote argmin for 7 of 7 two-way "... later, A or B?"
# steps (the example asks "earlier"); with a "later" example instead it wrote argmax for the
# "earlier" ones (0.57 right in all instead of 0.87), and two examples (one each way) or a
# function named after the question's word ("earlier({...})") did worse (0.78, 0.54).
# Picking the name and copying the numbers it does well; the direction is read here.
_MAX_WORDS = frozenset("later latest last more most larger largest longer longest bigger biggest higher highest "
                       "greater greatest".split())
_MIN_WORDS = frozenset("earlier earliest first fewer fewest less least smaller smallest shorter shortest lower "
                       "lowest".split())
_ARG_CALL = re.compile(r"^(\s*)(argmax|argmin|max|min)(\s*\(\s*\{)")


def asked_extreme(query: str) -> str | None:
    """"max" or "min" when the question's comparison words all ask for one end of the
    scale ("Which took place later, ...?" -> "max"), else None (none, or both)."""
    words = set(re.findall(r"[a-z]+", query.lower()))
    up, down = bool(words & _MAX_WORDS), bool(words & _MIN_WORDS)
    return "max" if up and not down else "min" if down and not up else None


def orient(query: str, expr: str) -> tuple[str, str | None]:
    """An expression that picks from a {name: number} mapping, turned to the end of the
    scale the question asks for; returns the expression and what was changed (or None).
    Only a whole-expression argmax/argmin/max/min over a mapping is turned."""
    want = asked_extreme(query)
    m = _ARG_CALL.match(expr)
    if want is None or m is None or m.group(2).endswith(want):
        return expr, None
    fn = ("arg" if m.group(2).startswith("arg") else "") + want
    return expr[:m.start(2)] + fn + expr[m.end(2):], f"{m.group(2)} read as {fn}: the question asks for the {want}imum"


class ProgramError(SubrouteError):
    """The model's expression could not be evaluated to an answer."""


def numbers_in(text: str) -> list[float]:
    return [float(m.replace(",", "")) for m in _NUMBER.findall(text)]


# Numbers a word problem writes as words ("one for each of her two sons", "twice as old").
# Not "one": it is a pronoun as often as a number ("the one who", "one of them").
_NUMBER_WORDS = re.compile(r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|"
                           r"fifty|hundred|dozens?|twice|thrice|double|triple|half)\b", re.I)


def count_numbers(text: str) -> int:
    """How many numbers `text` states, in digits or in words (`_NUMBER_WORDS`)."""
    return len(numbers_in(text)) + len(_NUMBER_WORDS.findall(text))


# "How many entries are in #2?": the generator's (and so the trained decomposer's) counting step
_COUNT_STEP = re.compile(r"^\s*how many (?:entries|items|elements)(?: are| is)?(?: there)? in #(\d+)\s*\??\s*$",
                         re.IGNORECASE)


def count_step(subtask: str, answers: list[str]) -> tuple[int, int] | None:
    """(k, n) when `subtask` asks how many items earlier answer #k lists ("How many entries
    are in #2?") and that answer lists n (n >= 1); None otherwise. Counting is exact here
    and a guess for a model: on 48 questions each of worlds 300, 900 and 901 (2 to 5 hops,
    16 distractors) the router's models gave the count of the list before them on 4 of 10
    such steps ("1" for "Reivov Pictures, Sailyodeind Press, Feiro Labs")."""
    m = _COUNT_STEP.match(subtask)
    if not m or not 1 <= int(m.group(1)) <= len(answers):
        return None
    k = int(m.group(1))
    n = len(parse_set(answers[k - 1]))  # the items as a list answer is scored
    return (k, n) if n else None


# "Which city appears in both #1 and #3?": the generator's intersection step
_BOTH_STEP = re.compile(r"^\s*(?:which|who)\b(?: [\w-]+)*? appears in both #(\d+) and #(\d+)\s*\??\s*$", re.IGNORECASE)


def intersect_step(subtask: str, answers: list[str]) -> tuple[int, int, list[str]] | None:
    """(k1, k2, items) when `subtask` asks which item appears in both earlier answers #k1 and
    #k2 and the two lists share items (in #k1's order); None otherwise, and when they share
    none (then a model is asked, as before: one of the lists may be incomplete). On 48
    questions each of worlds 300, 301, 900 and 901 the router met 15 such steps; on 2 of the
    4 whose lists shared a name the models picked another ("Webreithwick" for the one city
    of Piaketh on the river of Peshemous)."""
    m = _BOTH_STEP.match(subtask)
    if not m:
        return None
    k1, k2 = int(m.group(1)), int(m.group(2))
    if not (1 <= k1 <= len(answers) and 1 <= k2 <= len(answers)) or k1 == k2:
        return None
    right = {normalize(x) for x in split_items(answers[k2 - 1])}
    common = list(dict.fromkeys(x for x in split_items(answers[k1 - 1]) if normalize(x) in right))
    return (k1, k2, common) if common else None


# A number written with thousands separators ("42,100"), which Python reads as a tuple
_GROUPED = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?![\w.])")


def _ungrouped(text: str) -> str:
    """`text` with the thousands separators of its numbers dropped ("42,100" -> "42100")."""
    return _GROUPED.sub(lambda m: m.group(0).replace(",", ""), text)


# An arithmetic expression written out: numbers joined by operators, with brackets
_NUM = r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?"
_EXPRESSION = re.compile(rf"(?:-?\(\s*)*{_NUM}(?:(?:\s*\))*\s*[-+*/×÷^]\s*(?:-?\(\s*)*{_NUM})+(?:\s*\))*")
# what may stand before it (the request: "Calculate", "What is", "...problem:", a new line) and after it
_BEFORE = re.compile(r"(?:^|[:.\n]|\b(?:is|calculate|compute|evaluate|solve|simplify|of))\s*$", re.I)
_AFTER = re.compile(r"^(?:\s*=\s*\??)?\s*(?:[?.!]|$)")
_EXAMPLE = re.compile(r"\b(?:example|e\.g\.|for instance|such as)", re.I)
_NEGATIVE_BASE = re.compile(r"(?:^|[-+*/×÷^(]\s*)-\s*\d[\d.,]*\s*\^")  # a unary minus before a power


def stated_arithmetic(text: str) -> str | None:
    """The arithmetic expression a question asks to compute, when it writes it out as the
    request ("Calculate ( 56 + -33 ) - 84.", "What is 18 * 43?", "problem: 57 + 87 + 70 =",
    "4.180+(7.365/3.440) = ?"); None otherwise, and when the text writes out more than one
    expression. Not a date ("2022-10-28"), a range ("2-4 hops"), an equation with its value
    ("3 + 4 = 7"), an example of the answer's form, or a power of a negative number."""
    found, candidates = [], 0
    for m in _EXPRESSION.finditer(text):
        expr = m.group(0).strip()
        while expr.count("(") > expr.count(")") and expr.startswith("("):
            expr = expr[1:].strip()
        while expr.count(")") > expr.count("(") and expr.endswith(")"):
            expr = expr[:-1].strip()
        if expr.count("(") != expr.count(")"):
            continue
        # a bare "-" between digits is a date or a range; any other operator, spaces or brackets make it arithmetic
        if not re.search(r"[+*/×÷^()]|\s-|-\s", expr):
            continue
        candidates += 1
        before, after = text[:m.start()], _AFTER.match(text[m.end():])
        # the request itself, not a statement before the question ("The fee is 5 * 100. How many ...?"),
        # nor an example of the answer's form ("(Example: for 12 the answer would be: 2 × 2 × 3)")
        if (_BEFORE.search(before) and after and "?" not in text[m.end() + after.end():]
                and before.count("(") <= before.count(")") and not _EXAMPLE.search(before[-60:])):
            found.append(expr)
    # "-352.3345^-2": a power of a negative number or the negative of a power; the text does not say
    if len(found) != 1 or candidates != 1 or _NEGATIVE_BASE.search(found[0]):
        return None
    return _ungrouped(found[0]).replace("×", "*").replace("÷", "/").replace("^", "**")


COUNTED = "count"  # a step's "model" when it was counted, not asked
INTERSECTED = "intersect"  # ... when its lists were intersected
COMPUTED = "compute"  # ... when it wrote out the arithmetic it asks for, evaluated
EXACT = frozenset({COUNTED, INTERSECTED, COMPUTED})


def exact_step(subtask: str, answers: list[str], *, compute: bool = True) -> tuple[str, str, str] | None:
    """(kind, answer, note) for a step computed exactly from earlier answers, with no model
    call: a count of a list (`count_step`), the items two lists share (`intersect_step`), or,
    with `compute` (a program step), the arithmetic it writes out (`stated_arithmetic`, earlier
    answers filled in: "What is 3 * #2?"); None for a step a model must answer."""
    expr = stated_arithmetic(substitute(subtask, answers)) if compute else None
    if expr is not None:
        try:
            return COMPUTED, run_program(expr), f"evaluated {expr} as written; no call"
        except ProgramError:
            pass  # 1 / 0, a power too large: a model is asked
    c = count_step(subtask, answers)
    if c is not None:
        k, n = c
        return COUNTED, str(n), f"counted the {n} item(s) of #{k}'s answer; no call"
    i = intersect_step(subtask, answers)
    if i is not None:
        k1, k2, items = i
        return INTERSECTED, ", ".join(items), f"the item(s) #{k1} and #{k2} both list; no call"
    return None


def is_program_step(query: str, *, synthesis: bool) -> bool:
    """A synthesis step that computes over two or more numbers in its text (in digits or in
    words, `count_numbers`), or over the letters or words of a text it quotes (`quotes_text`)."""
    return synthesis and (count_numbers(query) >= 2 or quotes_text(query))


# The whole question as one program (the gate's whole-question route, `gate.program_text`):
# word problems and equations, not DecompBench's comparison steps. On the 51 number questions
# of the route policy's training data (reasoning-gym seed 1, 12 tasks), asked as programs by
# the default router: 31 right at $0.00171 with these shots, 25 at $0.00185 with the step
# shots above (`python benchmarks/bench_programs.py`). An equation is copied, not solved by
# the model: `run_program` solves it (Qwen-0.5B rearranged "12*z - 98 = 490" into
# "(490 - 98) / 12").
WHOLE_PROGRAM_SHOTS: list[Message] = [
    {"role": "user", "content": "Question: A crate holds 12 jars. Ines fills 3 crates and drops 5 jars. "
                                "How many jars are left?"},
    {"role": "assistant", "content": "12 * 3 - 5"},
    {"role": "user", "content": "Question: Solve for y: 4*y + 7 = 31"},
    {"role": "assistant", "content": "4*y + 7 = 31"},
]


# A whole question that picks one of the things it states by a number ("Which tunnel is the
# longest?", "Who is younger, Ada or Tom?") is one program too, an argmax/argmin over what
# it states, asked with a pick example turn instead of the word problems.
WHOLE_PICK_SHOTS: list[Message] = [
    {"role": "user", "content": "Question: The Ash Bridge is 120 metres long. The Elm Bridge is 95 metres long and "
                                "the Oak Bridge 140 metres. Which bridge is the shortest?"},
    {"role": "assistant", "content": 'argmin({"Ash Bridge": 120, "Elm Bridge": 95, "Oak Bridge": 140})'},
]
# A question about a text it quotes ("How many times does the letter "s" appear in "..."?"):
# a model miscounts letters it reads as tokens, a string method counts them.
WHOLE_TEXT_SHOTS: list[Message] = [
    {"role": "user", "content": 'Question: How many times does "o" appear in the words "good food"?'},
    {"role": "assistant", "content": '"good food".count("o")'},
]
# A question about calendar dates: the weekday of a date, the days between two.
WHOLE_DATE_SHOTS: list[Message] = [
    {"role": "user", "content": "Question: What day of the week was March 3, 2021?"},
    {"role": "assistant", "content": 'date(2021, 3, 3).strftime("%A")'},
    {"role": "user", "content": "Question: How many days are there from December 25, 2020 to March 3, 2021?"},
    {"role": "assistant", "content": "(date(2021, 3, 3) - date(2020, 12, 25)).days"},
]
# A question about clock times: a duration is one timedelta less another.
WHOLE_TIME_SHOTS: list[Message] = [
    {"role": "user", "content": "Question: A train left at 08:15 and arrived at 16:40. How long was the trip?"},
    {"role": "assistant", "content": "timedelta(hours=16, minutes=40) - timedelta(hours=8, minutes=15)"},
]
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?\b")
_PICK_WORDS = _MAX_WORDS | _MIN_WORDS | frozenset(
    "younger youngest older oldest elder eldest newer newest taller tallest heavier heaviest lighter lightest "
    "cheaper cheapest faster fastest slower slowest farther farthest further furthest closer closest nearer "
    "nearest deeper deepest wider widest richer richest".split())
_PICK_START = re.compile(r"^\s*(?:(?:which|who|whom)(?:\s+of)?|name|of)\b", re.I)
_PICK_WORD = re.compile(r"\b(?:" + "|".join(sorted(_PICK_WORDS, key=len, reverse=True)) + r")\b", re.I)
_QUOTED = re.compile(r'"[^"]+"|“[^”]+”|(?<!\w)\'[^\']+\'(?!\w)')
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DATE = re.compile(rf"\b(?:(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS}),?"
                   rf"\s+\d{{4}}|(?:{_MONTHS})\s+\d{{4}}|\d{{1,2}}/\d{{1,2}}/\d{{4}}|\d{{4}}-\d{{2}}-\d{{2}})\b", re.I)
_ASKS_DAY = re.compile(r"\bday of the week\b|\bweekday\b|\bwhat day\b", re.I)


def asks_pick(question: str) -> bool:
    """A question that picks one of the things it is about by a comparison ("Which tunnel is
    the longest?", "Who was born earlier, A or B?", "Which of the rivers is longer?"). Not
    one that asks about the thing picked ("Who founded the oldest of A, B and C?", "What is
    the population of the largest city?"): there the comparison sits after an "of"."""
    start, word = _PICK_START.match(question), _PICK_WORD.search(question)
    if start is None or word is None or word.start() < start.end():
        return False
    before, after = question[start.end():word.start()], question[word.end():]
    return not re.search(r"\b(?:of|whose)\b", before, re.I) and not re.match(r"\s+of\b", after, re.I)


_TEXT_UNITS = re.compile(r"\b(?:letter|character|word|vowel|consonant|digit|syllable|space)s?\b", re.I)


def quotes_text(question: str) -> bool:
    """A question about the letters or words of a text it quotes ("How many times does the
    letter "s" appear in "has been so long"?"); not one that quotes a title."""
    return bool(_QUOTED.search(question) and _TEXT_UNITS.search(question))


def names_date(text: str) -> bool:
    """Text that names a calendar date ("October 28, 2022", "3 March 2021", "05/04/2022")."""
    return bool(_DATE.search(text))


def asks_day(question: str) -> bool:
    """A question that asks for a day of the week ("What day of the week was ...?")."""
    return bool(_ASKS_DAY.search(question))


def whole_program_shots(query: str) -> list[Message]:
    """The example turns for a whole question asked as a program: a pick, a question about
    calendar dates or clock times, one about a text it quotes, or a word problem (and
    equations)."""
    last = (sentences(query)[-1:] or [query])[0]
    if asks_pick(last):
        return WHOLE_PICK_SHOTS
    if names_date(query):
        return WHOLE_DATE_SHOTS
    if _CLOCK.search(query):
        return WHOLE_TIME_SHOTS
    if quotes_text(last):
        return WHOLE_TEXT_SHOTS
    return WHOLE_PROGRAM_SHOTS


def program_messages(query: str, shots: list[Message] | None = None) -> list[Message]:
    """The program prompt for `query`: the step shots, or `shots` (`WHOLE_PROGRAM_SHOTS`)."""
    return [{"role": "system", "content": PROGRAM_SYSTEM}, *(PROGRAM_SHOTS if shots is None else shots),
            {"role": "user", "content": f"Question: {query.strip()}"}]


def _arg(pick):
    def f(d: Any) -> Any:
        if not isinstance(d, dict) or not d:
            raise ProgramError("argmin/argmax take a non-empty {name: number} mapping")
        return pick(d, key=d.get)
    return f


def _extreme(pick):
    # max/min over a {name: number} mapping compare the numbers (Python would compare the names)
    def f(*args: Any, **kw: Any) -> Any:
        if len(args) == 1 and isinstance(args[0], dict) and not kw:
            return _arg(pick)(args[0])
        return pick(*args, **kw)
    return f


MAX_RANGE = 100_000  # a range a program may walk (the days of a few centuries); sum(range(10**12)) would hang


def _range(*args: int) -> range:
    r = range(*args)
    if len(r) > MAX_RANGE:
        raise ProgramError(f"range of {len(r)} numbers (at most {MAX_RANGE})")
    return r


FUNCTIONS = {
    "abs": abs, "round": round, "len": len, "sum": sum, "sorted": sorted, "int": int, "float": float,
    "max": _extreme(max), "min": _extreme(min), "argmax": _arg(max), "argmin": _arg(min), "range": _range,
    # calendar arithmetic as code models write it: date(2022, 10, 28).strftime("%A"), (d2 - d1).days
    "date": datetime.date, "timedelta": datetime.timedelta,
}


def format_value(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        raise ProgramError(f"the expression gave {v!r}, not an answer")
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise ProgramError(f"the expression gave {v!r}")
        # 12 significant digits: exact for what people compute by hand, and 0.1 + 0.2 prints 0.3
        return str(int(v)) if v.is_integer() else f"{v:.12g}"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        if not v.strip():
            raise ProgramError("the expression gave an empty string")
        return v.strip()
    if isinstance(v, datetime.date):
        return v.isoformat()
    if isinstance(v, datetime.timedelta):  # whole days as a number of days, else hours:minutes:seconds
        secs = v.total_seconds()
        if secs % 86400 == 0:
            return str(v.days)
        sign, s = ("-", int(-secs)) if secs < 0 else ("", int(secs))
        return f"{sign}{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    if isinstance(v, (list, tuple, set)):
        return ", ".join(format_value(x) for x in (sorted(v, key=str) if isinstance(v, set) else v))
    raise ProgramError(f"the expression gave a {type(v).__name__}, not an answer")


def _top_level_sides(line: str) -> list[str]:
    """`line` cut at each "=" outside brackets and strings (not a keyword argument's)."""
    cuts, depth, quote = [], 0, ""
    for m in re.finditer(r"""[()\[\]{}"']|(?<![=!<>])=(?!=)""", line):
        ch = m.group(0)
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif depth == 0:
            cuts.append(m.start())
    bounds = [-1, *cuts, len(line)]
    return [line[a + 1:b].strip() for a, b in zip(bounds, bounds[1:])]


def _evaluate(expr: str, names: dict[str, Any]) -> Any:
    from simpleeval import EvalWithCompoundTypes

    ev = EvalWithCompoundTypes(functions=FUNCTIONS, names=names)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ev.eval(expr)
            # "42,100 * 3" copies the question's "42,100 residents": a tuple is never the
            # answer, so such numbers are read whole ("range(1,100)" is left alone: no tuple)
            if isinstance(value, tuple) and _GROUPED.search(expr):
                value = ev.eval(_ungrouped(expr))
            return value
    except ProgramError:
        raise
    except Exception as e:  # simpleeval's own errors, arithmetic errors, a date that does not exist
        raise ProgramError(f"cannot evaluate {expr[:60]!r}: {type(e).__name__}") from None


def _free_names(tree: ast.AST) -> set[str]:
    """Names an expression reads that neither a function nor its own comprehensions define."""
    bound = {n.id for c in ast.walk(tree) if isinstance(c, ast.comprehension)
             for n in ast.walk(c.target) if isinstance(n, ast.Name)}
    called = {c.func.id for c in ast.walk(tree) if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} - bound - (called & FUNCTIONS.keys())


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ProgramError("an equation's sides must be numbers")
    return float(v)


def solve(left: str, right: str, x: str, names: dict[str, Any] | None = None) -> float:
    """The value of `x` that makes `left` equal `right` (secant steps: exact in one for a
    linear equation, which is what word problems and "Solve for y" give); a `ProgramError`
    when there is none near, or the equation does not hold at the value found."""
    env = dict(names or {})

    def sides(v: float) -> tuple[float, float]:
        env[x] = v
        return _number(_evaluate(left, env)), _number(_evaluate(right, env))

    def f(v: float) -> float:
        a, b = sides(v)
        return a - b

    a, b = 1.0, 2.0
    fa, fb = f(a), f(b)
    for _ in range(60):
        if fb == 0 or fa == fb:
            break
        a, b, fa = b, b - fb * (b - a) / (fb - fa), fb
        fb = f(b)
    if b != b or abs(b) == float("inf"):
        raise ProgramError(f"no value of {x} solves {left} = {right}")
    if abs(b - round(b)) < 1e-9:
        b = float(round(b))
    lhs, rhs = sides(b)
    if abs(lhs - rhs) > 1e-9 * max(1.0, abs(lhs), abs(rhs)):
        raise ProgramError(f"no value of {x} solves {left} = {right}")
    return b


def _line(line: str, names: dict[str, Any]) -> tuple[Any, bool, str]:
    """One line of a program: (its value, whether it defined a name, the part of it that was
    evaluated). A line is an expression; "NAME = expression" (the name is defined); an
    equation in one unknown ("2675 - 99 = 46*y": solved for it); or an expression followed by
    its value as the model worked it out ("8 - 4 = 4": the expression is evaluated, the
    model's arithmetic is not read). Raises SyntaxError for a line that is not Python (prose
    after the program)."""
    parts = _top_level_sides(line)
    if len(parts) == 1:
        ast.parse(line, mode="eval")
        return _evaluate(line, names), False, line
    if not all(parts):
        raise ProgramError(f"cannot evaluate {line[:60]!r}: an '=' with nothing on one side")
    trees = [ast.parse(parts[0], mode="eval")]
    try:
        trees += [ast.parse(p, mode="eval") for p in parts[1:]]
    except SyntaxError:  # "timedelta(...) - timedelta(...) = 00:34:28": the model's value, written as it reads
        return _evaluate(parts[0], names), False, parts[0]
    reads = [_free_names(t) - names.keys() for t in trees]
    free = set().union(*reads)
    if not free:
        return _evaluate(parts[0], names), False, parts[0]
    if len(free) > 1 or len(parts) > 2:
        raise ProgramError(f"cannot evaluate {line[:60]!r}: {', '.join(sorted(free))} not defined")
    (x,) = free
    left, right = parts
    if left == x and x not in reads[1]:
        names[x] = _evaluate(right, names)
    else:
        names[x] = solve(left, right, x, names)
    return names[x], True, line


@dataclass(frozen=True)
class ProgramRun:
    """A program's answer, the part of the model's text that was evaluated (`used`), and
    whether that was all of it (`whole`: nothing after it went unread)."""

    answer: str
    used: str
    whole: bool


_LEADING_ZEROS = re.compile(r"(?<![\w.])0+(?=\d)")
_STRING = re.compile(r"(\"[^\"]*\"|'[^']*')")


def _unpadded(line: str) -> str:
    """`line` with the leading zeros of its integers dropped outside strings: models copy
    clock times and dates as written ("seconds=08", "date(2994, 02, 15)"), which Python 3
    does not parse."""
    return "".join(part if i % 2 else _LEADING_ZEROS.sub("", part) for i, part in enumerate(_STRING.split(line)))


def evaluate_program(text: str) -> ProgramRun:
    """Evaluate a model's program safely: one expression, an equation in one unknown (solved),
    or lines that define names and end with the answer's (see `_line`); what follows the
    program (prose, the model's own arithmetic after an "=") is not read."""
    expr = _FENCE.sub("", text.strip()).strip().strip("`").strip()
    lines = [ln.strip() for ln in expr.splitlines() if ln.strip()]
    if not lines:
        raise ProgramError("the model wrote no expression")
    names: dict[str, Any] = {}
    value: Any = None
    used: list[str] = []
    for i, line in enumerate(lines):
        unpadded = _unpadded(line)
        try:
            value, defined, part = _line(unpadded, names)
            if unpadded != line:  # what was evaluated, as the model wrote it (for its tokens' confidence)
                part = line if part == unpadded else _top_level_sides(line)[0]
        except SyntaxError:
            if i == 0:
                raise ProgramError(f"cannot evaluate {line[:60]!r}: SyntaxError") from None
            break  # a model that goes on explaining wrote its program first
        used.append(part)
        if not defined:  # an expression is the program's answer; what follows is not read
            break
    whole = len(used) == len(lines) and used[-1] == lines[-1]
    return ProgramRun(format_value(value), "\n".join(used), whole)


def run_program(text: str) -> str:
    """A model's program evaluated safely, its answer as text (`evaluate_program`)."""
    return evaluate_program(text).answer
