"""A run never loses finished work: kill -9 and resume, two runs on one results folder."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from instrument_bench.cli import main
from instrument_bench.results import LEADERBOARD, PER_CLASS, RUNS
from tests.suites import experiment, write_suite

TIMING = ("fit_seconds", "search_seconds", "predict_ms_per_clip", "utc_time")


def models_suite(path, models) -> str:
    """A two-seed suite of ``models`` on the tiny NSynth tree's families, written to ``path``."""
    nsynth = experiment("nsynth", tasks=["family"], features=["mfcc-stats", "nsynth-attributes"],
                        models=models)
    return str(write_suite(path, nsynth, name="reliability", seeds=2))


def run_args(suite, data_root, results, *extra) -> list[str]:
    return ["run", suite, "--data-root", str(data_root), "--results", str(results), "-q", "--jobs", "1",
            *extra]


def start(args, env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "instrument_bench", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def comparable(frame: pd.DataFrame, sort) -> pd.DataFrame:
    """A results frame without its timing columns, in a fixed order."""
    keep = [c for c in frame.columns if not any(c.startswith(t) for t in TIMING)
            and c not in ("model_bytes_mean", "model_bytes_std", "rank")]
    return frame[keep].sort_values(sort).reset_index(drop=True)


@pytest.mark.processes
def test_kill_9_then_rerun_gives_the_clean_leaderboard(tmp_path, tiny_data_root, bench_home):
    suite = models_suite(tmp_path / "suite.toml", ["random-forest", "logreg", "knn"])
    assert main(run_args(suite, tiny_data_root, tmp_path / "clean")) == 0  # also warms the feature cache
    clean_runs = pd.read_csv(tmp_path / "clean" / RUNS)
    assert len(clean_runs) == 8  # 2 features x (random-forest: 2 seeds, logreg and knn: deterministic, 1)

    killed = tmp_path / "killed"
    proc = start(run_args(suite, tiny_data_root, killed), dict(os.environ))
    runs_file, deadline = killed / RUNS, time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if runs_file.is_file() and len(pd.read_csv(runs_file)) >= 3:
            break
        time.sleep(0.02)
    proc.kill()  # SIGKILL: no cleanup runs
    proc.wait()
    assert proc.returncode == -9, proc.stderr.read().decode()[-2000:]
    partial = pd.read_csv(runs_file)
    assert 3 <= len(partial) < 8 and not partial["run_key"].duplicated().any()

    assert main(run_args(suite, tiny_data_root, killed)) == 0  # resumes
    runs = pd.read_csv(runs_file)
    assert not runs["run_key"].duplicated().any()
    assert set(runs["run_key"]) == set(clean_runs["run_key"])
    assert set(partial["run_key"]) <= set(runs["run_key"])
    pd.testing.assert_frame_equal(comparable(runs, "run_key")[["run_key", "macro_f1", "accuracy"]],
                                  comparable(clean_runs, "run_key")[["run_key", "macro_f1", "accuracy"]])
    per_class = pd.read_csv(killed / PER_CLASS)
    assert not per_class.duplicated(["run_key", "class"]).any()
    assert set(per_class["run_key"]) == set(runs["run_key"])
    board, clean_board = (pd.read_csv(d / LEADERBOARD) for d in (killed, tmp_path / "clean"))
    groups = ["dataset", "task", "feature", "model"]
    pd.testing.assert_frame_equal(comparable(board, groups), comparable(clean_board, groups))


@pytest.mark.processes
def test_two_runs_into_one_results_folder(tmp_path, tiny_data_root, bench_home):
    suite_a = models_suite(tmp_path / "a.toml", ["logreg", "knn"])
    suite_b = models_suite(tmp_path / "b.toml", ["random-forest", "xgboost"])
    results = tmp_path / "results"
    main(run_args(suite_a, tiny_data_root, tmp_path / "warm", "--models", "logreg"))  # feature cache
    procs = [start(run_args(s, tiny_data_root, results), dict(os.environ)) for s in (suite_a, suite_b)]
    for proc in procs:
        assert proc.wait(timeout=300) == 0, proc.stderr.read().decode()[-2000:]
    runs = pd.read_csv(results / RUNS)
    assert len(runs) == 12 and not runs["run_key"].duplicated().any()  # logreg, knn: one seed
    assert set(runs["model"]) == {"logreg", "knn", "random-forest", "xgboost"}
    board = pd.read_csv(results / LEADERBOARD)
    assert len(board) == 8 and (board["n_seeds"] == board["model"].map(
        {"logreg": 1, "knn": 1, "random-forest": 2, "xgboost": 2})).all()


def test_same_seed_twice_gives_the_same_metrics(tmp_path, tiny_data_root, bench_home):
    """Classical models: identical metrics; Keras on the CPU with deterministic ops: within 1e-6."""
    suite = models_suite(tmp_path / "suite.toml", ["logreg", "svm", "random-forest", "knn", "xgboost", "mlp"])
    for name in ("a", "b"):
        assert main(run_args(suite, tiny_data_root, tmp_path / name, "--features", "mfcc-stats",
                             "--seeds", "1", "--force")) == 0
    a, b = (pd.read_csv(tmp_path / n / RUNS).sort_values("run_key").reset_index(drop=True) for n in "ab")
    assert list(a["run_key"]) == list(b["run_key"]) and len(a) == 6
    metrics = ["accuracy", "balanced_accuracy", "macro_f1", "micro_f1", "valid_score"]
    classical = a["model"] != "mlp"
    pd.testing.assert_frame_equal(a.loc[classical, metrics + ["best_params"]],
                                  b.loc[classical, metrics + ["best_params"]])
    np.testing.assert_allclose(a.loc[~classical, metrics].to_numpy(float),
                               b.loc[~classical, metrics].to_numpy(float), atol=1e-6)
