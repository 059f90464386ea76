"""Metrics, computed with scikit-learn's functions on the test split once."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, precision_recall_fscore_support

SINGLE_LABEL_METRICS = ("accuracy", "balanced_accuracy", "macro_f1", "micro_f1")


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
    """Precision, recall, F1 and support of every class in the label map."""
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=np.arange(len(classes)), zero_division=0)
    return [{"class": name, "precision": float(p), "recall": float(r), "f1": float(f),
             "support": int(s)} for name, p, r, f, s in zip(classes, precision, recall, f1, support)]
