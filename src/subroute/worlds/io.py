"""Reading and writing DecompBench data: question JSONL, world JSONL, Hugging Face export.

Why JSONL with a fixed key order and `ensure_ascii=False`: the same seed must give the same
bytes, and other tools (the benchmark harness, training) read the lines without this
package. A world file holds one record per line: `meta` (version, seed, config), then
`entity`, `fact` and (optionally) `document` records, so the world can be rebuilt exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from subroute.errors import ConfigError, missing_extra
from subroute.worlds.documents import Corpus, Document
from subroute.worlds.questions import FORMAT_VERSION, Question
from subroute.worlds.world import Entity, Fact, World, WorldConfig


def _dumps(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False, separators=(", ", ": "))


def write_jsonl(path: str | Path, questions: Iterable[Question]) -> int:
    """Write one question per line; return how many."""
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for q in questions:
            f.write(_dumps(q.to_dict()) + "\n")
            n += 1
    return n


def read_jsonl(path: str | Path) -> list[Question]:
    """Read questions back (lines with only question/answer/context load too)."""
    out = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                d.setdefault("id", f"line{i}")
                out.append(Question.from_dict(d))
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
                raise ConfigError(f"{path}: line {i} is not a question record ({e}); "
                                  "each line needs at least 'question' and 'answer'") from None
    return out


def write_world(path: str | Path, world: World, corpus: Corpus | None = None) -> int:
    """Write the world (and every document of `corpus`, when given); return lines written."""
    from dataclasses import asdict

    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        meta = {"record": "meta", "version": FORMAT_VERSION, "seed": world.seed,
                "config": asdict(world.config), "stats": world.stats(),
                "styles": list(corpus.styles) if corpus else []}
        f.write(_dumps(meta) + "\n")
        for eid in sorted(world.entities):
            e = world.entities[eid]
            f.write(_dumps({"record": "entity", "id": e.id, "kind": e.kind, "name": e.name,
                            "attrs": e.attrs}) + "\n")
        for fid in sorted(world.facts):
            x = world.facts[fid]
            f.write(_dumps({"record": "fact", "id": x.id, "subject": x.subject,
                            "relation": x.relation, "object": x.object}) + "\n")
        n = 1 + len(world.entities) + len(world.facts)
        if corpus is not None:
            for doc in corpus.documents():
                f.write(_dumps({"record": "document", **doc.to_dict()}) + "\n")
                n += 1
    return n


def read_world(path: str | Path) -> tuple[World, dict[str, Document]]:
    """Rebuild a world and its written documents from a world file."""
    entities, facts, docs, meta = [], [], {}, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            rec = d.pop("record")
            if rec == "meta":
                meta = d
            elif rec == "entity":
                entities.append(Entity(d["id"], d["kind"], d["name"], d.get("attrs", {})))
            elif rec == "fact":
                facts.append(Fact(d["id"], d["subject"], d["relation"], d["object"]))
            elif rec == "document":
                docs[d["id"]] = Document(d["id"], d["entity"], d["style"], d["title"],
                                         d["text"], d["fact_ids"])
    if meta is None:
        raise ConfigError(f"{path} is not a world file (no meta record); write one with "
                          "subroute gen --world-out")
    return World(WorldConfig(**meta["config"]), entities, facts), docs


def to_hf_dataset(source: str | Path | Iterable[Question]):
    """A `datasets.Dataset` of questions (from a JSONL path or Question objects).

    Each step's `op` is stored as a JSON string: ops differ in shape by kind, which Arrow
    cannot hold in one column type.
    """
    try:
        import datasets
    except ImportError:
        raise missing_extra("datasets", "data") from None
    qs = read_jsonl(source) if isinstance(source, (str, Path)) else list(source)
    rows = []
    for q in qs:
        d = q.to_dict()
        for s in d["decomposition"]:
            s["op"] = json.dumps(s["op"], sort_keys=True)
        rows.append(d)
    return datasets.Dataset.from_list(rows)
