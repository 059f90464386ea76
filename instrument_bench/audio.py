"""Reading audio files: one place that checks them and says what is wrong."""

from __future__ import annotations

import re
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from .errors import AudioError

MIN_RATE, MAX_RATE = 1000, 384000  # Hz: the sample rates a recording can sensibly have
SILENCE_PEAK = 1e-5  # -100 dBFS: a clip whose peak is below this is treated as silent
# libsndfile's header dump says "data : <announced> (should be <present>)" for a cut-off wav
TRUNCATED = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


def load_audio(path, *, sample_rate: int) -> np.ndarray:
    """Read an audio file as mono float32 at ``sample_rate``.

    Parameters
    ----------
    path : str or Path
        Any format libsndfile reads (wav, flac, ogg, mp3 ...).
    sample_rate : int
        Target sample rate; other rates are resampled with librosa (soxr).

    Returns
    -------
    np.ndarray
        Mono float32 samples.

    Raises
    ------
    AudioError
        The file is missing, unreadable, truncated (a wav whose data chunk is shorter than its
        header says), empty, holds NaN/inf samples or is silent.
    """
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"{path}: is a folder, not an audio file")
    if not path.is_file():
        raise AudioError(f"{path}: audio file not found")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    try:
        with sf.SoundFile(path) as f:
            cut, sr = TRUNCATED.search(f.extra_info or ""), f.samplerate
            if not MIN_RATE <= sr <= MAX_RATE:  # checked before reading: resampling 1 Hz needs GBs
                raise AudioError(f"{path}: sample rate {sr} Hz is outside {MIN_RATE} - {MAX_RATE} Hz; "
                                 "not a recording this tool can resample")
            audio = f.read(dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as exc:
        raise AudioError(f"{path}: cannot read audio ({exc})") from None
    if cut:
        raise AudioError(f"{path}: truncated (its header announces {cut[1]} bytes of audio, the file "
                         f"holds {cut[2]})")
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: audio file holds no samples")
    mono = audio.mean(axis=1)
    if not np.isfinite(mono).all():
        raise AudioError(f"{path}: audio holds NaN or infinite samples")
    if np.abs(mono).max() < SILENCE_PEAK:
        raise AudioError(f"{path}: audio is silent (peak below {SILENCE_PEAK:g})")
    if sr != sample_rate:
        mono = librosa.resample(mono, orig_sr=sr, target_sr=sample_rate)
    return np.ascontiguousarray(mono, dtype=np.float32)
