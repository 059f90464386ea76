"""A torn or foreign line in runs.csv is set aside and its cell recomputed; damage that hides the
rows after it stops with one clear error naming the line and the way out."""

from __future__ import annotations

import pandas as pd
import pytest

from instrument_bench.cli import main
from instrument_bench.results import REJECTED, RUNS, repair_runs
from instrument_bench.runs_file import ResultsError, parse_runs
from tests.suites import experiment, write_suite

SUITE = experiment("nsynth", tasks=["family"], features=["nsynth-attributes"],
                   models=["random-forest", "xgboost"])


@pytest.fixture(scope="module")
def clean(tmp_path_factory, tiny_data_root):
    """A finished run of 4 cells (2 models x 2 seeds); its runs.csv text."""
    base = tmp_path_factory.mktemp("runs-file")
    suite = write_suite(base / "suite.toml", SUITE, name="runs-file", seeds=2)
    mp = pytest.MonkeyPatch()
    mp.setenv("INSTRUMENT_BENCH_HOME", str(base / "home"))
    assert main(["run", str(suite), "--data-root", str(tiny_data_root), "--results", str(base / "r"),
                 "-q", "--jobs", "1", "--resamples", "0"]) == 0
    mp.undo()
    return suite, (base / "r" / RUNS).read_text()


def rerun(clean, tmp_path, text, capsys, tiny_data_root):
    suite, _ = clean
    results = tmp_path / "r"
    results.mkdir()
    (results / RUNS).write_text(text)
    code = main(["run", str(suite), "--data-root", str(tiny_data_root), "--results", str(results),
                 "--jobs", "1", "--resamples", "0"])
    return code, capsys.readouterr(), results


@pytest.mark.parametrize("cut", ["mid-field", "inside-quotes", "garbage-line"])
def test_a_torn_last_line_is_set_aside_and_its_cell_recomputed(clean, tmp_path, capsys, tiny_data_root,
                                                                bench_home, cut):
    _, text = clean
    lines = text.splitlines(keepends=True)
    last = lines[-1]
    if cut == "mid-field":
        damaged = "".join(lines[:-1]) + last[:len(last) // 2]
    elif cut == "inside-quotes":
        damaged = "".join(lines[:-1]) + last[:last.index('"{') + 5]  # inside a quoted JSON field
    else:
        damaged = text + "xyz\n"
    code, out, results = rerun(clean, tmp_path, damaged, capsys, tiny_data_root)
    assert code == 0
    assert "set aside 1 torn or invalid row(s)" in out.err
    rejected = pd.read_csv(results / REJECTED)
    assert len(rejected) == 1 and rejected["line"].iloc[0] == len(lines) + (cut == "garbage-line")
    runs = pd.read_csv(results / RUNS)
    assert len(runs) == 4 and (runs["status"] == "ok").all()  # the torn cell was computed again
    expected = "1 cells computed, 3 reused" if cut != "garbage-line" else "0 cells computed, 4 reused"
    assert expected in out.out
    board = pd.read_csv(results / "leaderboard.csv")
    assert (board["n_seeds"] == 2).all()


def test_an_invalid_row_is_rejected_with_its_reason(clean, tmp_path):
    _, text = clean
    header, *rows = text.splitlines(keepends=True)
    columns = header.strip().split(",")
    path = tmp_path / RUNS
    fields = rows[0].rstrip("\n").split(",")
    fields[columns.index("run_key")] = "not-a-key"
    path.write_text(header + ",".join(fields) + "\n" + "".join(rows[1:]))
    valid, rejected = parse_runs(path)
    assert len(valid) == 3 and len(rejected) == 1
    assert "run_key 'not-a-key' is not a 16-digit hex key" in rejected[0][2]
    repair_runs(tmp_path)
    assert len(pd.read_csv(path)) == 3 and len(pd.read_csv(tmp_path / REJECTED)) == 1


def test_damage_that_hides_later_rows_stops_with_the_line_and_the_way_out(clean, tmp_path, capsys,
                                                                          tiny_data_root, bench_home):
    _, text = clean
    header, *rows = text.splitlines(keepends=True)
    damaged = header + rows[0] + 'x,"unclosed\n' + "".join(rows[1:])
    code, out, results = rerun(clean, tmp_path, damaged, capsys, tiny_data_root)
    assert code == 1
    assert f"{results / RUNS}: line 3: a damaged row spans" in out.err and "head -n 2" in out.err
    assert "Traceback" not in out.err and (results / RUNS).read_text() == damaged  # nothing rewritten


def test_an_unreadable_header_is_named(tmp_path):
    (tmp_path / RUNS).write_text("a,b\n1,2\n")
    with pytest.raises(ResultsError, match="line 1: the header lacks"):
        parse_runs(tmp_path / RUNS)


def test_keys_that_look_like_numbers_stay_keys(tmp_path):
    from instrument_bench.results import finished_keys, record_runs

    row = {"run_key": "0123456789012345", "model_key": "1234e56789012345", "status": "ok", "dataset": "d",
           "task": "t", "feature": "f", "model": "m", "seed": 0, "utc_time": "2026-11-25T10:00:00+00:00",
           "primary_metric": "macro_f1", "macro_f1": 0.5}
    record_runs(tmp_path, [row], [])
    record_runs(tmp_path, [{**row, "macro_f1": 0.6}], [])  # the same cell again replaces its row
    assert finished_keys(tmp_path) == {"0123456789012345"}
    runs = pd.read_csv(tmp_path / RUNS, dtype=str)
    assert len(runs) == 1 and runs["model_key"].iloc[0] == "1234e56789012345"
