"""Keras training: batching, statistics, windows, selection on valid, determinism."""

import numpy as np
import pytest

from instrument_bench.models import MODELS
from instrument_bench.models.keras.training import (
    ClipWindows,
    TrainConfig,
    class_weights,
    fit_keras,
    predict_scores,
    streamed_moments,
)
from instrument_bench.windows import spread_starts


def test_spread_starts():
    assert spread_starts(10, window=None) == [0]
    assert spread_starts(40, window=47) == [0]
    assert spread_starts(63, window=47) == [0, 16]  # a 4 s clip, 3 s windows: two windows
    starts = spread_starts(200, window=47)
    assert starts[0] == 0 and starts[-1] == 200 - 47 and np.diff(starts).max() <= 47


def test_training_batches_are_even_and_cover_everything():
    x = np.arange(23 * 4, dtype=np.float32).reshape(23, 2, 2)
    y = np.eye(23, dtype=np.float32)
    data = ClipWindows(x, y, batch_size=8, shuffle=True, seed=0)
    seen = np.concatenate([data[i][1].argmax(axis=1) for i in range(len(data))])
    assert all(len(data[i][0]) == 8 for i in range(len(data)))
    assert set(seen) == set(range(23))
    small = ClipWindows(x[:5], y[:5], batch_size=8, shuffle=True)
    assert len(small[0][0]) == 4  # rounded down to even


def test_prediction_batches_are_in_order_and_windows_cover_clips():
    x = np.random.default_rng(0).standard_normal((5, 63, 3)).astype(np.float32)
    data = ClipWindows(x, batch_size=4, window=47)
    batches = np.concatenate([data[i] for i in range(len(data))])
    assert batches.shape == (10, 47, 3)
    np.testing.assert_array_equal(batches[1], x[0, 16:63])


def test_streamed_moments_match_numpy():
    x = np.random.default_rng(0).standard_normal((700, 9, 4)) * 3 + 1
    mean, var = streamed_moments(x)
    np.testing.assert_allclose(mean, x.reshape(-1, 4).mean(axis=0))
    np.testing.assert_allclose(var, x.reshape(-1, 4).var(axis=0))


def test_class_weights_are_balanced():
    weights = class_weights(np.array([0, 0, 0, 1]), 3)
    assert weights[0] == pytest.approx(4 / 6) and weights[1] == pytest.approx(2.0) and weights[2] == 1.0


def separable(n, seed):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.standard_normal((n, 12, 4)).astype(np.float32)
    x[np.arange(n), :, y] += 3.0
    return x, y


def test_fit_selects_on_valid_and_learns_a_separable_task():
    (xt, yt), (xv, yv) = separable(60, 0), separable(30, 1)
    model, info = fit_keras(MODELS["mlp"].build, x_train=xt, y_train=yt, x_valid=xv, y_valid=yv,
                            n_classes=3, seed=0, config=TrainConfig(epochs=4, patience=2, batch_size=16))
    assert 1 <= info["best_epoch"] <= info["epochs_trained"] <= 4 and info["params_count"] > 0
    assert (predict_scores(model, xv, window=None).argmax(axis=1) == yv).mean() > 0.9


def test_window_scores_are_averaged_per_clip():
    (xt, yt), (xv, yv) = separable(30, 2), separable(12, 3)
    model, _ = fit_keras(MODELS["crnn-attention"].build, x_train=xt, y_train=yt, x_valid=xv, y_valid=yv,
                         n_classes=3, seed=0, window=8, config=TrainConfig(epochs=1, batch_size=8))
    scores = predict_scores(model, xv, window=8)
    windows = [model.predict(xv[:, s:s + 8], verbose=0) for s in spread_starts(12, window=8)]
    np.testing.assert_allclose(scores, np.mean(windows, axis=0), rtol=1e-4, atol=1e-5)


def test_same_seed_same_model():
    (xt, yt), (xv, yv) = separable(40, 4), separable(20, 5)
    runs = [fit_keras(MODELS["cnn"].build, x_train=xt, y_train=yt, x_valid=xv, y_valid=yv, n_classes=3,
                      seed=7, config=TrainConfig(epochs=2, batch_size=8))[0] for _ in range(2)]
    a, b = (predict_scores(m, xv, window=None) for m in runs)
    np.testing.assert_allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("loss", ["balanced", "focal"])
def test_multi_label_windowed_training(loss):
    """A windowed model on a 0/1 label matrix: sigmoid outputs, the loss given, max aggregation."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, size=(24, 3))
    x = rng.standard_normal((24, 63, 8)).astype(np.float32) + 2.0 * y.repeat(8, axis=1)[:, None, :8]
    config = TrainConfig(epochs=2, patience=1, batch_size=8, aggregate="max")
    model, info = fit_keras(MODELS["crnn-attention"].build, x_train=x[:16], y_train=y[:16],
                            x_valid=x[16:], y_valid=y[16:], n_classes=3, seed=0, config=config,
                            window=47, loss=loss)
    assert model.get_layer("crnn_attention").layers[-1].activation.__name__ == "sigmoid"
    assert model.loss is not None and info["epochs_trained"] >= 1
    scores = predict_scores(model, x, window=47, aggregate="max")
    assert scores.shape == (24, 3) and ((scores >= 0) & (scores <= 1)).all()
    mean = predict_scores(model, x, window=47)
    assert (scores >= mean - 1e-6).all()  # the max of a clip's windows is at least their mean


def test_early_stopping_restores_the_best_valid_epoch():
    """The valid labels are the train labels rotated, so learning the train split makes valid worse:
    the best valid epoch is an early one. The model returned holds that epoch's weights: the same
    as a run (same seed, same batches) stopped at that epoch, not those of the last epoch."""
    (xt, yt), (xv, yv) = separable(60, 0), separable(30, 1)
    rotated = (yv + 1) % 3

    def fit(epochs):
        return fit_keras(MODELS["mlp"].build, x_train=xt, y_train=yt, x_valid=xv, y_valid=rotated,
                         n_classes=3, seed=0, config=TrainConfig(epochs=epochs, patience=3, batch_size=16))

    model, info = fit(6)
    assert info["best_epoch"] < info["epochs_trained"]  # the last epoch is not the best
    at_best, best_info = fit(info["best_epoch"])
    assert best_info["epochs_trained"] == info["best_epoch"]
    restored, reference = (predict_scores(m, xv, window=None) for m in (model, at_best))
    np.testing.assert_allclose(restored, reference, atol=1e-6)
