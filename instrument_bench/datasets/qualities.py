"""NSynth's 10 note qualities, derived from rendered audio by fixed rules.

NSynth's qualities were annotated by people; the built-in data derives them from the audio with the
rules below (thresholds chosen once by listening to and measuring TimGM6mb renders). They are
descriptive metadata for the ``nsynth-attributes`` feature, not ground truth.

All levels are RMS in dB relative to the note's loudest 10 ms frame; the note is held from 0 s to
``note_seconds`` (3 s) and the clip lasts ``clip_seconds`` (4 s). "Active" frames are those within
60 dB of the peak.

============== ==========================================================================
quality        rule
============== ==========================================================================
bright         energy-weighted spectral centroid of the held part >= 1200 Hz and >= 2 x f0
dark           that centroid <= 400 Hz
distortion     >= 60 % of the harmonics below 8 kHz lie within 30 dB of the strongest one,
               with at least 12 such harmonics (a dense, clipped-looking spectrum)
fast_decay     level at 2.7-2.95 s (just before note-off) <= -30 dB
long_release   level at the end of the clip (3.8-4.0 s) >= -55 dB
multiphonic    < 60 % of the held part's energy lies within 3 % of the harmonics of the
               note's nominal pitch (energy related to another fundamental)
nonlinear_env  in the held part (0.3-2.9 s) the level rises >= 6 dB above an earlier minimum
percussive     spectral flatness of the first 50 ms >= 0.008 (a noisy, non-harmonic onset)
reverb         level 0.3-0.5 s after note-off >= -30 dB (an audible reverberant tail)
tempo-synced   the held part's amplitude envelope has an autocorrelation peak >= 0.7 at a
               lag of 0.1-1 s and a modulation depth >= 1 dB
============== ==========================================================================
"""

from __future__ import annotations

import librosa
import numpy as np

from .gm import NSYNTH_QUALITIES

_HOP = 160
_N_FFT = 2048


def _level(db, t, start, stop):
    sel = (t >= start) & (t < stop)
    return float(db[sel].mean()) if sel.any() else -np.inf


def derive_qualities(audio: np.ndarray, *, sample_rate: int, pitch: int,
                     note_seconds: float = 3.0) -> list[int]:
    """Derive NSynth's 10 binary note qualities from one rendered note.

    Parameters
    ----------
    audio : np.ndarray
        Mono samples of one note, note-on at sample 0.
    sample_rate : int
        Sample rate in Hz.
    pitch : int
        The note's nominal MIDI pitch.
    note_seconds : float
        Time of the note-off in seconds.

    Returns
    -------
    list of int
        0/1 flags in NSynth's quality order (bright ... tempo-synced).
    """
    y = np.asarray(audio, dtype=np.float32)
    rms = librosa.feature.rms(y=y, frame_length=1024, hop_length=_HOP)[0]
    db = 20 * np.log10(rms + 1e-9)
    db -= db.max()
    t = np.arange(len(db)) * _HOP / sample_rate
    mag = np.abs(librosa.stft(y, n_fft=_N_FFT, hop_length=_HOP))[:, : len(db)]
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=_N_FFT)
    active = db > -60
    held = active & (t > 0.05) & (t < note_seconds - 0.1)
    if not held.any():
        held = active
    power = mag[:, held] ** 2
    spectrum = power.sum(axis=1)
    total = spectrum.sum() + 1e-20
    f0 = float(librosa.midi_to_hz(pitch))
    centroid = float((freqs * spectrum).sum() / total)

    nyquist_harmonics = np.arange(1, int(min(8000.0, sample_rate / 2) / f0) + 1) * f0
    near = np.zeros_like(freqs, dtype=bool)
    partials = []
    for h in nyquist_harmonics:
        band = np.abs(freqs - h) <= max(0.03 * h, 12.0)
        near |= band
        partials.append(spectrum[band].max() if band.any() else 0.0)
    partial_db = 10 * np.log10(np.asarray(partials) + 1e-20)
    strong = int((partial_db >= partial_db.max() - 30).sum()) if len(partials) else 0
    harmonic_fraction = float(spectrum[near].sum() / total)

    onset = mag[:, t < 0.05]
    onset_flatness = float(librosa.feature.spectral_flatness(S=onset).mean()) if onset.size else 0.0

    envelope = db[(t > 0.3) & (t < note_seconds - 0.1)]
    rise = float((envelope - np.minimum.accumulate(envelope)).max()) if envelope.size else 0.0
    tempo = False
    if envelope.size > 120:
        detrended = envelope - np.convolve(envelope, np.ones(51) / 51, mode="same")
        core = detrended[25:-25]
        depth = float(core.std())
        ac = np.correlate(core, core, mode="full")[len(core) - 1:]
        ac = ac / (ac[0] + 1e-12)
        lags = ac[int(0.1 * sample_rate / _HOP): int(1.0 * sample_rate / _HOP)]
        tempo = bool(lags.size and lags.max() >= 0.7 and depth >= 1.0)

    flags = {
        "bright": centroid >= 1200 and centroid >= 2 * f0,
        "dark": centroid <= 400,
        "distortion": len(partials) >= 12 and strong >= 12 and strong >= 0.6 * len(partials),
        "fast_decay": _level(db, t, note_seconds - 0.3, note_seconds - 0.05) <= -30,
        "long_release": _level(db, t, note_seconds + 0.8, note_seconds + 1.0) >= -55,
        "multiphonic": harmonic_fraction < 0.6,
        "nonlinear_env": rise >= 6,
        "percussive": onset_flatness >= 0.008,
        "reverb": _level(db, t, note_seconds + 0.3, note_seconds + 0.5) >= -30,
        "tempo-synced": tempo,
    }
    return [int(flags[name]) for name in NSYNTH_QUALITIES]
