"""``crnn-attention``: conv front end -> bidirectional GRU -> attention pooling over time, as in the
Medley-solos-DB / MTG-Jamendo study."""

from __future__ import annotations

import keras
from keras import layers

from .layers import AttentionPooling, as_image, classifier_head, conv_bn_relu


def build_crnn_attention(input_shape, n_classes: int, *, filters=(16, 32), pool=(2, 4),
                         gru_units: int = 32, dropout: float = 0.3,
                         activation: str = "softmax") -> keras.Model:
    """Conv + batch norm + ReLU + max-pool blocks, the frequency axis folded into channels, a
    bidirectional GRU over the remaining frames, attention pooling and the output.

    The runner trains it on 3 s windows and averages the window scores of longer clips.

    Parameters
    ----------
    input_shape : tuple of int
        ``(frames, bins)``.
    n_classes : int
        Output units.
    filters : tuple of int
        Channels per conv block.
    pool : tuple of int
        (time, frequency) pooling of each block.
    gru_units : int
        Units per GRU direction.
    dropout : float
        Dropout before the output.
    activation : str
        Output activation.
    """
    inputs = keras.Input(shape=tuple(input_shape))
    x = as_image(inputs)
    for n in filters:
        x = conv_bn_relu(x, n)
        x = layers.MaxPooling2D(pool, padding="same")(x)
    x = layers.Reshape((x.shape[1], x.shape[2] * x.shape[3]))(x)
    x = layers.Bidirectional(layers.GRU(gru_units, return_sequences=True))(x)
    x = AttentionPooling()(x)
    return keras.Model(inputs, classifier_head(x, n_classes, activation=activation, dropout=dropout),
                       name="crnn_attention")
