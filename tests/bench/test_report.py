"""The report files a benchmark writes: summary.json's contract, report.md's content, real
PNGs, and the terminal table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from subroute.bench.metrics import summarize
from subroute.bench.report import format_table, usd, write_report
from tests.bench.test_metrics import scenario

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture()
def rows() -> list[dict]:
    return summarize(*scenario())


def test_write_report_files_and_summary_contract(tmp_path: Path, rows: list[dict]) -> None:
    out = tmp_path / "run"
    paths = write_report(out, rows, title="bench test", config={"data": "x.jsonl", "limit": None},
                         notes=["wall time 3s"])
    assert set(paths) == {"summary", "report", "pareto", "tiers"}
    assert all(p.parent == out and p.is_file() for p in paths.values())
    summary = json.loads(paths["summary"].read_text())
    systems = summary["systems"]
    assert [s["name"] for s in systems] == [r["name"] for r in rows]
    for s in systems:
        assert {"name", "n", "accuracy", "cost"} <= set(s)
    router = next(s for s in systems if s["name"] == "router@0.5")
    assert (router["n"], router["accuracy"], router["cost"]) == (4, 0.75, pytest.approx(0.01))
    assert summary["config"] == {"data": "x.jsonl", "limit": None}
    assert summary["notes"] == ["wall time 3s"]
    assert (summary["best_single"], summary["oracle"]) == ("direct:mid", "oracle")


def test_pngs_are_real_images(tmp_path: Path, rows: list[dict]) -> None:
    paths = write_report(tmp_path, rows, title="t", config={}, notes=[])
    for key in ("pareto", "tiers"):
        data = paths[key].read_bytes()
        assert data[:8] == PNG_MAGIC and len(data) > 5000
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > 600 and height > 300


def test_markdown_has_table_images_tiers_and_config(tmp_path: Path, rows: list[dict]) -> None:
    md = write_report(tmp_path, rows, title="bench test", config={"seed": 11}, notes=["a note"])["report"].read_text()
    assert md.startswith("# bench test")
    assert "- a note" in md
    assert "![accuracy against cost](pareto.png)" in md and "![cost share by tier](tiers.png)" in md
    line = next(ln for ln in md.splitlines() if ln.startswith("| `router@0.5`") and "0.750" in ln)
    assert "| $0.0100 |" in line and "| 50% |" in line and "| +25% |" in line and "| 0.875 |" in line
    assert "Best single model: **direct:mid**" in md
    tables = [ln for ln in md.splitlines() if ln.startswith("|")]
    for head, sep in zip(tables, tables[1:]):
        if set(sep) <= set("|-: "):  # a header row and its separator have as many columns
            assert head.count("|") == sep.count("|"), head
    tier_row = next(ln for ln in md.splitlines() if ln.startswith("| `router@0.5` | 4 ·"))
    assert "4 · $0.00200 · 20%" in tier_row and "4 · $0.00800 · 80%" in tier_row
    assert "| router | 2 | 1.047 |" in md  # APGR per family
    assert '"seed": 11' in md
    assert "| 2 hops | 3 hops |" in md


def test_format_table(rows: list[dict]) -> None:
    text = format_table(rows)
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["system", "n", "accuracy", "cost"]
    router = next(ln for ln in lines if ln.startswith("router@0.5"))
    assert router.split() == ["router@0.5", "4", "0.750", "$0.0100", "50%", "+25%", "0"]
    large = next(ln for ln in lines if ln.startswith("direct:large"))
    assert large.split()[-2:] == ["+400%", "1"]
    assert next(ln for ln in lines if ln.startswith("oracle")).rstrip().endswith("*")
    assert "direct:mid" in lines[-1]


def test_usd() -> None:
    assert [usd(x) for x in (0, 0.0000825, 0.01, 0.5, 12.345, None)] == [
        "$0", "$0.0000825", "$0.0100", "$0.500", "$12.35", "-"]


def test_report_without_rows_or_references(tmp_path: Path) -> None:
    paths = write_report(tmp_path, [], title="empty", config={}, notes=[])
    assert set(paths) == {"summary", "report"}
    assert json.loads(paths["summary"].read_text())["systems"] == []
    rs, exs = scenario()
    rows = summarize([r for r in rs if r.family == "router"], exs)
    paths = write_report(tmp_path / "r", rows, title="routers only", config={}, notes=[])
    assert paths["pareto"].read_bytes()[:8] == PNG_MAGIC
    assert "router@0.9" in format_table(rows)


def test_the_suite_table_and_plot_compare_router_cascade_and_best_single(tmp_path: Path, rows: list[dict]) -> None:
    from subroute.bench.report import suite_table, write_suite

    table = suite_table({"a": rows, "b": rows})
    lines = table.splitlines()
    assert lines[0].split()[:3] == ["set", "n", "best"] and lines[2].startswith("a") and lines[3].startswith("b")
    paths = write_suite(tmp_path, {"a": rows})
    assert paths["plot"].read_bytes()[:8] == PNG_MAGIC and "suite.png" not in paths["suite"].read_text()
    picks = json.loads((tmp_path / "suite.json").read_text())["a"]
    # the best single model is the most accurate, the cheaper of a tie; no default router or cascade ran here
    assert picks["best single"]["name"] == "direct:mid" and picks["largest"]["name"] == "direct:large"
    assert picks["router"] is None and picks["cascade"] is None
    assert "direct:mid" in lines[2] and "0.750 @ 50%" in lines[2]  # best single: accuracy @ cost share of the largest
