"""Resume: a cell finished with status ok is never computed again (without ``--force``); a failed
cell is retried."""

from __future__ import annotations

from instrument_bench import results
from instrument_bench.cli import main
from tests.suites import experiment, write_suite


def row(key, status, seed):
    out = {"run_key": key, "status": status, "dataset": "d", "task": "family", "feature": "f", "model": "m",
           "seed": seed, "primary_metric": "macro_f1", "utc_time": f"2026-01-01T00:00:0{seed}"}
    return {**out, "macro_f1": 0.5} if status == "ok" else {**out, "error": "boom"}


def test_finished_keys_are_the_ok_rows_of_runs_csv(tmp_path):
    assert results.finished_keys(tmp_path) == set()
    results.record_runs(tmp_path, [row("a" * 16, "ok", 0)], [])
    results.record_runs(tmp_path, [row("b" * 16, "failed", 1)], [])
    results.record_runs(tmp_path, [row("c" * 16, "ok", 2)], [])
    assert results.finished_keys(tmp_path) == {"a" * 16, "c" * 16}
    results.record_runs(tmp_path, [row("b" * 16, "ok", 1)], [])  # the retried cell succeeded
    assert results.finished_keys(tmp_path) == {"a" * 16, "b" * 16, "c" * 16}


def test_a_rerun_reuses_the_finished_cells(tiny_data_root, bench_home, tmp_path, capsys):
    suite = write_suite(tmp_path / "suite.toml", experiment(
        "nsynth", tasks=["family"], features=["nsynth-attributes"], models=["logreg", "knn"]),
        name="resume", seeds=1)
    res = tmp_path / "results"
    args = ["run", str(suite), "--data-root", str(tiny_data_root), "--results", str(res), "--jobs", "1",
            "--resamples", "0"]
    assert main(args) == 0
    assert "2 cells computed" in capsys.readouterr().out
    stamp = (res / results.RUNS).stat().st_mtime_ns
    assert main(args) == 0
    assert "0 cells computed, 2 reused" in capsys.readouterr().out
    assert (res / results.RUNS).stat().st_mtime_ns == stamp  # nothing was recomputed or rewritten
