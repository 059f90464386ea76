"""Audio building blocks shared by the replica writers.

The audio of every replica is made of isolated notes rendered by
:func:`instrument_bench.datasets.render.render_notes` (real sampled instruments from the project's
SoundFont), concatenated into phrases and summed into mixtures. Everything is deterministic
(fixed seeds).
"""

from __future__ import annotations

import functools
import hashlib
import math
from pathlib import Path

import numpy as np
import soundfile as sf

from instrument_bench.datasets.render import render_notes

NOTE_SECONDS = 1.0  # length of one pooled note clip (held for 80 % of it)
VELOCITIES = (80, 110)
INTERVALS = (0, 2, 4, 7, 9, 12)  # pooled pitches above each program's base pitch
MIX_PEAK = 0.5
MIN_PEAK = 1e-3  # a note or file quieter than this counts as silent

# Lowest pooled pitch per GM program, within the instrument's usual compass (default 55).
_BASE_PITCH = {
    0: 55, 4: 55, 12: 60, 19: 50, 21: 55, 24: 50, 25: 67, 30: 45, 32: 33, 40: 62, 42: 43,
    46: 55, 52: 57, 56: 58, 57: 45, 66: 50, 71: 55, 73: 67, 80: 60, 105: 57, 107: 60,
    115: 60, 119: 60,
}
WOODBLOCK = 115  # stands in for drums / percussion


@functools.lru_cache(maxsize=256)
def note_pool(program: int, sample_rate: int, seconds: float = NOTE_SECONDS) -> tuple[np.ndarray, ...]:
    """Rendered notes of one GM program, shared by all writers.

    Parameters
    ----------
    program : int
        General MIDI program (0-based).
    sample_rate : int
        Sample rate in Hz.
    seconds : float
        Length of each clip; the note is held for 80 % of it.

    Returns
    -------
    tuple of np.ndarray
        Read-only mono float32 clips (6 pitches x 2 velocities, silent renders left out).
    """
    base = _BASE_PITCH.get(program, 55)
    notes = [(base + step, velocity) for step in INTERVALS for velocity in VELOCITIES]
    clips = render_notes(program=program, notes=notes, sample_rate=sample_rate,
                         note_seconds=0.8 * seconds, clip_seconds=seconds)
    pool = tuple(clip for clip in clips if np.abs(clip).max() > MIN_PEAK)
    if not pool:
        raise RuntimeError(f"GM program {program} renders no audible note")
    for clip in pool:
        clip.setflags(write=False)
    return pool


def _phrase(program: int, sample_rate: int, n_samples: int, rng: np.random.Generator, *,
            seconds: float = NOTE_SECONDS, choices=None) -> np.ndarray:
    """``n_samples`` of randomly picked pooled notes played one after another."""
    pool = note_pool(program, sample_rate, seconds)
    choices = list(range(len(pool))) if choices is None else [c % len(pool) for c in choices]
    n_notes = math.ceil(n_samples / len(pool[0]))
    picks = rng.choice(choices, size=n_notes)
    return np.concatenate([pool[k] for k in picks])[:n_samples].astype(np.float32)


def _mix(tracks, *, weights=None, pans=None, peak: float = MIX_PEAK) -> np.ndarray:
    """Sum tracks (each normalised to unit peak, then weighted), scaled to ``peak``.

    Mono ``(n,)`` when ``pans`` is None, else stereo ``(n, 2)`` with each track panned
    (-1 left .. +1 right, equal-power).
    """
    weights = [1.0] * len(tracks) if weights is None else weights
    n = max(len(t) for t in tracks)
    out = np.zeros((n, 1 if pans is None else 2), dtype=np.float64)
    for k, (track, weight) in enumerate(zip(tracks, weights)):
        track = np.asarray(track, dtype=np.float64)
        track = weight * track / max(np.abs(track).max(), MIN_PEAK)
        if pans is None:
            out[:len(track), 0] += track
        else:
            angle = (pans[k] + 1.0) * np.pi / 4
            out[:len(track), 0] += np.cos(angle) * track
            out[:len(track), 1] += np.sin(angle) * track
    out *= peak / max(np.abs(out).max(), MIN_PEAK)
    out = out.astype(np.float32)
    return out[:, 0] if pans is None else out


def _unique(make, seen: set) -> np.ndarray:
    """Call ``make()`` until it returns audio not in ``seen`` (content hashes), record it."""
    for _ in range(100):
        audio = make()
        key = hashlib.sha1(np.ascontiguousarray(audio).tobytes()).hexdigest()
        if key not in seen:
            seen.add(key)
            return audio
    raise RuntimeError("could not make distinct audio")


def _write(path: Path, audio: np.ndarray, sample_rate: int, **kwargs) -> Path:
    """``soundfile.write`` after creating the folder; refuses silent audio."""
    if np.abs(audio).max() < MIN_PEAK:
        raise RuntimeError(f"{path}: refusing to write silent audio")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.clip(audio, -1.0, 1.0), sample_rate, **kwargs)
    return path


def _check_mp3() -> None:
    if "MP3" not in sf.available_formats():
        raise RuntimeError(f"libsndfile {sf.__libsndfile_version__} cannot write MP3 (needs >= 1.1)")
