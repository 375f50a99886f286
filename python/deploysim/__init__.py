"""deploysim: simulate ML model deployment strategies and compare what they cost.

    import deploysim
    scenario = deploysim.load("scenarios/quickstart.yaml")
    result = deploysim.run(scenario, replications=5, seed=1)
    result.summary          # one row per (strategy, metric): mean, 95% CI, paired difference
    result.replications     # one row per (strategy, replication): outcome and every metric
    result.timeseries       # per strategy, replication, time and version
    result.report("out/quickstart")

Scenario errors raise ScenarioError with the same file:line:column messages as the command line; its
`issues` attribute lists them as dictionaries (file, line, column, key, message).
"""

from __future__ import annotations

import copy
import io
import os
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

from . import _core

__all__ = ["Scenario", "ScenarioError", "Result", "load", "run", "apply_overrides", "sweep", "summarise"]

ScenarioError = _core.ScenarioError


class Scenario:
    """A validated scenario: its YAML document and where it came from.

    Keeping the document lets `run(..., overrides=...)` change any key and validate the result again.
    """

    def __init__(self, document: dict, source: str, core: Any):
        self.document = document
        self.source = source
        self._core = core

    @property
    def name(self) -> str:
        return self._core.name

    @property
    def strategies(self) -> list:
        """Strategy labels, in scenario order."""
        return list(self._core.strategies)

    @property
    def replications(self) -> int:
        return self._core.replications

    @property
    def seed(self) -> int:
        return self._core.seed

    def with_overrides(self, overrides: Mapping[str, Any]) -> "Scenario":
        """A new scenario with `overrides` applied (see apply_overrides), validated."""
        if not overrides:
            return self
        document = apply_overrides(self.document, overrides)
        return _from_document(document, f"{self.source} (with overrides)")

    def __repr__(self) -> str:
        return f"<deploysim.Scenario {self.name!r} from {self.source}: {', '.join(self.strategies)}>"


def _yaml():
    import yaml  # Debian's python3-yaml

    return yaml


def _from_document(document: dict, source: str) -> Scenario:
    text = _yaml().safe_dump(document, sort_keys=False)
    # Errors name `source`; the loader resolves relative paths (traces, platform files) against its
    # directory, which "PATH (with overrides)" keeps.
    core = _core.parse(text, source)
    return Scenario(document, source, core)


def load(scenario: Union[str, os.PathLike, Mapping[str, Any]]) -> Scenario:
    """Loads a scenario from a YAML file or from a dict with the same structure.

    Raises ScenarioError (a ValueError) listing every problem with its location and key.
    """
    if isinstance(scenario, Mapping):
        return _from_document(copy.deepcopy(dict(scenario)), os.path.join(os.getcwd(), "<dict>"))
    path = os.fspath(scenario)
    core = _core.load(path)  # errors name the file, with its own line numbers
    with open(path, encoding="utf-8") as f:
        document = _yaml().safe_load(f)
    return Scenario(document, path, core)


def apply_overrides(document: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict:
    """A copy of a scenario document with values set by dotted key paths.

    "traffic.rate" sets document["traffic"]["rate"]; a number indexes a list ("cluster.pools.0.nodes"). Under
    `strategies`, the next part names an entry by its
    label or strategy name: "strategies.canary.steps" sets the `steps` of the canary entry (a bare entry
    such as `- none` becomes a map first). Missing maps on the way are created; the scenario is validated
    again afterwards, so a wrong key is reported like any scenario error.
    """
    result = copy.deepcopy(dict(document))
    for path, value in overrides.items():
        parts = str(path).split(".")
        if not all(parts):
            raise KeyError(f"override {path!r}: empty part in the key path")
        node: Any = result
        i = 0
        while i < len(parts) - 1:
            part = parts[i]
            if part == "strategies" and i == 0:
                entries = node.setdefault("strategies", [])
                if i + 1 >= len(parts):
                    break
                node = _strategy_entry(entries, parts[i + 1], path)
                i += 2
                continue
            if isinstance(node, list):
                node = node[_list_index(node, part, path)]
                i += 1
                continue
            if not isinstance(node, dict):
                raise KeyError(f"override {path!r}: {'.'.join(parts[:i])} is not a map")
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            node = child
            i += 1
        if i >= len(parts):
            raise KeyError(f"override {path!r}: name a parameter of the strategy, e.g. {path}.PARAM")
        if isinstance(node, list):
            node[_list_index(node, parts[-1], path)] = value
            continue
        if not isinstance(node, dict):
            raise KeyError(f"override {path!r}: {'.'.join(parts[:-1])} is not a map")
        node[parts[-1]] = value
    return result


def _list_index(items: list, part: str, path: str) -> int:
    try:
        index = int(part)
    except ValueError:
        raise KeyError(f"override {path!r}: {part!r} is not an index into a list of {len(items)}") from None
    if not 0 <= index < len(items):
        raise KeyError(f"override {path!r}: index {index} is outside a list of {len(items)}")
    return index


def _strategy_entry(entries: list, name: str, path: str) -> dict:
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            if entry == name:
                entries[index] = {entry: {}}
                return entries[index][entry]
            continue
        if isinstance(entry, dict) and len(entry) == 1:
            (key, params), = entry.items()
            params = params if isinstance(params, dict) else {}
            if key == name or params.get("label") == name:
                entry[key] = params
                return params
    labels = []
    for entry in entries:
        if isinstance(entry, str):
            labels.append(entry)
        elif isinstance(entry, dict) and len(entry) == 1:
            (key, params), = entry.items()
            labels.append(params.get("label", key) if isinstance(params, dict) else key)
    raise KeyError(f"override {path!r}: no strategy {name!r} in the scenario (strategies: {', '.join(labels)})")


class Result:
    """Every run of a scenario: pandas DataFrames of the summary, replications, time series and decisions,
    and the CLI's report."""

    def __init__(self, core: Any, scenario: Scenario):
        self._core = core
        self.scenario = scenario
        self._frames: dict = {}

    def _frame(self, name: str, text: Callable[[], str]):
        if name not in self._frames:
            import pandas as pd

            self._frames[name] = pd.read_csv(io.StringIO(text()))
        return self._frames[name]

    @property
    def summary(self):
        """One row per (strategy, metric): n, mean, ci95_half_width and the paired difference columns."""
        return self._frame("summary", self._core.summary_csv)

    @property
    def replications(self):
        """One row per (strategy, replication): outcome, every metric and extra_cost."""
        return self._frame("replications", self._core.results_csv)

    @property
    def timeseries(self):
        """One row per (strategy, replication, time, version): requests, share, ready, errors, p99, cost."""
        return self._frame("timeseries", self._core.timeseries_csv)

    @property
    def marks(self):
        """Every decision and milestone: strategy, replication, time_s, kind, reason."""
        return self._frame("marks", self._core.marks_csv)

    def table(self) -> str:
        """The side-by-side table the command line prints."""
        return self._core.table()

    def report(self, path: Union[str, os.PathLike], charts: bool = False) -> str:
        """Writes the CLI's outputs (summary, results, time series, decisions, report.html; with charts, the
        SVG charts) into the directory `path` and returns the report's path."""
        directory = os.fspath(path)
        self._core.write(directory, charts)
        return os.path.join(directory, "report.html")

    def __repr__(self) -> str:
        return f"<deploysim.Result of {self.scenario.name!r}>"


def run(
    scenario: Union[Scenario, str, os.PathLike, Mapping[str, Any]],
    replications: Optional[int] = None,
    seed: Optional[int] = None,
    strategies: Optional[Sequence[str]] = None,
    overrides: Optional[Mapping[str, Any]] = None,
    jobs: int = 0,
    baseline: str = "",
    progress: Union[bool, Callable[[int, int], None]] = False,
) -> Result:
    """Runs every strategy x replication of a scenario and returns a Result.

    scenario: a Scenario, a path, or a dict. replications, seed: override the scenario's. strategies: run
    only these labels or names. overrides: {"dotted.key": value} applied before validation. jobs: threads
    (0: all cores; the GIL is released while the C++ core runs). progress: True for a tqdm bar, or a
    callable progress(done, total). Ctrl-C stops the runs within a few thousand events (KeyboardInterrupt).
    Results are the same for the same seed whatever `jobs` is.
    """
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    if overrides:
        scenario = scenario.with_overrides(overrides)
    if replications is not None and (not isinstance(replications, int) or replications < 1):
        raise ValueError(f"replications must be a positive integer, got {replications!r}")
    if seed is not None and (not isinstance(seed, int) or seed < 0):
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if not isinstance(jobs, int) or jobs < 0:
        raise ValueError(f"jobs must be an integer >= 0, got {jobs!r}")
    callback = _progress(progress)
    try:
        core = _core.run(scenario._core, replications, seed, list(strategies or []), jobs, baseline, callback)
    finally:
        if callback is not None and hasattr(callback, "close"):
            callback.close()
    return Result(core, scenario)


class _Bar:
    def __init__(self):
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            from tqdm import tqdm  # Debian's python3-tqdm

            self._bar = tqdm(total=total, unit="run")
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _progress(progress):
    if progress is True:
        return _Bar()
    if progress is False or progress is None:
        return None
    if callable(progress):
        return progress
    raise ValueError(f"progress must be True, False or a callable(done, total), got {progress!r}")


from .sweep import summarise, sweep  # noqa: E402  (sweep builds on the names above)
