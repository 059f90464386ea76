"""NSynth's 10 note qualities, derived from rendered audio by fixed rules.

NSynth's qualities were annotated by people; the built-in data derives them from the audio with the
rules below (thresholds chosen once by listening to and measuring TimGM6mb renders). They are
descriptive metadata for the ``nsynth-attributes`` feature, not ground truth.

All levels are RMS in dB relative to the note's loudest 10 ms frame. Every window follows the
note's own timing: the note-on is at ``on`` = ``onset_seconds`` into the clip (0 for gm-notes) and
the note-off at ``off`` = ``on + note_seconds`` (3 s for gm-notes, in a 4 s clip). Where the
note-off lies beyond the clip's end, the note is heard held to the end: ``off_h = min(off, clip
end)`` bounds the windows before the note-off. "Active" frames are those within 60 dB of the peak.

============== ==========================================================================
quality        rule (window in seconds into the clip)
============== ==========================================================================
bright         energy-weighted spectral centroid of the held part >= 1200 Hz and >= 2 x f0;
               the held part is ``on+0.05 .. max(off_h-0.1, on+0.15)`` (at least 100 ms,
               into the release for notes held under 0.25 s; all active frames if empty)
dark           that centroid <= 400 Hz
distortion     >= 60 % of the harmonics below 8 kHz lie within 30 dB of the strongest one,
               with at least 12 such harmonics (a dense, clipped-looking spectrum)
fast_decay     level just before note-off, ``max(off_h-0.3, on+0.05) .. off_h-0.05`` (at
               least 50 ms), <= -30 dB
long_release   level 0.8-1.0 s after note-off >= -55 dB; the part of that window beyond the
               clip's end is not measured, and the flag is 0 when under 50 ms of it is inside
               the clip (the release is cut off: not heard, so not flagged)
multiphonic    < 60 % of the held part's energy lies within 3 % of the harmonics of the
               note's nominal pitch (energy related to another fundamental)
nonlinear_env  in ``on+0.3 .. off_h-0.1`` the level rises >= 6 dB above an earlier minimum
               (0 for notes heard held under 0.4 s: no envelope to judge)
percussive     spectral flatness of the first 50 ms after the note-on >= 0.008 (a noisy,
               non-harmonic onset)
reverb         level 0.3-0.5 s after note-off >= -30 dB (an audible reverberant tail); cut at
               the clip's end as long_release is, 0 when under 50 ms of it is inside
tempo-synced   the envelope of ``on+0.3 .. off_h-0.1`` has an autocorrelation peak >= 0.7 at
               a lag of 0.1-1 s and a modulation depth >= 1 dB
============== ==========================================================================

For gm-notes (note-on at 0, held 3 s, 4 s clips) these are the fixed windows the rules always had
(fast_decay 2.7-2.95 s, reverb 3.3-3.5 s, long_release 3.8-4.0 s, held part 0.05-2.9 s).
"""

from __future__ import annotations

import librosa
import numpy as np

from .gm import NSYNTH_QUALITIES

_HOP = 160
_N_FFT = 2048


_MIN_WINDOW = 0.05  # seconds of a release window that must lie inside the clip to judge it


def _level(db, t, start, stop):
    sel = (t >= start) & (t < stop)
    return float(db[sel].mean()) if sel.any() else -np.inf


def _release_level(db, t, start, stop, clip_end):
    """Level of a window after the note-off, cut at the clip's end; None when under 50 ms is left."""
    stop = min(stop, clip_end)
    return _level(db, t, start, stop) if stop - start >= _MIN_WINDOW else None


def derive_qualities(audio: np.ndarray, *, sample_rate: int, pitch: int,
                     note_seconds: float = 3.0, onset_seconds: float = 0.0) -> list[int]:
    """Derive NSynth's 10 binary note qualities from one rendered note.

    Parameters
    ----------
    audio : np.ndarray
        Mono samples of one clip holding one note.
    sample_rate : int
        Sample rate in Hz.
    pitch : int
        The note's nominal MIDI pitch.
    note_seconds : float
        How long the note is held (note-on to note-off); the note-off may lie beyond the clip.
    onset_seconds : float
        Time of the note-on in the clip.

    Returns
    -------
    list of int
        0/1 flags in NSynth's quality order (bright ... tempo-synced).
    """
    y = np.asarray(audio, dtype=np.float32)
    clip_end = len(y) / sample_rate
    on = float(onset_seconds)
    off = on + note_seconds  # the note-off (release windows follow it)
    off_h = min(off, clip_end)  # the end of the held part heard in the clip
    rms = librosa.feature.rms(y=y, frame_length=1024, hop_length=_HOP)[0]
    db = 20 * np.log10(rms + 1e-9)
    db -= db.max()
    t = np.arange(len(db)) * _HOP / sample_rate
    mag = np.abs(librosa.stft(y, n_fft=_N_FFT, hop_length=_HOP))[:, : len(db)]
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=_N_FFT)
    active = db > -60
    held = active & (t > on + 0.05) & (t < max(off_h - 0.1, on + 0.15))
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

    onset = mag[:, (t >= on) & (t < on + 0.05)]
    onset_flatness = float(librosa.feature.spectral_flatness(S=onset).mean()) if onset.size else 0.0

    envelope = db[(t > on + 0.3) & (t < off_h - 0.1)]
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

    decay_start = max(off_h - 0.3, on + 0.05)
    long_release = _release_level(db, t, off + 0.8, off + 1.0, clip_end)
    reverb = _release_level(db, t, off + 0.3, off + 0.5, clip_end)
    flags = {
        "bright": centroid >= 1200 and centroid >= 2 * f0,
        "dark": centroid <= 400,
        "distortion": len(partials) >= 12 and strong >= 12 and strong >= 0.6 * len(partials),
        "fast_decay": _level(db, t, decay_start, max(off_h - 0.05, decay_start + 0.05)) <= -30,
        "long_release": long_release is not None and long_release >= -55,
        "multiphonic": harmonic_fraction < 0.6,
        "nonlinear_env": rise >= 6,
        "percussive": onset_flatness >= 0.008,
        "reverb": reverb is not None and reverb >= -30,
        "tempo-synced": tempo,
    }
    return [int(flags[name]) for name in NSYNTH_QUALITIES]
