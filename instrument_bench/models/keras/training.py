"""Training Keras models under the benchmark's protocol.

Adam on the train split; after every epoch the valid split's macro-F1 is measured and early
stopping keeps the best epoch's weights (``restore_best_weights``); an epoch cap bounds the run.
Features stream from the memory-mapped cache through a :class:`keras.utils.PyDataset`, so a split
larger than memory still trains. Inputs are standardised per feature bin by a ``Normalization``
layer whose mean and variance are computed on the train split (streamed) and saved with the model.
Models with a window (``crnn-attention``: 3 s) train on every window of a clip, with the clip's
label, and score a clip by the mean (or max) of its windows' scores (the snippet-to-track
aggregation of the Medley-solos-DB / MTG-Jamendo study).

Multi-label tasks (targets given as a 0/1 matrix) train a sigmoid output layer with one of the
losses in :mod:`.losses`, and early stopping watches the valid split's macro PR-AUC (threshold-free,
so the epoch chosen does not depend on the predictor applied afterwards).
"""

from __future__ import annotations

import math
import os

import keras
import numpy as np

from ...config import TrainConfig  # noqa: F401  (re-exported: the training settings)
from ...protocol.groups import aggregate_windows
from ...windows import spread_starts
from .losses import MaskedLoss, get_loss

BATCH_ROWS = 256  # rows per read when streaming statistics or predictions


class ClipWindows(keras.utils.PyDataset):
    """Batches of (windowed) examples read from a possibly memory-mapped array.

    For training (``shuffle=True``) every batch has the same even size: the last batch is topped
    up with the first examples of the epoch's order, and the size is ``min(batch_size, n)`` rounded
    down to even. TensorFlow 2.21's oneDNN kernels corrupt the heap when ``resnet18`` trains on a
    batch of odd size (seen here as "double free or corruption" aborts with a last batch of 3).
    Prediction batches are contiguous and may be of any size.

    Parameters
    ----------
    x : np.ndarray
        ``(clips, ...)`` features; with a window, ``(clips, frames, bins)``.
    y : np.ndarray or None
        One-hot targets per clip, or None for prediction.
    batch_size : int
        Examples per batch.
    window : int or None
        Frames per window.
    shuffle : bool
        Reshuffle the examples every epoch.
    seed : int
        Seed of the shuffling.
    """

    def __init__(self, x, y=None, *, batch_size: int, window: int | None = None, shuffle: bool = False,
                 seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.window = x, y, batch_size, window
        starts = spread_starts(x.shape[1], window=window) if window else [0]
        self.index = np.array([(c, s) for c in range(len(x)) for s in starts], dtype=np.int64)
        self.order = np.arange(len(self.index))
        self.shuffle, self.rng = shuffle, np.random.default_rng(seed)
        if shuffle:
            self.batch_size = max(1, min(batch_size, len(self.index)))
            self.batch_size -= self.batch_size % 2 if self.batch_size > 1 else 0
            self.rng.shuffle(self.order)

    def __len__(self):
        return math.ceil(len(self.index) / self.batch_size)

    def __getitem__(self, idx):
        picks = np.arange(idx * self.batch_size, (idx + 1) * self.batch_size)
        picks = picks % len(self.index) if self.shuffle else picks[picks < len(self.index)]
        rows = self.index[np.sort(self.order[picks])]
        clips = rows[:, 0]
        if self.window:
            batch = np.stack([self.x[c, s:s + self.window] for c, s in rows])
        else:
            batch = np.asarray(self.x[clips])
        batch = batch.astype(np.float32)
        return batch if self.y is None else (batch, self.y[clips])

    def on_epoch_end(self):
        if self.shuffle:
            self.rng.shuffle(self.order)


def streamed_moments(x) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance over every axis but the last, reading ``x`` in blocks of rows."""
    count, total, squares = 0, 0.0, 0.0
    for start in range(0, len(x), BATCH_ROWS):
        block = np.asarray(x[start:start + BATCH_ROWS], dtype=np.float64)
        block = block.reshape(-1, block.shape[-1])
        count += len(block)
        total = total + block.sum(axis=0)
        squares = squares + (block ** 2).sum(axis=0)
    mean = total / count
    return mean, np.maximum(squares / count - mean ** 2, 1e-8)


def seed_everything(seed: int, *, deterministic: bool = True) -> None:
    """Seed Python, NumPy and the backend; request deterministic ops where the backend has them."""
    keras.utils.set_random_seed(seed)
    if deterministic and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif deterministic and keras.backend.backend() == "torch":
        import torch

        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)


def with_normalization(model: keras.Model, mean, variance) -> keras.Model:
    """``model`` preceded by a ``Normalization`` layer holding the train split's statistics."""
    inputs = keras.Input(shape=model.input_shape[1:])
    normalized = keras.layers.Normalization(axis=-1, mean=mean, variance=variance, name="standardize")(inputs)
    return keras.Model(inputs, model(normalized), name=model.name)


def class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Inverse-frequency ("balanced") class weights over the classes present in ``y``."""
    counts = np.bincount(y, minlength=n_classes)
    present = counts > 0
    weights = np.ones(n_classes)
    weights[present] = len(y) / (present.sum() * counts[present])
    return {k: float(w) for k, w in enumerate(weights)}


def predict_scores(model: keras.Model, x, *, window: int | None, batch_size: int = BATCH_ROWS,
                   aggregate: str = "mean") -> np.ndarray:
    """Class scores per clip; with a window, the mean (or max) of each clip's window scores."""
    data = ClipWindows(x, batch_size=batch_size, window=window)
    scores = model.predict(data, verbose=0)
    return aggregate_windows(scores, data.index[:, 0], n_clips=len(x), aggregate=aggregate)


class ValidScore(keras.callbacks.Callback):
    """Adds ``name``: ``score(y_valid, scores)`` on the valid split to every epoch's logs (for
    early stopping where Keras' own metrics cannot skip unknown labels)."""

    def __init__(self, x_valid, y_valid, *, window, name: str, score):
        super().__init__()
        self.x_valid, self.y_valid, self.window, self.name, self.score = x_valid, y_valid, window, name, score

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            scores = predict_scores(self.model, self.x_valid, window=self.window)
            logs[self.name] = float(np.nan_to_num(self.score(self.y_valid, scores)))


def fit_keras(build, *, x_train, y_train, x_valid, y_valid, n_classes: int, seed: int,
              config: TrainConfig, window: int | None = None, params=None, loss: str | None = None,
              verbose: int = 0):
    """Build, train and select one Keras model.

    Parameters
    ----------
    build : callable
        ``build(input_shape, n_classes, **params) -> keras.Model``.
    x_train, x_valid : np.ndarray
        Features (memory-mapped arrays are read in batches).
    y_train, y_valid : np.ndarray
        Integer class indices (single-label), or ``(clips, classes)`` 0/1 matrices (multi-label:
        sigmoid outputs).
    n_classes : int
        Output units.
    seed : int
        Seed of initialisation, dropout and shuffling.
    config : TrainConfig
        Epochs, patience, batch size, learning rate, class weights.
    window : int, optional
        Frames per training window.
    params : dict, optional
        Builder keyword arguments.
    loss : str, optional
        A name of ``LOSSES`` (default: ``categorical-crossentropy``, or ``bce`` for multi-label).
    verbose : int
        Keras' fit verbosity.

    Returns
    -------
    model : keras.Model
        The model with the best valid epoch's weights.
    info : dict
        ``epochs_trained``, ``best_epoch``, ``params_count``.
    """
    multi_label = np.ndim(y_train) == 2
    seed_everything(seed, deterministic=config.deterministic)
    sample_shape = (window, *x_train.shape[2:]) if window else x_train.shape[1:]
    core = build(tuple(sample_shape), n_classes, activation="sigmoid" if multi_label else "softmax",
                 **(params or {}))
    mean, variance = streamed_moments(x_train)
    model = with_normalization(core, mean, variance)
    if multi_label:
        monitor = "pr_auc"
        metrics = [keras.metrics.AUC(curve="PR", multi_label=True, num_labels=n_classes, name=monitor)]
        targets = {"train": np.asarray(y_train, np.float32), "valid": np.asarray(y_valid, np.float32)}
    else:
        monitor = "macro_f1"
        metrics = [keras.metrics.F1Score(average="macro", name=monitor), "accuracy"]
        onehot = np.eye(n_classes, dtype=np.float32)
        targets = {"train": onehot[y_train], "valid": onehot[y_valid]}
    loss = loss or ("bce" if multi_label else "categorical-crossentropy")
    masked = multi_label and bool((np.asarray(y_train) < 0).any() or (np.asarray(y_valid) < 0).any())
    callbacks = []
    if masked:  # unknown labels: a masked loss, and the valid score computed here on known entries
        from ...protocol.metrics import mean_average_precision

        metrics = []
        callbacks.append(ValidScore(x_valid, np.asarray(y_valid), window=window, name=f"val_{monitor}",
                                    score=mean_average_precision))
    model.compile(optimizer=keras.optimizers.Adam(config.learning_rate),
                  loss=MaskedLoss(loss) if masked else get_loss(loss), metrics=metrics)
    train = ClipWindows(x_train, targets["train"], batch_size=config.batch_size, window=window,
                        shuffle=True, seed=seed)
    valid = None if masked else ClipWindows(x_valid, targets["valid"], batch_size=BATCH_ROWS, window=window)
    callbacks.append(keras.callbacks.EarlyStopping(monitor=f"val_{monitor}", mode="max",
                                                   patience=config.patience, restore_best_weights=True))
    weights = class_weights(y_train, n_classes) if config.class_weight and not multi_label else None
    history = model.fit(train, validation_data=valid, epochs=config.epochs, callbacks=callbacks,
                        class_weight=weights, verbose=verbose)
    scores = history.history[f"val_{monitor}"]
    return model, {"epochs_trained": len(scores), "best_epoch": int(np.argmax(scores)) + 1,
                   "params_count": int(model.count_params())}
