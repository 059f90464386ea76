"""Metrics under a cluster bootstrap, computed for many resamples at once.

A resample draws the test set's independence units (instruments, recordings, songs) with
replacement; a clip then counts as many times as its unit was drawn. Every metric here takes a
``(resamples, clips)`` matrix ``W`` of those counts and returns one value per resample, equal to
scikit-learn's metric on the resampled (repeated) clips, which the tests check. Macro metrics
average over the classes present in the resample, as the point estimates do.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import norm


def unit_draws(n_units: int, *, resamples: int, seed: int) -> np.ndarray:
    """``(resamples, n_units)`` counts: how often each unit is drawn when ``n_units`` units are
    drawn with replacement (an unstratified bootstrap)."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=resamples)


def _f1(tp, fp, fn) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros_like(denominator, dtype=float),
                     where=denominator > 0)


def single_label(y_true, y_pred, W, *, n_classes: int) -> dict[str, np.ndarray]:
    """Accuracy and macro-F1 (over the classes in ``y_true`` or ``y_pred``) per resample."""
    W = np.asarray(W, dtype=float)
    T = np.eye(n_classes)[np.asarray(y_true)]
    P = np.eye(n_classes)[np.asarray(y_pred)]
    tp, support, predicted = W @ (T * P), W @ T, W @ P
    present = (support > 0) | (predicted > 0)
    f1 = _f1(tp, predicted - tp, support - tp)
    return {"accuracy": tp.sum(axis=1) / W.sum(axis=1),
            "macro_f1": (f1 * present).sum(axis=1) / np.maximum(1, present.sum(axis=1))}


def _average_precision(y, scores, W) -> np.ndarray:
    """Average precision of one label per resample (scikit-learn's step-wise definition, tied
    scores taken together); NaN where a resample holds no positive or no negative."""
    order = np.argsort(scores, kind="mergesort")[::-1]
    y, scores, W = y[order].astype(float), scores[order], W[:, order]
    thresholds = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tps = np.cumsum(W * y, axis=1)[:, thresholds]
    fps = np.cumsum(W * (1 - y), axis=1)[:, thresholds]
    predicted = tps + fps
    precision = np.divide(tps, predicted, out=np.zeros_like(tps), where=predicted > 0)
    gained = np.diff(tps, axis=1, prepend=0.0)
    positives, negatives = tps[:, -1], fps[:, -1]
    ap = np.divide((gained * precision).sum(axis=1), positives, out=np.full(len(W), np.nan),
                   where=positives > 0)
    ap[negatives <= 0] = np.nan
    return ap


def multi_label(y_true, y_pred, scores, W) -> dict[str, np.ndarray]:
    """Macro-F1 and mean average precision per resample; unknown labels (-1) count for neither
    class (each class is scored on the clips where it is annotated, as the point estimate is)."""
    W = np.asarray(W, dtype=float)
    y_true, y_pred, scores = np.asarray(y_true), np.asarray(y_pred), np.asarray(scores, dtype=float)
    known = y_true >= 0
    masked = not known.all()
    f1s, aps, counted = [], [], []
    for k in range(y_true.shape[1]):
        Wk = W * known[:, k] if masked else W
        t, p = (y_true[:, k] == 1).astype(float), (y_pred[:, k] == 1).astype(float)
        tp, support, predicted = Wk @ (t * p), Wk @ t, Wk @ p
        f1s.append(_f1(tp, predicted - tp, support - tp))
        counted.append(Wk.sum(axis=1) > 0 if masked else np.ones(len(W), bool))
        aps.append(_average_precision(t, scores[:, k], Wk))
    f1s, counted, aps = np.array(f1s), np.array(counted), np.array(aps)
    with np.errstate(invalid="ignore"):
        macro_f1 = (f1s * counted).sum(axis=0) / np.maximum(1, counted.sum(axis=0))
        defined = np.isfinite(aps)
        mean_ap = np.where(defined.any(axis=0), np.nansum(aps, axis=0) / np.maximum(1, defined.sum(axis=0)),
                           np.nan)
    return {"macro_f1": macro_f1, "map": mean_ap}


def percentile_ci(values, *, level: float = 0.95) -> tuple[float, float]:
    """The percentile interval of bootstrap ``values`` (NaN resamples left out)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return np.nan, np.nan
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def paired_p_value(best, other) -> float:
    """One-sided p-value of "``other`` scores lower than ``best``" from their paired bootstrap
    differences (the same resamples): ``P(Z >= mean / sd)`` of the differences, the bootstrap
    standard-error test.

    The share of resamples in which ``other`` is at least as good (the percentile test) cannot go
    below ``1 / (resamples + 1)``, so after a Holm correction over a few dozen rows nothing could
    ever be significant at 1,000 resamples; the normal approximation has no such floor and agrees
    with the share where the share is resolved (tested).
    """
    diff = np.asarray(best, dtype=float) - np.asarray(other, dtype=float)
    diff = diff[np.isfinite(diff)]
    if len(diff) < 2:
        return np.nan
    sd = diff.std(ddof=1)
    if sd == 0:
        return 0.0 if diff.mean() > 0 else 1.0
    return float(norm.sf(diff.mean() / sd))
