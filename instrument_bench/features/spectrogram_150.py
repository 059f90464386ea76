"""``spectrogram-150``: a dB magnitude spectrogram downsampled to 150 x 150.

STFT magnitude (n_fft 1024, hop 256), in dB relative to 1 with a floor of 1e-5, resized to
150 frames x 150 frequency bins by linear interpolation (``scipy.ndimage.zoom``), whatever the clip
length: the fixed-size "image" that the Medley-solos-DB / MTG-Jamendo study fed to its MLP.
"""

from __future__ import annotations

import librosa
import numpy as np
from scipy import ndimage

from .base import FeatureSpec


def extract(audio: np.ndarray, *, sample_rate: int, n_fft: int, hop_length: int, size: int) -> np.ndarray:
    """Spectrogram image, shape ``(size, size)`` (frames x frequency bins)."""
    magnitude = np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop_length))
    db = librosa.amplitude_to_db(magnitude, ref=1.0, amin=1e-5, top_db=None).T
    zoom = (size / db.shape[0], size / db.shape[1])
    image = ndimage.zoom(db, zoom, order=1, grid_mode=True, mode="nearest")
    return image[:size, :size].astype(np.float32)


SPEC = FeatureSpec(
    name="spectrogram-150",
    params={"n_fft": 1024, "hop_length": 256, "size": 150},
    libraries=("librosa", "numpy", "scipy"),
    extract=extract,
    description="dB magnitude spectrogram resized to 150x150 (as in the Medley-solos-DB / MTG-Jamendo "
                "study)",
)
