"""A results CSV is replaced whole or not at all: a writer that dies half-way, or a rename that
fails, leaves the previous file byte for byte and no temporary behind."""

from __future__ import annotations

import errno

import pandas as pd
import pytest

from instrument_bench import results, storage
from instrument_bench.errors import StorageError


class WriterDied(Exception):
    """The process writing the file was stopped (the stand-in for a kill)."""


class DiesHalfWay(pd.DataFrame):
    """A frame whose CSV writer writes the header and half the rows to the file it was given, then
    dies."""

    def to_csv(self, path_or_buf=None, **kwargs):
        pd.DataFrame(self).iloc[: len(self) // 2].to_csv(path_or_buf, **kwargs)
        raise WriterDied("killed half-way through the write")


def old_file(folder):
    path = folder / results.RUNS
    results.write_csv_atomic(pd.DataFrame({"run_key": ["a", "b"], "macro_f1": [0.5, 0.6]}), path)
    return path, path.read_bytes()


NEW = {"run_key": list("cdefgh"), "macro_f1": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}


def test_a_writer_dying_half_way_leaves_the_old_file_intact(tmp_path):
    path, before = old_file(tmp_path)
    with pytest.raises(WriterDied):
        results.write_csv_atomic(DiesHalfWay(NEW), path)
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]  # the half-written temporary is gone


def test_a_failed_rename_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path, before = old_file(tmp_path)
    renamed = []

    def dies(src, dst):
        renamed.append(dst)
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(storage, "replace", dies)
    with pytest.raises(StorageError, match="runs.csv: cannot write"):
        results.write_csv_atomic(pd.DataFrame(NEW), path)
    assert renamed == [path]  # the file is published by the one rename, nothing else
    assert path.read_bytes() == before
    assert list(tmp_path.iterdir()) == [path]


def test_recording_a_cell_that_fails_to_publish_keeps_the_finished_rows(tmp_path, monkeypatch):
    row = {"run_key": "a" * 16, "status": "ok", "dataset": "d", "task": "family", "feature": "f",
           "model": "m", "seed": 0, "primary_metric": "macro_f1", "macro_f1": 0.5,
           "utc_time": "2026-01-01T00:00:00"}
    results.record_runs(tmp_path, [row], [{"run_key": row["run_key"], "class": "x", "f1": 0.5}])
    before = {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")}
    assert set(before) == {results.RUNS, results.PER_CLASS}

    def dies(src, dst):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(storage, "replace", dies)
    with pytest.raises(StorageError):
        results.record_runs(tmp_path, [{**row, "run_key": "b" * 16, "seed": 1}],
                            [{"run_key": "b" * 16, "class": "x", "f1": 0.7}])
    assert {p.name: p.read_bytes() for p in tmp_path.glob("*.csv")} == before
    assert results.finished_keys(tmp_path) == {"a" * 16}
    assert not list(tmp_path.glob(".*tmp*"))
