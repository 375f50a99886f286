"""Sweeps: executors agree, a killed sweep resumes without losing or duplicating anything, the CLI."""

import os
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pytest

import deploysim

SOURCE = os.environ.get("DEPLOYSIM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.environ.get("DEPLOYSIM_CLI", os.path.join(SOURCE, "build", "deploysim"))
TINY = os.path.join(SOURCE, "tests", "data", "cli", "tiny.yaml")
GRID = {"release.replicas": [2, 4], "strategies.rolling.max_surge": [1, 2]}


def test_a_point_of_a_sweep_equals_a_run():
    runs = deploysim.sweep(TINY, [{"release.replicas": 4, "traffic.rate": "150/s"}], replications=3)
    direct = deploysim.run(TINY, replications=3, overrides={"release.replicas": 4, "traffic.rate": "150/s"})
    expected = direct.replications.reset_index(drop=True)
    got = runs[expected.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    # The summary agrees with the run's own (same Student-t intervals).
    s = runs.attrs["summary"]
    mine = s[(s.strategy == "rolling") & (s.metric == "deploy_duration_s")].iloc[0]
    theirs = direct.summary[(direct.summary.strategy == "rolling") & (direct.summary.metric == "deploy_duration_s")].iloc[0]
    assert mine["mean"] == pytest.approx(theirs["mean"], rel=1e-12)
    assert mine["ci95_half_width"] == pytest.approx(theirs["ci95_half_width"], rel=1e-12)


def test_executors_give_identical_frames():
    threads = deploysim.sweep(TINY, GRID, replications=2, executor="threads", jobs=2)
    processes = deploysim.sweep(TINY, GRID, replications=2, executor="processes", jobs=2)
    pd.testing.assert_frame_equal(threads, processes)
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        with Client(cluster) as client:
            dask = deploysim.sweep(TINY, GRID, replications=2, executor=client)
    pd.testing.assert_frame_equal(threads, dask)
    assert len(threads) == 4 * 3 * 2  # points x strategies x replications


def test_a_killed_sweep_resumes_without_loss_or_duplicates(tmp_path):
    store = tmp_path / "results.sqlite"
    script = tmp_path / "sweep.py"
    script.write_text(
        "import deploysim\n"
        f"deploysim.sweep({TINY!r}, {GRID!r}, replications=12, store={str(store)!r}, jobs=1)\n",
        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)])
    rows = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and rows < 12:
        time.sleep(0.2)
        if store.exists():
            try:
                rows = sqlite3.connect(store).execute("SELECT COUNT(*) FROM runs").fetchone()[0]
            except sqlite3.OperationalError:
                rows = 0
    proc.kill()
    proc.wait()
    stored = sqlite3.connect(store).execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert 0 < stored < 4 * 3 * 12, "the sweep should have been killed part-way"
    resumed = deploysim.sweep(TINY, GRID, replications=12, store=store)
    whole = deploysim.sweep(TINY, GRID, replications=12)
    pd.testing.assert_frame_equal(resumed, whole)
    count, distinct = sqlite3.connect(store).execute(
        "SELECT COUNT(*), COUNT(DISTINCT point || strategy || replication) FROM runs").fetchone()
    assert count == distinct == 4 * 3 * 12


def test_a_store_refuses_another_sweep(tmp_path):
    store = tmp_path / "s.sqlite"
    deploysim.sweep(TINY, GRID, replications=1, store=store)
    with pytest.raises(ValueError, match="holds a sweep of another scenario or seed"):
        deploysim.sweep(TINY, GRID, replications=1, store=store, seed=99)


def test_sweep_errors():
    with pytest.raises(deploysim.ScenarioError, match="unknown key 'replics'"):
        deploysim.sweep(TINY, {"release.replics": [1, 2]})
    with pytest.raises(ValueError, match="must be a list of values"):
        deploysim.sweep(TINY, {"release.replicas": 3})
    with pytest.raises(ValueError, match="executor must be"):
        deploysim.sweep(TINY, {"release.replicas": [2]}, executor=42)


def test_the_command_line_sweep(tmp_path):
    out = subprocess.run([CLI, "sweep", TINY, "--set", "release.replicas=2,4", "--replications", "2",
                          "-o", str(tmp_path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "deploy_duration_s" in out.stdout
    runs = pd.read_csv(tmp_path / "runs.csv")
    assert len(runs) == 2 * 3 * 2
    bad = subprocess.run([CLI, "sweep", TINY, "--set", "release.replics=2"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "unknown key 'replics'; did you mean 'replicas'?" in bad.stderr
