"""musicnn's pretrained taggers (Pons & Serra 2019) rebuilt as Keras 3 models, for embeddings and tags.

The ``musicnn`` 0.1.0 wheel (ISC licence; ``pip install --no-deps musicnn==0.1.0``) ships four
TensorFlow 1 checkpoints: ``MTT_musicnn`` and ``MSD_musicnn`` (musically motivated front-end, dense
mid-end, 200-unit penultimate layer) and ``MTT_vgg`` / ``MSD_vgg`` (five 3x3 conv blocks). Its Python
code is never imported (``musicnn.extractor`` turns eager execution off for the whole process at
import): this module reads the package's files only. Each network is rebuilt from ``musicnn/models.py``
as a functional Keras model with inference-mode batch norm and no dropout, and every checkpoint
variable is copied into the Keras weight of the same layer name (``conv2d_5/kernel``,
``batch_normalization_9/moving_mean`` ...); Adam slots and ``beta1_power``/``beta2_power`` are skipped.

Pre-processing follows ``musicnn/extractor.py``: mono 16 kHz audio, power mel spectrogram (Hann,
``n_fft`` 512, hop 256, 96 Slaney mel bands, centred frames padded by reflection as librosa 0.7 did),
rounded to float16 like musicnn, then ``log10(10000 * mel + 1)`` (in float32: musicnn's float16
product overflows to inf when a band exceeds 6.55, e.g. a 110 Hz sine of amplitude 0.3), cut into
3 s patches of 187 frames every 93 frames (50 % overlap; a trailing part shorter than a patch is
dropped, as musicnn does). A clip shorter than one patch is repeat-padded (its frames tiled, then cut
to 187), musicnn's ``pad_short: repeat-pad`` training setting.

The model's ``penultimate`` output is what musicnn's extractor returns under that name: the batch-normed
200-unit dense layer (musicnn models); the VGG models have no such layer, so theirs is the flattened
last pooling (256 values), the input of the output layer. ``tags`` are the 50 sigmoid probabilities.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import os
from pathlib import Path

import librosa
import numpy as np

from ..errors import FeatureError, UnknownNameError
from .base import FeatureSpec

MUSICNN_MODELS = ("MTT_musicnn", "MSD_musicnn", "MTT_vgg", "MSD_vgg")
PACKAGE = "musicnn"
INSTALL_HINT = "pip install --no-deps musicnn==0.1.0"
SAMPLE_RATE = 16000
N_FFT = 512
HOP_LENGTH = 256
N_MELS = 96
PATCH_FRAMES = 187  # librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1, as musicnn
PATCH_HOP = 93  # 50 % overlap
_OPTIMIZER_VARIABLES = ("beta1_power", "beta2_power")
_FLOAT16_MAX = float(np.finfo(np.float16).max)


def package_dir() -> Path:
    """The installed ``musicnn`` package folder (located, never imported).

    Returns
    -------
    pathlib.Path
        The folder holding ``models.py`` and the checkpoint folders.

    Raises
    ------
    FeatureError
        When the package is not installed.
    """
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FeatureError(f"musicnn is not installed: {INSTALL_HINT}")
    return Path(next(iter(spec.submodule_search_locations)))


def _check_name(name: str) -> None:
    if name not in MUSICNN_MODELS:
        raise UnknownNameError("musicnn model", name, MUSICNN_MODELS)


def tag_names(name: str = "MTT_musicnn") -> tuple[str, ...]:
    """The 50 tags of a model, in output order, read from musicnn's ``configuration.py`` as text.

    Parameters
    ----------
    name : str
        One of :data:`MUSICNN_MODELS` (``MTT_*`` models share MagnaTagATune's tags, ``MSD_*`` the
        Million Song Dataset's).

    Returns
    -------
    tuple of str
    """
    _check_name(name)
    source = package_dir() / "configuration.py"
    wanted = "MTT_LABELS" if name.startswith("MTT") else "MSD_LABELS"
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == wanted for t in node.targets):
            return tuple(ast.literal_eval(node.value))
    raise FeatureError(f"{source}: no {wanted} list")


def _mono_16k(audio, sample_rate: int) -> np.ndarray:
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim == 2:  # (channels, samples): their mean (librosa 1.0's to_mono mixes separate signals)
        y = y.mean(axis=0)
    if y.ndim != 1 or y.size == 0:
        raise FeatureError(f"musicnn needs a non-empty mono (samples,) clip, got shape {np.shape(audio)}")
    if not np.all(np.isfinite(y)):
        raise FeatureError("musicnn: the clip holds non-finite samples")
    if int(sample_rate) <= 0:
        raise FeatureError(f"musicnn: sample_rate must be positive, got {sample_rate}")
    if int(sample_rate) != SAMPLE_RATE:
        y = librosa.resample(y=y, orig_sr=int(sample_rate), target_sr=SAMPLE_RATE, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32)


def log_mel_patches(audio, *, sample_rate: int) -> np.ndarray:
    """musicnn's input patches of one clip.

    Parameters
    ----------
    audio : array_like
        ``(samples,)`` (or ``(channels, samples)``, averaged to mono) audio.
    sample_rate : int
        Its sample rate; other rates than 16 kHz are resampled (soxr, high quality).

    Returns
    -------
    numpy.ndarray
        ``(patches, 187, 96)`` float32 log-compressed mel patches, one every 93 frames (2.976 s
        long, 1.488 s apart); a clip shorter than 187 frames (about 2.98 s) gives one repeat-padded patch.
    """
    y = _mono_16k(audio, sample_rate)
    mel = librosa.feature.melspectrogram(y=y, sr=SAMPLE_RATE, n_fft=N_FFT, hop_length=HOP_LENGTH,
                                         win_length=N_FFT, window="hann", center=True, pad_mode="reflect",
                                         power=2.0, n_mels=N_MELS, fmin=0.0, fmax=SAMPLE_RATE / 2,
                                         htk=False, norm="slaney").T
    mel = np.minimum(mel, _FLOAT16_MAX).astype(np.float16).astype(np.float32)  # musicnn's float16 rounding
    frames = np.log10(np.float32(10000) * mel + np.float32(1))
    if len(frames) < PATCH_FRAMES:  # repeat-pad: tile the clip's frames, cut to one patch
        frames = np.tile(frames, (-(-PATCH_FRAMES // len(frames)), 1))[:PATCH_FRAMES]
    starts = range(0, len(frames) - PATCH_FRAMES + 1, PATCH_HOP)
    return np.stack([frames[s:s + PATCH_FRAMES] for s in starts]).astype(np.float32)


def _conv_block(layers, x, *, conv: str, bn: str, filters: int, kernel: tuple, padding: str):
    """models.py's timbral_block / tempo_block: conv + ReLU, batch norm, max over frequency."""
    x = layers.Conv2D(filters, kernel, padding=padding, activation="relu", name=conv)(x)
    x = layers.BatchNormalization(epsilon=1e-3, name=bn)(x, training=False)
    x = layers.MaxPooling2D(pool_size=(1, x.shape[2]), strides=(1, x.shape[2]), name=f"{conv}_pool")(x)
    return layers.Reshape((x.shape[1], x.shape[3]), name=f"{conv}_squeeze")(x)


def _build_musicnn(keras, num_classes: int = 50):
    """``build_musicnn(num_filt_midend=64, num_units_backend=200)`` of models.py."""
    layers = keras.layers
    inputs = keras.Input(shape=(PATCH_FRAMES, N_MELS), name="log_mel")
    x = layers.Reshape((PATCH_FRAMES, N_MELS, 1), name="expand")(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, name="batch_normalization")(x, training=False)
    pad7 = layers.ZeroPadding2D(((3, 3), (0, 0)), name="front_pad")(x)
    front = [_conv_block(layers, pad7, conv=conv, bn=bn, filters=204, kernel=(7, width), padding="valid")
             for conv, bn, width in (("conv2d", "batch_normalization_1", int(0.4 * N_MELS)),
                                     ("conv2d_1", "batch_normalization_2", int(0.7 * N_MELS)))]
    front += [_conv_block(layers, x, conv=f"conv2d_{i + 2}", bn=f"batch_normalization_{i + 3}", filters=51,
                          kernel=(length, 1), padding="same") for i, length in enumerate((128, 64, 32))]
    front = layers.Concatenate(axis=2, name="frontend")(front)  # (187, 561)
    front = layers.Reshape((PATCH_FRAMES, front.shape[2], 1), name="midend_in")(front)
    mid, previous = [front], front
    for i in range(3):  # conv2d_5..7 + batch_normalization_6..8, residual from the second on
        padded = layers.ZeroPadding2D(((3, 3), (0, 0)), name=f"midend_pad_{i}")(previous)
        y = layers.Conv2D(64, (7, padded.shape[2]), padding="valid", activation="relu",
                          name=f"conv2d_{i + 5}")(padded)
        y = layers.BatchNormalization(epsilon=1e-3, name=f"batch_normalization_{i + 6}")(y, training=False)
        y = layers.Permute((1, 3, 2), name=f"midend_transpose_{i}")(y)
        previous = y if i == 0 else layers.Add(name=f"midend_residual_{i}")([y, previous])
        mid.append(previous)
    mid = layers.Concatenate(axis=2, name="midend")(mid)  # (187, 753, 1)
    mid = layers.Reshape((PATCH_FRAMES, mid.shape[2]), name="midend_squeeze")(mid)
    width = mid.shape[2]
    max_pool = layers.GlobalMaxPooling1D(name="time_max")(mid)
    mean_pool = layers.GlobalAveragePooling1D(name="time_mean")(mid)
    max_pool = layers.Reshape((width, 1), name="max_pool")(max_pool)
    mean_pool = layers.Reshape((width, 1), name="mean_pool")(mean_pool)
    pooled = layers.Flatten(name="pool_flat")(layers.Concatenate(axis=2, name="pool")([max_pool, mean_pool]))
    pooled = layers.BatchNormalization(epsilon=1e-3, name="batch_normalization_9")(pooled, training=False)
    dense = layers.Dense(200, activation="relu", name="dense")(pooled)
    penultimate = layers.BatchNormalization(epsilon=1e-3, name="batch_normalization_10")(dense,
                                                                                         training=False)
    logits = layers.Dense(num_classes, name="dense_1")(penultimate)
    tags = layers.Activation("sigmoid", name="tags")(logits)
    return keras.Model(inputs, {"penultimate": penultimate, "tags": tags}, name="musicnn")


# (pool size, strides) of the five max-poolings. MTT_vgg's are models.py's; MSD_vgg's checkpoint was
# trained with other first two poolings (its .meta graph: 4x1 stride 4x1, then 1x4 stride 1x4), which
# flatten to the same 256 values, so models.py's vgg() loads it without error but computes otherwise.
_VGG_POOLS = {
    "MTT_vgg": (((4, 1), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4))),
    "MSD_vgg": (((4, 1), (4, 1)), ((1, 4), (1, 4)), ((2, 2), (2, 2)), ((2, 2), (2, 2)), ((4, 4), (4, 4))),
}


def _build_vgg(keras, pools, num_classes: int = 50):
    """``vgg(num_filters=128)`` of models.py, with the given ``(pool size, strides)`` poolings."""
    layers = keras.layers
    inputs = keras.Input(shape=(PATCH_FRAMES, N_MELS), name="log_mel")
    x = layers.Reshape((PATCH_FRAMES, N_MELS, 1), name="expand")(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, name="batch_normalization")(x, training=False)
    for i, (size, strides) in enumerate(pools, start=1):
        x = layers.Conv2D(128, (3, 3), padding="same", activation="relu", name=f"{i}CNN")(x)
        x = layers.BatchNormalization(epsilon=1e-3, name=f"batch_normalization_{i}")(x, training=False)
        x = layers.MaxPooling2D(pool_size=size, strides=strides, padding="valid", name=f"pool{i}")(x)
    penultimate = layers.Flatten(name="pool5_flat")(x)  # (2, 1, 128) -> 256
    logits = layers.Dense(num_classes, name="dense")(penultimate)
    tags = layers.Activation("sigmoid", name="tags")(logits)
    return keras.Model(inputs, {"penultimate": penultimate, "tags": tags}, name="musicnn_vgg")


def _build(name: str):
    import keras

    return _build_vgg(keras, _VGG_POOLS[name]) if name in _VGG_POOLS else _build_musicnn(keras)


def _assign_checkpoint(model, prefix: str) -> None:
    """Copy every checkpoint variable into the Keras weight ``<layer name>/<weight name>``.

    Raises :class:`FeatureError` naming the Keras weights with no variable, the variables no weight
    took (Adam slots and ``beta1_power``/``beta2_power`` aside) and any shape that differs.
    """
    import tensorflow as tf

    try:
        reader = tf.compat.v1.train.NewCheckpointReader(prefix)
    except Exception as exc:  # TF raises several types for an unreadable checkpoint
        raise FeatureError(f"cannot read the musicnn checkpoint {prefix}: {exc}") from exc
    shapes = reader.get_variable_to_shape_map()
    wanted = {k for k in shapes if "/Adam" not in k and k not in _OPTIMIZER_VARIABLES}
    mapping = {f"{layer.name}/{w.name}": w for layer in model.layers for w in layer.weights}
    missing = sorted(set(mapping) - wanted)
    unmapped = sorted(wanted - set(mapping))
    if missing or unmapped:
        raise FeatureError(f"musicnn checkpoint {prefix} does not fit the rebuilt {model.name}: "
                           f"Keras weights with no checkpoint variable: {missing or 'none'}; "
                           f"checkpoint variables left unmapped: {unmapped or 'none'}")
    for key, weight in sorted(mapping.items()):
        value = reader.get_tensor(key)
        if tuple(value.shape) != tuple(weight.shape):
            raise FeatureError(f"musicnn checkpoint {prefix}: {key} has shape {value.shape}, "
                               f"the Keras weight {tuple(weight.shape)}")
        weight.assign(value)


@functools.cache
def _cached_model(name: str):
    folder = package_dir() / name
    if not (folder / ".index").is_file():
        raise FeatureError(f"{folder}: no checkpoint (.index) in the musicnn package; "
                           f"reinstall: {INSTALL_HINT}")
    model = _build(name)
    _assign_checkpoint(model, os.path.join(str(folder), ""))  # the checkpoint prefix is the folder itself
    return model


def load_model(name: str = "MTT_musicnn"):
    """The rebuilt pretrained network, cached per process.

    Parameters
    ----------
    name : str
        One of :data:`MUSICNN_MODELS`.

    Returns
    -------
    keras.Model
        Input ``(batch, 187, 96)`` log-mel patches (:func:`log_mel_patches`); output dict
        ``{"penultimate": (batch, 200), "tags": (batch, 50)}`` (penultimate ``(batch, 256)`` for the
        VGG models).
    """
    _check_name(name)
    return _cached_model(name)


@functools.cache
def _predict_function(name: str):
    import tensorflow as tf

    model = load_model(name)
    signature = [tf.TensorSpec((None, PATCH_FRAMES, N_MELS), tf.float32)]
    return tf.function(lambda x: model(x, training=False), input_signature=signature, reduce_retracing=True)


def predict(patches, *, model: str = "MTT_musicnn") -> dict:
    """Run a model on ``(batch, 187, 96)`` patches; ``{"penultimate": ..., "tags": ...}`` as numpy
    (through one ``tf.function`` on the TensorFlow backend, ``Model.predict`` on the others)."""
    import keras

    patches = np.asarray(patches, dtype=np.float32)
    if keras.backend.backend() != "tensorflow":
        return {k: np.asarray(v) for k, v in load_model(model).predict(patches, verbose=0).items()}
    outputs = _predict_function(model)(patches)
    return {key: value.numpy() for key, value in outputs.items()}


def embed(audio, *, sample_rate: int, model: str = "MTT_musicnn") -> np.ndarray:
    """Mean then max over the clip's patches of the penultimate layer.

    Parameters
    ----------
    audio : array_like
        One clip.
    sample_rate : int
        Its sample rate.
    model : str
        One of :data:`MUSICNN_MODELS`.

    Returns
    -------
    numpy.ndarray
        400 float32 values (512 for the VGG models).
    """
    penultimate = predict(log_mel_patches(audio, sample_rate=sample_rate), model=model)["penultimate"]
    return np.concatenate([penultimate.mean(axis=0), penultimate.max(axis=0)]).astype(np.float32)


def _per_clip(audio, *, sample_rate: int, model: str, output: str) -> list[np.ndarray]:
    """One network call on every patch of a ``(clips, samples)`` batch; ``output``'s rows of each
    clip's patches, clip by clip."""
    patches = [log_mel_patches(clip, sample_rate=sample_rate) for clip in np.asarray(audio)]
    values = predict(np.concatenate(patches), model=model)[output]
    bounds = np.cumsum([0] + [len(p) for p in patches])
    return [values[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def embed_batch(audio, *, sample_rate: int, model: str = "MTT_musicnn") -> np.ndarray:
    """:func:`embed` of a ``(clips, samples)`` batch, with one network call: ``(clips, 400)``."""
    clips = _per_clip(audio, sample_rate=sample_rate, model=model, output="penultimate")
    return np.stack([np.concatenate([c.mean(axis=0), c.max(axis=0)]) for c in clips]).astype(np.float32)


def tag_scores(audio, *, sample_rate: int, model: str = "MTT_musicnn") -> np.ndarray:
    """Mean over the clip's patches of the 50 tag probabilities (order of :func:`tag_names`).

    Parameters
    ----------
    audio : array_like
        One clip.
    sample_rate : int
        Its sample rate.
    model : str
        One of :data:`MUSICNN_MODELS`.

    Returns
    -------
    numpy.ndarray
        ``(50,)`` float32.
    """
    tags = predict(log_mel_patches(audio, sample_rate=sample_rate), model=model)["tags"]
    return tags.mean(axis=0).astype(np.float32)


def tag_scores_batch(audio, *, sample_rate: int, model: str = "MTT_musicnn") -> np.ndarray:
    """:func:`tag_scores` of a ``(clips, samples)`` batch, with one network call: ``(clips, 50)``."""
    clips = _per_clip(audio, sample_rate=sample_rate, model=model, output="tags")
    return np.stack([c.mean(axis=0) for c in clips]).astype(np.float32)


def missing() -> str | None:
    """Why the musicnn features cannot run here (the install command), or None."""
    spec = importlib.util.find_spec(PACKAGE)
    return None if spec is not None else f"the musicnn wheel is not installed: {INSTALL_HINT}"


LIBRARIES = ("musicnn", "tensorflow", "keras", "librosa", "numpy", "soxr")


def _spec(name: str, model: str, *, tags: bool = False, description: str) -> FeatureSpec:
    """A musicnn feature: ``model``'s penultimate-layer embedding, or its tag probabilities."""
    return FeatureSpec(name=name, params={"model": model}, libraries=LIBRARIES,
                       extract=tag_scores if tags else embed,
                       extract_batch=tag_scores_batch if tags else embed_batch,
                       requires=missing, description=description)


SPEC = _spec("musicnn-mtt", "MTT_musicnn",
             description="musicnn trained on MagnaTagATune (pretrained, frozen): penultimate 200-unit "
                         "layer, mean and max over 3 s patches (400 values)")
SPEC_MSD = _spec("musicnn-msd", "MSD_musicnn",
                 description="musicnn trained on the Million Song Dataset (pretrained, frozen): "
                             "penultimate layer, mean and max over 3 s patches (400 values)")
SPEC_MTT_TAGS = _spec("musicnn-mtt-tags", "MTT_musicnn", tags=True,
                      description="musicnn's 50 MagnaTagATune tag probabilities, mean over 3 s patches "
                                  "(the zero-shot model's input)")
