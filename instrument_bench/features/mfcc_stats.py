"""``mfcc-stats``: MFCCs and their deltas, mean and standard deviation over time.

The statistics are taken over the sound alone (``active_db``: the clip is cut from its first to its
last sample within 60 dB of its peak, and only frames whose total mel power is within 60 dB of the
loudest frame count, deltas included), so zero padding, leading silence and a long silent tail do
not enter them, and relative to the clip's loudest mel bin (``level="peak"``), so a quiet and a
loud recording of one note give the same values. ``active_db=0, level="raw"`` gives the whole-clip,
absolute-level statistics of the seed studies (and of this tool before protocol 3).

``backend="fast"`` (the default) computes librosa's MFCCs for a whole batch of clips at once
(:mod:`.fast`); ``backend="librosa"`` calls :func:`librosa.feature.mfcc` clip by clip. Both give
the same values within float32 rounding (tested).
"""

from __future__ import annotations

import librosa
import numpy as np

from ..errors import ConfigError
from . import fast
from .base import FeatureSpec

BACKENDS = ("fast", "librosa")
LEVELS = ("peak", "raw")


def check_backend(backend: str) -> None:
    """Raise ConfigError for a backend that is not ``fast`` or ``librosa``."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown feature backend {backend!r}; valid: {', '.join(BACKENDS)}")


def _check(backend: str, level: str) -> None:
    check_backend(backend)
    if level not in LEVELS:
        raise ConfigError(f"unknown level {level!r}; valid: {', '.join(LEVELS)}")


def extract(audio: np.ndarray, *, sample_rate: int, n_mfcc: int = 20, n_fft: int = 2048,
            hop_length: int = 512, n_mels: int = 128, backend: str = "fast", active_db: float = 60.0,
            level: str = "peak") -> np.ndarray:
    """MFCC statistics of one clip.

    Parameters
    ----------
    audio : np.ndarray
        Mono samples.
    sample_rate : int
        Sample rate in Hz.
    n_mfcc, n_fft, hop_length, n_mels : int
        As in :func:`librosa.feature.mfcc`.
    backend : str
        ``fast`` (batched NumPy/SciPy) or ``librosa``.
    active_db : float
        Statistics over the frames whose mel power is within this many dB of the loudest frame
        (0: every frame, zero padding included).
    level : str
        ``peak``: MFCCs of ``power_to_db(S, ref=np.max)`` (level-free); ``raw``: ``ref=1``.

    Returns
    -------
    np.ndarray
        ``4 * n_mfcc`` values: MFCC means, MFCC stds, delta means, delta stds.
    """
    return extract_batch(np.asarray(audio)[None], sample_rate=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft,
                         hop_length=hop_length, n_mels=n_mels, backend=backend, active_db=active_db,
                         level=level)[0]


def extract_batch(audio: np.ndarray, *, sample_rate: int, n_mfcc: int = 20, n_fft: int = 2048,
                  hop_length: int = 512, n_mels: int = 128, backend: str = "fast", active_db: float = 60.0,
                  level: str = "peak") -> np.ndarray:
    """MFCC statistics of a ``(clips, samples)`` batch, ``(clips, 4 * n_mfcc)``."""
    _check(backend, level)
    if backend == "fast":
        return fast.mfcc_stats(audio, sample_rate=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft,
                               hop_length=hop_length, n_mels=n_mels, active_db=active_db, level=level)
    rows = []
    for clip in np.atleast_2d(audio):
        if active_db:
            start, end = fast.sound_spans(clip, top_db=active_db)[0]
            clip = clip[start:end]
        mel = librosa.feature.melspectrogram(y=clip, sr=sample_rate, n_fft=n_fft, hop_length=hop_length,
                                             n_mels=n_mels)
        db = librosa.power_to_db(mel, ref=np.max if level == "peak" else 1.0)
        mfcc = librosa.feature.mfcc(S=db, n_mfcc=n_mfcc)
        if active_db:
            mfcc = mfcc[:, fast.active_frames(mel.T[None], top_db=active_db)[0]]
        width = min(9, mfcc.shape[1] - (1 - mfcc.shape[1] % 2))
        delta = librosa.feature.delta(mfcc, width=width) if width >= 3 else np.zeros_like(mfcc)
        rows.append(np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1), delta.mean(axis=1),
                                    delta.std(axis=1)]))
    return np.asarray(rows, dtype=np.float32)


SPEC = FeatureSpec(
    name="mfcc-stats",
    params={"n_mfcc": 20, "n_fft": 2048, "hop_length": 512, "n_mels": 128, "backend": "fast",
            "active_db": 60.0, "level": "peak"},
    libraries=("librosa", "numpy", "scipy"),
    extract=extract,
    extract_batch=extract_batch,
    description="20 MFCCs + deltas (librosa's definition, batched), mean and std over the frames "
                "that hold the sound, level-free (80 values)",
)
