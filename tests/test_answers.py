"""Answer-shape rules: what a later step can use as #k, loops, echoes."""


from subroute.models.base import Completion, Usage


def test_echoes_only_flags_lookups_that_repeat_their_question():
    from subroute.answers import echoes

    assert echoes("The Loushith Hours", "Who directed The Loushith Hours?")
    assert echoes("Tranelo", "In which country is Tranelo?")
    assert not echoes("Mirela Voss", "Who founded Voss Glassworks?")
    assert not echoes("Songs of Lago", "Which came out later, Beyond Jastor or Songs of Lago?")  # a choice
    assert not echoes("10", "How many years are there between 1910 and 1920?")  # words, not characters
    assert not echoes("", "Who founded Voss Glassworks?")


def test_list_answers_are_not_rambling():
    from subroute.answers import step_confidence
    from subroute.models.base import TokenLogprob

    c = Completion("s", "Doupark Regatta, Nabund Expedition and Tudrazain Tournament", Usage(1, 1),
                   tokens=[TokenLogprob("x", -0.01)])
    assert step_confidence(c, 0.1) > 0.9
    c.text = "Mirela Voss was born in Tarnholm in 1931."
    assert step_confidence(c, 0.1) == 0.0
    c.text = "Vialalorton, Vialalorton, Vialalorton, Vialalorton, Vialal"  # a loop, cut off by max_tokens
    assert step_confidence(c, 0.1) == 0.0


def test_a_looping_list_is_not_an_answer_a_later_step_can_use():
    from subroute.answers import is_short_answer

    assert not is_short_answer("Nastamund, Nastamund, Nastamund, Nastamund")
    assert not is_short_answer("Ash Bank, ash bank and Ash Bank")
    assert is_short_answer("Ash Bank, Ash Bank")  # a repeat, not yet a loop
    assert is_short_answer("Ash Bank, Elm Press and Oak Mill")
