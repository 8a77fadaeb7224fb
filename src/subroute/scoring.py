"""Scoring answers: the same code grades the benchmark and pays the RL reward.

- normalisation as in SQuAD: lower case, no punctuation, no articles, single spaces;
- `em`: the normalised prediction equals a normalised alias;
- `f1`: token F1 against the best alias;
- `correct`: `em`, or (PopQA-style answer containment) a short prediction (at most 12
  tokens) that contains an alias as a whole phrase. Small models often answer "Mirela Voss
  was born in Tarnholm." for "Tarnholm"; counting that as wrong would measure phrasing, not
  knowledge. The length bound, and refusing hedges ("X or Y"), keep guesses from scoring;
- numbers: a numeric gold answer matches a prediction whose only number equals it
  ("76 years" for 76);
- set answers: the prediction is split into items ("A, B and C"); set F1 is computed
  between item sets; `correct` means the sets are equal.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation + "“”‘’")
_NUM = re.compile(r"-?\d+(?:[.,]\d+)?")
_SPLIT = re.compile(r"\s*(?:,|;|\n|\band\b|&)\s*")
MAX_CONTAIN_TOKENS = 12


def normalize(text: str) -> str:
    t = text.lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", t).split())


def token_f1(pred: str, gold: str) -> float:
    p, g = normalize(pred).split(), normalize(gold).split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    prec, rec = common / len(p), common / len(g)
    return 2 * prec * rec / (prec + rec)


@dataclass(frozen=True)
class Score:
    correct: bool
    em: bool
    f1: float


def _numbers(text: str) -> list[float]:
    return [float(x.replace(",", "")) for x in _NUM.findall(text)]


def score_answer(prediction: str, answer: str, aliases: Iterable[str] = ()) -> Score:
    golds = [g for g in {answer, *aliases} if g and g.strip()]
    np_ = normalize(prediction)
    em = any(np_ == normalize(g) for g in golds)
    f1 = max((token_f1(prediction, g) for g in golds), default=0.0)
    correct = em
    hedged = " or " in f" {np_} "
    if not correct and np_ and not hedged and len(np_.split()) <= MAX_CONTAIN_TOKENS:
        padded = f" {np_} "
        correct = any(normalize(g) and not _numbers(g) and f" {normalize(g)} " in padded for g in golds)
    if not correct:
        gold_nums = [_numbers(g) for g in golds]
        pred_nums = _numbers(prediction)
        correct = len(pred_nums) == 1 and any(len(n) == 1 and n[0] == pred_nums[0] for n in gold_nums)
    return Score(bool(correct), em, f1)


def split_items(text: str) -> list[str]:
    """The items of a list answer as written, in order, repeats kept ("A, B and A" ->
    ["A", "B", "A"]): split on commas, semicolons, new lines, "and" and "&"."""
    return [x.strip() for x in _SPLIT.split(text) if x.strip()]


def parse_set(prediction: str) -> set[str]:
    return {normalize(x) for x in split_items(prediction) if normalize(x)}


def score_set(prediction: str, answer_set: Iterable[str]) -> Score:
    gold = {normalize(x) for x in answer_set if normalize(x)}
    pred = parse_set(prediction)
    if not gold:
        return Score(not pred, not pred, float(not pred))
    tp = len(gold & pred)
    f1 = 0.0 if tp == 0 else 2 * tp / (len(gold) + len(pred))
    return Score(pred == gold, pred == gold, f1)


def score_example(prediction: str, example) -> Score:
    """Score against an `Example` (or anything with `answer`, `aliases`, `answer_set`)."""
    answer_set = getattr(example, "answer_set", None)
    if answer_set:
        return score_set(prediction, answer_set)
    return score_answer(prediction, example.answer, getattr(example, "aliases", None) or ())


def score_step(prediction: str, step) -> Score:
    """Score a step answer against a gold step (`answer`, `aliases`, optional `answer_set`)."""
    if getattr(step, "answer_set", None):
        return score_set(prediction, step.answer_set)
    return score_answer(prediction, step.answer, getattr(step, "aliases", ()) or ())


def hop_match(predictions: list[str], gold_steps) -> list[bool]:
    """Per-hop match of step answers against gold steps (with aliases and answer sets)."""
    return [score_step(p, g).correct for p, g in zip(predictions, gold_steps)]
