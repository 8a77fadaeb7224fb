import pytest

from subroute.records import Example, GoldStep
from subroute.scoring import hop_match, normalize, parse_set, score_answer, score_example, score_set, token_f1


def test_normalize():
    assert normalize("  The River  Ambrel! ") == "river ambrel"


@pytest.mark.parametrize("pred, gold, aliases, correct, em", [
    ("Tarnholm", "Tarnholm", (), True, True),
    ("tarnholm.", "Tarnholm", (), True, True),
    ("Mirela Voss was born in Tarnholm.", "Tarnholm", (), True, False),
    ("Quellin", "Tarnholm", (), False, False),
    ("Tarnholmsby", "Tarnholm", (), False, False),  # whole phrases only
    ("It was Tarnholm or Quellin or Kessel or Dravik or maybe Sele, Ambrel, Vask, Orn, Pell, Tove", "Tarnholm", (), False, False),
    ("Tarnholm or Quellin", "Tarnholm", (), False, False),
    ("the Ambrel", "River Ambrel", ("Ambrel",), True, True),
    ("76 years", "76", (), True, False),
    ("76 or 77", "76", (), False, False),
    ("1958", "1931", (), False, False),
    ("", "Tarnholm", (), False, False),
])
def test_score_answer(pred, gold, aliases, correct, em):
    s = score_answer(pred, gold, aliases)
    assert (s.correct, s.em) == (correct, em)


def test_token_f1():
    assert token_f1("river Ambrel", "Ambrel") == pytest.approx(2 / 3)
    assert token_f1("x", "y") == 0.0


def test_sets():
    assert parse_set("Kessel, Quellin and Tarnholm") == {"kessel", "quellin", "tarnholm"}
    s = score_set("Kessel and Quellin", ["Quellin", "Kessel", "Tarnholm"])
    assert not s.correct and s.f1 == pytest.approx(0.8)
    assert score_set("Tarnholm; Kessel; Quellin", ["Quellin", "Kessel", "Tarnholm"]).correct
    assert score_example("Kessel, Quellin", Example("e", "q", "Kessel, Quellin", answer_set=["Quellin", "Kessel"])).correct


def test_hop_match():
    steps = [GoldStep("a", "Mirela Voss"), GoldStep("b", "Tarnholm", aliases=("Tarnholm town",))]
    assert hop_match(["Mirela Voss", "Quellin"], steps) == [True, False]
