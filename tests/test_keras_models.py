"""Every architecture builds, predicts the right shape, and saves/loads with its custom layers."""

import keras
import numpy as np
import pytest

from instrument_bench.errors import ConfigError
from instrument_bench.models import MODELS

KERAS_MODELS = {name: spec.build for name, spec in MODELS.items() if spec.is_keras}

SHAPES = {"mlp": (12,), "cnn": (20, 16), "vgg": (20, 16), "crnn-attention": (20, 16),
          "transformer": (24, 13), "resnet18": (20, 16)}


@pytest.mark.parametrize("name", sorted(KERAS_MODELS))
def test_builds_and_predicts_probabilities(name):
    model = KERAS_MODELS[name](SHAPES[name], 5)
    x = np.random.default_rng(0).standard_normal((3, *SHAPES[name])).astype("float32")
    out = np.asarray(model.predict(x, verbose=0))
    assert out.shape == (3, 5)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_sigmoid_outputs_for_multi_label(name):
    model = KERAS_MODELS[name](SHAPES[name], 4, activation="sigmoid")
    out = np.asarray(model.predict(np.ones((2, *SHAPES[name]), "float32"), verbose=0))
    assert ((out > 0) & (out < 1)).all() and not np.allclose(out.sum(axis=1), 1.0)


def test_mlp_flattens_an_image():
    assert KERAS_MODELS["mlp"]((15, 15), 3).output_shape == (None, 3)


def test_time_frequency_models_are_the_conv_and_sequence_ones():
    assert {n for n, s in MODELS.items() if s.input == "time-frequency"} == set(KERAS_MODELS) - {"mlp"}


@pytest.mark.parametrize("name", ["transformer", "crnn-attention", "vgg"])
def test_save_and_load_roundtrip(tmp_path, name):
    model = KERAS_MODELS[name](SHAPES[name], 3)
    x = np.random.default_rng(1).standard_normal((2, *SHAPES[name])).astype("float32")
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_resnet18_layout_and_local_weights(tmp_path):
    model = KERAS_MODELS["resnet18"]((32, 32), 4, width=4)
    convs = [layer for layer in model.layers
             if isinstance(layer, keras.layers.Conv2D) and layer.kernel_size != (1, 1)]
    assert len(convs) == 17  # stem + 8 basic blocks x 2: ResNet-18 less its output layer
    path = tmp_path / "r.weights.h5"
    model.save_weights(path)
    other = KERAS_MODELS["resnet18"]((32, 32), 7, width=4, weights=path)  # other head: skipped
    np.testing.assert_array_equal(other.layers[2].get_weights()[0], model.layers[2].get_weights()[0])
    with pytest.raises(ConfigError, match="nope.weights.h5: resnet18 weights file not found"):
        KERAS_MODELS["resnet18"]((32, 32), 4, weights=tmp_path / "nope.weights.h5")
