"""``vgg``: VGG-like blocks (Han et al. 2017, as in the IRMAS VGG study) on log-mel spectrograms."""

from __future__ import annotations

import keras
from keras import layers

from .layers import as_image, classifier_head, conv_bn_relu


def build_vgg(input_shape, n_classes: int, *, filters=(8, 16, 32, 64), convs_per_block: int = 2,
              dropout: float = 0.1, dense: int = 256, dense_dropout: float = 0.5,
              pooling: str = "flatten", activation: str = "softmax") -> keras.Model:
    """Blocks of [3x3 conv + batch norm + ReLU] x ``convs_per_block``, 2x2 max-pool and dropout;
    then the feature map flattened (or globally max-pooled, as Han et al. did, with
    ``pooling="max"``), a dense layer and the output. Flattening keeps the frequency position of
    the patterns; on instrument-disjoint gm-notes global max pooling trained far worse.

    Han et al. used 32-64-128-256 channels and a 1024-unit dense layer; the defaults here are a
    quarter of that so that three seeds train within the 2-core budget of ``run all``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(frames, bins)``.
    n_classes : int
        Output units.
    filters : tuple of int
        Channels per block.
    convs_per_block : int
        Convolutions per block.
    dropout : float
        Dropout after each block.
    dense : int
        Units of the dense layer.
    dense_dropout : float
        Dropout before the output.
    pooling : str
        ``flatten`` or ``max`` (global max pooling).
    activation : str
        Output activation.
    """
    inputs = keras.Input(shape=tuple(input_shape))
    x = as_image(inputs)
    for n in filters:
        for _ in range(convs_per_block):
            x = conv_bn_relu(x, n)
        x = layers.MaxPooling2D(2, padding="same")(x)
        x = layers.Dropout(dropout)(x)
    x = layers.GlobalMaxPooling2D()(x) if pooling == "max" else layers.Flatten()(x)
    x = layers.Dense(dense, activation="relu")(x)
    return keras.Model(inputs, classifier_head(x, n_classes, activation=activation, dropout=dense_dropout),
                       name="vgg")
