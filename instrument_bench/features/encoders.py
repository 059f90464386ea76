"""Bring your own encoder: a ``.keras`` file or a Python callable as a feature.

An encoder maps a batch of clips to one embedding per clip: ``(clips, samples)`` float32 audio
(or, with ``input="log-mel"``, the package's own ``log-mel`` of it, ``(clips, frames, 64)``) to a
``(clips, dim)`` array. :func:`encoder_feature` wraps one in a :class:`~.base.FeatureSpec`, cached
like every feature; its parameters hold the ``.keras`` file's sha256 or the callable's
``module:function`` and the sha256 of its module's source file, so the cache never serves the
embeddings of an encoder that has changed since. :func:`entry_point_features` reads the
``instrument_bench.features`` entry points; :func:`check_encoder` runs an encoder on a few
rendered notes and checks its output. Naming ``module:function`` runs that module's code.
"""

from __future__ import annotations

import builtins
import hashlib
import importlib
import inspect
import time
from dataclasses import replace
from functools import cache
from importlib import metadata
from pathlib import Path

import numpy as np

from ..errors import ConfigError, FeatureError, InstrumentBenchError
from . import log_mel
from .base import FeatureSpec

GROUP = "instrument_bench.features"
INPUTS = ("audio", "log-mel")  # settings.ENCODER_INPUTS (a test keeps them equal)
KERAS_LIBRARIES = ("keras", "tensorflow", "jaxlib", "torch", "numpy")  # whichever backend runs it
CHECK_PROGRAMS = (0, 40)  # acoustic grand piano, violin
CHECK_NOTES = ((60, 100), (67, 80))  # (pitch, velocity)
CHECK_SECONDS = (1.0, 1.5)  # note held, clip length


def one_line(exc: BaseException) -> str:
    """An exception as one line: ``Type: message``."""
    return " ".join(f"{type(exc).__name__}: {exc}".split())


def import_object(target: str, *, error=ConfigError):
    """The object that ``module:object`` (``object`` may be dotted) names, importing its module.

    Raises
    ------
    error
        ``target`` is not of that form, its module does not import or lacks the object (the
        message says which, without repeating ``target``: callers name it).
    """
    module, sep, attr = str(target).partition(":")
    if not (sep and module.strip() and attr.strip()):
        raise error("not of the form module:object (like 'mypkg.enc:embed')")
    try:
        obj = importlib.import_module(module)
    except Exception as exc:  # the module's own code runs here: any error is its problem
        raise error(f"cannot import module {module!r} ({one_line(exc)})") from None
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise error(f"module {module!r} has no {attr!r}")
        obj = getattr(obj, part)
    return obj


def file_sha256(path) -> str:
    """The sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_digest(obj) -> str:
    """The sha256 of the source file of the module defining ``obj`` (``"none"`` without one)."""
    path = getattr(inspect.getmodule(obj), "__file__", None)
    return file_sha256(path) if path and Path(path).is_file() else "none"


def output_problem(out, n_clips: int) -> str | None:
    """What is wrong with an encoder's output for ``n_clips`` clips (None: a usable shape and
    dtype)."""
    out = np.asarray(out)
    if out.ndim != 2 or len(out) != n_clips or out.shape[1] < 1:
        return (f"output shape {out.shape} for {n_clips} clips; an encoder must return a 2-d "
                f"(clips, dim) array with one row per clip")
    if not (np.issubdtype(out.dtype, np.integer) or np.issubdtype(out.dtype, np.floating)):
        return f"output dtype {out.dtype}; an encoder must return real numbers"
    return None


def _fit_length(x: np.ndarray, n: int | None) -> np.ndarray:
    """``x`` cut or zero-padded on axis 1 to ``n`` (unchanged when ``n`` is None)."""
    if n is None or x.shape[1] == n:
        return x
    if x.shape[1] > n:
        return x[:, :n]
    return np.pad(x, [(0, 0), (0, n - x.shape[1])] + [(0, 0)] * (x.ndim - 2))


def load_keras_encoder(path):
    """A ``.keras`` file loaded in Keras' safe mode, as ``encode(x, sample_rate)``; inputs are cut
    or zero-padded to the model's input length when it has a fixed one.

    Raises
    ------
    FeatureError
        The file is missing or Keras' safe mode does not load it.
    """
    path = Path(path)
    if not path.is_file():
        raise FeatureError("file not found")
    import keras

    try:
        model = keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # safe mode refuses lambdas and unknown classes, among others
        raise FeatureError(f"cannot load in Keras safe mode ({one_line(exc)})") from None
    shape = model.input_shape
    length = shape[1] if isinstance(shape, tuple) and len(shape) > 1 else None

    def encode(x, sample_rate):
        return np.asarray(model.predict(_fit_length(x, length), batch_size=32, verbose=0))

    return encode


@cache
def _encoder(kind: str, encoder: str, digest: str):
    """The encoder function, loaded once per process (a new ``digest`` loads it again)."""
    if kind == "keras":
        return load_keras_encoder(encoder)
    fn = import_object(encoder, error=FeatureError)
    if not callable(fn):
        raise FeatureError(f"{type(fn).__name__} object is not callable")
    return fn


def encoder_input(audio, *, sample_rate: int, input: str, encoder_rate: int, log_mel_params=None):
    """What the encoder is given: the batch resampled to its rate, as audio or log-mel."""
    x = np.asarray(audio, dtype=np.float32)
    if encoder_rate != sample_rate:
        import librosa

        x = librosa.resample(x, orig_sr=sample_rate, target_sr=encoder_rate, axis=-1).astype(np.float32)
    if input == "log-mel":
        x = log_mel.extract_batch(x, sample_rate=encoder_rate, **(log_mel_params or log_mel.SPEC.params))
    return x


def raw_output(audio, *, sample_rate: int, encoder: str, kind: str, digest: str, **settings):
    """The encoder's output as it returns it, unchecked (any error it raises: FeatureError)."""
    fn = _encoder(kind, encoder, digest)
    x = encoder_input(audio, sample_rate=sample_rate, **settings)
    try:
        return np.asarray(fn(x, settings["encoder_rate"]))
    except Exception as exc:
        raise FeatureError(f"calling it failed ({one_line(exc)})") from None


def encode_batch(audio, *, sample_rate: int, **params) -> np.ndarray:
    """Embeddings of a ``(clips, samples)`` batch, ``(clips, dim)`` float32 (the FeatureSpec's
    ``extract_batch``; ``params`` are :func:`encoder_feature`'s)."""
    try:
        out = raw_output(audio, sample_rate=sample_rate, **params)
        problem = output_problem(out, len(audio))
    except FeatureError as exc:
        problem = str(exc)
    if problem:
        raise FeatureError(f"encoder {params['encoder']}: {problem}")
    return out.astype(np.float32)


def encode(audio, *, sample_rate: int, **params) -> np.ndarray:
    """The embedding of one clip (the FeatureSpec's ``extract``)."""
    return encode_batch(np.asarray(audio)[None], sample_rate=sample_rate, **params)[0]


def encoder_feature(name: str, *, keras=None, callable=None, input: str = "audio",
                    sample_rate: int = 16000, description: str = "") -> FeatureSpec:
    """A feature computed by an encoder: a ``.keras`` file or a ``module:function`` callable.

    Parameters
    ----------
    name : str
        The feature's name.
    keras : str or Path, optional
        A ``.keras`` file (loaded in Keras' safe mode when features are first computed).
    callable : str, optional
        ``package.module:function``, called as ``function(batch, sample_rate) -> (clips, dim)``.
    input : str
        ``audio`` (``(clips, samples)`` float32) or ``log-mel`` (the ``log-mel`` feature).
    sample_rate : int
        The rate the encoder takes; clips are resampled to it.

    Raises
    ------
    FeatureError
        Neither or both of ``keras`` and ``callable``, an unknown input, a missing file, or a
        callable that does not import or is not callable.
    """
    if (keras is None) == (callable is None):
        raise FeatureError(f"encoder {name!r}: give one of keras = 'path.keras' or callable = "
                           "'module:function'")
    if input not in INPUTS:
        raise FeatureError(f"encoder {name!r}: input {input!r}; valid: {', '.join(INPUTS)}")
    if keras is not None:
        path = Path(keras).expanduser().resolve()
        if not path.is_file():
            raise FeatureError(f"file not found ({path})")
        kind, target, digest, libraries = "keras", str(path), file_sha256(path), KERAS_LIBRARIES
    else:
        fn = import_object(callable, error=FeatureError)
        if not builtins.callable(fn):  # the parameter shadows the builtin
            raise FeatureError(f"{type(fn).__name__} object is not callable")
        kind, target, digest, libraries = "callable", str(callable), source_digest(fn), ("numpy",)
    params = {"encoder": target, "kind": kind, "digest": digest, "input": input,
              "encoder_rate": int(sample_rate)}
    if input == "log-mel":
        params["log_mel_params"] = dict(log_mel.SPEC.params)
        libraries = (*libraries, *log_mel.SPEC.libraries)
    return FeatureSpec(name=name, params=params, libraries=tuple(dict.fromkeys((*libraries, "librosa"))),
                       extract=encode, extract_batch=encode_batch,
                       description=description or f"encoder {target} ({input} at {sample_rate} Hz)")


def feature_from_object(name: str, obj, *, target: str) -> FeatureSpec:
    """An entry point's object as a feature: a FeatureSpec (named ``name``) or an encoder callable
    (``target``: its ``module:function``)."""
    if isinstance(obj, FeatureSpec):
        return obj if obj.name == name else replace(obj, name=name)
    if builtins.callable(obj):
        return encoder_feature(name, callable=target)
    raise FeatureError(f"a {type(obj).__name__}, not a FeatureSpec or an encoder function")


def entry_point_features() -> dict:
    """``{name: FeatureSpec}`` of the ``instrument_bench.features`` entry points installed.

    Raises
    ------
    FeatureError
        An entry point that does not load, or names neither a FeatureSpec nor a callable.
    """
    out = {}
    for ep in metadata.entry_points(group=GROUP):
        where = f"entry point {ep.name} = {ep.value} (group {GROUP})"
        try:
            out[ep.name] = feature_from_object(ep.name, ep.load(), target=f"{ep.module}:{ep.attr}")
        except InstrumentBenchError as exc:
            raise FeatureError(f"{where}: {exc}") from None
        except Exception as exc:
            raise FeatureError(f"{where}: cannot load ({one_line(exc)})") from None
    return out


@cache
def check_clips(sample_rate: int = 16000) -> tuple:
    """A few rendered notes (two GM programs, two notes each, 1 s held in 1.5 s clips)."""
    from ..datasets.render import render_notes

    held, seconds = CHECK_SECONDS
    return tuple(clip for program in CHECK_PROGRAMS
                 for clip in render_notes(program=program, notes=CHECK_NOTES, sample_rate=sample_rate,
                                          note_seconds=held, clip_seconds=seconds))


def encoder_spec(text: str, *, input: str = "audio", sample_rate: int = 16000) -> FeatureSpec:
    """A FeatureSpec from a ``.keras`` path or a ``module:function`` string."""
    if text.endswith(".keras"):
        return encoder_feature(Path(text).stem, keras=text, input=input, sample_rate=sample_rate)
    if ":" in text:
        return encoder_feature(text, callable=text, input=input, sample_rate=sample_rate)
    raise FeatureError("not a .keras file or a module:function")


def _outputs(spec: FeatureSpec, batch: np.ndarray, sample_rate: int) -> np.ndarray:
    """An encoder's or a feature's raw output for a batch of clips."""
    if spec.extract_batch is encode_batch:
        return raw_output(batch, sample_rate=sample_rate, **spec.params)
    if not spec.needs_audio:
        raise FeatureError("reads dataset metadata or files, not audio: there is nothing to run")
    try:
        if spec.extract_batch is not None:
            return np.asarray(spec.extract_batch(batch, sample_rate=sample_rate, **spec.params))
        return np.stack([np.asarray(spec.extract(c, sample_rate=sample_rate, **spec.params)) for c in batch])
    except Exception as exc:
        raise FeatureError(f"calling it failed ({one_line(exc)})") from None


def check_encoder(encoder, *, input: str = "audio", sample_rate: int = 16000, clips=None,
                  label: str | None = None) -> dict:
    """Run an encoder twice on a few rendered notes and check its output.

    Parameters
    ----------
    encoder : FeatureSpec or str
        A feature, a ``.keras`` path or ``module:function``.
    input, sample_rate
        For a string: what the encoder takes (``audio`` or ``log-mel``) and at which rate.
    clips : sequence of np.ndarray, optional
        Equal-length clips at ``sample_rate`` (default: :func:`check_clips`).
    label : str, optional
        How messages name the encoder (default: the string, or the feature's name).

    Returns
    -------
    dict
        ``encoder``, ``clips``, ``clip_seconds``, ``sample_rate``, ``shape``, ``dtype``,
        ``finite``, ``deterministic``, ``clips_per_second``.

    Raises
    ------
    FeatureError
        Naming the encoder and the problem: not importable, not callable, file not found, not
        loadable in safe mode, a call that fails, a shape other than (clips, dim), NaN/inf values
        or two calls on the same clips that differ.
    """
    label = label or (encoder if isinstance(encoder, str) else encoder.name)
    try:
        spec = encoder_spec(encoder, input=input, sample_rate=sample_rate) if isinstance(encoder, str) \
            else encoder
        batch = np.stack(check_clips(sample_rate) if clips is None else clips).astype(np.float32)
        first = _outputs(spec, batch, sample_rate)
        problem = output_problem(first, len(batch))
        if problem is None and not np.isfinite(first).all():
            problem = (f"output holds {int(np.isnan(first).sum())} NaN and {int(np.isinf(first).sum())} "
                       f"infinite value(s) of {first.size}")
        if problem is None:
            start = time.perf_counter()
            second = _outputs(spec, batch, sample_rate)
            seconds = time.perf_counter() - start
            if second.shape != first.shape or not np.array_equal(first, second):
                gap = (float(np.max(np.abs(first.astype(np.float64) - second))) if second.shape == first.shape
                       else f"shapes {first.shape} and {second.shape}")
                problem = (f"not deterministic: two calls on the same {len(batch)} clips differ "
                           f"(largest difference {gap})")
    except FeatureError as exc:
        problem = str(exc)
    if problem:
        raise FeatureError(f"{label}: {problem}")
    return {"encoder": label, "clips": len(batch), "clip_seconds": batch.shape[1] / sample_rate,
            "sample_rate": sample_rate, "shape": tuple(first.shape), "dtype": str(first.dtype),
            "finite": True, "deterministic": True, "clips_per_second": len(batch) / max(seconds, 1e-9)}
