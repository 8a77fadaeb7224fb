"""Writing a benchmark's results down: `summary.json` for programs, `report.md` for people,
`pareto.png` (accuracy against cost) and `tiers.png` (where the money went), and a plain
table for the terminal.

`summary.json` is the benchmark's contract: an object whose `systems` is the list of rows
from `metrics.summarize` (each with at least `name`, `n`, `accuracy`, `cost`), beside the
resolved `config` of the run and its `notes`, so a result file says how it was made.
matplotlib is imported inside the plotting functions with the Agg backend: no display is
needed and `import subroute` stays light.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from subroute.bench.metrics import best_single, pareto_front

SUMMARY_FORMAT = "subroute-bench-summary/1"
TIER_ORDER = ("small", "medium", "large", "xlarge")
ROLE_ORDER = ("decompose", "probe", "step", "review", "integrate", "answer")  # the order a question runs in


def usd(x: float | None) -> str:
    """Three significant digits without exponent: API-model costs are cents, local ones
    hundred-thousandths of a cent, and both should read as plain money."""
    if x is None:
        return "-"
    if x == 0:
        return "$0"
    if abs(x) >= 1:
        return f"${x:,.2f}"
    return f"${x:.{max(2, 2 - math.floor(math.log10(abs(x))))}f}"


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "-"
    v = round(x * 100) + 0  # + 0 turns -0 into 0
    return f"{v:+d}%" if signed else f"{v:d}%"


def _acc(x: float | None) -> str:
    return "-" if x is None else f"{x:.3f}"


def format_table(rows: list[dict[str, Any]]) -> str:
    """The summary as an aligned plain-text table: system, n, accuracy, cost, cost
    reduction against the best single model, cost above the oracle, failures; `*` marks
    the systems on the Pareto front."""
    head = ("system", "n", "accuracy", "cost", "vs best single", "above oracle", "failed", "front")
    body = [(r["name"], str(r["n"]), _acc(r["accuracy"]), usd(r["cost"]),
             _pct(r.get("cost_reduction_vs_best_single"), signed=False), _pct(r.get("cost_above_oracle"), True),
             str(r["failed"]), "*" if r.get("on_pareto_front") else "") for r in rows]
    widths = [max(len(x) for x in col) for col in zip(head, *body)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))).rstrip()
             for line in [head, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    best = best_single(rows)
    if best:
        lines.append(f"vs best single: cost reduction against {best['name']} "
                     f"(accuracy {best['accuracy']:.3f}, {usd(best['cost'])}); front: Pareto-optimal in accuracy and cost")
    return "\n".join(lines)


def write_report(out_dir: str | Path, rows: list[dict[str, Any]], *, title: str, config: dict[str, Any],
                 notes: list[str]) -> dict[str, Path]:
    """Write summary.json, report.md, pareto.png and tiers.png into `out_dir` (created);
    returns their paths under the keys summary, report, pareto, tiers (plots only when
    there are rows)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    best = best_single(rows)
    summary = {
        "format": SUMMARY_FORMAT, "title": title, "systems": rows,
        "best_single": best["name"] if best else None,
        "oracle": "oracle" if any(r["name"] == "oracle" for r in rows) else None,
        "config": config, "notes": list(notes),
    }
    paths = {"summary": out / "summary.json", "report": out / "report.md"}
    paths["summary"].write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
    if rows:
        paths["pareto"] = plot_pareto(rows, out / "pareto.png", title=title)
        paths["tiers"] = plot_tiers(rows, out / "tiers.png", title=title)
    paths["report"].write_text(_markdown(rows, title=title, config=config, notes=notes,
                                         images="pareto" in paths), encoding="utf-8")
    return paths


def tier_order(rows: list[dict[str, Any]]) -> list[str]:
    """Tiers cheapest first: the usual names in their order, others by cost per token."""
    spend: dict[str, list[float]] = {}
    for r in rows:
        for t, v in r["calls_by_tier"].items():
            s = spend.setdefault(t, [0.0, 0.0])
            s[0] += v["cost"]
            s[1] += v["tokens"]
    return sorted(spend, key=lambda t: (TIER_ORDER.index(t) if t in TIER_ORDER else len(TIER_ORDER),
                                        spend[t][0] / spend[t][1] if spend[t][1] else 0.0, t))


def _markdown(rows: list[dict[str, Any]], *, title: str, config: dict[str, Any], notes: list[str],
              images: bool) -> str:
    md = [f"# {title}", ""]
    md += [f"- {n}" for n in notes] + ([""] if notes else [])
    best = best_single(rows)
    oracle = next((r for r in rows if r["name"] == "oracle"), None)
    if best:
        md.append(f"Best single model: **{best['name']}** (accuracy {best['accuracy']:.3f}, cost {usd(best['cost'])}); "
                  "*vs best single* is the cost saved against it.")
    if oracle:
        md.append(f"Oracle (cheapest correct model per gold step, the floor of cost on this pool): accuracy "
                  f"{oracle['accuracy']:.3f}, cost {usd(oracle['cost'])}; *above oracle* is the cost beyond it.")
    md += ["", "## Systems", "",
           "| system | n | accuracy | F1 | cost | $/question | vs best single | above oracle | per-hop acc. "
           "| comp. gap | tokens in / out | latency s/q | failed | front |",
           "|---|" + "---:|" * 12 + ":-:|"]
    for r in rows:
        md.append("| " + " | ".join([
            f"`{r['name']}`", str(r["n"]), _acc(r["accuracy"]), _acc(r["f1"]), usd(r["cost"]),
            usd(r["cost_per_question"]), _pct(r.get("cost_reduction_vs_best_single")),
            _pct(r.get("cost_above_oracle"), True), _acc(r.get("per_hop_accuracy")),
            _acc(r.get("compositionality_gap")), f"{r['input_tokens']:,} / {r['output_tokens']:,}",
            f"{r['latency_s']:.2f}", str(r["failed"]), "*" if r.get("on_pareto_front") else ""]) + " |")
    md += ["", "per-hop acc.: share of gold hops answered right (systems whose steps line up with the gold hops); "
           "comp. gap: among questions with every hop right, the share whose final answer was wrong; "
           "front: on the Pareto front of accuracy and cost.", ""]
    if images:
        md += ["## Accuracy against cost", "", "![accuracy against cost](pareto.png)", ""]
    fams: dict[str, float | None] = {}
    for r in rows:
        fams.setdefault(r["family"], r.get("apgr"))
    if any(v is not None for v in fams.values()):
        md += ["| family | systems | APGR |", "|---|---:|---:|"]
        md += [f"| {f} | {sum(r['family'] == f for r in rows)} | {_acc(v)} |" for f, v in fams.items()]
        md += ["", "APGR: area under a family's accuracy-cost envelope, cost normalized between the cheapest "
               "and the best single model (0 to 1) and accuracy as the share of the gap between them recovered; "
               "0.5 is what mixing those two models at random achieves (see `subroute.bench.metrics`).", ""]
    md += _tier_tables(rows, images)
    if any(r.get("accuracy_by_hops") for r in rows):
        hops = sorted({h for r in rows for h in (r.get("accuracy_by_hops") or {})}, key=_hop_key)
        md += ["## Accuracy by number of hops", "", "| system | " + " | ".join(f"{h} hops" for h in hops) + " |",
               "|---|" + "---:|" * len(hops)]
        md += [f"| `{r['name']}` | " + " | ".join(_acc((r.get("accuracy_by_hops") or {}).get(h)) for h in hops) + " |"
               for r in rows]
        md.append("")
    md += ["## Config", "", "```json", json.dumps(config, indent=2, default=str), "```", ""]
    return "\n".join(md)


def _hop_key(h: str) -> tuple[float, str]:
    try:
        return (float(h), h)
    except ValueError:
        return (math.inf, h)


def _tier_tables(rows: list[dict[str, Any]], images: bool) -> list[str]:
    tiers = tier_order(rows)
    if not tiers:
        return []
    md = ["## Where the calls and the cost went", ""]
    if images:
        md += ["![cost share by tier](tiers.png)", ""]
    md += ["Per tier: calls, cost and share of the system's cost.", "",
           "| system | " + " | ".join(tiers) + " |", "|---|" + "---:|" * len(tiers)]
    for r in rows:
        cells = []
        for t in tiers:
            v = r["calls_by_tier"].get(t)
            share = v["cost"] / r["cost"] if v and r["cost"] > 0 else None
            cells.append(f"{v['calls']} · {usd(v['cost'])} · {_pct(share)}" if v else "-")
        md.append(f"| `{r['name']}` | " + " | ".join(cells) + " |")
    roles = sorted({k for r in rows for k in r["calls_by_role"]},
                   key=lambda k: (ROLE_ORDER.index(k) if k in ROLE_ORDER else len(ROLE_ORDER), k))
    md += ["", "Per role: calls and cost (everything a system does is charged).", "",
           "| system | " + " | ".join(roles) + " |", "|---|" + "---:|" * len(roles)]
    for r in rows:
        cells = [f"{v['calls']} · {usd(v['cost'])}" if (v := r["calls_by_role"].get(k)) else "-" for k in roles]
        md.append(f"| `{r['name']}` | " + " | ".join(cells) + " |")
    return md + [""]


def pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def plot_pareto(rows: list[dict[str, Any]], path: str | Path, *, title: str = "") -> Path:
    """Accuracy against total cost: each swept family as a curve, single systems as points,
    direct models labelled, the oracle as a star, the Pareto front as a grey staircase."""
    plt = pyplot()
    from matplotlib.ticker import FuncFormatter, LogLocator

    fig, ax = plt.subplots(figsize=(11, 6.5), dpi=110)
    costs = [r["cost"] for r in rows]
    positive = [c for c in costs if c > 0]
    log = bool(positive) and len(positive) == len(costs) and max(positive) / min(positive) > 10
    front = pareto_front([(r["cost"], r["accuracy"]) for r in rows])
    if len(front) > 1:
        ax.plot([c for c, _ in front], [a for _, a in front], drawstyle="steps-post", color="0.6", lw=6,
                alpha=0.35, zorder=1, solid_capstyle="round", label="Pareto front")
    ax.scatter([c for c, _ in front], [a for _, a in front], s=190, facecolors="none", edgecolors="0.45",
               lw=1.2, zorder=2, label=None if len(front) > 1 else "Pareto front")
    families: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        families.setdefault(r["family"], []).append(r)
    colors = [c for i, c in enumerate(plt.get_cmap("tab10").colors) if i != 7]  # grey is the front's
    markers = "osD^vP<>hX"
    k = 0
    for fam, rs in families.items():
        rs = sorted(rs, key=lambda r: (r["cost"], r["accuracy"]))
        xs, ys = [r["cost"] for r in rs], [r["accuracy"] for r in rs]
        if fam == "oracle":
            ax.scatter(xs, ys, marker="*", s=320, color="gold", edgecolors="black", lw=0.8, zorder=5, label="oracle")
            continue
        if fam == "direct":
            ax.scatter(xs, ys, marker="o", s=70, color="black", zorder=5, label="direct (single model)")
            for r in rs:
                ax.annotate(r["name"].split(":", 1)[-1], (r["cost"], r["accuracy"]), textcoords="offset points",
                            xytext=(7, -13), fontsize=8.5, zorder=6,
                            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
            continue
        color, marker = colors[k % len(colors)], markers[k % len(markers)]
        k += 1
        swept = len(rs) > 1
        ax.plot(xs, ys, marker=marker, ms=7, lw=1.8 if swept else 0, color=color, zorder=4,
                label=f"{fam}@t (sweep)" if swept else rs[0]["name"])
        for r in rs:
            if swept and r.get("param") is not None:
                ax.annotate(f"{r['param']:g}", (r["cost"], r["accuracy"]), textcoords="offset points",
                            xytext=(4, 5), fontsize=7, color=color)
    if log:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_minor_formatter(FuncFormatter(lambda x, _: ""))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: "$" + f"{x:.12f}".rstrip("0").rstrip(".")))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlabel("total cost (USD" + (", log scale)" if log else ")"))
    ax.set_ylabel("accuracy")
    top = max(r["accuracy"] for r in rows)
    ax.set_ylim(-0.06, min(1.05, max(0.2, top * 1.15 + 0.03)))
    ax.grid(True, which="major", alpha=0.3)
    ax.set_title(title or "accuracy against cost", fontsize=11)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8.5, frameon=False,
              title="numbers on curves: threshold", title_fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def plot_tiers(rows: list[dict[str, Any]], path: str | Path, *, title: str = "") -> Path:
    """Per system, the share of its cost spent in each tier (stacked, cheapest tier first),
    with the total cost at the end of the bar."""
    plt = pyplot()
    tiers = tier_order(rows)
    names = [r["name"] for r in rows]
    fig, ax = plt.subplots(figsize=(10, 1.2 + 0.32 * len(rows)), dpi=110)
    cmap = plt.get_cmap("viridis")
    left = [0.0] * len(rows)
    for i, t in enumerate(tiers):
        share = [100 * r["calls_by_tier"].get(t, {}).get("cost", 0.0) / r["cost"] if r["cost"] > 0 else 0.0
                 for r in rows]
        ax.barh(names, share, left=left, color=cmap(0.15 + 0.7 * i / max(1, len(tiers) - 1)), label=t,
                edgecolor="white", lw=0.5)
        left = [a + b for a, b in zip(left, share)]
    for y, r in enumerate(rows):
        ax.text(101.5, y, usd(r["cost"]), va="center", fontsize=8)
    ax.set_xlim(0, 118)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xticks(range(0, 101, 20))
    ax.invert_yaxis()
    ax.tick_params(axis="y", labelsize=8)
    ax.set_xlabel("share of the system's cost by tier (%); total cost at the right")
    ax.set_title(f"where the cost went{': ' + title if title else ''}", fontsize=10)
    if tiers:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False, title="tier")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


# The systems the suite table compares, by family: the best single model (direct or chain of
# thought), the cascade and the router at the default threshold, the router with the gate's
# rules but not its route policy, the router without its gate.
SUITE_COLS = ["best single", "cascade", "router", "router-rules", "router-nogate"]

def _suite_rows(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any] | None]:
    singles = [r for r in rows if r["family"] in ("direct", "cot")]
    best = max(singles, key=lambda r: (r["accuracy"], -r["cost"]), default=None)
    largest = max((r for r in rows if r["family"] == "direct"), key=lambda r: r["cost"], default=None)
    router = next((r for r in rows if r["name"] == "router"), None)
    t = router["param"] if router and router.get("param") is not None else 0.5
    cascade = min((r for r in rows if r["family"] == "cascade"), key=lambda r: abs((r["param"] or 0) - t), default=None)
    return {"best single": best, "largest": largest, "cascade": cascade, "router": router,
            "router-rules": next((r for r in rows if r["name"] == "router-rules"), None),
            "router-nogate": next((r for r in rows if r["name"] == "router-nogate"), None)}


def suite_table(per_set: dict[str, list[dict[str, Any]]]) -> str:
    """One line per set: accuracy and cost (as a share of the largest model's) of the best
    single model, the cascade, the router, the router with its gate's rules alone and the
    router without its gate."""
    cols = [c for c in SUITE_COLS if any(_suite_rows(rows)[c] for rows in per_set.values())]
    head = f"{'set':<15}{'n':>4}  {'best single is':<17}" + "".join(f"{c:>16}" for c in cols)
    lines = [head, "-" * len(head)]
    for name, rows in per_set.items():
        pick = _suite_rows(rows)
        base = pick["largest"]["cost"] if pick["largest"] else 0
        cells = []
        for c in cols:
            r = pick[c]
            share = f"{r['cost'] / base:.0%}" if r and base else "-"
            cells.append(f"{_acc(r['accuracy'])} @ {share}" if r else "-")
        best = pick["best single"]["name"] if pick["best single"] else "-"
        n = max((r["n"] for r in rows), default=0)
        lines.append(f"{name:<15}{n:>4}  {best:<17}" + "".join(f"{x:>16}" for x in cells))
    lines.append("accuracy @ cost as a share of the largest model's (direct); the cascade at the router's threshold")
    return "\n".join(lines)


def write_suite(out_dir: str | Path, per_set: dict[str, list[dict[str, Any]]]) -> dict[str, Path]:
    """OUT/suite.md (the table, and the rows behind it as JSON in OUT/suite.json) and
    OUT/suite.png (accuracy of each compared system per set, cost in the legend)."""
    import json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    picks = {name: {k: (r and {f: r.get(f) for f in ("name", "n", "accuracy", "cost")}) for k, r in _suite_rows(rows).items()}
             for name, rows in per_set.items()}
    (out / "suite.json").write_text(json.dumps(picks, indent=2))
    (out / "suite.md").write_text("# subroute bench --suite external\n\n```\n" + suite_table(per_set) + "\n```\n\n"
                                  "Each set's own report: " + ", ".join(f"[{n}]({n}/report.md)" for n in per_set) + "\n")
    paths = {"suite": out / "suite.md"}
    plt = pyplot()
    cols = [c for c in SUITE_COLS if any(picks[name][c] for name in picks)]
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    width = 0.8 / len(cols)
    for k, c in enumerate(cols):
        xs, ys, shares = [], [], []
        for i, name in enumerate(per_set):
            r, big = picks[name][c], picks[name]["largest"]
            if r:
                xs.append(i + (k - (len(cols) - 1) / 2) * width)
                ys.append(r["accuracy"])
                shares.append(f"{r['cost'] / big['cost']:.0%}" if big and big["cost"] else "")
        ax.bar(xs, ys, width, label=c)
        for x, y, s in zip(xs, ys, shares):  # the cost, as a share of the largest model's, on each bar
            ax.text(x, y + 0.01, s, ha="center", va="bottom", fontsize=6)
    ax.set_xticks(range(len(per_set)), list(per_set))
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1)
    ax.set_title("external suite: accuracy per set (cost as a share of the largest model's on each bar)", fontsize=9)
    ax.legend(fontsize=8, ncol=len(cols), loc="upper center", bbox_to_anchor=(0.5, -0.1))
    fig.tight_layout()
    fig.savefig(out / "suite.png", dpi=120)
    plt.close(fig)
    paths["plot"] = out / "suite.png"
    return paths
