"""``resnet18``: the ResNet-18 layout (He et al. 2016) of the MusicNet ResNet-18 study, trained from
scratch."""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from ...errors import ConfigError
from .layers import as_image, classifier_head, conv_bn_relu


def _basic_block(x, filters: int, stride: int):
    shortcut = x
    y = conv_bn_relu(x, filters, strides=stride)
    y = conv_bn_relu(y, filters, relu=False)
    if stride != 1 or shortcut.shape[-1] != filters:
        shortcut = conv_bn_relu(shortcut, filters, 1, strides=stride, relu=False)
    return layers.Activation("relu")(layers.Add()([y, shortcut]))


def build_resnet18(input_shape, n_classes: int, *, width: int = 8, weights=None,
                   activation: str = "softmax") -> keras.Model:
    """7x7/2 stem and 3x3/2 max-pool, four stages of two basic blocks (width, 2, 4, 8 x width
    channels; strides 1, 2, 2, 2), global average pooling and the output.

    The original has ``width=64`` (11 M parameters); the default 8 (176 k parameters) keeps
    the layout at a size a 2-core CPU trains within the budget of ``run all``. No pretrained
    weights can be downloaded here: ``weights`` may name a local Keras weights file
    (``.weights.h5``) of a model with the same layout and width; layers whose shapes differ
    (the output layer, for another class count) are skipped.

    Parameters
    ----------
    input_shape : tuple of int
        ``(frames, bins)`` or ``(height, width, channels)``.
    n_classes : int
        Output units.
    width : int
        Channels of the first stage.
    weights : str or Path, optional
        Local weights file to start from.
    activation : str
        Output activation.
    """
    inputs = keras.Input(shape=tuple(input_shape))
    x = as_image(inputs)
    x = conv_bn_relu(x, width, 7, strides=2)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    for stage, multiplier in enumerate((1, 2, 4, 8)):
        for block in range(2):
            x = _basic_block(x, width * multiplier, 2 if (block == 0 and stage > 0) else 1)
    x = layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, classifier_head(x, n_classes, activation=activation), name="resnet18")
    if weights is not None:
        path = Path(weights)
        if not path.is_file():
            raise ConfigError(f"{path}: resnet18 weights file not found")
        model.load_weights(path, skip_mismatch=True)
    return model
