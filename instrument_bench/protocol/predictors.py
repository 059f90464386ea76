"""Predictors: turn a model's class scores into labels.

A predictor is fitted on the valid split's scores and labels (only ``class-thresholds`` learns
anything there) and then applied to the test split's scores. Multi-label scores are per-class
probabilities (sigmoid outputs, ``predict_proba``); the predictors are

- ``threshold``: every class scoring at least ``threshold`` (0.5);
- ``class-thresholds``: one threshold per class, the one that maximises that class's F1 on the
  valid split (``threshold`` where a class has no positive there);
- ``top-k``: the ``k`` highest-scoring classes (k = 3: the predictor the MusicNet ResNet-18 study
  found best);
- ``top-k-threshold``: the top ``k`` classes that also score at least ``threshold`` (a mix of top-k
  and thresholding, which the MusicNet ResNet-18 study suggests trying).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import precision_recall_curve

DEFAULT_THRESHOLD = 0.5
DEFAULT_K = 3


def argmax(scores: np.ndarray) -> np.ndarray:
    """Single-label prediction: the index of the highest score in each row."""
    return np.asarray(scores).argmax(axis=1)


def above_threshold(scores, *, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """0/1 predictions: every class whose score is at least ``threshold`` (a scalar or per class)."""
    return (np.asarray(scores) >= np.asarray(threshold)).astype(np.int64)


def top_k(scores, *, k: int = DEFAULT_K) -> np.ndarray:
    """0/1 predictions: the ``k`` highest-scoring classes of each row (ties: the lower index)."""
    scores = np.asarray(scores)
    k = min(int(k), scores.shape[1])
    order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    out = np.zeros(scores.shape, dtype=np.int64)
    np.put_along_axis(out, order, 1, axis=1)
    return out


def tune_class_thresholds(scores, labels, *, default: float = DEFAULT_THRESHOLD) -> list[float]:
    """Per-class thresholds that maximise each class's F1 on (valid) ``scores`` and ``labels``.

    A class with no positive or no negative in ``labels`` keeps ``default``; unknown labels (-1)
    are left out.
    """
    scores, labels = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    out = []
    for k in range(scores.shape[1]):
        known = labels[:, k] >= 0
        column = labels[known, k]
        if len(column) == 0 or column.min() == column.max():
            out.append(float(default))
            continue
        precision, recall, cuts = precision_recall_curve(column, scores[known, k])
        f1 = 2 * precision[:-1] * recall[:-1] / np.maximum(precision[:-1] + recall[:-1], 1e-12)
        out.append(float(cuts[int(np.argmax(f1))]))
    return out


@dataclass(frozen=True)
class Predictor:
    """A named rule from scores to labels.

    Parameters
    ----------
    name : str
        Registry name (a column of the results).
    kind : str
        ``single-label`` or ``multi-label``.
    fit : callable
        ``fit(valid_scores, valid_labels, *, k, threshold) -> dict`` of parameters (JSON-able).
    apply : callable
        ``apply(scores, **params) -> predictions``.
    description : str
        One line for ``list``.
    """

    name: str
    kind: str
    fit: Callable
    apply: Callable
    description: str = ""


def _no_params(scores, labels, *, k, threshold):
    return {}


PREDICTORS = {
    "argmax": Predictor("argmax", "single-label", _no_params, argmax,
                        "the highest-scoring class"),
    "threshold": Predictor("threshold", "multi-label",
                           lambda s, y, *, k, threshold: {"threshold": threshold}, above_threshold,
                           "classes scoring >= 0.5"),
    "class-thresholds": Predictor(
        "class-thresholds", "multi-label",
        lambda s, y, *, k, threshold: {"threshold": tune_class_thresholds(s, y, default=threshold)},
        above_threshold, "per-class thresholds maximising each class's F1 on valid"),
    "top-k": Predictor("top-k", "multi-label", lambda s, y, *, k, threshold: {"k": k}, top_k,
                       "the k highest-scoring classes (k = 3, as in the MusicNet ResNet-18 study)"),
    "top-k-threshold": Predictor(
        "top-k-threshold", "multi-label", lambda s, y, *, k, threshold: {"k": k, "threshold": threshold},
        lambda scores, *, k, threshold: top_k(scores, k=k) & above_threshold(scores, threshold=threshold),
        "the top k classes that also score >= 0.5"),
}
MULTI_LABEL_PREDICTORS = tuple(n for n, p in PREDICTORS.items() if p.kind == "multi-label")
