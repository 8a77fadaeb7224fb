"""Context that stands in the question: statements before the question become its context."""

import pytest

from subroute.inline import sentences, split_inline


def test_statements_before_the_question_are_its_context():
    s = split_inline("Mirela Voss was born in Quenhollow. Caius Voss is her brother. "
                     "Where was the sister of Caius Voss born?")
    assert s.question == "Where was the sister of Caius Voss born?"
    assert s.statements == ["Mirela Voss was born in Quenhollow.", "Caius Voss is her brother."]
    assert s.context() == "Mirela Voss was born in Quenhollow. Caius Voss is her brother."  # one passage
    assert s.context("Doc one.") == "Doc one.\n\nMirela Voss was born in Quenhollow. Caius Voss is her brother."
    assert "2 statement(s)" in s.note


@pytest.mark.parametrize("message", [
    "Where was Mirela Voss born?",
    "Who founded Elm Press, and where was that person born?",
    "Tell me about Elm Press.",  # asks nothing with a question mark: left alone
    "Is it true? Mirela was born in Quenhollow.",
    "Who is Caius? Mirela is his sister. Where was she born?",  # a question among the statements
])
def test_a_message_without_leading_statements_is_left_as_it_is(message):
    s = split_inline(message)
    assert s.question == message and s.statements == [] and s.how is None and s.note is None


def test_a_question_line_splits_a_pasted_context():
    s = split_inline("Context:\nVoss was born in Tarnholm.\n\nQuestion: Where was Voss born?")
    assert (s.question, s.statements, s.how) == ("Where was Voss born?", ["Voss was born in Tarnholm."], "question line")
    s = split_inline("Facts: A is 3. B is 4.\nQ: What is A + B?")
    assert (s.question, s.statements) == ("What is A + B?", ["A is 3. B is 4."])


def test_documents_pasted_above_a_last_paragraph_that_asks():
    s = split_inline("Elm Press was founded by Ada Lind.\nIt is in Kessel.\n\nAda Lind was born in Tarnholm.\n\n"
                     "Where was the founder of Elm Press born?")
    assert s.question == "Where was the founder of Elm Press born?"
    assert s.statements == ["Elm Press was founded by Ada Lind.\nIt is in Kessel.\n\nAda Lind was born in Tarnholm."]


def test_word_problems_keep_their_numbers_in_the_context():
    s = split_inline("A shop sells pens at 3 dollars each. Tom buys 4 pens and pays with a 20 dollar bill. "
                     "How much change does he get?")
    assert s.question == "How much change does he get?" and "3 dollars" in s.context() and "20 dollar" in s.context()


def test_an_imperative_last_sentence_is_the_question():
    s = split_inline("Hesper Quayle wrote 'Salt Under the Lintel'. She was born in Mornisk. "
                     "Name the town where the writer of 'Salt Under the Lintel' was born.")
    assert s.question.startswith("Name the town") and len(s.statements) == 2


def test_given_that_clauses_are_statements():
    s = split_inline("Given that Saffi Marrow's employer is Quillon Robotics, and that Quillon Robotics is based in "
                     "Brenlow, which town is Saffi Marrow's employer based in?")
    assert s.question == "Which town is Saffi Marrow's employer based in?"
    assert s.statements == ["Saffi Marrow's employer is Quillon Robotics.", "Quillon Robotics is based in Brenlow."]
    s = split_inline("Given that Mirela Voss was born in Tarnholm, in which country was she born?")
    assert (s.question, s.statements) == ("In which country was she born?", ["Mirela Voss was born in Tarnholm."])


def test_sentences_keep_abbreviations_and_decimals():
    assert sentences("Dr. Voss paid 3.5 dollars. She left.") == ["Dr. Voss paid 3.5 dollars.", "She left."]


def test_a_question_line_with_nothing_after_it_is_an_empty_question():
    s = split_inline("Context: x\nQuestion: ")
    assert s.question == "" and s.statements == ["x"]


def test_the_decomposer_reads_a_short_setup_but_not_a_list_of_facts():
    from subroute.inline import SETUP_WORDS

    setup = split_inline("Think of the founder of Voss Glassworks. Where was that person born?")
    assert setup.how == "statements" and setup.question == "Where was that person born?"
    assert setup.for_decomposer == "Think of the founder of Voss Glassworks. Where was that person born?"
    facts = " ".join(["Mirela Voss was born in Tarnholm in the north of the old country."] * 4)
    assert len(facts.split()) > SETUP_WORDS
    many = split_inline(f"{facts} Where was Mirela Voss born?")
    assert many.statements and many.for_decomposer == "Where was Mirela Voss born?"
    given = split_inline("Given that Mirela Voss founded Voss Glassworks, where was Mirela Voss born?")
    assert given.how == "given" and given.for_decomposer == "Where was Mirela Voss born?"
    line = split_inline("Context: Mirela Voss was born in Tarnholm.\nQuestion: Where was Mirela Voss born?")
    assert line.for_decomposer == "Where was Mirela Voss born?"
    alone = split_inline("Where was Mirela Voss born?")
    assert alone.for_decomposer == "Where was Mirela Voss born?"
