"""An example plugin package for instrument_bench: one encoder and two models.

``embed`` is an encoder (``(clips, samples)`` audio in, ``(clips, 16)`` embeddings out),
``build_dense`` a Keras builder and ``embed_mel`` an encoder of ``log-mel`` input. The
``byo_plugins-0.1.dist-info`` folder beside this package registers them (and a scikit-learn
estimator) through entry points, as ``pip install`` of a package declaring them would; the suite
``example-suite.toml`` names them instead. The tests run both, and README's "Compare your own model
/ encoder" shows this code.
"""

import numpy as np

N_BANDS = 16


def embed(audio_batch, sample_rate):
    """Log energy of each clip in 16 equal-width frequency bands: ``(clips, 16)`` float32."""
    power = np.abs(np.fft.rfft(np.asarray(audio_batch, dtype=np.float64), axis=1)) ** 2
    bands = np.array_split(power, N_BANDS, axis=1)
    return np.log10(np.stack([b.sum(axis=1) for b in bands], axis=1) + 1e-10).astype(np.float32)


def embed_mel(log_mel_batch, sample_rate):
    """Mean and standard deviation over time of a ``(clips, frames, bands)`` log-mel batch."""
    x = np.asarray(log_mel_batch, dtype=np.float32)
    return np.concatenate([x.mean(axis=1), x.std(axis=1)], axis=1)


def build_dense(input_shape, n_classes, *, units=16, activation="softmax"):
    """A small network: flatten, one hidden ReLU layer of ``units``, the output layer."""
    import keras

    inputs = keras.Input(shape=tuple(input_shape))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(units, activation="relu")(x)
    return keras.Model(inputs, keras.layers.Dense(n_classes, activation=activation)(x))
