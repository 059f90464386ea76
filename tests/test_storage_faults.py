"""A full disk, a folder that cannot be written and the leftovers of a killed run: a clear
one-line error, finished rows intact, and a rerun that resumes."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from instrument_bench import storage
from instrument_bench.cli import main
from instrument_bench.errors import StorageError
from instrument_bench.results import RUNS
from tests.suites import experiment, write_suite

SUITE = experiment("nsynth", tasks=["family"], features=["nsynth-attributes"],
                   models=["random-forest", "xgboost"])


def test_a_full_disk_is_a_storage_error_naming_the_file_and_the_space(tmp_path, monkeypatch):
    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage, "replace", full)
    with pytest.raises(StorageError, match=r"runs\.csv: no space left on the device \(the write needed "
                                           r"more than 3 bytes; [\d,]+ bytes free\)"):
        with storage.atomic_write(tmp_path / "runs.csv") as tmp:
            tmp.write_text("abc")
    assert list(tmp_path.iterdir()) == []  # the temporary is gone too


def test_a_disk_filling_mid_run_stops_cleanly_and_the_rerun_resumes(tmp_path, tiny_data_root, bench_home,
                                                                    monkeypatch, capsys):
    suite = write_suite(tmp_path / "suite.toml", SUITE, name="full-disk", seeds=2)
    args = ["run", str(suite), "--data-root", str(tiny_data_root), "--results", str(tmp_path / "r"),
            "--jobs", "1", "--resamples", "0"]
    real, calls = storage.replace, []

    def fills_up(src, dst):
        calls.append(dst)
        if sum(Path(d).name == RUNS for d in calls) > 2:  # the third runs.csv write finds the disk full
            raise OSError(errno.ENOSPC, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(storage, "replace", fills_up)
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "no space left on the device" in err and "Traceback" not in err
    assert len(pd.read_csv(tmp_path / "r" / RUNS)) == 2  # the cells finished before it are intact
    monkeypatch.setattr(storage, "replace", real)
    assert main(args) == 0
    assert "2 cells computed, 2 reused" in capsys.readouterr().out


@pytest.mark.skipif(sys.platform != "linux", reason="uses /sys, which no one may write to")
def test_a_results_folder_that_cannot_be_written_is_one_line(tmp_path, tiny_data_root, bench_home, capsys):
    suite = write_suite(tmp_path / "suite.toml", SUITE, name="read-only", seeds=1)
    assert main(["run", str(suite), "--data-root", str(tiny_data_root), "--results",
                 "/sys/instrument-bench-results", "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert "cannot write there" in err and "--results DIR" in err and len(err.splitlines()) == 1


def test_temporaries_of_dead_processes_are_removed_and_live_ones_kept(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    (tmp_path / "models" / "k").mkdir(parents=True)
    leftovers = [tmp_path / f".runs.csv.tmp-{dead}-0123abcd.csv",
                 tmp_path / "models" / "k" / f".model.joblib.tmp-{dead}-89abcdef.joblib"]
    folder = tmp_path / f".v3.tmp-{dead}-deadbeef"
    live = tmp_path / f".runs.csv.tmp-{os.getpid()}-0123abcd.csv"
    for path in (*leftovers, live):
        path.write_text("half")
    folder.mkdir()
    (folder / "note.wav").write_bytes(b"")
    keep = tmp_path / "runs.csv"
    keep.write_text("ok")
    assert storage.remove_stale_temporaries(tmp_path) == 3
    assert not any(p.exists() for p in (*leftovers, folder)) and live.exists() and keep.exists()


def test_an_os_error_inside_a_cell_fails_that_cell_not_the_run(tmp_path, tiny_data_root):
    from instrument_bench.cell import CellJob, FeatureFiles, compute_cell
    from instrument_bench.config import TrainConfig
    from instrument_bench.datasets.loading import load_dataset
    from instrument_bench.features import FEATURES
    from instrument_bench.plan import feature_cells, run_context
    from instrument_bench.protocol.labels import task_view
    from instrument_bench.protocol.tasks import TASKS

    dataset = load_dataset("nsynth", options={}, data_root=tiny_data_root, progress=False)
    view = task_view(TASKS["family"], dataset)
    cell = feature_cells(experiment_of(), dataset, view.task, "nsynth-attributes", seeds=1,
                         train_config=TrainConfig())[0]
    gone = {s: str(tmp_path / f"{s}.npy") for s in ("train", "valid", "test")}  # the cache vanished
    job = CellJob(cell=cell, task=view.task, spec=FEATURES["nsynth-attributes"],
                  X=FeatureFiles(gone, view.keep),
                  y=view.y, groups=None, test_ids=[], test_units={}, sample_rate=16000, clip_seconds=4.0,
                  results_dir=str(tmp_path / "r"), n_jobs=1, save_models=False, verbose=False, top_k=3,
                  threshold=0.5, train_config=TrainConfig(), context=run_context())
    out = compute_cell(job)
    assert out["error"] and "No such file" in out["error"]
    assert {r["status"] for r in out["rows"]} == {"failed"}


def experiment_of():
    from instrument_bench.config import Experiment

    return Experiment(dataset="nsynth", tasks=("family",), features=("nsynth-attributes",),
                      models=("logreg",))
