"""``mfcc-stats``: MFCCs and their deltas, mean and standard deviation over time.

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


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ConfigError(f"unknown feature backend {backend!r}; valid: {', '.join(BACKENDS)}")


def extract(audio: np.ndarray, *, sample_rate: int, n_mfcc: int = 20, n_fft: int = 2048,
            hop_length: int = 512, n_mels: int = 128, backend: str = "fast") -> np.ndarray:
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

    Returns
    -------
    np.ndarray
        ``4 * n_mfcc`` values: MFCC means, MFCC stds, delta means, delta stds.
    """
    return extract_batch(np.asarray(audio)[None], sample_rate=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft,
                         hop_length=hop_length, n_mels=n_mels, backend=backend)[0]


def extract_batch(audio: np.ndarray, *, sample_rate: int, n_mfcc: int = 20, n_fft: int = 2048,
                  hop_length: int = 512, n_mels: int = 128, backend: str = "fast") -> np.ndarray:
    """MFCC statistics of a ``(clips, samples)`` batch, ``(clips, 4 * n_mfcc)``."""
    _check_backend(backend)
    if backend == "fast":
        return fast.mfcc_stats(audio, sample_rate=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft,
                               hop_length=hop_length, n_mels=n_mels)
    rows = []
    for clip in audio:
        mfcc = librosa.feature.mfcc(y=clip, sr=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft,
                                    hop_length=hop_length, n_mels=n_mels)
        delta = librosa.feature.delta(mfcc)
        rows.append(np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1), delta.mean(axis=1),
                                    delta.std(axis=1)]))
    return np.asarray(rows, dtype=np.float32)


SPEC = FeatureSpec(
    name="mfcc-stats",
    params={"n_mfcc": 20, "n_fft": 2048, "hop_length": 512, "n_mels": 128, "backend": "fast"},
    libraries=("librosa", "numpy", "scipy"),
    extract=extract,
    extract_batch=extract_batch,
    description="20 MFCCs + deltas (librosa's definition, batched), mean and std over time (80 values)",
)
