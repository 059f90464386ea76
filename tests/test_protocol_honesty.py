"""The test split is scored once and never chosen on: the grid search selects its hyperparameters
on valid, and the per-class thresholds are tuned on the valid split's scores.

Each test builds valid and test splits that disagree (the grid point or the thresholds that are best
on test are not those best on valid), so a protocol that looked at test would show.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import f1_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from instrument_bench.cell import run_cell
from instrument_bench.features import FEATURES
from instrument_bench.models import MODELS
from instrument_bench.models.fitting import class_scores, fit_model
from instrument_bench.protocol.labels import encode_labels
from instrument_bench.protocol.predictors import above_threshold, tune_class_thresholds
from instrument_bench.protocol.tasks import TASKS

ISLANDS = {0: [5.0, 10.0, 15.0], 1: [35.0, 40.0, 45.0]}  # centres of the other class's islands


def _region(lo, hi, islands):
    """Points 0.05 apart on [lo, hi), with a gap of +-0.5 around every island centre."""
    x = np.arange(lo, hi, 0.05)
    return x[np.all(np.abs(x[:, None] - np.asarray(islands)[None]) > 0.5, axis=1)]


def island_splits():
    """Two classes on a line: class 0 on [0, 20), class 1 on [30, 50), each region holding three
    single training points of the other class (islands). Valid and test hold the same points (one
    just beside every island, four far from them) with different labels: valid labels the
    island points with their island's class, which only a small k gets right; test labels them with
    the surrounding region's class, which only k = 15 gets right (k-NN weights by distance)."""
    x0, x1 = _region(0, 20, ISLANDS[0]), _region(30, 50, ISLANDS[1])
    x_train = np.concatenate([x0, x1, ISLANDS[0], ISLANDS[1]])[:, None]
    y_train = np.concatenate([np.zeros(len(x0)), np.ones(len(x1)), [1, 1, 1], [0, 0, 0]]).astype(np.int64)
    x_eval = np.concatenate([np.add(ISLANDS[0], 0.1), np.add(ISLANDS[1], 0.1), [2.0, 18.0, 32.0, 48.0]])
    island_class = np.array([1, 1, 1, 0, 0, 0])
    y_valid = np.concatenate([island_class, [0, 0, 1, 1]])
    y_test = np.concatenate([1 - island_class, [0, 0, 1, 1]])
    X = {"train": x_train, "valid": x_eval[:, None], "test": x_eval[:, None].copy()}
    return X, {"train": y_train, "valid": y_valid, "test": y_test}


def test_grid_search_selects_on_valid_not_test():
    X, y = island_splits()
    grid = MODELS["knn"].grid["n_neighbors"]
    assert grid == [1, 5, 15]

    def macro_f1(k, split):  # scikit-learn alone: the model the builder makes, scored by hand
        model = make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=k, weights="distance"))
        return f1_score(y[split], model.fit(X["train"], y["train"]).predict(X[split]), average="macro")

    on_valid = {k: macro_f1(k, "valid") for k in grid}
    on_test = {k: macro_f1(k, "test") for k in grid}
    # the splits disagree: k = 1 (the first of the best on valid) is the worst on test
    assert on_valid[1] == max(on_valid.values()) == 1.0 and on_valid[15] < 1.0
    assert on_test[15] == max(on_test.values()) == 1.0 and on_test[1] < 1.0

    _, _, test_scores, info = fit_model("knn", X, y, spec=FEATURES["mfcc-stats"], seed=0, n_jobs=1,
                                        n_classes=2, multi_label=False)
    assert json.loads(info["best_params"]) == {"n_neighbors": 1}
    assert info["valid_score"] == pytest.approx(1.0)
    # and the chosen model was then scored on test once, as it is
    assert f1_score(y["test"], test_scores.argmax(axis=1), average="macro") == pytest.approx(on_test[1])


def multi_label_splits(seed=0):
    """Three instrument families of the ``families`` task, each a noisy feature of its own; the test
    labels are shuffled across clips, so the thresholds best on test are not those best on valid."""
    task = TASKS["families"]
    rng = np.random.default_rng(seed)
    X, y = {}, {}
    for split, n in (("train", 120), ("valid", 60), ("test", 60)):
        labels = np.zeros((n, len(task.classes)), dtype=np.int64)
        labels[:, :3] = rng.integers(0, 2, size=(n, 3))
        features = labels[:, :3] + rng.normal(0, 0.8, size=(n, 3))
        X[split] = np.concatenate([features, rng.normal(size=(n, 2))], axis=1)
        y[split] = labels[rng.permutation(n)] if split == "test" else labels
    return task, X, y


def test_class_thresholds_are_tuned_on_valid_scores():
    task, X, y = multi_label_splits()
    rows, _, model, outputs = run_cell(model_name="logreg", task=task, spec=FEATURES["mfcc-stats"], X=X,
                                       y=y, seed=0, n_jobs=1, predictors=["class-thresholds"])
    enc, label_map = encode_labels(task, y)
    assert label_map == list(task.classes[:3])
    valid_scores = class_scores(model, X["valid"], multi_label=True)
    thresholds = json.loads(rows[0]["predictor_params"])["threshold"]

    assert thresholds == pytest.approx(tune_class_thresholds(valid_scores, enc["valid"]))
    on_test = tune_class_thresholds(outputs["scores"], outputs["y_true"])
    assert not np.allclose(on_test, thresholds)  # the splits disagree, so tuning on test would show
    # each threshold is the best cut for its class on valid (scikit-learn's F1 over every cut)
    for k, cut in enumerate(thresholds):
        column, scores = enc["valid"][:, k], valid_scores[:, k]
        best = max(f1_score(column, scores >= c, zero_division=0) for c in np.unique(scores))
        assert f1_score(column, scores >= cut, zero_division=0) == pytest.approx(best)
    # the row's metrics are those thresholds applied to the test scores once
    pred = above_threshold(outputs["scores"], threshold=thresholds)
    assert rows[0]["macro_f1"] == pytest.approx(f1_score(outputs["y_true"], pred, average="macro",
                                                         zero_division=0))
