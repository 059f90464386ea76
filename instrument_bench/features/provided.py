"""Features a dataset ships instead of (or beside) audio.

``vggish`` / ``vggish-mean``: OpenMIC-2018's VGGish frames (10 x 128 per 10 s clip, one frame per
0.96 s), as frames or time-averaged (the official baseline's input). ``provided-melspec``:
MTG-Jamendo's published mel spectrograms (96 bands; 16 kHz, hop 256, log-compressed by MTG),
the window of each clip read from the track's ``.npy``, as ``(frames, 96)``.
"""

from __future__ import annotations

import numpy as np

from ..errors import FeatureError
from .base import FeatureSpec

VGGISH_HOP = 0.96
MELSPEC_HOP = 256 / 16000
MELSPEC_BANDS = 96


def _vggish(meta) -> np.ndarray:
    frames = meta.get("vggish")
    if frames is None:
        raise FeatureError("feature vggish needs a dataset that ships VGGish frames (openmic-2018)")
    return np.asarray(frames, dtype=np.float32)


def vggish_frames(meta) -> np.ndarray:
    """The clip's VGGish frames, ``(10, 128)``."""
    return _vggish(meta)


def vggish_mean(meta) -> np.ndarray:
    """The clip's VGGish frames averaged over time, ``(128,)``."""
    return _vggish(meta).mean(axis=0)


def melspec_window(path, *, start: float, duration: float | None) -> np.ndarray:
    """Frames ``[start, start + duration)`` of a published ``(96, frames)`` mel spectrogram, as
    ``(frames, 96)`` float32 (zero-padded past the end of the track).

    Raises
    ------
    FeatureError
        The file cannot be read or is not a 96-band spectrogram.
    """
    try:
        spec = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FeatureError(f"{path}: cannot read the mel spectrogram ({exc})") from None
    if spec.ndim != 2 or spec.shape[0] != MELSPEC_BANDS:
        raise FeatureError(f"{path}: expected a ({MELSPEC_BANDS}, frames) mel spectrogram, got shape "
                           f"{spec.shape}")
    a = int(round(start / MELSPEC_HOP))
    n = spec.shape[1] - a if duration is None else int(round(duration / MELSPEC_HOP))
    window = np.asarray(spec[:, a:a + n], dtype=np.float32).T
    return np.pad(window, ((0, n - len(window)), (0, 0)))


VGGISH = FeatureSpec(
    name="vggish", from_meta=vggish_frames,
    frame_seconds=lambda params, sample_rate: VGGISH_HOP,
    description="VGGish frames shipped with OpenMIC-2018 (10 x 128 per clip)",
)
VGGISH_MEAN = FeatureSpec(
    name="vggish-mean", from_meta=vggish_mean,
    description="VGGish frames shipped with OpenMIC-2018, averaged over time (128; the official "
                "baseline's input)",
)
PROVIDED_MELSPEC = FeatureSpec(
    name="provided-melspec", from_file=melspec_window, file_field="melspec_path",
    frame_seconds=lambda params, sample_rate: MELSPEC_HOP,
    description="MTG-Jamendo's published mel spectrograms (96 bands, 16 ms hop), the clip's window",
)
