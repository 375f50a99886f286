"""Parameter sweeps: every point of a grid (or a list of points) x every replication, on threads, processes
or a Dask cluster, stored in SQLite as results arrive so that an interrupted sweep resumes where it stopped.

    runs = deploysim.sweep("scenarios/quickstart.yaml",
                           grid={"release.replicas": [8, 12, 16], "strategies.rolling.max_surge": ["25%", "50%"]},
                           replications=5, store="results.sqlite")
    runs                    # one row per (point, strategy, replication)
    runs.attrs["summary"]   # one row per (point, strategy, metric): n, mean, 95% CI half-width

The unit of work is one replication of one point (all strategies, and the no-release baseline for extra
cost). Each depends only on the scenario, the point, the seed and the replication, so the results are the
same whatever the executor and the number of workers.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import itertools
import json
import math
import os
import sqlite3
import sys
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _core
from . import Scenario, apply_overrides, load

__all__ = ["sweep", "summarise", "points_of"]

def points_of(grid: Union[Mapping[str, Sequence[Any]], Sequence[Mapping[str, Any]]]) -> List[Dict[str, Any]]:
    """The points of a grid ({key: values}: their cartesian product, in key order) or a list of points."""
    if isinstance(grid, Mapping):
        keys = list(grid.keys())
        for key in keys:
            values = grid[key]
            if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
                raise ValueError(f"grid[{key!r}] must be a list of values, got {values!r}")
        return [dict(zip(keys, combo)) for combo in itertools.product(*(list(grid[k]) for k in keys))]
    points = [dict(p) for p in grid]
    for p in points:
        if not isinstance(p, Mapping):
            raise ValueError(f"each point must be a dict of dotted keys to values, got {p!r}")
    return points


def _point_key(point: Mapping[str, Any]) -> str:
    return json.dumps(point, sort_keys=True, separators=(",", ":"), default=str)


def _run_task(document: dict, source: str, point: Mapping[str, Any], seed: Optional[int], replication: int):
    """One replication of one point: a list of result dicts. Runs in whichever worker the executor picks."""
    doc = apply_overrides(document, point) if point else document
    if seed is not None:
        doc = dict(doc)
        doc["seed"] = seed
    import yaml

    core = _core.parse(yaml.safe_dump(doc, sort_keys=False), source)
    return [json.loads(text) for text in _core.run_replication(core, replication)]


class _Store:
    """SQLite: one row per (point, strategy, replication), committed per finished task."""

    def __init__(self, path: str, fingerprint: str):
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS runs (point TEXT, strategy TEXT, replication INTEGER, outcome TEXT,"
            " metrics TEXT, PRIMARY KEY (point, strategy, replication))")
        row = self.db.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        if row is None:
            self.db.execute("INSERT INTO meta VALUES ('fingerprint', ?)", (fingerprint,))
            self.db.commit()
        elif row[0] != fingerprint:
            raise ValueError(f"the store {path} holds a sweep of another scenario or seed; use a new file")

    def done(self, point_key: str, strategies: Sequence[str]) -> set:
        rows = self.db.execute("SELECT replication, COUNT(*) FROM runs WHERE point = ? GROUP BY replication",
                               (point_key,)).fetchall()
        return {rep for rep, n in rows if n >= len(strategies)}

    def add(self, point_key: str, results: List[dict]) -> None:
        with self.db:
            for r in results:
                self.db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?)",
                                (point_key, r["strategy"], r["replication"], r["outcome"],
                                 json.dumps({**r["metrics"], "extra_cost": r["extra_cost"]})))

    def rows(self, point_key: str, replications: int) -> List[tuple]:
        return self.db.execute(
            "SELECT strategy, replication, outcome, metrics FROM runs WHERE point = ? AND replication < ?",
            (point_key, replications)).fetchall()

    def close(self) -> None:
        self.db.close()


class _Memory:
    def __init__(self):
        self.data: Dict[str, List[tuple]] = {}

    def done(self, point_key, strategies):
        return set()

    def add(self, point_key, results):
        rows = self.data.setdefault(point_key, [])
        for r in results:
            rows.append((r["strategy"], r["replication"], r["outcome"],
                         json.dumps({**r["metrics"], "extra_cost": r["extra_cost"]})))

    def rows(self, point_key, replications):
        return [r for r in self.data.get(point_key, []) if r[1] < replications]

    def close(self):
        pass


def _executor(executor, jobs: int):
    """(submit, as_completed, shutdown) for: "threads", "processes", a Dask Client, or a scheduler address."""
    if executor in (None, "threads"):
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1)
        return pool.submit, concurrent.futures.as_completed, lambda: pool.shutdown(cancel_futures=True)
    if executor == "processes":
        import multiprocessing

        pool = concurrent.futures.ProcessPoolExecutor(max_workers=jobs or os.cpu_count() or 1,
                                                      mp_context=multiprocessing.get_context("spawn"))
        return pool.submit, concurrent.futures.as_completed, lambda: pool.shutdown(cancel_futures=True)
    try:
        import distributed
    except ImportError as e:  # pragma: no cover - Debian's python3-distributed is a dependency
        raise ValueError("executor must be 'threads', 'processes', a dask Client or a scheduler address") from e
    if isinstance(executor, str):
        client = distributed.Client(executor)
        owned = True
    elif isinstance(executor, distributed.Client):
        client, owned = executor, False
    else:
        raise ValueError(f"executor must be 'threads', 'processes', a dask Client or a scheduler address, "
                         f"got {executor!r}")

    def submit(fn, *args):
        return client.submit(fn, *args, pure=False)

    return submit, distributed.as_completed, (lambda: client.close()) if owned else (lambda: None)


def sweep(scenario: Union[Scenario, str, os.PathLike, Mapping[str, Any]],
          grid: Union[Mapping[str, Sequence[Any]], Sequence[Mapping[str, Any]]],
          replications: Optional[int] = None,
          seed: Optional[int] = None,
          executor: Any = "threads",
          jobs: int = 0,
          store: Optional[Union[str, os.PathLike]] = None,
          progress: bool = False):
    """Runs every point x replication and returns a DataFrame of one row per (point, strategy, replication).

    grid: {dotted key: [values]} (the cartesian product) or a list of {dotted key: value} points; keys are
    those of run(..., overrides=...). executor: "threads" (default; the C++ core runs with the GIL
    released), "processes", a dask.distributed Client, or a scheduler address ("tcp://host:8786"). jobs:
    workers for threads and processes (0: all cores). store: an SQLite file written as results arrive; a
    sweep started again with the same store runs only what is missing. The summary across replications is
    in `.attrs["summary"]` (see summarise).
    """
    import pandas as pd

    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    points = points_of(grid)
    if not points:
        raise ValueError("the grid has no points")
    reps = scenario.replications if replications is None else replications
    if not isinstance(reps, int) or reps < 1:
        raise ValueError(f"replications must be a positive integer, got {reps!r}")
    # Validate every point before any work, so that a typo fails at once with the scenario's message.
    for point in points:
        scenario.with_overrides(point)
    fingerprint = hashlib.sha256(json.dumps({"document": scenario.document, "seed": seed},
                                            sort_keys=True, default=str).encode()).hexdigest()
    book = _Store(os.fspath(store), fingerprint) if store is not None else _Memory()
    strategies = scenario.strategies
    todo = []
    for point in points:
        key = _point_key(point)
        done = book.done(key, strategies)
        todo += [(point, key, r) for r in range(reps) if r not in done]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(points) * reps, initial=len(points) * reps - len(todo), unit="replication")
    try:
        if todo:
            submit, as_completed, shutdown = _executor(executor, jobs)
            try:
                futures = {submit(_run_task, scenario.document, scenario.source, point, seed, r): key
                           for point, key, r in todo}
                for future in as_completed(list(futures)):
                    book.add(futures[future], future.result())
                    if bar is not None:
                        bar.update(1)
            finally:
                shutdown()
        rows = []
        for point in points:
            for strategy, replication, outcome, metrics in book.rows(_point_key(point), reps):
                rows.append({**point, "strategy": strategy, "replication": replication, "outcome": outcome,
                             **json.loads(metrics)})
    finally:
        if bar is not None:
            bar.close()
        book.close()
    frame = pd.DataFrame(rows)
    order = {s: i for i, s in enumerate(strategies)}
    point_index = {_point_key(p): i for i, p in enumerate(points)}
    frame["_point"] = [point_index[_point_key({k: row[k] for k in points[0]})] for _, row in frame.iterrows()]
    frame["_strategy"] = frame["strategy"].map(order)
    frame = frame.sort_values(["_point", "_strategy", "replication"]).drop(columns=["_point", "_strategy"])
    frame = frame.reset_index(drop=True)
    frame.attrs["summary"] = summarise(frame, list(points[0].keys()))
    return frame


def summarise(runs, keys: Sequence[str]):
    """Per (point, strategy, metric): n, mean and the 95% Student-t half-width over replications, as the
    command line's summary computes them (NaN values, such as rollback times of promoted runs, are left
    out; with fewer than two values the half-width is NaN)."""
    import pandas as pd

    keys = list(keys)
    metrics = [c for c in runs.columns if c not in set(keys) | {"strategy", "replication", "outcome"}]
    rows = []
    for group, frame in runs.groupby(keys + ["strategy"], sort=False, dropna=False):
        group = group if isinstance(group, tuple) else (group,)
        base = dict(zip(keys + ["strategy"], group))
        for metric in metrics:
            values = [float(v) for v in frame[metric] if not pd.isna(v)]
            mean, half = (math.nan, math.nan)
            if len(values) >= 2:
                mean, half = _core.mean_ci(values)
            elif values:
                mean = values[0]
            rows.append({**base, "metric": metric, "n": len(values), "mean": mean, "ci95_half_width": half})
    return pd.DataFrame(rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """`deploysim sweep` / `python3 -m deploysim sweep`: a sweep from the command line."""
    parser = argparse.ArgumentParser(prog="deploysim sweep", description=sweep.__doc__.split("\n")[0])
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=V1,V2,...",
                        help="a grid axis: a dotted key and its values, comma separated (YAML scalars); repeatable")
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--executor", default="threads",
                        help="threads (default), processes, or a Dask scheduler address tcp://HOST:8786")
    parser.add_argument("--jobs", type=int, default=0, help="workers for threads and processes (0: all cores)")
    parser.add_argument("--store", default=None, help="SQLite file: results are kept there and a rerun resumes")
    parser.add_argument("-o", "--output", default=None, help="write runs.csv and summary.csv into this directory")
    args = parser.parse_args(argv)
    import yaml

    grid: Dict[str, List[Any]] = {}
    for axis in args.set:
        key, sep, values = axis.partition("=")
        if not sep or not key or not values:
            parser.error(f"--set {axis!r}: expected KEY=V1,V2,...")
        grid[key] = [yaml.safe_load(v) for v in values.split(",")]
    if not grid:
        parser.error("give at least one grid axis with --set KEY=V1,V2,...")
    try:
        runs = sweep(args.scenario, grid, replications=args.replications, seed=args.seed,
                     executor=args.executor, jobs=args.jobs, store=args.store, progress=sys.stderr.isatty())
    except _core.ScenarioError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except (ValueError, KeyError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    summary = runs.attrs["summary"]
    if args.output:
        os.makedirs(args.output, exist_ok=True)
        runs.to_csv(os.path.join(args.output, "runs.csv"), index=False)
        summary.to_csv(os.path.join(args.output, "summary.csv"), index=False)
    keys = list(grid.keys())
    table = summary[summary.metric.isin(["deploy_duration_s", "failed_requests", "extra_cost"])]
    print(table.pivot_table(index=keys + ["strategy"], columns="metric", values="mean", sort=False).to_string())
    return 0

