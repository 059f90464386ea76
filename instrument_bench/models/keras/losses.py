"""Losses for multi-label training, by name; the loss is a column of the results.

- ``bce``: binary cross-entropy on the sigmoid outputs;
- ``mse``: mean squared error between the sigmoid outputs and the 0/1 labels (the baseline of the
  MusicNet ResNet-18 study);
- ``balanced``: the MusicNet ResNet-18 study's IoU-like loss ``FN / N_playing + FP / N_not_playing``
  per clip, made differentiable by counting soft errors: ``FN = sum(y * (1 - p))``,
  ``FP = sum((1 - y) * p)`` (each count divided by at least 1, so a clip where nothing or
  everything plays is defined);
- ``focal``: binary focal cross-entropy (Lin et al. 2017, gamma 2), Keras' implementation.

Single-label tasks train with ``categorical-crossentropy``. Where some labels are unknown (-1,
OpenMIC-2018), :class:`MaskedLoss` wraps the loss so unknown entries give neither loss nor
gradient.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="instrument_bench")
def balanced_error_loss(y_true, y_pred):
    """Soft ``FN / N_playing + FP / N_not_playing`` per example.

    The IoU-like loss of the MusicNet ResNet-18 study.
    """
    y_true = ops.cast(y_true, y_pred.dtype)
    playing = ops.sum(y_true, axis=-1)
    not_playing = ops.sum(1.0 - y_true, axis=-1)
    false_negatives = ops.sum(y_true * (1.0 - y_pred), axis=-1)
    false_positives = ops.sum((1.0 - y_true) * y_pred, axis=-1)
    return (false_negatives / ops.maximum(playing, 1.0)
            + false_positives / ops.maximum(not_playing, 1.0))


@keras.saving.register_keras_serializable(package="instrument_bench")
class MaskedLoss(keras.losses.Loss):
    """A multi-label loss that ignores unknown labels (-1): both the target and the output of an
    unknown entry are set to 0 before the wrapped loss sees them, so it adds nothing and passes
    no gradient (``balanced`` still counts it in its not-playing denominator).

    Parameters
    ----------
    loss_name : str
        A name of ``LOSSES``.
    """

    def __init__(self, loss_name: str = "bce", **kwargs):
        kwargs.setdefault("name", f"masked_{loss_name}")
        super().__init__(**kwargs)
        self.loss_name = loss_name
        self.inner = get_loss(loss_name)

    def call(self, y_true, y_pred):
        known = ops.cast(ops.greater_equal(y_true, 0), y_pred.dtype)
        return self.inner(ops.cast(y_true, y_pred.dtype) * known, y_pred * known)

    def get_config(self):
        return {**super().get_config(), "loss_name": self.loss_name}


def get_loss(name: str):
    """The Keras loss of a registry name (see ``LOSSES``)."""
    from ...errors import lookup

    return lookup(LOSSES, name, kind="loss")()


LOSSES = {
    "categorical-crossentropy": lambda: keras.losses.CategoricalCrossentropy(),
    "bce": lambda: keras.losses.BinaryCrossentropy(),
    "mse": lambda: keras.losses.MeanSquaredError(),
    "balanced": lambda: balanced_error_loss,
    "focal": lambda: keras.losses.BinaryFocalCrossentropy(gamma=2.0),
}
MULTI_LABEL_LOSSES = ("bce", "mse", "balanced", "focal")
LOSS_DESCRIPTIONS = {
    "categorical-crossentropy": "softmax cross-entropy (single-label tasks)",
    "bce": "binary cross-entropy on sigmoid outputs (multi-label default)",
    "mse": "mean squared error on sigmoid outputs (the MusicNet ResNet-18 study's baseline)",
    "balanced": "soft FN / N_playing + FP / N_not_playing per clip (the MusicNet ResNet-18 study's loss)",
    "focal": "binary focal cross-entropy, gamma 2",
}
