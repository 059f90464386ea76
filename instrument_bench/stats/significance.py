"""Confidence intervals and ties for the rows of a leaderboard, from the saved test predictions.

For every dataset x task, the test set's independence units are drawn with replacement
``resamples`` times (one draw shared by every row, so rows are compared on the same resamples).
A row's value on a resample is the mean over its seeds of the metric on that resample. Each row
gets a 95 % percentile interval of its primary metric and of accuracy (single-label) or mean
average precision (multi-label), and a one-sided paired bootstrap p-value against the rank-1 row,
Holm-corrected over the rows of the dataset x task; a row is tied with the best when it is not
significantly worse at ``alpha``.
"""

from __future__ import annotations

import json
import warnings
import zlib

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from ..parallel import progress_bar
from ..protocol.predictors import PREDICTORS
from ..runs_file import BLOCK, CONDITION, GROUP
from . import bootstrap


def with_block_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with ``test_dataset`` (its training set) and the condition columns
    (``-``) filled in where rows written before they existed lack them."""
    frame = frame.copy()
    if "dataset" in frame:
        frame["test_dataset"] = (frame["test_dataset"].fillna(frame["dataset"]) if "test_dataset" in frame
                                 else frame["dataset"])
        for column in CONDITION:
            frame[column] = frame[column].fillna("-").astype(str) if column in frame else "-"
    return frame


def block_name(block) -> str:
    """``dataset/task`` (in-source), ``dataset/task->test_dataset`` (cross-source), then
    ``|train_source=...,perturbation=...`` for the condition columns that are set: seeds the
    bootstrap draws of a block (a tuple in ``BLOCK`` order)."""
    b = dict(zip(BLOCK, block))
    name = f"{b['dataset']}/{b['task']}"
    name += f"->{b['test_dataset']}" if b["test_dataset"] != b["dataset"] else ""
    extra = [f"{k}={b[k]}" for k in CONDITION if str(b[k]) != "-"]
    return name + ("|" + ",".join(extra) if extra else "")


CI_METRICS = {"single-label": ("macro_f1", "accuracy"), "multi-label": ("macro_f1", "map")}
RESAMPLES = 1000
ALPHA = 0.05


def _prediction(pred: dict, row) -> tuple:
    """``(y_true, y_pred, scores)`` of one seed's saved predictions under the row's predictor."""
    params = json.loads(row["predictor_params"]) if isinstance(row.get("predictor_params"), str) else {}
    y_pred = np.asarray(PREDICTORS[row["predictor"]].apply(pred["scores"], **params))
    return pred["y_true"], y_pred, pred["scores"]


def resampled_metrics(seeds: list, draws: np.ndarray, unit_index: dict, *, kind: str) -> dict:
    """Each metric of ``CI_METRICS[kind]`` per resample, averaged over the seeds' predictions.

    Parameters
    ----------
    seeds : list of (y_true, y_pred, scores, units)
        One entry per seed.
    draws : np.ndarray
        ``(resamples, n_units)`` counts from :func:`.bootstrap.unit_draws`.
    unit_index : dict
        Unit -> column of ``draws``.
    kind : str
        ``single-label`` or ``multi-label``.
    """
    values = {m: [] for m in CI_METRICS[kind]}
    for y_true, y_pred, scores, units in seeds:
        W = draws[:, [unit_index[u] for u in units]]
        if kind == "single-label":
            out = bootstrap.single_label(y_true, y_pred, W, n_classes=scores.shape[1])
        else:
            out = bootstrap.multi_label(y_true, y_pred, scores, W)
        for metric in values:
            values[metric].append(out[metric])
    with warnings.catch_warnings():  # a resample where a metric is undefined for every seed: NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        return {m: np.nanmean(np.array(v), axis=0) if v else None for m, v in values.items()}


def holm(p_values) -> np.ndarray:
    """Holm-adjusted p-values (statsmodels' ``multipletests``)."""
    p_values = np.asarray(p_values, dtype=float)
    if not len(p_values):
        return p_values
    return multipletests(p_values, method="holm")[1]


def add_statistics(board: pd.DataFrame, rows: pd.DataFrame, load, *, resamples: int = RESAMPLES,
                   seed: int = 0, alpha: float = ALPHA, progress: bool = False) -> pd.DataFrame:
    """``board`` with ``<metric>_ci_low`` / ``_ci_high``, ``n_test_units``, ``p_vs_best`` and
    ``tied_with_best`` columns.

    Parameters
    ----------
    board : pd.DataFrame
        The leaderboard (ranked, one row per dataset x task x feature x model x loss x predictor).
    rows : pd.DataFrame
        The runs rows it was computed from (one per seed), with ``model_key``.
    load : callable
        ``load(model_key) -> dict or None``: a run's saved test predictions.
    resamples : int
        Bootstrap resamples per dataset x task.
    seed : int
        Seed of the draws (each dataset x task adds a hash of its names to it).
    alpha : float
        Significance level of the ties.
    """
    board, rows = with_block_columns(board), with_block_columns(rows)
    group = GROUP
    seeds_of = {key: frame for key, frame in rows.groupby(group, sort=False)}
    cache = {}
    with progress_bar(total=len(board), desc="bootstrap", unit="row", enabled=progress) as bar:
        for block, sub in board.groupby(BLOCK, sort=False):
            kind = sub["task_kind"].iloc[0] if "task_kind" in sub else "single-label"
            predictions = {}
            for index, row in sub.iterrows():
                entries = []
                for _, run in seeds_of.get(tuple(row[k] for k in group), pd.DataFrame()).iterrows():
                    key = run.get("predictions_key")  # cross-source rows: their own predictions
                    key = key if isinstance(key, str) else run.get("model_key")
                    if isinstance(key, str) and key not in cache:
                        cache[key] = load(key)
                    pred = cache.get(key) if isinstance(key, str) else None
                    if pred is not None:
                        units = pred.get("units", pred["clip_ids"]).astype(str)
                        entries.append((*_prediction(pred, run), units))
                predictions[index] = entries
            units = sorted({u for entries in predictions.values() for *_, us in entries for u in us})
            if not units:
                bar.update(len(sub))
                continue
            unit_index = {u: i for i, u in enumerate(units)}
            draws = bootstrap.unit_draws(len(units), resamples=resamples,
                                         seed=seed + zlib.crc32(
                                             block_name(block).encode()))
            resampled = {}
            for index, entries in predictions.items():
                if entries:
                    resampled[index] = resampled_metrics(entries, draws, unit_index, kind=kind)
                    for metric, values in resampled[index].items():
                        low, high = bootstrap.percentile_ci(values)
                        board.loc[index, f"{metric}_ci_low"] = low
                        board.loc[index, f"{metric}_ci_high"] = high
                    board.loc[index, "n_test_units"] = len({u for *_, us in entries for u in us})
                bar.update()
            best = sub.index[0]  # rank 1
            primary = sub["primary_metric"].iloc[0]
            others = [i for i in sub.index[1:] if i in resampled and best in resampled]
            raw = [bootstrap.paired_p_value(resampled[best][primary], resampled[i][primary]) for i in others]
            for index, p in zip(others, holm(raw)):
                board.loc[index, "p_vs_best"] = p
                board.loc[index, "tied_with_best"] = bool(p >= alpha)
            if best in resampled:
                board.loc[best, "tied_with_best"] = True
    return board
