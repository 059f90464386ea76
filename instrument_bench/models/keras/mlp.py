"""``mlp``: a multi-layer perceptron with 3 hidden layers on flat features, as in the Medley-solos-DB /
MTG-Jamendo study (the NSynth family study used a smaller one)."""

from __future__ import annotations

import keras
from keras import layers

from .layers import classifier_head


def build_mlp(input_shape, n_classes: int, *, hidden=(256, 128, 64), dropout: float = 0.3,
              activation: str = "softmax") -> keras.Model:
    """Flatten -> 3 x (Dense + ReLU + dropout) -> output.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one example (any rank; it is flattened, e.g. a 150 x 150 spectrogram).
    n_classes : int
        Output units.
    hidden : tuple of int
        Units of the hidden layers.
    dropout : float
        Dropout after each hidden layer.
    activation : str
        Output activation.
    """
    inputs = keras.Input(shape=tuple(input_shape))
    x = layers.Flatten()(inputs)
    for units in hidden:
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(dropout)(x)
    return keras.Model(inputs, classifier_head(x, n_classes, activation=activation), name="mlp")
