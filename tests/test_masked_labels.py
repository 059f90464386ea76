"""Unknown labels (-1, OpenMIC-2018) through models, predictors and metrics; window scores
aggregated per recording."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import average_precision_score, f1_score

from instrument_bench.config import TrainConfig
from instrument_bench.models.classical import PerLabel
from instrument_bench.protocol.groups import aggregate_groups
from instrument_bench.protocol.metrics import (
    mean_average_precision,
    multi_label_metrics,
    per_class_multi_label,
)
from instrument_bench.protocol.predictors import tune_class_thresholds


def masked_data(n=120, labels=4, seed=0):
    """Features that carry the labels, and a label matrix with about a third unknown."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=(n, labels))
    x = y + 0.8 * rng.normal(size=(n, labels))
    x = np.hstack([x, rng.normal(size=(n, 3))]).astype(np.float32)
    unknown = rng.random((n, labels)) < 0.35
    return x, np.where(unknown, -1, y), y


def test_per_label_fits_each_label_on_its_annotated_rows():
    x, y, _ = masked_data()
    model = PerLabel(RandomForestClassifier(n_estimators=20, random_state=0)).fit(x, y)
    scores = model.predict_proba(x)
    for j in range(y.shape[1]):
        rows = y[:, j] >= 0
        alone = RandomForestClassifier(n_estimators=20, random_state=0).fit(x[rows], y[rows, j])
        np.testing.assert_allclose(scores[:, j], alone.predict_proba(x)[:, 1])
    y_small = np.array([[1, -1], [1, -1], [1, 0]])
    constant = PerLabel(RandomForestClassifier(n_estimators=5)).fit(x[:3], y_small)
    np.testing.assert_array_equal(constant.predict_proba(x[:2]), [[1.0, 0.0], [1.0, 0.0]])


def test_masked_metrics_score_each_class_on_its_annotated_clips():
    _, y, _ = masked_data(seed=1)
    rng = np.random.default_rng(2)
    scores = rng.random(y.shape)
    pred = (scores > 0.5).astype(int)
    metrics = multi_label_metrics(y, pred, scores)
    f1s, aps = [], []
    for j in range(y.shape[1]):
        rows = y[:, j] >= 0
        f1s.append(f1_score(y[rows, j], pred[rows, j]))
        aps.append(average_precision_score(y[rows, j], scores[rows, j]))
    assert metrics["macro_f1"] == pytest.approx(np.mean(f1s))
    assert metrics["map"] == pytest.approx(np.mean(aps)) == pytest.approx(mean_average_precision(y, scores))
    known = y >= 0
    assert metrics["micro_f1"] == pytest.approx(f1_score(y[known], pred[known]))
    assert metrics["hamming_loss"] == pytest.approx((pred[known] != y[known]).mean())
    for name in ("samples_f1", "lrap", "subset_accuracy"):  # need a clip's whole label set
        assert np.isnan(metrics[name])
    rows = per_class_multi_label(y, pred, scores, classes=list("abcd"))
    assert [r["f1"] for r in rows] == pytest.approx(f1s)
    assert [r["support"] for r in rows] == [int((y[:, j] == 1).sum()) for j in range(4)]


def test_class_thresholds_ignore_unknown_labels():
    scores = np.array([[0.9], [0.8], [0.3], [0.2], [0.85]])
    labels = np.array([[1], [1], [0], [0], [-1]])
    assert tune_class_thresholds(scores, labels) == [0.8]
    assert tune_class_thresholds(scores[4:], labels[4:], default=0.4) == [0.4]


def test_aggregate_groups_keeps_first_appearance_order():
    scores = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5], [1.0, 1.0]])
    labels = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    out, y, ids = aggregate_groups(scores, labels, ["b", "a", "b", "a"])
    assert ids.tolist() == ["b", "a"]
    np.testing.assert_allclose(out, [[0.75, 0.25], [0.5, 1.0]])
    assert y.tolist() == [[1, 0], [0, 1]]
    top, _, _ = aggregate_groups(scores, labels, ["b", "a", "b", "a"], aggregate="max")
    np.testing.assert_allclose(top, [[1.0, 0.5], [1.0, 1.0]])


def test_masked_loss_ignores_unknown_entries():
    import keras

    from instrument_bench.models.keras.losses import MaskedLoss

    y_true = np.array([[1.0, -1.0, 0.0], [-1.0, 1.0, 0.0]], dtype=np.float32)
    a = np.array([[0.9, 0.1, 0.2], [0.3, 0.7, 0.1]], dtype=np.float32)
    b = a.copy()
    b[y_true < 0] = [0.99, 0.01]  # change only the outputs whose labels are unknown
    for name in ("bce", "mse", "focal"):
        loss = MaskedLoss(name)
        assert float(loss(y_true, a)) == pytest.approx(float(loss(y_true, b)), abs=1e-6)
        restored = keras.losses.deserialize(keras.losses.serialize(loss))
        assert float(restored(y_true, a)) == pytest.approx(float(loss(y_true, a)), abs=1e-6)


def test_keras_trains_on_masked_labels_and_saves(tmp_path):
    import keras

    from instrument_bench.models.keras.mlp import build_mlp
    from instrument_bench.models.keras.training import fit_keras, predict_scores

    x, y, _ = masked_data(n=96)
    config = TrainConfig(epochs=3, patience=2, batch_size=32)
    model, info = fit_keras(build_mlp, x_train=x[:64], y_train=y[:64], x_valid=x[64:], y_valid=y[64:],
                            n_classes=4, seed=0, config=config)
    assert info["epochs_trained"] >= 1 and 1 <= info["best_epoch"] <= info["epochs_trained"]
    scores = predict_scores(model, x[64:], window=None)
    assert scores.shape == (32, 4) and np.isfinite(scores).all()
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(predict_scores(loaded, x[64:], window=None), scores, atol=1e-6)
