"""Custom layers shared by the architectures (registered, so saved ``.keras`` files load)."""

from __future__ import annotations

import keras
from keras import layers, ops

# Batch norm's moving statistics must settle within a few dozen steps per epoch on small datasets;
# Keras' default momentum 0.99 leaves them far from the batch statistics for many epochs, and
# validation scores of batch-normalised models then lag far behind training.
BN_MOMENTUM = 0.9


@keras.saving.register_keras_serializable(package="instrument_bench")
class PositionalEncoding(layers.Layer):
    """Adds the sinusoidal position encoding of Vaswani et al. (2017) to a ``(batch, time, dim)`` input."""

    def call(self, inputs):
        length, dim = ops.shape(inputs)[1], ops.shape(inputs)[2]
        positions = ops.cast(ops.arange(length), "float32")[:, None]
        index = ops.arange(dim)[None, :]
        rates = ops.power(10000.0, -ops.cast(2 * (index // 2), "float32") / ops.cast(dim, "float32"))
        angles = positions * rates
        encoding = ops.where(index % 2 == 0, ops.sin(angles), ops.cos(angles))
        return inputs + ops.cast(encoding, inputs.dtype)[None]


@keras.saving.register_keras_serializable(package="instrument_bench")
class AttentionPooling(layers.Layer):
    """Softmax attention over time: a learned score per frame, then the score-weighted mean."""

    def build(self, input_shape):
        self.score = layers.Dense(1, name="score")
        self.score.build(input_shape)

    def call(self, inputs):
        weights = ops.softmax(self.score(inputs), axis=1)
        return ops.sum(weights * inputs, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])


def as_image(inputs):
    """``(batch, time, bins)`` -> ``(batch, time, bins, 1)``; 4-d inputs pass through."""
    return layers.Reshape((*inputs.shape[1:], 1))(inputs) if len(inputs.shape) == 3 else inputs


def conv_bn_relu(x, filters: int, kernel_size=3, *, strides=1, relu: bool = True):
    """3x3 (or ``kernel_size``) convolution without bias, batch norm, then ReLU unless ``relu=False``."""
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM)(x)
    return layers.Activation("relu")(x) if relu else x


def classifier_head(x, n_classes: int, *, activation: str = "softmax", dropout: float = 0.0):
    """Optional dropout, then the output layer (softmax for single-label, sigmoid for multi-label)."""
    if dropout:
        x = layers.Dropout(dropout)(x)
    return layers.Dense(n_classes, activation=activation, name="scores")(x)
