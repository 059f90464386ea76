"""Metrics, computed with scikit-learn's functions on the test split once.

Multi-label metrics take the 0/1 label matrix, the predictor's 0/1 predictions and the model's
scores. Threshold-free metrics (ROC-AUC, average precision, LRAP) read the scores; ROC-AUC and
AP average over the classes that have both positives and negatives in the test split (an
undefined class is left out, not counted as zero). The MusicNet ResNet-18 study's two headline
figures are ``playing_found`` (the share of playing instruments that were predicted: micro
recall) and ``fp_per_clip`` (instruments predicted that were not playing, per clip).

Labels may be unknown (-1: OpenMIC-2018 asked annotators about some instruments of a clip only).
Then every per-class metric reads the annotated clips of that class only, micro metrics and the
Hamming loss the annotated entries only, and the metrics that need a clip's whole label set
(samples-F1, subset accuracy, LRAP) are NaN.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    balanced_accuracy_score,
    f1_score,
    hamming_loss,
    label_ranking_average_precision_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
    roc_auc_score,
)

SINGLE_LABEL_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "micro_f1")
MULTI_LABEL_METRICS = (
    "macro_f1", "micro_f1", "samples_f1", "macro_precision", "macro_recall", "micro_precision",
    "micro_recall", "hamming_loss", "subset_accuracy", "roc_auc_macro", "roc_auc_micro", "map",
    "lrap", "playing_found", "fp_per_clip",
)
# metrics where lower is better (every other metric: higher is better)
LOWER_IS_BETTER = ("hamming_loss", "fp_per_clip")


def single_label_metrics(y_true, y_pred, *, n_classes: int) -> dict[str, float]:
    """Accuracy, balanced accuracy, macro-F1 and micro-F1.

    Macro-F1 averages over the classes present in ``y_true`` or ``y_pred`` (scikit-learn's
    default), so a class absent from the test split does not count as a zero.
    """
    labels = np.unique(np.concatenate([y_true, y_pred]))
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "balanced_accuracy": float(balanced_accuracy_score(y_true, y_pred)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0)),
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
    }


def per_class_metrics(y_true, y_pred, *, classes) -> list[dict]:
    """Precision, recall, F1 and support of every class in the label map (single-label)."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=np.arange(len(classes)), zero_division=0)
    return [{"class": name, "precision": float(p), "recall": float(r), "f1": float(f),
             "support": int(s)} for name, p, r, f, s in zip(classes, precision, recall, f1, support)]


def _defined(y_true) -> np.ndarray:
    """Columns with both positives and negatives (where ROC-AUC and AP are defined)."""
    positives = y_true.sum(axis=0)
    return (positives > 0) & (positives < len(y_true))


def _masked_columns(y_true, *others):
    """Per class: the annotated rows of ``y_true`` and of each array in ``others``."""
    for k in range(y_true.shape[1]):
        rows = y_true[:, k] >= 0
        yield (y_true[rows, k], *(o[rows, k] for o in others))


def _masked_ap_auc(y_true, scores, metric) -> float:
    values = [metric(t, s) for t, s in _masked_columns(y_true, scores) if 0 < t.sum() < len(t)]
    return float(np.mean(values)) if values else np.nan


def masked_multi_label_metrics(y_true, y_pred, scores) -> dict[str, float]:
    """:func:`multi_label_metrics` where some labels are unknown (-1): each class is scored on the
    clips where it was annotated; micro metrics pool the annotated entries."""
    known = y_true >= 0
    tp = ((y_pred == 1) & (y_true == 1)).sum()
    fp = ((y_pred == 1) & (y_true == 0)).sum()
    fn = ((y_pred == 0) & (y_true == 1)).sum()
    per_class = [precision_recall_fscore_support(t, p, average="binary", zero_division=0)[:3]
                 for t, p in _masked_columns(y_true, y_pred) if len(t)]
    precision, recall, f1 = (np.mean(v) for v in zip(*per_class))
    micro_precision, micro_recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    flat_true, flat_scores = y_true[known], scores[known]
    return {
        "macro_f1": f1, "micro_f1": 2 * tp / max(1, 2 * tp + fp + fn), "samples_f1": np.nan,
        "macro_precision": precision, "macro_recall": recall, "micro_precision": micro_precision,
        "micro_recall": micro_recall, "hamming_loss": (y_pred[known] != flat_true).mean(),
        "subset_accuracy": np.nan, "roc_auc_macro": _masked_ap_auc(y_true, scores, roc_auc_score),
        "roc_auc_micro": roc_auc_score(flat_true, flat_scores) if 0 < flat_true.sum() < len(flat_true)
        else np.nan,
        "map": _masked_ap_auc(y_true, scores, average_precision_score), "lrap": np.nan,
        "playing_found": micro_recall, "fp_per_clip": fp / max(1, len(y_true)),
    }


def mean_average_precision(y_true, scores) -> float:
    """Macro average precision over the labels that have both positives and negatives (NaN if none)."""
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
    if (y_true < 0).any():
        return _masked_ap_auc(y_true, scores, average_precision_score)
    ok = _defined(y_true)
    if not ok.any():
        return np.nan
    return float(average_precision_score(y_true[:, ok], scores[:, ok], average="macro"))


def multi_label_metrics(y_true, y_pred, scores) -> dict[str, float]:
    """Every multi-label metric of ``MULTI_LABEL_METRICS``.

    Parameters
    ----------
    y_true, y_pred : np.ndarray
        ``(clips, classes)`` 0/1 matrices.
    scores : np.ndarray
        ``(clips, classes)`` model scores (probabilities).

    Returns
    -------
    dict
        Metric name -> value (NaN where a threshold-free metric is undefined on this split).
    """
    y_true, y_pred, scores = np.asarray(y_true), np.asarray(y_pred), np.asarray(scores, dtype=np.float64)
    if (y_true < 0).any():
        return {k: float(v) for k, v in masked_multi_label_metrics(y_true, y_pred, scores).items()}
    ok = _defined(y_true)
    micro_ok = 0 < y_true.sum() < y_true.size
    out = {
        "macro_f1": f1_score(y_true, y_pred, average="macro", zero_division=0),
        "micro_f1": f1_score(y_true, y_pred, average="micro", zero_division=0),
        "samples_f1": f1_score(y_true, y_pred, average="samples", zero_division=0),
        "macro_precision": precision_score(y_true, y_pred, average="macro", zero_division=0),
        "macro_recall": recall_score(y_true, y_pred, average="macro", zero_division=0),
        "micro_precision": precision_score(y_true, y_pred, average="micro", zero_division=0),
        "micro_recall": recall_score(y_true, y_pred, average="micro", zero_division=0),
        "hamming_loss": hamming_loss(y_true, y_pred),
        "subset_accuracy": accuracy_score(y_true, y_pred),
        "roc_auc_macro": roc_auc_score(y_true[:, ok], scores[:, ok], average="macro") if ok.any() else np.nan,
        "roc_auc_micro": roc_auc_score(y_true, scores, average="micro") if micro_ok else np.nan,
        "map": mean_average_precision(y_true, scores),
        "lrap": label_ranking_average_precision_score(y_true, scores),
        "playing_found": recall_score(y_true, y_pred, average="micro", zero_division=0),
        "fp_per_clip": ((y_pred == 1) & (y_true == 0)).sum() / max(1, len(y_true)),
    }
    return {k: float(v) for k, v in out.items()}


def per_class_multi_label(y_true, y_pred, scores, *, classes) -> list[dict]:
    """Precision, recall, F1, average precision and support of every class (multi-label)."""
    y_true, scores = np.asarray(y_true), np.asarray(scores, dtype=np.float64)
    if (y_true < 0).any():  # unknown labels: each class on its annotated clips
        rows = []
        for name, (t, p, sc) in zip(classes, _masked_columns(y_true, np.asarray(y_pred), scores)):
            if not len(t):  # never annotated in this split
                rows.append({"class": name, "precision": np.nan, "recall": np.nan, "f1": np.nan,
                             "average_precision": np.nan, "support": 0})
                continue
            pr, rc, f, _ = precision_recall_fscore_support(t, p, average="binary", zero_division=0)
            ap = average_precision_score(t, sc) if 0 < t.sum() < len(t) else np.nan
            rows.append({"class": name, "precision": float(pr), "recall": float(rc), "f1": float(f),
                         "average_precision": float(ap), "support": int(t.sum())})
        return rows
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    ok = _defined(y_true)
    rows = []
    for k, name in enumerate(classes):
        ap = average_precision_score(y_true[:, k], scores[:, k]) if ok[k] else np.nan
        rows.append({"class": name, "precision": float(precision[k]), "recall": float(recall[k]),
                     "f1": float(f1[k]), "average_precision": float(ap), "support": int(support[k])})
    return rows
