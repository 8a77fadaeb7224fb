from subroute.retrieve import BM25Retriever, approx_tokens, query_names, split_passages


def test_long_paragraphs_split_at_sentences():
    para = " ".join(f"Sentence number {i} talks about Kessel." for i in range(40))
    parts = split_passages(para + "\n\nShort one.", max_tokens=30)
    assert parts[-1] == "Short one." and len(parts) > 5
    assert all(approx_tokens(p) <= 30 for p in parts[:-1])


def test_selects_best_passages_within_budget_in_context_order():
    ctx = "\n\n".join([
        "Quellin is a city on the river Ambrel.",
        "Kessel bakes bread. " * 10,
        "Voss Glassworks is based in Quellin.",
        "The Ambrel floods in spring.",
    ])
    r = BM25Retriever(ctx)
    got = r.select("Which river flows through Quellin?", budget_tokens=20)
    assert got[0].startswith("Quellin is a city") and all("Kessel" not in p for p in got)
    assert sum(approx_tokens(p) for p in got) <= 20
    assert r.select("zebra", budget_tokens=5)  # nothing matches: still the best one


def test_empty_context():
    assert BM25Retriever("").select("x", 100) == []


def test_query_names_drop_leading_question_and_function_words():
    assert query_names("Where was Gehainen Lyocir born?") == ["Gehainen Lyocir"]
    assert query_names("Who directed The Loushith Hours?") == ["Loushith Hours"]
    assert query_names("In which country is Bank of Quellin based?") == ["Bank of Quellin"]
    assert query_names("Kessel bakes bread for whom?") == ["Kessel"]
    assert query_names("What is the population of #1?") == []


def test_passages_naming_the_whole_name_come_first():
    # BM25 alone prefers the interview: it shares "born" and the surname with the query
    ctx = "\n\n".join([
        "Ten minutes with Kistra Lyocir. Q: Where are you from? A: I'm from Fadrathmere, born and raised. "
        "Q: When were you born? A: 1961, that is the year I was born.",
        "Gehainen Lyocir came into the world in 1930. Gehainen Lyocir's birthplace is Drolabroun.",
    ])
    r = BM25Retriever(ctx)
    query = "Where was Gehainen Lyocir born?"
    sc = r.scores(query)
    assert sc[0] > sc[1]
    assert r.select(query, budget_tokens=1) == [r.passages[1]]


def _fake_embed(texts):
    """Unit vectors by topic word: founding talk is close to 'founded', the rest is not."""
    import numpy as np

    def vec(t):
        v = np.array([1.0, 0.1] if any(w in t.lower() for w in ("founded", "opened its doors")) else [0.1, 1.0])
        return v / np.linalg.norm(v)

    return np.stack([vec(t) for t in texts])


def test_an_embedding_breaks_ties_among_passages_naming_the_entity():
    """Both passages name Rekruwav Systems; BM25 prefers the one repeating the name, the
    embedding the one that says "founded" in other words."""
    ctx = "\n\n".join([
        "Rekruwav Systems opened its doors in 1962 in Quellin.",
        "Rekruwav Systems: when people talk about systems, Rekruwav Systems comes up first, staff say.",
    ])
    q = "When was Rekruwav Systems founded?"
    plain = BM25Retriever(ctx, embed=None)
    assert plain.select(q, 1) == [plain.passages[1]]
    sem = BM25Retriever(ctx, embed=_fake_embed)
    assert sem.select(q, 1) == [sem.passages[0]]
    assert sem.similarities(q)[0] > sem.similarities(q)[1]


def test_names_still_come_before_the_embedding():
    ctx = "\n\n".join(["The company opened its doors in 1962.", "Rekruwav Systems sells glass."])
    r = BM25Retriever(ctx, embed=_fake_embed)
    assert r.select("When was Rekruwav Systems founded?", 1) == [r.passages[1]]
