"""Keras models: one builder per architecture, ``build_x(input_shape, n_classes, *, ...)``.

``KERAS_MODELS`` maps a name to its builder; ``TIME_FREQUENCY`` names the models that need a
``(frames, bins)`` feature; ``WINDOW_SECONDS`` gives the models trained on fixed windows whose
window scores are averaged per clip.
"""

from .cnn import build_cnn
from .crnn import build_crnn_attention
from .mlp import build_mlp
from .resnet import build_resnet18
from .transformer import build_transformer
from .vgg import build_vgg

KERAS_MODELS = {
    "mlp": build_mlp,
    "cnn": build_cnn,
    "vgg": build_vgg,
    "crnn-attention": build_crnn_attention,
    "transformer": build_transformer,
    "resnet18": build_resnet18,
}
TIME_FREQUENCY = {"cnn", "vgg", "crnn-attention", "transformer", "resnet18"}
WINDOW_SECONDS = {"crnn-attention": 3.0}
