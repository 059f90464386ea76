"""``essentia-descriptors``: Essentia low-level descriptors, mean and std over frames.

Per frame (Hann window, magnitude spectrum): spectral centroid, roll-off, flux, flatness (dB),
complexity, high-frequency content, crest, zero-crossing rate, RMS, pitch salience and, from the
harmonic peaks of the YIN-FFT pitch, inharmonicity, odd-to-even harmonic energy ratio and
tristimulus (3). Per clip: log-attack time and temporal centroid (``TCToTotal``) of the amplitude
envelope.

Padding-free and level-free by default: the clip is peak-normalised (``level="peak"``), its
leading and trailing silence is trimmed (``librosa.effects.trim`` at ``active_db`` below the peak)
before the envelope is taken, and frames more than ``active_db`` below the loudest frame are left
out of the statistics. ``active_db=0, level="raw"`` gives the definition before protocol 3 (whole
clip, frames under -80 dBFS RMS left out).

Each algorithm is called frame by frame. Essentia's one-call ``LowLevelSpectralExtractor`` would be
faster, but in essentia 2.1b6 it returns different values on repeated calls for frames of digital
silence (a note's tail), which would make the feature cache depend on which process computed it.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .base import FeatureSpec

FRAME_DESCRIPTORS = (
    "centroid", "rolloff", "flux", "flatness_db", "complexity", "hfc", "crest", "zcr", "rms",
    "pitch_salience", "inharmonicity", "odd_even_ratio", "tristimulus_1", "tristimulus_2",
    "tristimulus_3",
)
SILENT_FRAME_RMS = 1e-4  # -80 dBFS


def _essentia_standard():
    import essentia

    essentia.log.infoActive = False  # before essentia.standard's import-time INFO lines
    essentia.log.warningActive = False  # per-frame range warnings (odd/even ratio clipping)
    import essentia.standard

    return essentia.standard


def extract(audio: np.ndarray, *, sample_rate: int, frame_size: int = 2048,
            hop_size: int = 1024, active_db: float = 60.0, level: str = "peak") -> np.ndarray:
    """Essentia descriptor statistics of one clip.

    Parameters
    ----------
    audio : np.ndarray
        Mono samples.
    sample_rate : int
        Sample rate in Hz.
    frame_size, hop_size : int
        Analysis frame and hop in samples.
    active_db : float
        Trim the clip and leave out frames this many dB below its loudest (0: keep the whole clip
        and leave out frames under -80 dBFS).
    level : str
        ``peak``: peak-normalise the clip first; ``raw``: take it as it is.

    Returns
    -------
    np.ndarray
        Means then stds of the 15 frame descriptors, then log-attack time and temporal
        centroid (32 values).
    """
    if level not in ("peak", "raw"):
        raise ConfigError(f"unknown level {level!r}; valid: peak, raw")
    es = _essentia_standard()
    nyquist = sample_rate / 2
    window = es.Windowing(type="hann", size=frame_size)
    spectrum = es.Spectrum(size=frame_size)
    algos = {
        "centroid": es.Centroid(range=nyquist), "rolloff": es.RollOff(sampleRate=sample_rate),
        "flux": es.Flux(), "flatness_db": es.FlatnessDB(),
        "complexity": es.SpectralComplexity(sampleRate=sample_rate),
        "hfc": es.HFC(sampleRate=sample_rate), "crest": es.Crest(),
        "pitch_salience": es.PitchSalience(sampleRate=sample_rate),
    }
    zcr, rms = es.ZeroCrossingRate(), es.RMS()
    peaks = es.SpectralPeaks(sampleRate=sample_rate, minFrequency=20, maxFrequency=nyquist - 1,
                             orderBy="frequency")
    pitch_yin = es.PitchYinFFT(frameSize=frame_size, sampleRate=sample_rate)
    harmonic_peaks = es.HarmonicPeaks()
    inharmonicity, tristimulus = es.Inharmonicity(), es.Tristimulus()
    odd_even = es.OddToEvenHarmonicEnergyRatio()

    signal = np.ascontiguousarray(audio, dtype=np.float32)
    peak = float(np.abs(signal).max()) if len(signal) else 0.0
    if level == "peak" and peak > 0:
        signal = signal / peak
    floor = SILENT_FRAME_RMS
    if active_db:
        import librosa

        signal, _ = librosa.effects.trim(signal, top_db=active_db, frame_length=frame_size,
                                         hop_length=hop_size)
        signal = np.ascontiguousarray(signal, dtype=np.float32)
        loudest = librosa.feature.rms(y=signal, frame_length=frame_size, hop_length=hop_size).max()
        floor = max(float(loudest) * 10 ** (-active_db / 20), 1e-12)
    rows = []
    for frame in es.FrameGenerator(signal, frameSize=frame_size, hopSize=hop_size, startFromZero=True):
        frame_rms = rms(frame)
        if frame_rms < floor:
            continue
        spec = spectrum(window(frame))
        values = [algos[name](spec) for name in FRAME_DESCRIPTORS[:7]]
        values += [zcr(frame), frame_rms, algos["pitch_salience"](spec)]
        harmonic = [0.0, 0.0, 0.0, 0.0, 0.0]
        freqs, mags = peaks(spec)
        pitch, _ = pitch_yin(spec)
        if pitch > 0 and len(freqs):
            h_freqs, h_mags = harmonic_peaks(freqs, mags, pitch)
            if len(h_freqs) and h_freqs[0] > 0:
                harmonic = [inharmonicity(h_freqs, h_mags), odd_even(h_freqs, h_mags),
                            *tristimulus(h_freqs, h_mags)]
        rows.append(values + harmonic)
    frames = np.asarray(rows, dtype=np.float64).reshape(-1, len(FRAME_DESCRIPTORS))
    if not len(frames):
        frames = np.zeros((1, len(FRAME_DESCRIPTORS)))
    envelope = es.Envelope(sampleRate=sample_rate)(signal)
    log_attack = es.LogAttackTime(sampleRate=sample_rate)(envelope)[0]
    temporal_centroid = es.TCToTotal()(envelope)
    stats = np.concatenate([frames.mean(axis=0), frames.std(axis=0), [log_attack, temporal_centroid]])
    return np.nan_to_num(stats, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


SPEC = FeatureSpec(
    name="essentia-descriptors",
    params={"frame_size": 2048, "hop_size": 1024, "active_db": 60.0, "level": "peak"},
    libraries=("essentia", "librosa", "numpy"),
    extract=extract,
    description="Essentia spectral/harmonic descriptors + log-attack time, mean and std over the "
                "sounding frames, level-free (32 values)",
)
