"""A run writes intervals, ties, seed spread and versions; a version change is not reused; the
dry run shows the plan and which cells are done."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instrument_bench import plan
from instrument_bench.cli import main
from tests.suites import experiment, write_suite

SUITE = (experiment("nsynth", tasks=["family"], features=["mfcc-stats"],
                    models=["chance", "logreg", "random-forest"]),)


@pytest.fixture
def run(tmp_path, tiny_data_root, bench_home):
    suite = write_suite(tmp_path / "suite.toml", *SUITE, name="stats", seeds=2)

    def go(*extra):
        return main(["run", str(suite), "--data-root", str(tiny_data_root), "--results",
                     str(tmp_path / "results"), "-q", "--jobs", "1", *extra])
    return go


def test_a_run_writes_intervals_ties_and_seed_spread(run, tmp_path, capsys):
    assert run() == 0
    out = capsys.readouterr().out
    assert "statistically tied with rank 1" in out and "1 (deterministic)" in out
    board = pd.read_csv(tmp_path / "results" / "leaderboard.csv").set_index("model")
    for column in ("macro_f1_ci_low", "macro_f1_ci_high", "accuracy_ci_low", "accuracy_ci_high",
                   "n_test_units", "p_vs_best", "tied_with_best", "seed_std", "deterministic"):
        assert column in board, column
    assert (board["n_test_units"] == 3).all()  # the tiny render's 3 test instruments, not its notes
    assert board.loc["logreg", "n_seeds"] == 1 and board.loc["logreg", "deterministic"]
    assert pd.isna(board.loc["logreg", "seed_std"])  # one fit: no spread claimed
    assert board.loc["random-forest", "n_seeds"] == 2 and not board.loc["random-forest", "deterministic"]
    assert (board["macro_f1_ci_low"] <= board["macro_f1_mean"]).all()
    assert (board["macro_f1_mean"] <= board["macro_f1_ci_high"]).all()
    assert board.loc["chance", "macro_f1_mean"] < board["macro_f1_mean"].max()
    runs = pd.read_csv(tmp_path / "results" / "runs.csv")
    assert len(runs) == 4 and set(runs["protocol_version"].astype(str)) == {plan.PROTOCOL_VERSION}
    assert "scikit-learn" in runs["cell_versions"].iloc[0]


def test_a_protocol_version_change_is_not_reused(run, tmp_path, capsys, monkeypatch):
    assert run() == 0
    capsys.readouterr()
    assert run("--dry-run") == 0
    assert "4 cells: 4 already in" in capsys.readouterr().out
    monkeypatch.setattr(plan, "PROTOCOL_VERSION", "test-bump")
    assert run("--dry-run") == 0
    out = capsys.readouterr().out
    assert "4 cells: 0 already in" in out and out.count("todo  nsynth/family/mfcc-stats/") == 4
    assert run() == 0
    assert "4 cells computed, 0 reused" in capsys.readouterr().out
    runs = pd.read_csv(tmp_path / "results" / "runs.csv")
    assert len(runs) == 8  # the old version's rows stay in runs.csv ...
    board = pd.read_csv(tmp_path / "results" / "leaderboard.csv")
    assert board["n_seeds"].max() == 2 and len(board) == 3  # ... but are never averaged with the new


def test_statistics_can_be_turned_off_and_recomputed(run, tmp_path, capsys):
    assert run("--resamples", "0") == 0
    board = pd.read_csv(tmp_path / "results" / "leaderboard.csv")
    assert "macro_f1_ci_low" not in board and "seed_std" in board
    assert main(["stats", "--results", str(tmp_path / "results"), "--resamples", "200", "-q"]) == 0
    assert "tied with rank 1" in capsys.readouterr().out
    assert "macro_f1_ci_low" in pd.read_csv(tmp_path / "results" / "leaderboard.csv")


def test_saved_scores_apply_a_fitted_threshold_as_the_run_did(tmp_path):
    """A constant-score model (chance) gets class thresholds equal to its score; the saved scores
    must reproduce the run's predictions exactly (float32 rounding once flipped every one, and the
    bootstrap interval of that row missed its own point estimate)."""
    from instrument_bench.artifacts import load_predictions, save_predictions
    from instrument_bench.protocol.predictors import PREDICTORS

    scores = np.full((6, 3), 0.9)  # float32 rounds 0.9 down
    y = np.array([[1, 0, 1]] * 3 + [[0, 1, 0]] * 3)
    predictor = PREDICTORS["class-thresholds"]
    params = predictor.fit(scores, y, k=3, threshold=0.5)
    save_predictions(tmp_path, "k", clip_ids=[str(i) for i in range(6)], y_true=y, scores=scores,
                     label_map=["a", "b", "c"])
    saved = load_predictions(tmp_path, "k")["scores"]
    np.testing.assert_array_equal(predictor.apply(saved, **params), predictor.apply(scores, **params))
