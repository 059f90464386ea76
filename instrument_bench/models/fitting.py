"""Building, fitting, selecting and scoring a model of either kind.

Classical models: every grid point is fitted on train and scored on valid (single-label: macro-F1
of the argmax; multi-label: mean average precision); the best fitted model is kept. Keras models:
trained on train, the epoch with the best valid score is kept (early stopping). Either way the
test split is scored once, by :func:`fit_model`'s caller.
"""

from __future__ import annotations

import json
import pickle
import time

import numpy as np
from scipy.special import expit
from sklearn.model_selection import ParameterGrid
from sklearn.multiclass import OneVsRestClassifier

from ..errors import ConfigError, lookup
from ..protocol.labels import SPLITS
from ..protocol.metrics import mean_average_precision, single_label_metrics
from ..protocol.predictors import argmax
from . import MODELS
from .classical import PerLabel


def class_scores(model, X, *, multi_label: bool = False) -> np.ndarray:
    """Per-class scores of a fitted classifier (probabilities where it has them).

    Multi-label models without probabilities (the SVM) give the sigmoid of their decision values,
    so 0.5 is the SVM's own margin and the ranking metrics see the decision values' order. A
    two-class SVM's single decision value ``d`` becomes the scores ``(-d, d)``.
    """
    if hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        if isinstance(proba, list):  # scikit-learn's multi-output models: one (n, 2) array per label
            classes = model.steps[-1][1].classes_
            return np.stack([p[:, list(c).index(1)] if 1 in c else np.zeros(len(p))
                             for p, c in zip(proba, classes)], axis=1)
        return np.asarray(proba)
    scores = np.asarray(model.decision_function(X))
    if multi_label:
        return expit(scores)
    return np.stack([-scores, scores], axis=1) if scores.ndim == 1 else scores


def selection_score(scores, y, *, multi_label: bool) -> float:
    """What model selection maximises on valid: macro-F1 of the argmax (single-label), or mean
    average precision over the labels (multi-label; threshold-free, so the choice does not depend
    on the predictor applied afterwards)."""
    if multi_label:
        return mean_average_precision(y, scores)
    return single_label_metrics(y, argmax(scores), n_classes=scores.shape[1])["macro_f1"]


def build_classical(model_name: str, *, seed: int, n_jobs: int, multi_label: bool = False,
                    masked: bool = False, **params):
    """A classical model; for multi-label tasks its classifier is wrapped one-vs-rest unless it
    fits all labels at once (``native_multi_label``), and per label on the known rows
    (:class:`~.classical.PerLabel`) when some labels are unknown (``masked``)."""
    spec = MODELS[model_name]
    model = spec.build(seed=seed, n_jobs=n_jobs, **params)
    if masked or (multi_label and not spec.native_multi_label):
        name, classifier = model.steps[-1]
        model.steps[-1] = (name, PerLabel(classifier) if masked else OneVsRestClassifier(classifier))
    return model


def fit_and_select(model_name: str, X_train, y_train, X_valid, y_valid, *, seed: int, n_jobs: int,
                   multi_label: bool = False, **fixed):
    """Fit every grid point on train, keep the one with the best selection score on valid
    (``fixed``: builder arguments outside the grid, e.g. the zero-shot model's class names).

    Returns
    -------
    model, best_params, valid_score, fit_seconds, search_seconds
        The fitted best model, its hyperparameters, its valid score, the seconds its own fit
        took, and the seconds the whole search took.
    """
    best = None
    start = time.perf_counter()
    masked = multi_label and bool((np.asarray(y_train) < 0).any())
    for params in ParameterGrid(MODELS[model_name].grid):
        t0 = time.perf_counter()
        model = build_classical(model_name, seed=seed, n_jobs=n_jobs, multi_label=multi_label,
                                masked=masked, **fixed, **params).fit(X_train, y_train)
        fit_seconds = time.perf_counter() - t0
        score = selection_score(class_scores(model, X_valid, multi_label=multi_label), y_valid,
                                multi_label=multi_label)
        if best is None or score > best[2]:
            best = (model, params, score, fit_seconds)
    return (*best, time.perf_counter() - start)


def keras_window(model_name: str, spec, sample_rate: int, *, n_frames: int | None = None) -> int | None:
    """Frames per window of a windowed model on a feature (None: whole clips); clips of fewer than
    ``n_frames`` frames are one window each."""
    seconds = MODELS[model_name].window_seconds
    if seconds is None or spec.frame_seconds is None:
        return None
    frames = max(1, int(round(seconds / spec.frame_seconds(spec.params, sample_rate))))
    return frames if n_frames is None else min(frames, n_frames)


def check_feature_fits(model_name: str, spec, X) -> None:
    """Raise ConfigError when a model needs a time-frequency feature and gets a vector, or reads
    only some features (``ModelSpec.features``) and gets another."""
    model = lookup(MODELS, model_name, kind="model")
    if model.features and spec.name not in model.features:
        raise ConfigError(f"model {model_name!r} reads {', '.join(model.features)}, not {spec.name!r}")
    if model.input == "time-frequency" and X["train"].ndim != 3:
        raise ConfigError(f"model {model_name!r} needs a time-frequency feature (frames x bins); "
                          f"{spec.name!r} gives one vector per clip")


def _fit_classical(model_name, X, enc, *, seed, n_jobs, multi_label, label_map=None):
    flat = {s: np.asarray(X[s]).reshape(len(X[s]), -1) for s in SPLITS}
    named = {"classes": tuple(label_map or ())} if MODELS[model_name].label_names else {}
    model, params, valid_score, fit_seconds, search_seconds = fit_and_select(
        model_name, flat["train"], enc["train"], flat["valid"], enc["valid"], seed=seed,
        n_jobs=n_jobs, multi_label=multi_label, **named)
    valid_scores = class_scores(model, flat["valid"], multi_label=multi_label)
    t0 = time.perf_counter()
    scores = class_scores(model, flat["test"], multi_label=multi_label)
    info = {"best_params": json.dumps(params, sort_keys=True), "valid_score": valid_score,
            "fit_seconds": fit_seconds, "search_seconds": search_seconds,
            "predict_seconds": time.perf_counter() - t0, "model_bytes": len(pickle.dumps(model))}
    return model, valid_scores, scores, info


def _fit_keras(model_name, X, enc, *, seed, n_classes, multi_label, train_config, window, loss,
               verbose=0):
    from .keras.training import fit_keras, predict_scores

    spec = MODELS[model_name]
    t0 = time.perf_counter()
    model, info = fit_keras(spec.build, x_train=X["train"], y_train=enc["train"],
                            x_valid=X["valid"], y_valid=enc["valid"], n_classes=n_classes, seed=seed,
                            config=train_config, window=window, loss=loss, verbose=verbose)
    fit_seconds = time.perf_counter() - t0
    valid_scores = predict_scores(model, X["valid"], window=window, aggregate=train_config.aggregate)
    valid_score = selection_score(valid_scores, enc["valid"], multi_label=multi_label)
    t0 = time.perf_counter()
    scores = predict_scores(model, X["test"], window=window, aggregate=train_config.aggregate)
    info.update({"best_params": json.dumps(spec.architecture(), sort_keys=True),
                 "valid_score": valid_score, "fit_seconds": fit_seconds,
                 "search_seconds": fit_seconds, "predict_seconds": time.perf_counter() - t0,
                 "model_bytes": int(sum(np.asarray(w).nbytes for w in model.weights)),
                 "window_frames": window or 0})
    return model, valid_scores, scores, info


def fit_model(model_name: str, X: dict, enc: dict, *, spec, seed: int, n_jobs: int, n_classes: int,
              multi_label: bool, train_config=None, sample_rate: int = 16000, loss: str | None = None,
              verbose: int = 0, label_map=None):
    """Fit and select a model on train/valid and score valid and test.

    Parameters
    ----------
    model_name : str
        A ``MODELS`` name.
    X, enc : dict
        Features and encoded labels per split.
    spec : FeatureSpec
        The feature (windowed models cut windows of its frames).
    label_map : list of str, optional
        The class names (for models built with them, ``label_names``).

    Returns
    -------
    model, valid_scores, test_scores, info
        ``info`` holds the chosen hyperparameters, the valid score and the costs.
    """
    check_feature_fits(model_name, spec, X)
    if MODELS[model_name].is_keras:
        return _fit_keras(model_name, X, enc, seed=seed, n_classes=n_classes, multi_label=multi_label,
                          train_config=train_config, loss=loss, verbose=verbose,
                          window=keras_window(model_name, spec, sample_rate, n_frames=X["train"].shape[1]))
    return _fit_classical(model_name, X, enc, seed=seed, n_jobs=n_jobs, multi_label=multi_label,
                          label_map=label_map)


def score_model(model_name: str, model, X, *, multi_label: bool, window: int | None = None,
                aggregate: str = "mean") -> np.ndarray:
    """Class scores of a fitted model on another set of clips (a cross-source test split), as
    :func:`fit_model` scores its own test split."""
    if MODELS[model_name].is_keras:
        from .keras.training import predict_scores

        return predict_scores(model, X, window=window or None, aggregate=aggregate)
    return class_scores(model, np.asarray(X).reshape(len(X), -1), multi_label=multi_label)
