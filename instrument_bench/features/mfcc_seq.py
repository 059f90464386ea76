"""``mfcc-seq``: 13 MFCCs per frame at a hop of 11.6 ms, frames as a sequence.

The features of the MusicNet 12-group study. At 16 kHz the hop is 186 samples (11.625 ms);
``n_fft`` 512 (32 ms), 40 mel bands. A 4 s clip gives 345 frames x 13 coefficients.
"""

from __future__ import annotations

import librosa
import numpy as np

from .base import FeatureSpec


def extract(audio: np.ndarray, *, sample_rate: int, n_mfcc: int, hop_seconds: float, n_fft: int,
            n_mels: int) -> np.ndarray:
    """MFCC frames with librosa, shape ``(frames, n_mfcc)``."""
    hop_length = int(round(hop_seconds * sample_rate))
    mfcc = librosa.feature.mfcc(y=audio, sr=sample_rate, n_mfcc=n_mfcc, n_fft=n_fft,
                                hop_length=hop_length, n_mels=n_mels)
    return mfcc.T.astype(np.float32)


SPEC = FeatureSpec(
    name="mfcc-seq",
    params={"n_mfcc": 13, "hop_seconds": 0.011625, "n_fft": 512, "n_mels": 40},
    libraries=("librosa", "numpy", "scipy"),
    extract=extract,
    frame_seconds=lambda params, sample_rate: round(params["hop_seconds"] * sample_rate) / sample_rate,
    description="13 librosa MFCCs per 11.6 ms frame, as a sequence (345x13 per 4 s)",
)
