"""``cnn``: two convolution layers 32 -> 64 with ReLU and max-pooling, then dense, as in the
MusicNet 12-group study."""

from __future__ import annotations

import keras
from keras import layers

from .layers import as_image, classifier_head


def build_cnn(input_shape, n_classes: int, *, filters=(32, 64), kernel_size: int = 3,
              dense: int = 128, dropout: float = 0.3, activation: str = "softmax") -> keras.Model:
    """Conv(3x3, ReLU) + MaxPool(2) per filter count, flatten, Dense, output.

    Flattening (rather than global pooling) keeps where in frequency a pattern occurs, which is
    much of what tells instrument families apart.

    Parameters
    ----------
    input_shape : tuple of int
        ``(frames, bins)`` of a time-frequency feature.
    n_classes : int
        Output units.
    filters : tuple of int
        Channels of the convolution layers.
    kernel_size : int
        Square kernel size.
    dense : int
        Units of the hidden dense layer.
    dropout : float
        Dropout before the output.
    activation : str
        Output activation.
    """
    inputs = keras.Input(shape=tuple(input_shape))
    x = as_image(inputs)
    for n in filters:
        x = layers.Conv2D(n, kernel_size, padding="same", activation="relu")(x)
        x = layers.MaxPooling2D(2, padding="same")(x)
    x = layers.Flatten()(x)
    x = layers.Dense(dense, activation="relu")(x)
    return keras.Model(inputs, classifier_head(x, n_classes, activation=activation, dropout=dropout),
                       name="cnn")
