"""Throughput and latency of `subroute serve` under N concurrent clients: the router
(model `subroute`) and the pool's largest model alone, in the same run, against one server
this script starts on 127.0.0.1 (a `subroute serve` subprocess, so client and server do not
share a GIL). Clients are the official openai client, retries off, so every failure counts.

    python benchmarks/bench_serve.py [--clients 8] [--requests 16] [--max-concurrency 4] [--pool FILE]

Each request is a multi-hop question over a short context sent as the system message, the
way an application would send its documents. Latency includes queueing in the server.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import openai

from subroute import Pool

CONTEXT = (
    "Mirela Voss was born in Tarnholm in 1931. She trained as a glassblower in the workshops of Quellin, "
    "and in 1958 she founded Voss Glassworks, a company based in Quellin. The river Ambrel flows through "
    "Quellin. Tarnholm lies in the country of Velmark. Orvane Foods, founded by Kasimir Dell in 1972, is "
    "based in Kessel. Kasimir Dell was born in Quellin."
)
QUESTIONS = [
    "Which river flows through the city where the company founded by Mirela Voss is based?",
    "In which country was the founder of Voss Glassworks born?",
    "Where was the founder of Orvane Foods born?",
    "In which year was the company founded by Kasimir Dell founded?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(pool: str | None, port: int, max_concurrency: int) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from subroute.cli import main; main()", "serve", "--host", "127.0.0.1",
           "--port", str(port), "--max-concurrency", str(max_concurrency), "--max-queue", "1000",
           "--log-level", "warning"]
    if pool:
        cmd += ["--pool", pool]
    env = {k: v for k, v in os.environ.items() if k != "SUBROUTE_SERVER_TOKEN"}
    proc = subprocess.Popen(cmd, env=env)
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
            return proc
        except OSError:
            if proc.poll() is not None:
                sys.exit("subroute serve exited at start")
            time.sleep(0.5)
    proc.kill()
    sys.exit("subroute serve did not start within 300 s")


def one(base: str, model: str, q: str, max_tokens: int) -> tuple[float, float, int, bool]:
    c = openai.OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=600)
    t0 = time.perf_counter()
    try:
        r = c.chat.completions.create(model=model, max_tokens=max_tokens, temperature=0, messages=[
            {"role": "system", "content": CONTEXT}, {"role": "user", "content": q}])
    except openai.APIError as e:
        print(f"  {model}: {type(e).__name__}: {e}", file=sys.stderr)
        return time.perf_counter() - t0, 0.0, 0, False
    return time.perf_counter() - t0, r.model_extra["subroute"]["cost"], r.usage.total_tokens, True


def run(base: str, model: str, clients: int, requests: int, max_tokens: int) -> dict:
    one(base, model, QUESTIONS[0], max_tokens)  # warm-up: prompt caches, first-call costs
    qs = [QUESTIONS[i % len(QUESTIONS)] for i in range(requests)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(clients) as ex:
        res = list(ex.map(lambda q: one(base, model, q, max_tokens), qs))
    wall = time.perf_counter() - t0
    lat = np.array([r[0] for r in res if r[3]])
    ok = len(lat)
    p50, p90, p99 = (np.percentile(lat, [50, 90, 99]) if ok else (float("nan"),) * 3)
    return dict(model=model, ok=ok, failed=requests - ok, wall=wall, rps=ok / wall, p50=p50, p90=p90, p99=p99,
                cost=sum(r[1] for r in res) / max(ok, 1), tokens=sum(r[2] for r in res) / max(ok, 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pool", default=None, help="Pool file (default: the shipped local pool).")
    ap.add_argument("--clients", type=int, default=8, help="Concurrent clients.")
    ap.add_argument("--requests", type=int, default=16, help="Requests per model.")
    ap.add_argument("--max-concurrency", type=int, default=4, help="The server's --max-concurrency.")
    ap.add_argument("--max-tokens", type=int, default=32)
    a = ap.parse_args()
    largest = Pool.load(a.pool).models[-1].name
    port = free_port()
    proc = start_server(a.pool, port, a.max_concurrency)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        rows = [run(base, m, a.clients, a.requests, a.max_tokens) for m in ("subroute", largest)]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"\n{a.clients} clients, {a.requests} requests per model, server --max-concurrency {a.max_concurrency}, "
          f"{os.cpu_count()} CPU cores")
    print(f"{'model':<12}{'ok':>4}{'fail':>6}{'req/s':>8}{'p50 s':>8}{'p90 s':>8}{'p99 s':>8}{'tokens/req':>12}{'$/req':>12}")
    for r in rows:
        print(f"{r['model']:<12}{r['ok']:>4}{r['failed']:>6}{r['rps']:>8.2f}{r['p50']:>8.2f}{r['p90']:>8.2f}"
              f"{r['p99']:>8.2f}{r['tokens']:>12.0f}{r['cost']:>12.7f}")
    ro, la = rows
    print(f"router / {largest}: throughput {ro['rps'] / la['rps']:.2f}x, p50 latency {ro['p50'] / la['p50']:.2f}x, "
          f"cost per request {ro['cost'] / la['cost']:.2f}x")


if __name__ == "__main__":
    main()
