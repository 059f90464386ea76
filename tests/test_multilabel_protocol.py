"""Multi-label tasks, predictors, metrics, losses and snippet aggregation."""

import numpy as np
import pytest
from sklearn.metrics import f1_score, hamming_loss, roc_auc_score

from instrument_bench.datasets.base import Clip
from instrument_bench.errors import DatasetError
from instrument_bench.models.keras.losses import balanced_error_loss, get_loss
from instrument_bench.protocol.groups import aggregate_windows
from instrument_bench.protocol.metrics import multi_label_metrics, per_class_multi_label
from instrument_bench.protocol.predictors import (
    PREDICTORS,
    above_threshold,
    top_k,
    tune_class_thresholds,
)
from instrument_bench.protocol.tasks import TASKS

Y = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 0], [0, 0, 0, 1]])
S = np.array([[0.9, 0.2, 0.6, 0.1], [0.3, 0.8, 0.4, 0.2], [0.7, 0.4, 0.1, 0.6], [0.2, 0.1, 0.3, 0.9]])


def clip(codes):
    return Clip("c", None, "train", {"instruments": codes})


def test_tasks_map_musicnet_codes_to_label_maps():
    # codes are GM program + 1: 1 piano, 41 violin, 44 contrabass, 74 flute, 33 acoustic bass
    clips = [clip([1, 41]), clip([74, 33]), clip([])]
    families = TASKS["families"].labels(clips)
    names = TASKS["families"].classes
    assert {names[i] for i in np.flatnonzero(families[0])} == {"keyboard", "string"}
    assert {names[i] for i in np.flatnonzero(families[1])} == {"flute", "bass"}
    assert families[2].sum() == 0
    instruments = TASKS["instruments"].labels(clips)
    assert len(TASKS["instruments"].classes) == 11
    assert {TASKS["instruments"].classes[i] for i in np.flatnonzero(instruments[0])} == {"piano", "violin"}
    assert instruments[1].sum() == 1  # acoustic bass is not one of MusicNet's 11
    groups = TASKS["groups"]
    assert len(groups.classes) == 12
    assert {groups.classes[i] for i in np.flatnonzero(groups.labels(clips)[1])} == {"pipe", "bass"}


def test_multi_label_task_rejects_single_label_clips():
    with pytest.raises(DatasetError, match="instruments"):
        TASKS["families"].labels([Clip("n", None, "train", {"instrument_family_str": "bass"})])


def test_predictors():
    assert above_threshold(S).tolist() == [[1, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 1], [0, 0, 0, 1]]
    assert top_k(S, k=1).sum(axis=1).tolist() == [1, 1, 1, 1]
    assert top_k(S, k=2)[0].tolist() == [1, 0, 1, 0]
    both = PREDICTORS["top-k-threshold"]
    pred = both.apply(S, **both.fit(S, Y, k=2, threshold=0.5))
    assert pred.tolist() == [[1, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 1], [0, 0, 0, 1]]
    assert pred[1].sum() == 1  # the second of the top 2 scores 0.4 < 0.5


@pytest.mark.parametrize("k", [1, 2, 3])
def test_registered_top_k_predicts_exactly_k_classes(k):
    """``top-k`` as the runner uses it (the registry's fit on valid, then apply on test): the k
    highest-scoring classes of every clip, no more, and ``k`` recorded as given."""
    rng = np.random.default_rng(k)
    valid, test = rng.uniform(size=(12, 5)), rng.uniform(size=(20, 5))
    predictor = PREDICTORS["top-k"]
    params = predictor.fit(valid, (valid > 0.5).astype(int), k=k, threshold=0.5)
    assert params == {"k": k}
    pred = predictor.apply(test, **params)
    assert pred.shape == test.shape and (pred.sum(axis=1) == k).all()
    expected = np.zeros_like(pred)
    np.put_along_axis(expected, np.argsort(-test, axis=1)[:, :k], 1, axis=1)
    np.testing.assert_array_equal(pred, expected)
    # top-k-threshold with a threshold every score passes is top-k too
    both = PREDICTORS["top-k-threshold"]
    np.testing.assert_array_equal(both.apply(test, **both.fit(valid, None, k=k, threshold=0.0)), expected)


def test_class_thresholds_maximise_each_class_f1_on_valid():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=(200, 3))
    scores = np.clip(0.3 * labels + rng.uniform(0, 0.6, size=labels.shape), 0, 1)  # calibrated low
    cuts = tune_class_thresholds(scores, labels)
    for k, cut in enumerate(cuts):
        best = f1_score(labels[:, k], scores[:, k] >= cut)
        for other in np.linspace(0.05, 0.95, 19):
            assert best >= f1_score(labels[:, k], scores[:, k] >= other) - 1e-12
    assert f1_score(labels, above_threshold(scores, threshold=cuts), average="macro") > \
        f1_score(labels, above_threshold(scores), average="macro")
    # a class with no positive keeps the default
    assert tune_class_thresholds(scores, np.zeros_like(labels), default=0.4) == [0.4] * 3


def test_multi_label_metrics_against_definitions():
    pred = above_threshold(S)
    m = multi_label_metrics(Y, pred, S)
    assert m["hamming_loss"] == pytest.approx(hamming_loss(Y, pred)) == pytest.approx(2 / 16)
    assert m["micro_f1"] == pytest.approx(f1_score(Y, pred, average="micro"))
    # 6 instruments play, 5 of them are found; one false positive over 4 clips
    assert m["playing_found"] == pytest.approx(5 / 6)
    assert m["fp_per_clip"] == pytest.approx(1 / 4)
    assert m["roc_auc_macro"] == pytest.approx(roc_auc_score(Y, S, average="macro"))
    assert 0 < m["map"] <= 1 and 0 < m["lrap"] <= 1
    assert m["subset_accuracy"] == pytest.approx(3 / 4)


def test_threshold_free_metrics_skip_undefined_classes():
    y = Y.copy()
    y[:, 3] = 0  # class 3 never plays in this split: its AUC and AP are undefined
    m = multi_label_metrics(y, above_threshold(S), S)
    assert m["roc_auc_macro"] == pytest.approx(roc_auc_score(y[:, :3], S[:, :3], average="macro"))
    rows = per_class_multi_label(y, above_threshold(S), S, classes=list("abcd"))
    assert [r["class"] for r in rows] == list("abcd")
    assert np.isnan(rows[3]["average_precision"]) and rows[3]["support"] == 0
    assert rows[0]["recall"] == 1.0


def test_balanced_loss_counts_soft_errors_per_clip():
    y = np.array([[1, 0, 0, 0], [0, 0, 0, 0]], dtype="float32")
    p = np.array([[0.75, 0.5, 0.0, 0.0], [0.25, 0.0, 0.0, 0.0]], dtype="float32")
    loss = np.asarray(balanced_error_loss(y, p))
    # clip 1: FN 0.25 / 1 playing + FP 0.5 / 3 not playing; clip 2: FP 0.25 / 4
    assert loss == pytest.approx([0.25 + 0.5 / 3, 0.25 / 4])
    assert np.asarray(balanced_error_loss(y, y)) == pytest.approx([0, 0])
    for name in ("bce", "mse", "balanced", "focal"):
        value = float(np.mean(np.asarray(get_loss(name)(y, p))))
        assert np.isfinite(value) and value > 0


def test_window_scores_aggregate_by_mean_or_max():
    scores = np.array([[0.2, 0.9], [0.6, 0.1], [0.5, 0.5]])
    clips = np.array([0, 0, 1])
    assert aggregate_windows(scores, clips, n_clips=2).tolist() == [[0.4, 0.5], [0.5, 0.5]]
    assert aggregate_windows(scores, clips, n_clips=2, aggregate="max").tolist() == [[0.6, 0.9], [0.5, 0.5]]
