"""``log-mel`` (librosa) and ``log-mel-essentia``: log-scaled mel spectrograms, frames x bands.

Both features compute the same thing with the same shape: a power spectrogram (Hann window,
``n_fft`` 1024, ``hop`` 1024 = 64 ms at 16 kHz, centred frames), ``n_mels`` 64 Slaney-style mel
bands from ``fmin`` 30 Hz to ``fmax`` 8 kHz with area-normalised triangles, then
``10 * log10(max(S, 1e-10))``. A 4 s clip at 16 kHz gives 63 frames x 64 bands (the 64 ms hop halves
the deep models' cost against 32 ms, which a 2-core budget needs; set ``hop_length`` to change it). Essentia's
``MelBands`` with ``normalize="unit_tri"`` and ``weighting="linear"`` builds librosa's filters: on
rendered notes the two agree within about 0.05 dB (std) on bins above -60 dB (tested).
``log-mel`` computes a batch of clips at once by default (:mod:`.fast`, equal to librosa's
``melspectrogram`` within float32 rounding); ``backend="librosa"`` calls librosa clip by clip.
"""

from __future__ import annotations

import librosa
import numpy as np

from . import fast
from .base import FeatureSpec
from .mfcc_stats import check_backend

PARAMS = {"n_fft": 1024, "hop_length": 1024, "n_mels": 64, "fmin": 30.0, "fmax": 8000.0}
AMIN = 1e-10


def n_frames(n_samples: int, hop_length: int) -> int:
    """Frames of a centred STFT, as librosa counts them."""
    return 1 + n_samples // hop_length


def extract(audio: np.ndarray, *, sample_rate: int, n_fft: int, hop_length: int, n_mels: int,
            fmin: float, fmax: float, backend: str = "fast") -> np.ndarray:
    """Log-mel spectrogram of one clip, shape ``(frames, n_mels)``."""
    return extract_batch(np.asarray(audio)[None], sample_rate=sample_rate, n_fft=n_fft,
                         hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax, backend=backend)[0]


def extract_batch(audio: np.ndarray, *, sample_rate: int, n_fft: int, hop_length: int, n_mels: int,
                  fmin: float, fmax: float, backend: str = "fast") -> np.ndarray:
    """Log-mel spectrograms of a ``(clips, samples)`` batch, ``(clips, frames, n_mels)``.

    ``backend="fast"`` computes the batch at once (:mod:`.fast`); ``"librosa"`` calls
    :func:`librosa.feature.melspectrogram` clip by clip.
    """
    check_backend(backend)
    if backend == "fast":
        return fast.log_mel(audio, sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length,
                            n_mels=n_mels, fmin=fmin, fmax=fmax)
    rows = []
    for clip in audio:
        mel = librosa.feature.melspectrogram(y=clip, sr=sample_rate, n_fft=n_fft, hop_length=hop_length,
                                             n_mels=n_mels, fmin=fmin, fmax=min(fmax, sample_rate / 2),
                                             power=2.0)
        rows.append((10 * np.log10(np.maximum(mel, AMIN))).T)
    return np.asarray(rows, dtype=np.float32)


def extract_essentia(audio: np.ndarray, *, sample_rate: int, n_fft: int, hop_length: int,
                     n_mels: int, fmin: float, fmax: float) -> np.ndarray:
    """Log-mel spectrogram with Essentia, shape ``(frames, n_mels)`` (same as :func:`extract`)."""
    from .essentia_descriptors import _essentia_standard

    es = _essentia_standard()
    window = es.Windowing(type="hann", size=n_fft, normalized=False, zeroPhase=False)
    spectrum = es.Spectrum(size=n_fft)
    bands = es.MelBands(numberBands=n_mels, sampleRate=sample_rate, inputSize=n_fft // 2 + 1,
                        lowFrequencyBound=fmin, highFrequencyBound=min(fmax, sample_rate / 2),
                        warpingFormula="slaneyMel", normalize="unit_tri", weighting="linear",
                        type="power")
    signal = np.pad(np.asarray(audio, dtype=np.float32), n_fft // 2, mode="constant")
    rows = [bands(spectrum(window(frame))) for frame in
            es.FrameGenerator(signal, frameSize=n_fft, hopSize=hop_length, startFromZero=True,
                              lastFrameToEndOfFile=True)]
    frames = n_frames(len(audio), hop_length)
    mel = np.asarray(rows, dtype=np.float64)[:frames]
    if len(mel) < frames:
        mel = np.pad(mel, ((0, frames - len(mel)), (0, 0)))
    return (10 * np.log10(np.maximum(mel, AMIN))).astype(np.float32)


SPEC = FeatureSpec(
    name="log-mel", params={**PARAMS, "backend": "fast"}, libraries=("librosa", "numpy", "scipy"),
    extract=extract, extract_batch=extract_batch,
    frame_seconds=lambda params, sample_rate: params["hop_length"] / sample_rate,
    description="log mel spectrogram (librosa's, batched): 64 bands 30-8000 Hz, n_fft 1024, hop 1024 "
                "(63x64 per 4 s)",
)
SPEC_ESSENTIA = FeatureSpec(
    name="log-mel-essentia", params=PARAMS, libraries=("essentia", "numpy"), extract=extract_essentia,
    frame_seconds=lambda params, sample_rate: params["hop_length"] / sample_rate,
    description="log mel spectrogram, Essentia backend, same parameters and shape as log-mel",
)
