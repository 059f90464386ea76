"""``essentia-descriptors``: Essentia low-level descriptors, mean and std over frames.

Frame-wise descriptors come from Essentia's ``LowLevelSpectralExtractor`` (HFC, spectral
complexity, crest, decrease, energy, flatness, flux, RMS, rolloff, strong peak, zero-crossing rate,
inharmonicity, odd-to-even harmonic ratio, tristimulus, pitch salience, Bark-band spread/skewness/
kurtosis) plus the spectral centroid; clip-level ones are the log-attack time and the temporal
centroid (``TCToTotal``) of the amplitude envelope.
"""

from __future__ import annotations

import numpy as np

from .base import FeatureSpec

FRAME_DESCRIPTORS = (
    "barkbands_kurtosis", "barkbands_skewness", "barkbands_spread", "hfc", "pitch_salience",
    "spectral_complexity", "spectral_crest", "spectral_decrease", "spectral_energy",
    "spectral_flatness_db", "spectral_flux", "spectral_rms", "spectral_rolloff",
    "spectral_strongpeak", "zerocrossingrate", "inharmonicity", "oddtoevenharmonicenergyratio",
    "tristimulus",
)


def _essentia_standard():
    import essentia

    essentia.log.infoActive = False  # before essentia.standard's import-time INFO lines
    essentia.log.warningActive = False  # per-frame "clipping oddtoevenharmonicenergyratio" notes
    import essentia.standard

    return essentia.standard


def extract(audio: np.ndarray, *, sample_rate: int, frame_size: int = 2048,
            hop_size: int = 1024) -> np.ndarray:
    """Essentia descriptor statistics of one clip.

    Parameters
    ----------
    audio : np.ndarray
        Mono samples.
    sample_rate : int
        Sample rate in Hz.
    frame_size, hop_size : int
        Analysis frame and hop in samples.

    Returns
    -------
    np.ndarray
        Means and stds of the frame descriptors and the spectral centroid, then log-attack time
        and temporal centroid (44 values).
    """
    es = _essentia_standard()
    signal = np.ascontiguousarray(audio, dtype=np.float32)
    extractor = es.LowLevelSpectralExtractor(frameSize=frame_size, hopSize=hop_size,
                                             sampleRate=sample_rate)
    outputs = dict(zip(extractor.outputNames(), extractor(signal)))
    columns = [np.asarray(outputs[name], dtype=np.float64).reshape(len(outputs["hfc"]), -1)
               for name in FRAME_DESCRIPTORS]

    window = es.Windowing(type="hann", size=frame_size)
    spectrum = es.Spectrum(size=frame_size)
    centroid = es.Centroid(range=sample_rate / 2)
    centroids = [centroid(spectrum(window(frame))) for frame in
                 es.FrameGenerator(signal, frameSize=frame_size, hopSize=hop_size)]
    columns.append(np.asarray(centroids, dtype=np.float64).reshape(-1, 1))

    envelope = es.Envelope(sampleRate=sample_rate)(signal)
    log_attack = es.LogAttackTime(sampleRate=sample_rate)(envelope)[0]
    temporal_centroid = es.TCToTotal()(envelope)
    n = min(len(c) for c in columns)
    frames = np.hstack([c[:n] for c in columns])
    stats = np.concatenate([frames.mean(axis=0), frames.std(axis=0), [log_attack, temporal_centroid]])
    return np.nan_to_num(stats, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


SPEC = FeatureSpec(
    name="essentia-descriptors",
    params={"frame_size": 2048, "hop_size": 1024},
    libraries=("essentia", "numpy"),
    extract=extract,
    description="Essentia low-level spectral descriptors + log-attack time, mean and std (44 values)",
)
