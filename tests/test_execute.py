"""The executor: one step at a time, earlier answers filled in, the passages it needs, and the
fallbacks a step takes (escalation, reuse, computed steps, cut lists asked again)."""

from subroute.allocate import ConfidenceAllocator, FixedAllocator
from subroute.decompose import PromptedDecomposer
from subroute.execute import substitute
from subroute.models.base import Completion, Usage
from subroute.reasoner import Reasoner
from subroute.trace import CallRecord
from tests.fakes import VOSS_CONTEXT, ScriptedModel, make_pool, voss_chain


class _Lister(ScriptedModel):
    """Answers with the whole list, cut (finish_reason "length") at max_tokens words."""

    def generate(self, messages, params):
        c = super().generate(messages, params)
        words = c.text.split()
        if len(words) <= params.max_tokens:
            return c
        text = " ".join(words[:params.max_tokens])
        return Completion(c.model, text, Usage(c.usage.input_tokens, params.max_tokens), finish_reason="length",
                          tokens=c.tokens[:params.max_tokens] if c.tokens else None)


def test_substitute_fills_earlier_answers_only():
    assert substitute("Where was #1 born, near #2 or #12?", ["Mirela Voss", "Kessel"]) == "Where was Mirela Voss born, near Kessel or #12?"


def test_each_step_sees_only_its_passages():
    pool, small, large, dec = voss_chain()
    Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5))).answer("Q?", VOSS_CONTEXT)
    step2 = small.prompts[1][-1]["content"]
    assert "Mirela Voss was born in Tarnholm." in step2
    assert "Orvane Foods" not in step2


def test_empty_answer_escalates_and_is_noted():
    pool, small, large, dec = voss_chain()
    small.rules["Who founded"] = ("", 0.99)
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), FixedAllocator("s")).answer("Q?", VOSS_CONTEXT)
    assert t.steps[0].answer == "Velmark" or t.steps[0].model != "s"
    assert any("empty answer; escalated" in n for n in t.notes)


def test_a_repeated_lookup_reuses_the_earlier_answer_without_a_call():
    # a decomposer that looks the same fact up twice (as after a comparison) pays for it once
    pool, small, large, dec = voss_chain("1. Who founded Voss Glassworks?\n2. Where was #1 born?\n"
                                     "3. who founded the Voss Glassworks")
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5))).answer("Q?", VOSS_CONTEXT)
    assert t.answer == "Mirela Voss" and t.steps[2].calls == [] and t.steps[2].model == "s"
    assert sum(1 for p in small.prompts if "Who founded" in p[-1]["content"]) == 1
    assert "step 3: same question as step 1; its answer reused" in t.notes
    from subroute.cli.ask import format_trace

    assert "0 call(s) · $0.0000000 · same question as step 1" in format_trace(t)
    # a different question about the same entity is asked
    pool, small, *_ = voss_chain("1. Who founded Voss Glassworks?\n2. When was Voss Glassworks founded?")
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5))).answer("Q?", VOSS_CONTEXT)
    assert all(s.calls for s in t.steps)


def test_query_key_ignores_case_punctuation_and_articles_only():
    from subroute.execute import query_key

    assert query_key("What is the length of the Seisalov River?") == query_key("what is the length of Seisalov River")
    assert query_key("Where was Mira born?") != query_key("When was Mira born?")
    assert query_key("Who wrote Anthem?") != query_key("Who wrote Them?")


def test_a_lookup_answer_that_repeats_its_question_is_escalated():
    # "Who founded Voss Glassworks?" -> "Voss Glassworks", confidently: small models do this
    pool, small, large, dec = voss_chain("1. Who founded Voss Glassworks?\n2. Where was #1 born?")
    small.rules["Who founded"] = ("Voss Glassworks", 0.99)
    large.default = ("Mirela Voss", 0.99)
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5))).answer("Q?", VOSS_CONTEXT)
    s1 = t.steps[0]
    assert (s1.model, s1.answer, s1.confidence) == ("l", "Mirela Voss", 0.0)
    assert [c.role for c in s1.calls] == ["probe", "step"]
    assert s1.calls[0].note == "the answer only repeats the question"
    from subroute.cli.ask import format_trace

    assert "escalated: s said 'Voss Glassworks', which only repeats the question" in format_trace(t)
    assert t.steps[1].query == "Where was Mirela Voss born?"


def test_a_counting_step_counts_the_list_before_it_without_a_call():
    pool, small, large, dec = voss_chain("1. Which companies did Mirela Voss found?\n2. How many entries are in #1?")
    small.rules["Which companies"] = ("Voss Glassworks, Orvane Foods and Kessel Bread", 0.95)
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5))).answer("Q?", VOSS_CONTEXT)
    s2 = t.steps[1]
    assert (t.answer, s2.calls, s2.cost, s2.model) == ("3", [], 0, "count")
    assert s2.note == "counted the 3 item(s) of #1's answer; no call"
    assert not any("How many" in p[-1]["content"] for p in small.prompts + large.prompts)
    from subroute.cli.ask import format_trace

    assert "count · 0 call(s) · $0.0000000 · counted the 3 item(s) of #1's answer; no call" in format_trace(t)


def test_an_intersection_step_lists_what_both_answers_share_without_a_call():
    pool, small, large, dec = voss_chain("1. Which cities are in Velmark?\n2. Which cities lie on the Ambrel?\n"
                                     "3. Which city appears in both #1 and #2?")
    small.rules["Which cities are in"] = ("Tarnholm, Kessel and Quellin", 0.95)
    small.rules["Which cities lie on"] = ("Ostby, Quellin", 0.95)
    small.rules["Which city appears"] = ("Kessel", 0.95)  # what a model guessed
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5))).answer("Q?", VOSS_CONTEXT)
    s3 = t.steps[2]
    assert (t.answer, s3.calls, s3.model, s3.note) == ("Quellin", [], "intersect",
                                                        "the item(s) #1 and #2 both list; no call")
    # lists that share nothing: a model is asked, as before (one of them may be incomplete)
    small.rules["Which cities lie on"] = ("Ostby", 0.95)
    t = Reasoner(pool, PromptedDecomposer(pool, "d"), ConfidenceAllocator((0.8, 0.5))).answer("Q?", VOSS_CONTEXT)
    assert t.answer == "Kessel" and t.steps[2].calls


def test_a_list_cut_by_the_token_limit_is_asked_again_with_room():
    from subroute.execute import LIST_MAX_TOKENS, step_prompt

    cities = ", ".join(f"City{i}" for i in range(60))  # 60 words: over the step's 48, under LIST_MAX_TOKENS
    m = _Lister("s", {"Which cities": (cities, 0.9), "Who": (" ".join(["word"] * 60), 0.9)})
    pool = make_pool({"s": ("small", 1.0, m)})
    p = step_prompt("Which cities are in Piaketh?", synthesis=False, retriever=None, budget=100)
    c = p.ask(pool["s"], 48)
    assert c.text == cities and c.extra.get("relisted")
    assert c.usage.output_tokens == 48 + 60 and len(m.prompts) == 2  # billed for both calls
    rec = CallRecord.of("step", c, pool)
    assert "cut off by the token limit" in rec.note and str(LIST_MAX_TOKENS) in rec.note
    # a sentence cut at the limit is not a list: asked once
    c = step_prompt("Who lives there?", synthesis=False, retriever=None, budget=100).ask(pool["s"], 48)
    assert not c.extra.get("relisted") and len(m.prompts) == 3
