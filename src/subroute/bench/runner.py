"""Run systems over examples: progress, concurrency, failures that do not stop the run.

A question that fails for one system (an unreachable backend, a timeout, an unparseable
decomposition that also fails as one step) is recorded as a failed, wrong result and the
run goes on; the summary reports how many failed. Systems run one after another, in the
order given, so the call cache turns a sweep's repeated calls (the same probe at every
threshold) into free hits; within a system, independent questions run concurrently on
`workers` threads (useful for served backends; local llama.cpp models serialise anyway).
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from subroute.bench.records import Result
from subroute.bench.systems import System
from subroute.errors import SubrouteError
from subroute.records import Example
from subroute.trace import Trace, write_traces


def _run_one(system: System, ex: Example) -> tuple[Result, Trace | None]:
    try:
        return system.run(ex)
    except SubrouteError as e:
        err = str(e)
    except Exception as e:  # a bug must not sink a long benchmark; it is reported per question
        err = f"internal error: {type(e).__name__}: {e}"
    return Result(system.name, system.family, ex.id, "", False, 0.0, [], system.param, None, err), None


def run_systems(systems: list[System], examples: list[Example], *, workers: int = 1, progress: bool = True,
                traces_path: str | Path | None = None) -> list[Result]:
    from tqdm import tqdm

    results: list[Result] = []
    traces: list[Trace] = []
    with tqdm(total=len(systems) * len(examples), desc="bench", unit="q", file=sys.stderr,
              disable=not progress) as bar:
        for s in systems:
            bar.set_postfix_str(s.name)
            with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
                for r, t in pool.map(lambda ex: _run_one(s, ex), examples):
                    results.append(r)
                    if t is not None:
                        traces.append(t)
                    bar.update(1)
    if traces_path:
        write_traces(traces_path, traces)
    return results
