"""SoundFont rendering of the built-in data: General MIDI through ``midirenderer``.

The default SoundFont is ``TimGM6mb.sf2``, shipped inside the ``pretty_midi`` package, so nothing
is downloaded; any other SF2 file can be named (``gm-notes-fluidr3`` renders Debian's
``FluidR3_GM.sf2``). ``midirenderer`` turns MIDI bytes and SoundFont bytes into WAV bytes (48 kHz
stereo); this module mixes down to mono and resamples with librosa (soxr).
"""

from __future__ import annotations

import functools
import hashlib
import io
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from ..errors import DatasetError


def soundfont_path() -> Path:
    """Path of the General MIDI SoundFont ``TimGM6mb.sf2`` that ships inside ``pretty_midi``."""
    import pretty_midi

    path = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise DatasetError(f"{path}: the SoundFont that pretty_midi ships is missing; reinstall pretty_midi")
    return path


@functools.lru_cache(maxsize=2)
def _soundfont_bytes(path: str | None) -> bytes:
    return (Path(path) if path else soundfont_path()).read_bytes()


def soundfont_fingerprint(path) -> str:
    """A short hash of a SoundFont file's bytes (part of the data version of what it renders).

    Raises
    ------
    DatasetError
        The file is missing or is not a RIFF ``sfbk`` (SF2) file.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: SoundFont file not found")
    with path.open("rb") as f:
        head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise DatasetError(f"{path}: not an SF2 SoundFont (no RIFF sfbk header)")
    return _fingerprint(str(path), path.stat().st_size, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _fingerprint(path: str, size: int, mtime: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()[:12]


def render_midi(midi, *, sample_rate: int, soundfont=None) -> np.ndarray:
    """Render a ``pretty_midi.PrettyMIDI`` object to mono float32 audio.

    Parameters
    ----------
    midi : pretty_midi.PrettyMIDI
        The score to play.
    sample_rate : int
        Sample rate of the returned audio in Hz.
    soundfont : str or Path, optional
        The SF2 file to play (default: TimGM6mb, inside pretty_midi).

    Returns
    -------
    np.ndarray
        Mono float32 samples.
    """
    import midirenderer

    buf = io.BytesIO()
    midi.write(buf)
    wav = midirenderer.render_wave_from(_soundfont_bytes(str(soundfont) if soundfont else None),
                                        buf.getvalue())
    audio, sr = sf.read(io.BytesIO(wav), dtype="float32", always_2d=True)
    mono = audio.mean(axis=1)
    if sr != sample_rate:
        mono = librosa.resample(mono, orig_sr=sr, target_sr=sample_rate)
    return np.ascontiguousarray(mono, dtype=np.float32)


def render_notes(*, program: int, notes, sample_rate: int, note_seconds: float,
                 clip_seconds: float, gap_seconds: float = 1.0, soundfont=None) -> list[np.ndarray]:
    """Render isolated notes of one GM program, one clip per note.

    The notes are played one after another in a single MIDI file, ``clip_seconds + gap_seconds``
    apart, so one render call covers them all and no note's release reaches the next clip.

    Parameters
    ----------
    program : int
        General MIDI program (0-based).
    notes : sequence of (pitch, velocity)
        MIDI pitch and velocity of each note.
    sample_rate : int
        Output sample rate in Hz.
    note_seconds : float
        How long each note is held (note-on to note-off).
    clip_seconds : float
        Length of each returned clip, from the note-on.
    gap_seconds : float
        Extra silence between clips in the render.
    soundfont : str or Path, optional
        The SF2 file to play (default: TimGM6mb).

    Returns
    -------
    list of np.ndarray
        One float32 clip of ``round(clip_seconds * sample_rate)`` samples per note.
    """
    import pretty_midi

    step = clip_seconds + gap_seconds
    score = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    instrument = pretty_midi.Instrument(program=program)
    for k, (pitch, velocity) in enumerate(notes):
        start = k * step
        instrument.notes.append(pretty_midi.Note(velocity=int(velocity), pitch=int(pitch),
                                                 start=start, end=start + note_seconds))
    score.instruments.append(instrument)
    audio = render_midi(score, sample_rate=sample_rate, soundfont=soundfont)
    n = int(round(clip_seconds * sample_rate))
    total = int(round(step * sample_rate)) * len(notes) + n
    audio = np.pad(audio, (0, max(0, total - len(audio))))
    return [audio[int(round(k * step * sample_rate)):][:n].copy() for k in range(len(notes))]
