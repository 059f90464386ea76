"""Every registered model fits and scores a tiny task through the same code path as the grid."""

from __future__ import annotations

import json

import numpy as np
import pytest

from instrument_bench.config import TrainConfig
from instrument_bench.errors import ConfigError
from instrument_bench.features import FEATURES
from instrument_bench.models import MODELS
from instrument_bench.models.fitting import fit_model
from instrument_bench.models.spec import ModelSpec

TINY = TrainConfig(epochs=2, patience=1, batch_size=8)
N = {"train": 24, "valid": 9, "test": 9}


def tiny_task(*, frames: int | None, n_classes: int = 3, multi_label: bool = False, seed: int = 0,
              width: int = 12):
    """Separable random features per split: flat ``(n, width)`` or ``(n, frames, 16)``; labels."""
    rng = np.random.default_rng(seed)
    X, y = {}, {}
    for split, n in N.items():
        labels = np.arange(n) % n_classes
        shape = (n, width) if frames is None else (n, frames, 16)
        x = rng.standard_normal(shape).astype(np.float32)
        x[..., :n_classes] += 3 * np.eye(n_classes, dtype=np.float32)[labels][:, None, :] \
            if frames else 3 * np.eye(n_classes, dtype=np.float32)[labels]
        X[split] = x
        y[split] = (np.eye(n_classes, dtype=np.int64)[labels] | np.eye(n_classes, dtype=np.int64)[
            (labels + 1) % n_classes]) if multi_label else labels
    return X, y


def _feature_of(spec):
    """The feature a model is fed in these tests, and its width (the zero-shot model reads tags)."""
    if spec.features:
        return FEATURES[spec.features[0]], 50
    return FEATURES["log-mel" if spec.input == "time-frequency" else "mfcc-stats"], 12


LABELS = ["guitar", "string", "flute"]  # class names, for the models built with them


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_model_fits_and_scores_a_tiny_task(name):
    spec = MODELS[name]
    tf = spec.input == "time-frequency"
    feature, width = _feature_of(spec)
    X, y = tiny_task(frames=60 if tf else None, width=width)
    model, valid_scores, scores, info = fit_model(
        name, X, y, spec=feature, seed=0, n_jobs=1, n_classes=3, multi_label=False,
        train_config=TINY, loss=None, label_map=LABELS)
    assert valid_scores.shape == (N["valid"], 3) and scores.shape == (N["test"], 3)
    assert np.isfinite(scores).all()
    assert info["fit_seconds"] > 0 and info["model_bytes"] > 0
    if not spec.is_keras:
        assert json.loads(info["best_params"]).keys() <= spec.grid.keys()


@pytest.mark.parametrize("name", sorted(n for n, s in MODELS.items() if not s.is_keras))
def test_every_classical_model_scores_a_multi_label_task(name):
    feature, width = _feature_of(MODELS[name])
    X, y = tiny_task(frames=None, multi_label=True, width=width)
    if MODELS[name].features:  # tag probabilities
        X = {split: 1 / (1 + np.exp(-x)) for split, x in X.items()}
    _, _, scores, _ = fit_model(name, X, y, spec=feature, seed=0, n_jobs=1, n_classes=3,
                                multi_label=True, label_map=LABELS)
    assert scores.shape == (N["test"], 3) and ((scores >= 0) & (scores <= 1)).all()


def test_a_windowed_model_takes_clips_shorter_than_its_window():
    X, y = tiny_task(frames=20)  # crnn-attention's window is 3 s (47 log-mel frames)
    _, _, scores, info = fit_model("crnn-attention", X, y, spec=FEATURES["log-mel"], seed=0, n_jobs=1,
                                   n_classes=3, multi_label=False, train_config=TINY)
    assert scores.shape == (N["test"], 3) and info["window_frames"] == 20


def test_a_model_that_reads_one_feature_refuses_another():
    X, y = tiny_task(frames=None)
    with pytest.raises(ConfigError, match="reads musicnn-mtt-tags, not 'mfcc-stats'"):
        fit_model("zero-shot", X, y, spec=FEATURES["mfcc-stats"], seed=0, n_jobs=1, n_classes=3,
                  multi_label=False, label_map=LABELS)


def test_a_time_frequency_model_refuses_a_flat_feature():
    X, y = tiny_task(frames=None)
    with pytest.raises(ConfigError, match="needs a time-frequency feature"):
        fit_model("cnn", X, y, spec=FEATURES["mfcc-stats"], seed=0, n_jobs=1, n_classes=3,
                  multi_label=False, train_config=TINY)


def test_model_spec_checks_its_kind_and_input():
    with pytest.raises(ValueError, match="kind must be one of"):
        ModelSpec(build=len, kind="pytorch")
    assert MODELS["crnn-attention"].window_seconds == 3.0 and MODELS["knn"].native_multi_label
    assert MODELS["cnn"].architecture() and MODELS["logreg"].summary
