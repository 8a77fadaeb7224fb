from subroute.retrieve import BM25Retriever, approx_tokens, split_passages


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
