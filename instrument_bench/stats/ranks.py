"""Ranks across datasets: which feature x model is better over several dataset x task pairs.

A cross-source block (trained on one dataset, tested on another) counts as a pair of its own.

Each feature x model that ran on at least two dataset x task pairs is ranked within every pair by
its primary metric (1 = best, ties share the average rank); on a multi-label task the loss and
predictor with the best valid score stand for it (ties broken by the predictor registry's order,
never by a test score). Over the pairs where every one of them ran, a Friedman test says whether
their ranks differ at all and Nemenyi's post-hoc test (scikit-posthocs) which pairs do; with few
dataset x task pairs the tests have little power, and ``ranks.csv`` says how many there are.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scikit_posthocs
from scipy.stats import friedmanchisquare, rankdata

from ..protocol.predictors import PREDICTORS
from ..runs_file import is_clean
from .significance import with_block_columns

MIN_BLOCKS_FOR_POWER = 5  # below this many dataset x task pairs, say the test has little power


def _representatives(board: pd.DataFrame) -> pd.DataFrame:
    """One leaderboard row per dataset x task x feature x model."""
    order = {name: k for k, name in enumerate(PREDICTORS)}
    board = board.assign(_predictor_order=board["predictor"].map(order).fillna(len(order)),
                         _valid=board.get("valid_score_mean", pd.Series(0.0, index=board.index)))
    board = board.sort_values(["_valid", "_predictor_order"], ascending=[False, True], kind="stable")
    return board.groupby(["dataset", "task", "test_dataset", "feature", "model"], sort=False).head(1)


def score_matrix(board: pd.DataFrame) -> pd.DataFrame:
    """Primary metric per dataset x task (rows) and feature / model (columns), complete: only
    the feature x model pairs that ran on every kept dataset x task (at least two of them).
    Source-test and perturbed rows are left out: they are conditions of a block, not blocks."""
    board = with_block_columns(board)
    rows = _representatives(board[is_clean(board)])
    if rows.empty:
        return pd.DataFrame()
    values = rows.apply(lambda r: r[f"{r['primary_metric']}_mean"], axis=1)
    target = np.where(rows["test_dataset"] != rows["dataset"], " -> " + rows["test_dataset"], "")
    matrix = rows.assign(_value=values, _block=rows["dataset"] + " / " + rows["task"] + target,
                         _entry=rows["feature"] + " / " + rows["model"]).pivot_table(
        index="_block", columns="_entry", values="_value", aggfunc="first")
    matrix = matrix.loc[:, matrix.notna().sum() >= 2]
    while len(matrix.columns) and matrix.isna().any().any():  # drop the entry missing most often
        worst = matrix.isna().sum().idxmax()
        matrix = matrix.drop(columns=worst)
        matrix = matrix.dropna(how="all")
    matrix.index.name, matrix.columns.name = "dataset / task", "feature / model"
    return matrix


def rank_across(board: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Average ranks with the Friedman test, and Nemenyi's pairwise p-values.

    Returns
    -------
    ranks : pd.DataFrame
        One row per feature / model: ``average_rank``, ``n_datasets``, ``datasets``,
        ``friedman_statistic``, ``friedman_p``, ``low_power``; empty when fewer than two
        dataset x task pairs share at least two feature x model pairs.
    pairwise : pd.DataFrame or None
        Nemenyi p-values between the feature / model pairs (square).
    """
    matrix = score_matrix(board) if not board.empty else pd.DataFrame()
    if matrix.shape[0] < 2 or matrix.shape[1] < 2:
        return pd.DataFrame(), None
    ranks = np.apply_along_axis(lambda v: rankdata(-v), 1, matrix.to_numpy())
    statistic, p = (friedmanchisquare(*matrix.to_numpy().T) if matrix.shape[1] >= 3
                    else (np.nan, np.nan))
    pairwise = scikit_posthocs.posthoc_nemenyi_friedman(matrix.to_numpy())
    pairwise.index = pairwise.columns = matrix.columns
    feature_model = [c.split(" / ", 1) for c in matrix.columns]
    out = pd.DataFrame({
        "feature": [f for f, _ in feature_model], "model": [m for _, m in feature_model],
        "average_rank": ranks.mean(axis=0), "n_datasets": matrix.shape[0],
        "datasets": "; ".join(matrix.index), "friedman_statistic": statistic, "friedman_p": p,
        "low_power": matrix.shape[0] < MIN_BLOCKS_FOR_POWER,
    }).sort_values("average_rank", kind="stable").reset_index(drop=True)
    return out, pairwise
