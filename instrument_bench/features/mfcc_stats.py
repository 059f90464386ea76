"""``mfcc-stats``: librosa MFCCs and their deltas, mean and standard deviation over time."""

from __future__ import annotations

import librosa
import numpy as np

from .base import FeatureSpec


def extract(audio: np.ndarray, *, sample_rate: int, n_mfcc: int = 20, n_fft: int = 2048,
            hop_length: int = 512, n_mels: int = 128) -> np.ndarray:
    """MFCC statistics of one clip.

    Parameters
    ----------
    audio : np.ndarray
        Mono samples.
    sample_rate : int
        Sample rate in Hz.
    n_mfcc, n_fft, hop_length, n_mels : int
        Passed to :func:`librosa.feature.mfcc`.

    Returns
    -------
    np.ndarray
        ``4 * n_mfcc`` values: MFCC means, MFCC stds, delta means, delta stds.
    """
    mfcc = librosa.feature.mfcc(y=audio, sr=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft,
                                hop_length=hop_length, n_mels=n_mels)
    delta = librosa.feature.delta(mfcc)
    return np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1), delta.mean(axis=1),
                           delta.std(axis=1)]).astype(np.float32)


SPEC = FeatureSpec(
    name="mfcc-stats",
    params={"n_mfcc": 20, "n_fft": 2048, "hop_length": 512, "n_mels": 128},
    libraries=("librosa", "numpy", "scipy"),
    extract=extract,
    description="20 librosa MFCCs + deltas, mean and std over time (80 values)",
)
