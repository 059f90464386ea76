"""SoundFont rendering of the built-in data: General MIDI through ``midirenderer``.

The default SoundFont is ``TimGM6mb.sf2``, shipped inside the ``pretty_midi`` package, so nothing
is downloaded; any other SF2 file can be named (``gm-notes-fluidr3`` renders Debian's
``FluidR3_GM.sf2``). ``midirenderer`` turns MIDI bytes and SoundFont bytes into WAV bytes (48 kHz
stereo); this module mixes down to mono and resamples with librosa (soxr).

:func:`render_notes` plays plain notes (note-on at the clip's start, one held length for all);
:func:`render_played` plays :class:`PlayedNote` s, each with its own onset in the clip, held length,
controller changes (expression CC 11, modulation CC 1, ...) and pitch bends. Both play all notes
of a call one after another in one MIDI file, ``clip_seconds + gap_seconds`` apart.
"""

from __future__ import annotations

import functools
import hashlib
import io
from dataclasses import dataclass
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
    return _clips(score, n_notes=len(notes), step=step, clip_seconds=clip_seconds, sample_rate=sample_rate,
                  soundfont=soundfont)


# a controller's value when nothing set it: expression (CC 11) full, modulation (CC 1) off
_CONTROLLER_DEFAULTS = {11: 127, 1: 0}


@dataclass(frozen=True)
class PlayedNote:
    """One note as :func:`render_played` plays it; every time is in seconds from the clip's start.

    Parameters
    ----------
    pitch, velocity : int
        MIDI pitch and velocity.
    onset : float
        Time of the note-on.
    held : float
        How long the note is held (note-on to note-off); the note-off may lie beyond the clip.
    controls : tuple of (float, int, int)
        ``(time, controller number, value)`` control changes (e.g. CC 11 expression, CC 1
        modulation); a time before the onset sets the controller before the note sounds.
    bends : tuple of (float, int)
        ``(time, value)`` pitch bends, -8192..8191 (+-2 semitones by default).
    """

    pitch: int
    velocity: int
    onset: float = 0.0
    held: float = 3.0
    controls: tuple = ()
    bends: tuple = ()


def render_played(*, program: int, notes, sample_rate: int, clip_seconds: float,
                  gap_seconds: float = 2.5, soundfont=None) -> list[np.ndarray]:
    """Render notes of one GM program with their own onset, held length and controls, one clip each.

    Clip ``k`` starts at ``k * (clip_seconds + gap_seconds)`` in one MIDI file; its note sounds
    ``onset`` later. The channel's controllers and pitch bend carry over from note to note in
    MIDI, so where a note or the one before it changes any, the clip starts by setting them:
    expression (CC 11) 127, modulation (CC 1) 0 and the bend 0, unless the note's own
    events set them at that instant. Unlike :func:`render_notes`, the last note's release is
    rendered too (midirenderer stops at the score's last event; an event after the last gap
    keeps it going).

    Parameters
    ----------
    program : int
        General MIDI program (0-based).
    notes : sequence of PlayedNote
        The notes, one per clip.
    sample_rate : int
        Output sample rate in Hz.
    clip_seconds : float
        Length of each returned clip, from the clip's start.
    gap_seconds : float
        Extra time between clips in the render (room for a note-off after the clip's end and
        its release).
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
    changed = False  # whether the note before left a controller or the bend changed
    for k, note in enumerate(notes):
        start = k * step
        own_controls = {(c, round(t, 6)) for t, c, _ in note.controls}
        own_bend = any(round(t, 6) == 0 for t, _ in note.bends)
        if changed or note.controls or note.bends:
            for number, value in _CONTROLLER_DEFAULTS.items():
                if (number, 0) not in own_controls:
                    instrument.control_changes.append(pretty_midi.ControlChange(number, value, start))
            if not own_bend:
                instrument.pitch_bends.append(pretty_midi.PitchBend(0, start))
        for t, number, value in note.controls:
            instrument.control_changes.append(pretty_midi.ControlChange(int(number), int(value), start + t))
        for t, value in note.bends:
            instrument.pitch_bends.append(pretty_midi.PitchBend(int(value), start + t))
        instrument.notes.append(pretty_midi.Note(velocity=int(note.velocity), pitch=int(note.pitch),
                                                 start=start + note.onset,
                                                 end=start + note.onset + note.held))
        changed = bool(note.controls or note.bends)
    # midirenderer stops at the score's last event, which would cut the last note's release at its
    # note-off: an event after the last gap keeps the render going until then
    instrument.control_changes.append(pretty_midi.ControlChange(11, 127, len(notes) * step))
    score.instruments.append(instrument)
    return _clips(score, n_notes=len(notes), step=step, clip_seconds=clip_seconds, sample_rate=sample_rate,
                  soundfont=soundfont)


def _clips(score, *, n_notes: int, step: float, clip_seconds: float, sample_rate: int,
           soundfont=None) -> list[np.ndarray]:
    """Render ``score`` and cut it into ``n_notes`` clips of ``clip_seconds``, ``step`` apart."""
    audio = render_midi(score, sample_rate=sample_rate, soundfont=soundfont)
    n = int(round(clip_seconds * sample_rate))
    total = int(round(step * sample_rate)) * n_notes + n
    audio = np.pad(audio, (0, max(0, total - len(audio))))
    return [audio[int(round(k * step * sample_rate)):][:n].copy() for k in range(n_notes)]
