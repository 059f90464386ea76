"""Statistics of the leaderboard: resampled metrics equal scikit-learn's, intervals and paired
tests behave as the textbook says, ties and ranks across datasets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats
from sklearn.metrics import accuracy_score, average_precision_score, f1_score

from instrument_bench.protocol.metrics import mean_average_precision, multi_label_metrics
from instrument_bench.stats import bootstrap
from instrument_bench.stats.ranks import rank_across, score_matrix
from instrument_bench.stats.significance import add_statistics, holm


def repeated(W_row, *arrays):
    """Each array with row i repeated W_row[i] times (what a resample means)."""
    index = np.repeat(np.arange(len(W_row)), W_row)
    return [a[index] for a in arrays]


@pytest.fixture
def draws():
    rng = np.random.default_rng(1)
    return rng.integers(0, 3, size=(25, 60))


def test_single_label_metrics_per_resample_equal_scikit_learns(draws):
    rng = np.random.default_rng(0)
    y_true, y_pred = rng.integers(0, 5, 60), rng.integers(0, 5, 60)
    out = bootstrap.single_label(y_true, y_pred, draws, n_classes=6)
    for b, w in enumerate(draws):
        t, p = repeated(w, y_true, y_pred)
        labels = np.unique(np.concatenate([t, p]))
        assert out["accuracy"][b] == pytest.approx(accuracy_score(t, p))
        assert out["macro_f1"][b] == pytest.approx(f1_score(t, p, average="macro", labels=labels,
                                                            zero_division=0))


@pytest.mark.parametrize("masked", [False, True])
def test_multi_label_metrics_per_resample_equal_the_point_estimates(draws, masked):
    rng = np.random.default_rng(2)
    y_true = (rng.random((60, 4)) < 0.4).astype(int)
    scores = np.round(rng.random((60, 4)), 1)  # rounded: many tied scores
    y_pred = (scores > 0.5).astype(int)
    if masked:
        y_true[rng.random((60, 4)) < 0.2] = -1
    out = bootstrap.multi_label(y_true, y_pred, scores, draws)
    for b, w in enumerate(draws):
        t, p, s = repeated(w, y_true, y_pred, scores)
        expected = multi_label_metrics(t, p, s)
        assert out["macro_f1"][b] == pytest.approx(expected["macro_f1"])
        assert out["map"][b] == pytest.approx(mean_average_precision(t, s), nan_ok=True)
        if not masked:
            ok = (t.sum(axis=0) > 0) & (t.sum(axis=0) < len(t))
            assert out["map"][b] == pytest.approx(average_precision_score(t[:, ok], s[:, ok]))


def test_percentile_interval_of_a_mean_matches_scipy():
    rng = np.random.default_rng(3)
    correct = (rng.random(300) < 0.7).astype(int)
    W = bootstrap.unit_draws(len(correct), resamples=4000, seed=0)
    ours = bootstrap.percentile_ci(bootstrap.single_label(correct, np.ones_like(correct), W,
                                                          n_classes=2)["accuracy"])
    theirs = scipy_stats.bootstrap((correct,), np.mean, n_resamples=4000, method="percentile",
                                   random_state=0).confidence_interval
    assert ours[0] == pytest.approx(theirs.low, abs=0.01) and ours[1] == pytest.approx(theirs.high, abs=0.01)


def test_paired_p_value_agrees_with_the_share_of_resamples_where_it_is_resolved():
    rng = np.random.default_rng(4)
    best = rng.normal(0.5, 0.02, 20000)
    for shift in (0.0, 0.01, 0.02, 0.03):
        other = best - shift + rng.normal(0, 0.02, 20000)
        share = ((best - other) <= 0).mean()
        assert bootstrap.paired_p_value(best, other) == pytest.approx(share, abs=0.01)


def test_holm_on_a_textbook_example():
    # Holm (1979) step-down: sorted p (0.005, 0.01, 0.03, 0.04) x (4, 3, 2, 1), cumulative max
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def board_and_rows(accuracies: dict, *, n_units: int = 40, clips_per_unit: int = 5, seed: int = 0):
    """A leaderboard of single-label models and their saved predictions: each model is right on a
    share of the clips, the clips of a unit being right or wrong together (correlated)."""
    rng = np.random.default_rng(seed)
    units = np.repeat([f"u{k}" for k in range(n_units)], clips_per_unit)
    y_true = rng.integers(0, 4, len(units))
    board, rows, saved = [], [], {}
    for model, accuracy in accuracies.items():
        right = np.repeat(rng.random(n_units) < accuracy, clips_per_unit)
        y_pred = np.where(right, y_true, (y_true + 1) % 4)
        scores = np.eye(4)[y_pred]
        saved[model] = {"clip_ids": np.arange(len(units)).astype(str), "units": units, "y_true": y_true,
                        "scores": scores}
        macro = f1_score(y_true, y_pred, average="macro")
        board.append({"dataset": "d", "task": "t", "feature": "f", "model": model, "loss": "-",
                      "predictor": "argmax", "primary_metric": "macro_f1", "task_kind": "single-label",
                      "macro_f1_mean": macro, "accuracy_mean": right.mean()})
        keys = ("dataset", "task", "feature", "model", "loss", "predictor")
        rows.append({**{k: board[-1][k] for k in keys}, "model_key": model, "predictor_params": "{}"})
    board = pd.DataFrame(board).sort_values("macro_f1_mean", ascending=False).reset_index(drop=True)
    board.insert(0, "rank", np.arange(1, len(board) + 1))
    return board, pd.DataFrame(rows), saved


def test_a_clear_difference_is_not_a_tie_and_equal_models_are_tied():
    board, rows, saved = board_and_rows({"good": 0.9, "same": 0.9, "poor": 0.3}, n_units=60)
    out = add_statistics(board, rows, saved.get, resamples=500).set_index("model")
    assert out.loc["poor", "tied_with_best"] == False  # noqa: E712  (object column)
    assert out.loc["poor", "p_vs_best"] < 0.01
    top, other = ("good", "same") if out.loc["good", "rank"] == 1 else ("same", "good")
    assert out.loc[top, "tied_with_best"] and out.loc[other, "tied_with_best"]
    assert out.loc[other, "p_vs_best"] > 0.05
    for model in ("good", "poor"):
        assert out.loc[model, "macro_f1_ci_low"] <= out.loc[model, "macro_f1_mean"] <= out.loc[
            model, "macro_f1_ci_high"]
    assert (out["n_test_units"] == 60).all()


def test_resampling_units_gives_wider_intervals_than_resampling_clips():
    board, rows, saved = board_and_rows({"m": 0.6}, n_units=30, clips_per_unit=10)
    by_unit = add_statistics(board, rows, saved.get, resamples=2000)
    clipwise = {k: {**v, "units": v["clip_ids"]} for k, v in saved.items()}
    by_clip = add_statistics(board, rows, clipwise.get, resamples=2000)
    width = {name: (out["accuracy_ci_high"] - out["accuracy_ci_low"]).iloc[0]
             for name, out in (("unit", by_unit), ("clip", by_clip))}
    assert width["unit"] > 2 * width["clip"]  # 10 correlated clips per unit: about sqrt(10) wider
    assert by_unit["n_test_units"].iloc[0] == 30 and by_clip["n_test_units"].iloc[0] == 300


def test_rows_without_saved_predictions_get_no_interval():
    board, rows, saved = board_and_rows({"a": 0.8, "b": 0.5})
    out = add_statistics(board, rows, lambda key: None, resamples=100)
    assert "macro_f1_ci_low" not in out or out["macro_f1_ci_low"].isna().all()


def leaderboard_of(values: dict) -> pd.DataFrame:
    """A leaderboard from ``{(dataset, feature / model): macro-F1}``."""
    rows = []
    for (dataset, entry), value in values.items():
        feature, model = entry.split(" / ")
        rows.append({"dataset": dataset, "task": "t", "feature": feature, "model": model, "loss": "-",
                     "predictor": "argmax", "primary_metric": "macro_f1", "macro_f1_mean": value})
    return pd.DataFrame(rows)


def test_ranks_across_datasets_and_friedman_match_scipy():
    values = {("a", "f / x"): 0.9, ("a", "f / y"): 0.8, ("a", "f / z"): 0.7, ("a", "g / only-a"): 0.99,
              ("b", "f / x"): 0.6, ("b", "f / y"): 0.7, ("b", "f / z"): 0.5,
              ("c", "f / x"): 0.8, ("c", "f / y"): 0.75, ("c", "f / z"): 0.7}
    board = leaderboard_of(values)
    matrix = score_matrix(board)
    assert list(matrix.columns) == ["f / x", "f / y", "f / z"]  # g / only-a ran on one dataset only
    ranks, pairwise = rank_across(board)
    average = ranks.set_index("model")["average_rank"].to_dict()
    assert average == pytest.approx({"x": 4 / 3, "y": 5 / 3, "z": 3.0})
    expected = scipy_stats.friedmanchisquare(*matrix.to_numpy().T)
    assert ranks["friedman_p"].iloc[0] == pytest.approx(expected.pvalue)
    assert ranks["low_power"].all() and pairwise.shape == (3, 3)


def test_no_ranks_across_a_single_dataset():
    ranks, pairwise = rank_across(leaderboard_of({("a", "f / x"): 0.9, ("a", "f / y"): 0.8}))
    assert ranks.empty and pairwise is None
