"""The Python bindings: round trip against the CLI, overrides, errors, threads, and the installed package."""

import os
import subprocess
import sys

import pandas as pd
import pytest

import deploysim

SOURCE = os.environ.get("DEPLOYSIM_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
CLI = os.environ.get("DEPLOYSIM_CLI", os.path.join(SOURCE, "build", "deploysim"))
TINY = os.path.join(SOURCE, "tests", "data", "cli", "tiny.yaml")


def test_python_run_equals_cli_run(tmp_path):
    out = tmp_path / "cli"
    subprocess.run([CLI, "run", TINY, "-o", str(out), "--seed", "9", "--replications", "3"], check=True,
                   capture_output=True)
    result = deploysim.run(TINY, seed=9, replications=3)
    pd.testing.assert_frame_equal(result.summary, pd.read_csv(out / "summary.csv"))
    pd.testing.assert_frame_equal(result.replications, pd.read_csv(out / "results.csv"))
    pd.testing.assert_frame_equal(result.timeseries, pd.read_csv(out / "timeseries.csv"))
    pd.testing.assert_frame_equal(result.marks, pd.read_csv(out / "marks.csv"))
    # And the report, written from Python, is the CLI's, byte for byte.
    report = result.report(tmp_path / "py")
    assert open(report, encoding="utf-8").read() == (out / "report.html").read_text(encoding="utf-8")


def test_result_frames_hold_the_runs():
    result = deploysim.run(TINY, replications=2, strategies=["rolling"])
    reps = result.replications
    assert list(reps["strategy"].unique()) == ["rolling"]
    assert sorted(reps["replication"]) == [0, 1]
    assert set(reps["outcome"]) == {"promoted"}
    assert (reps["deploy_duration_s"] > 0).all()
    summary = result.summary
    row = summary[(summary.strategy == "rolling") & (summary.metric == "deploy_duration_s")].iloc[0]
    assert row["n"] == 2
    assert row["mean"] == pytest.approx(reps["deploy_duration_s"].mean())
    assert "rolling" in result.table()


def test_threads_do_not_change_results():
    one = deploysim.run(TINY, replications=4, jobs=1)
    two = deploysim.run(TINY, replications=4, jobs=2)
    pd.testing.assert_frame_equal(one.replications, two.replications)
    pd.testing.assert_frame_equal(one.timeseries, two.timeseries)


def test_overrides_reach_any_key():
    base = deploysim.load(TINY)
    faster = deploysim.run(base, replications=1, strategies=["rolling"],
                           overrides={"traffic.rate": "200/s", "strategies.rolling.max_surge": 4})
    slower = deploysim.run(base, replications=1, strategies=["rolling"])
    assert faster.replications["requests"].iloc[0] > 1.8 * slower.replications["requests"].iloc[0]
    assert faster.replications["deploy_duration_s"].iloc[0] < slower.replications["deploy_duration_s"].iloc[0]
    # The scenario object itself is unchanged.
    assert base.document["traffic"]["rate"] == "100/s"


def test_overrides_index_lists():
    doc = deploysim.apply_overrides(deploysim.load(TINY).document, {"cluster.pools.0.nodes": 5})
    assert doc["cluster"]["pools"][0]["nodes"] == 5
    with pytest.raises(KeyError, match="index 3 is outside a list of 1"):
        deploysim.apply_overrides(doc, {"cluster.pools.3.nodes": 5})


def test_override_errors():
    with pytest.raises(KeyError, match="no strategy 'canary' in the scenario .strategies: none, recreate, rolling"):
        deploysim.run(TINY, overrides={"strategies.canary.steps": []})
    with pytest.raises(deploysim.ScenarioError) as err:
        deploysim.run(TINY, overrides={"traffic.rats": "5/s"})
    assert "unknown key 'rats'; did you mean 'rate'?" in str(err.value)
    assert err.value.issues[0]["key"] == "traffic.rats"


def test_scenario_errors_carry_file_line_and_key(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(open(TINY, encoding="utf-8").read().replace("replicas: 4", "replicsa: 4"), encoding="utf-8")
    with pytest.raises(deploysim.ScenarioError) as err:
        deploysim.load(bad)
    assert isinstance(err.value, ValueError)
    issue = err.value.issues[0]
    assert issue["file"] == str(bad)
    assert issue["key"] == "release.replicsa"
    assert issue["line"] == 21
    assert issue["message"] == "unknown key 'replicsa'; did you mean 'replicas'?"
    assert f"{bad}:21:" in str(err.value)


def test_argument_errors():
    with pytest.raises(ValueError, match="replications must be a positive integer"):
        deploysim.run(TINY, replications=0)
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        deploysim.run(TINY, seed=-1)
    with pytest.raises(ValueError, match="progress must be True, False or a callable"):
        deploysim.run(TINY, progress="yes")
    with pytest.raises(deploysim.ScenarioError, match="no-such.yaml: cannot read the scenario file"):
        deploysim.run(os.path.join(SOURCE, "no-such.yaml"))


def test_load_from_a_dict_and_progress():
    import yaml

    document = yaml.safe_load(open(TINY, encoding="utf-8"))
    document["strategies"] = ["none", "recreate"]
    seen = []
    result = deploysim.run(document, replications=2, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (4, 4)
    assert [d for d, _ in seen] == [1, 2, 3, 4]
    assert list(result.summary["strategy"].unique()) == ["none", "recreate"]


def test_import_works_from_any_directory_after_make(tmp_path):
    # No PYTHONPATH: the interpreter finds the package through the .pth file `make` registers.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(["/usr/bin/python3", "-c", "import deploysim; print(deploysim.run.__doc__ is not None)"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


def test_ctrl_c_stops_a_long_run_inside_it(tmp_path):
    import signal
    import time

    script = tmp_path / "long.py"
    # One replication of 300 simulated hours: minutes of work, stopped within a few thousand events.
    script.write_text(
        "import sys, time, deploysim\n"
        "start = time.monotonic()\n"
        "try:\n"
        f"    deploysim.run({os.path.join(SOURCE, 'scenarios', 'quickstart.yaml')!r}, replications=1, jobs=2,\n"
        "                  overrides={'duration': '300h'})\n"
        "except KeyboardInterrupt:\n"
        "    print('interrupted'); sys.exit(3)\n",
        encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 3
    assert out.strip() == "interrupted"
    assert time.monotonic() - start < 5
