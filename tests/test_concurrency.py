"""Two processes publishing the same file at once both succeed (unique temporary names)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import joblib
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier

from instrument_bench.artifacts import MANIFEST, save_model
from instrument_bench.results import RUNS
from instrument_bench.storage import atomic_dir, atomic_write, done_with, mark_done, read_done
from tests.suites import experiment, write_suite

# both processes start saving at the same moment (argv[4]), then save the same model repeatedly;
# with fixed temporary names (model.tmp.joblib, manifest.tmp.json) one of them dies
SAVE_MANY = """
import sys, time
from sklearn.dummy import DummyClassifier
from instrument_bench.artifacts import save_model
model = DummyClassifier().fit([[0], [1]], [0, 1])
time.sleep(max(0.0, float(sys.argv[4]) - time.time()))
for _ in range(int(sys.argv[2])):
    save_model(model, sys.argv[1], {"model_format": "joblib", "writer": sys.argv[3]})
"""


def test_atomic_write_publishes_on_success_and_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "a.txt"
    with atomic_write(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name != target.name and tmp.suffix == ".txt"
        tmp.write_text("one")
    assert target.read_text() == "one"
    with pytest.raises(RuntimeError), atomic_write(target) as tmp:
        tmp.write_text("torn")
        raise RuntimeError("killed")
    assert target.read_text() == "one" and sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


def test_temporary_names_differ_per_call(tmp_path):
    with atomic_write(tmp_path / "x.txt") as first, atomic_write(tmp_path / "x.txt") as second:
        assert first != second
        first.write_text("first")
        second.write_text("second")
    assert (tmp_path / "x.txt").read_text() == "first"  # the last rename wins


def test_atomic_dir_and_done_markers(tmp_path):
    root = tmp_path / "render"
    with pytest.raises(RuntimeError), atomic_dir(root) as tmp:
        (tmp / "half.wav").write_bytes(b"")
        raise RuntimeError("killed")
    assert not root.exists() and list(tmp_path.iterdir()) == []
    with atomic_dir(root) as tmp:
        (tmp / "note.wav").write_bytes(b"x")
        mark_done(tmp / "done.json", {"version": 2, "notes": 1})
    assert read_done(root / "done.json") == {"notes": 1, "version": 2}
    assert done_with(root / "done.json", {"version": 2}) and not done_with(root / "done.json", {"version": 3})
    assert read_done(root / "missing.json") is None and not done_with(root / "missing.json", {})


@pytest.mark.processes
def test_two_processes_saving_the_same_model_both_succeed(tmp_path):
    folder = tmp_path / "models" / "0123456789abcdef"
    start = str(time.time() + 20)  # after both have imported the package
    procs = [subprocess.Popen([sys.executable, "-c", SAVE_MANY, str(folder), "200", name, start],
                              stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    errors = [proc.communicate(timeout=300)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    assert isinstance(joblib.load(folder / "model.joblib"), DummyClassifier)
    assert read_done(folder / MANIFEST)["writer"] in ("a", "b")
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, "model.joblib"]  # no temporaries left


def test_save_model_writes_the_manifest_last(tmp_path):
    model = DummyClassifier().fit([[0], [1]], [0, 1])
    path = save_model(model, tmp_path / "m", {"model_format": "joblib"})
    assert path.name == "model.joblib"
    assert read_done(tmp_path / "m" / MANIFEST)["model_file"] == "model.joblib"


SAME_CELL = experiment("nsynth", tasks=["family"], features=["nsynth-attributes"], models=["random-forest"])


@pytest.mark.processes
def test_two_runs_computing_the_same_cell_both_succeed(tmp_path, tiny_data_root, bench_home):
    suite = write_suite(tmp_path / "suite.toml", SAME_CELL, name="same-cell", seeds=1)
    results = tmp_path / "results"
    args = [sys.executable, "-m", "instrument_bench", "run", str(suite), "--data-root", str(tiny_data_root),
            "--results", str(results), "-q", "--jobs", "1", "--force"]
    env = {**os.environ, "INSTRUMENT_BENCH_HOME": str(bench_home)}
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    errors = [proc.communicate(timeout=600)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    runs = pd.read_csv(results / RUNS)
    assert len(runs) == 1 and (runs["status"] == "ok").all()  # the second write replaced the first
    folder = Path(results) / "models" / runs["model_key"].iloc[0]
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST, "model.joblib"]
