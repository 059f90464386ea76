"""Executors: joblib processes and Dask (a real LocalCluster on loopback) give the same results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instrument_bench.cli import main
from instrument_bench.datasets import nsynth
from instrument_bench.errors import ConfigError
from instrument_bench.features import FEATURES
from instrument_bench.features.store import compute_features
from instrument_bench.parallel import Executor, parallel_map
from tests.suites import experiment, write_suite

NSYNTH = experiment("nsynth", tasks=["family"], features=["mfcc-stats", "nsynth-attributes"],
                    models=["logreg", "random-forest", "knn"])


def square(x):
    return x * x


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as local:
        yield local


def test_executor_names_and_scheduler_are_checked():
    with pytest.raises(ConfigError, match="unknown executor 'spark'; valid: local, dask, dask-local"):
        Executor("spark")
    with pytest.raises(ConfigError, match="--executor dask needs --scheduler"):
        Executor("dask")


def test_dask_executor_maps_in_order_and_extracts_the_same_features(cluster, tiny_data_root):
    executor = Executor("dask", scheduler=cluster.scheduler_address)
    try:
        assert list(executor.imap(square, [(k,) for k in range(10)])) == [k * k for k in range(10)]
        done = dict(executor.as_completed(square, [(k,) for k in range(5)]))
        assert done == {(k,): k * k for k in range(5)}
        clips = nsynth.read_layout(tiny_data_root / "nsynth").split("train")
        local = compute_features(clips, FEATURES["mfcc-stats"], sample_rate=16000, jobs=2, progress=False)
        # extraction chunks go to the cluster
        assert parallel_map(square, [(3,)], progress=False, executor=executor) == [9]
        remote = compute_features(clips, FEATURES["mfcc-stats"], sample_rate=16000, progress=False,
                                  executor=executor)
        # single-threaded BLAS on the workers: equal up to float32 rounding
        np.testing.assert_allclose(local, remote, rtol=1e-5, atol=1e-6)
    finally:
        executor.close()


@pytest.mark.processes
def test_a_run_on_a_dask_cluster_gives_the_local_rows(cluster, tmp_path, tiny_data_root, bench_home):
    suite = write_suite(tmp_path / "suite.toml", NSYNTH, name="dask", seeds=2)
    args = ["run", str(suite), "--data-root", str(tiny_data_root), "-q", "--jobs", "2"]
    assert main([*args, "--results", str(tmp_path / "local")]) == 0
    assert main([*args, "--results", str(tmp_path / "dask"), "--executor", "dask",
                 "--scheduler", cluster.scheduler_address]) == 0
    columns = ["run_key", "model_key", "status", "accuracy", "macro_f1", "best_params", "valid_score"]
    local, remote = (pd.read_csv(tmp_path / d / "runs.csv")[columns].sort_values("run_key")
                     .reset_index(drop=True) for d in ("local", "dask"))
    assert len(local) == 8 and (local["status"] == "ok").all()  # logreg and knn: one seed each
    pd.testing.assert_frame_equal(local, remote)
    saved = {p.parent.name for p in (tmp_path / "dask" / "models").glob("*/manifest.json")}
    assert saved and saved <= set(remote["model_key"])  # workers saved the models into the results
