"""Macro-F1 averages the classes' F1 (each class counts once, however rare); micro-F1 pools every
decision. On imbalanced examples the two differ, and the values here are worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_bench.protocol.metrics import multi_label_metrics, single_label_metrics


def test_single_label_macro_f1_averages_the_classes():
    # class 0: 4 of 4 found, one false positive (P 4/5, R 1, F1 8/9); class 1: missed (F1 0);
    # class 2: right (F1 1). Class 3 is in neither y_true nor y_pred: left out, not a zero.
    y_true = np.array([0, 0, 0, 0, 1, 2])
    y_pred = np.array([0, 0, 0, 0, 0, 2])
    m = single_label_metrics(y_true, y_pred, n_classes=4)
    assert m["macro_f1"] == pytest.approx((8 / 9 + 0 + 1) / 3)
    assert m["micro_f1"] == pytest.approx(5 / 6) == pytest.approx(m["accuracy"])
    assert m["balanced_accuracy"] == pytest.approx((1 + 0 + 1) / 3)


def test_single_label_macro_f1_counts_a_rare_class_as_much_as_a_common_one():
    y_true = np.array([0] * 18 + [1, 1])
    y_pred = np.array([0] * 20)  # the rare class is never predicted
    m = single_label_metrics(y_true, y_pred, n_classes=2)
    assert m["micro_f1"] == pytest.approx(0.9)
    assert m["macro_f1"] == pytest.approx((2 * 18 / 38 + 0) / 2)  # class 0: P 18/20, R 1


def test_multi_label_macro_f1_averages_the_classes():
    y_true = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    y_pred = np.array([[1, 0], [1, 0], [1, 0], [0, 0]])  # the rare class is missed
    scores = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.4, 0.45]])
    m = multi_label_metrics(y_true, y_pred, scores)
    assert m["macro_f1"] == pytest.approx((1 + 0) / 2)
    assert m["micro_f1"] == pytest.approx(2 * 3 / (2 * 3 + 0 + 1))  # tp 3, fp 0, fn 1
    assert m["macro_recall"] == pytest.approx(0.5) and m["micro_recall"] == pytest.approx(0.75)
    assert m["macro_precision"] == pytest.approx(0.5) and m["micro_precision"] == pytest.approx(1.0)


def test_multi_label_macro_f1_with_unknown_labels_averages_the_annotated_classes():
    y_true = np.array([[1, 0, -1], [1, 0, 1], [1, -1, 0], [0, 1, 1]])
    y_pred = np.array([[1, 0, 1], [1, 0, 1], [1, 1, 0], [0, 0, 0]])
    scores = np.where(y_pred == 1, 0.8, 0.2)
    m = multi_label_metrics(y_true, y_pred, scores)
    # class 0: F1 1; class 1 (rows 0, 1, 3): missed, F1 0; class 2 (rows 1-3): tp 1, fn 1, F1 2/3
    assert m["macro_f1"] == pytest.approx((1 + 0 + 2 / 3) / 3)
    assert m["micro_f1"] == pytest.approx(2 * 4 / (2 * 4 + 0 + 2))  # annotated entries: tp 4, fn 2
