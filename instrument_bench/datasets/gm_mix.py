"""``gm-mix``: polyphonic pieces of General MIDI instruments, in MusicNet's layout.

Each piece is generated from a fixed seed: a tempo (80-140 bpm), a key, a four-chord progression,
and 2-5 instruments from different NSynth families: piece ``k`` holds MusicNet's instrument
``k % 11`` and the others are drawn at random (half the time, in a family MusicNet has, one of
MusicNet's 11 instruments). Bass instruments play the chord roots, keyboards, organs, guitars and
mallets play held chords or arpeggios, the others play melodic phrases on the key's scale. The
piece is cut into 4-bar sections; in each section every instrument plays or rests (at least one
plays), so instruments enter and drop out and some stretches hold only part of the ensemble.

Every track is rendered alone with the same SoundFont and renderer as gm-notes (``TimGM6mb.sf2``,
``midirenderer``), brought to a common loudness with a random gain of -6 to 0 dB, and the tracks are
summed. A note whose solo render is silent (the SoundFont has no sample for that key) is left out
of the labels. Written in MusicNet's layout::

    ROOT/musicnet_metadata.csv           id, composer, composition, movement, ensemble, source,
                                         transcriber, catalog_name, seconds
    ROOT/train_data/<id>.wav             44.1 kHz mono, 16-bit
    ROOT/train_labels/<id>.csv           start_time, end_time, instrument, note, start_beat,
                                         end_beat, note_value (times in samples; instrument = GM
                                         program + 1, as MusicNet's codes; end_beat = duration in beats)
    ROOT/test_data/, ROOT/test_labels/

``N_PIECES`` pieces of ``PIECE_SECONDS`` (60 minutes); the last ``N_TEST`` go to ``test_data``, and
the loader holds out ``VALID_FRACTION`` of the others as the valid split (38 / 10 / 12 pieces).
Rendered once into ``<data home>/gm-mix/v<VERSION>``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import data_home as default_data_home
from ..parallel import parallel_map
from ..storage import atomic_dir, done_with, mark_done
from . import gm, musicnet
from .families import FamilyMap, gm_code_families
from .render import render_midi

VERSION = "1"
FAMILY_MAP = FamilyMap("instruments", gm_code_families())  # MusicNet codes, GM program + 1
SAMPLE_RATE = 44100  # MusicNet's rate
N_PIECES = 60
N_TEST = 12
PIECE_SECONDS = 60.0
FIRST_ID = 3000  # recording ids 3000, 3001, ... (MusicNet's own ids are 1727-2678)
SEED = 2024
VALID_FRACTION = 0.2  # of the training pieces, held out as the valid split by the loader
SECTION_BARS = 4
PLAY_PROBABILITY = 0.65
MIN_PEAK = 1e-3  # a note whose solo render peaks below this is inaudible and not labelled
MARKER = "gm-mix.json"
# MusicNet's 11 instruments as 0-based GM programs, by NSynth family
MUSICNET_PROGRAMS = {"keyboard": (0, 6), "string": (40, 41, 42, 43), "brass": (60,),
                     "reed": (68, 70, 71), "flute": (73,)}
ROLES = {"bass": "bass", "keyboard": "chords", "organ": "chords", "guitar": "chords", "mallet": "chords"}
MAJOR, MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)
PROGRESSIONS = ((0, 5, 3, 4), (0, 3, 4, 0), (0, 4, 5, 3), (5, 3, 0, 4), (0, 3, 0, 4), (1, 4, 0, 0))
NOTE_VALUES = {0.25: "Sixteenth", 0.5: "Eighth", 1.0: "Quarter", 1.5: "Dotted Quarter", 2.0: "Half",
               3.0: "Dotted Half", 4.0: "Whole"}


def choose_instruments(rng, index: int) -> list[int]:
    """2-5 GM programs (0-based) from different NSynth families.

    Piece ``index`` always holds MusicNet instrument ``index % 11`` (so every stretch of 11 pieces,
    the test pieces included, holds all of MusicNet's instruments); the others come from other
    families, half the time as one of MusicNet's instruments where the family has one.
    """
    musicnet_programs = [p for programs in MUSICNET_PROGRAMS.values() for p in programs]
    first = musicnet_programs[index % len(musicnet_programs)]
    n = int(rng.integers(2, 6))
    others = [f for f in gm.NSYNTH_FAMILIES if f != gm.family_of(first)]
    programs = [first]
    for family in rng.choice(others, size=n - 1, replace=False):
        if family in MUSICNET_PROGRAMS and rng.random() < 0.5:
            programs.append(int(rng.choice(MUSICNET_PROGRAMS[family])))
        else:
            programs.append(int(rng.choice(list(gm.FAMILY_PROGRAMS[family]))))
    return programs


def _register(program: int, role: str) -> tuple[int, int]:
    """The pitch span a role uses on a program: the middle of its range (the low end for bass)."""
    low, high = gm.pitch_range(program)
    if role == "bass":
        return low, min(high, low + 19)
    middle = (low + high) // 2
    return max(low, middle - 12), min(high, middle + 12)


def _pitches(pitch_classes, span) -> list[int]:
    low, high = span
    return [p for p in range(low, high + 1) if p % 12 in pitch_classes]


def _part(rng, *, program: int, active_bars, chords, scale, beats_per_bar: int = 4) -> list[tuple]:
    """Notes ``(start_beat, beats, pitch, velocity)`` of one instrument over its active bars."""
    role = ROLES.get(gm.family_of(program), "melody")
    span = _register(program, role)
    notes = []
    position = None
    for bar in active_bars:
        chord = chords[bar]
        start = bar * beats_per_bar
        if role == "bass":
            roots = _pitches({chord[0]}, span)
            beat = 0.0
            while beat < beats_per_bar:
                length = float(rng.choice([1.0, 2.0]))
                notes.append((start + beat, length, int(rng.choice(roots[:2])), int(rng.integers(80, 111))))
                beat += length
        elif role == "chords":
            tones = _pitches(set(chord), span)
            if rng.random() < 0.5:  # held chord, one or two per bar
                length = float(rng.choice([2.0, 4.0]))
                for beat in np.arange(0, beats_per_bar, length):
                    base = int(rng.integers(0, max(1, len(tones) - 3)))
                    velocity = int(rng.integers(60, 101))
                    notes.extend((start + beat, length, p, velocity) for p in tones[base:base + 3])
            else:  # arpeggio in eighths
                base = int(rng.integers(0, max(1, len(tones) - 4)))
                for i in range(2 * beats_per_bar):
                    notes.append((start + 0.5 * i, 0.5, tones[base + (i % min(4, len(tones) - base))],
                                  int(rng.integers(60, 101))))
        else:  # melody: a random walk on the scale, with rests
            tones = _pitches(set(scale), span)
            position = len(tones) // 2 if position is None else position
            beat = 0.0
            while beat < beats_per_bar:
                length = float(rng.choice([0.5, 1.0, 1.0, 1.5, 2.0]))
                length = min(length, beats_per_bar - beat)
                if rng.random() > 0.15:
                    position = int(np.clip(position + rng.integers(-2, 3), 0, len(tones) - 1))
                    notes.append((start + beat, length, tones[position], int(rng.integers(70, 116))))
                beat += length
    return notes


def compose(index: int, *, piece_seconds: float = PIECE_SECONDS) -> dict:
    """The score of piece ``index``: tempo, key, instruments and their notes (deterministic)."""
    rng = np.random.default_rng(SEED + index)
    tempo = int(rng.integers(80, 141))
    beat_seconds = 60.0 / tempo
    n_bars = max(1, int(piece_seconds // (4 * beat_seconds)))
    key = int(rng.integers(0, 12))
    scale = [(key + d) % 12 for d in (MAJOR if rng.random() < 0.6 else MINOR)]
    progression = PROGRESSIONS[int(rng.integers(len(PROGRESSIONS)))]
    chords = [[scale[(progression[bar % 4] + step) % 7] for step in (0, 2, 4)] for bar in range(n_bars)]
    programs = choose_instruments(rng, index)
    n_sections = -(-n_bars // SECTION_BARS)
    plays = rng.random((len(programs), n_sections)) < PLAY_PROBABILITY
    for s in range(n_sections):  # someone always plays
        if not plays[:, s].any():
            plays[int(rng.integers(len(programs))), s] = True
    for i in range(len(programs)):  # everyone plays somewhere
        if not plays[i].any():
            plays[i, int(rng.integers(n_sections))] = True
    parts = {}
    for i, program in enumerate(programs):
        bars = [b for b in range(n_bars) if plays[i, b // SECTION_BARS]]
        parts[program] = _part(rng, program=program, active_bars=bars, chords=chords, scale=scale)
    return {"id": FIRST_ID + index, "tempo": tempo, "beat_seconds": beat_seconds, "key": key,
            "n_bars": n_bars, "programs": programs, "parts": parts,
            "gains_db": [float(g) for g in rng.uniform(-6.0, 0.0, len(programs))]}


def _note_value(beats: float) -> str:
    return NOTE_VALUES.get(float(beats), f"{beats:g} beats")


def render_piece(index: int, root: Path, split: str, piece_seconds: float = PIECE_SECONDS) -> dict:
    """Render piece ``index`` into ``root/<split>_data`` and write its label CSV; return its metadata row."""
    import pretty_midi

    score = compose(index, piece_seconds=piece_seconds)
    beat = score["beat_seconds"]
    n = int(round((score["n_bars"] * 4 * beat + 1.0) * SAMPLE_RATE))
    mix = np.zeros(n, dtype=np.float64)
    rows = []
    for program, gain_db in zip(score["programs"], score["gains_db"]):
        midi = pretty_midi.PrettyMIDI(initial_tempo=float(score["tempo"]))
        track = pretty_midi.Instrument(program=program)
        for start, length, pitch, velocity in score["parts"][program]:
            track.notes.append(pretty_midi.Note(velocity=velocity, pitch=pitch, start=start * beat,
                                                end=(start + length) * beat))
        midi.instruments.append(track)
        solo = render_midi(midi, sample_rate=SAMPLE_RATE)[:n]
        solo = np.pad(solo, (0, n - len(solo))).astype(np.float64)
        for start, length, pitch, _ in score["parts"][program]:
            a, b = int(round(start * beat * SAMPLE_RATE)), int(round((start + length) * beat * SAMPLE_RATE))
            if np.abs(solo[a:b]).max(initial=0.0) < MIN_PEAK:
                continue
            rows.append((a, b, program + 1, pitch, start, length, _note_value(length)))
        rms = np.sqrt(np.mean(solo[np.abs(solo) > MIN_PEAK] ** 2)) if (np.abs(solo) > MIN_PEAK).any() else 1.0
        mix += solo * (0.1 / rms) * 10 ** (gain_db / 20)
    mix *= 0.9 / max(0.9, np.abs(mix).max())
    rid = score["id"]
    sf.write(root / f"{split}_data" / f"{rid}.wav", mix.astype(np.float32), SAMPLE_RATE, subtype="PCM_16")
    with open(root / f"{split}_labels" / f"{rid}.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(musicnet.LABEL_COLUMNS)
        for a, b, code, pitch, start, length, value in sorted(rows):
            writer.writerow([a, b, code, pitch, f"{start:g}", f"{length:g}", value])
    names = [pretty_midi.program_to_instrument_name(p) for p in score["programs"]]
    key = pretty_midi.note_number_to_name(60 + score["key"])[:-1]
    return {"id": rid, "composer": "gm-mix", "composition": f"Piece {index + 1}",
            "movement": f"{score['tempo']} bpm, key {key}",
            "ensemble": " / ".join(names), "source": f"instrument_bench gm-mix v{VERSION}",
            "transcriber": "generated", "catalog_name": f"GM{index + 1:03d}",
            "seconds": round(n / SAMPLE_RATE, 3)}


def _settings(n_pieces: int, n_test: int, piece_seconds: float) -> dict:
    return {"version": VERSION, "n_pieces": n_pieces, "n_test": n_test, "seed": SEED,
            "piece_seconds": piece_seconds, "sample_rate": SAMPLE_RATE}


def render_dataset(root, *, n_pieces: int = N_PIECES, n_test: int = N_TEST,
                   piece_seconds: float = PIECE_SECONDS, jobs: int = 1, progress: bool = True) -> Path:
    """Render gm-mix into ``root`` (MusicNet layout), replacing anything there.

    Parameters
    ----------
    root : str or Path
        Destination folder (written through a temporary sibling and renamed into place).
    n_pieces : int
        Number of pieces.
    n_test : int
        How many of them (the last ones) go to ``test_data``.
    piece_seconds : float
        Length of each piece (whole bars fitting in it, plus a 1 s tail).
    jobs : int
        Worker processes.
    progress : bool
        Show a progress bar.
    """
    root = Path(root)
    with atomic_dir(root) as tmp:
        for split in ("train", "test"):
            (tmp / f"{split}_data").mkdir(parents=True)
            (tmp / f"{split}_labels").mkdir(parents=True)
        tasks = [(k, tmp, "test" if k >= n_pieces - n_test else "train", piece_seconds)
                 for k in range(n_pieces)]
        rows = parallel_map(render_piece, tasks, jobs=jobs, desc="rendering gm-mix", unit="piece",
                            progress=progress)
        with open(tmp / musicnet.METADATA, "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
        mark_done(tmp / MARKER, {**_settings(n_pieces, n_test, piece_seconds),
                                 "seconds": round(sum(r["seconds"] for r in rows), 1)})
    return root


def ensure_rendered(root, *, n_pieces: int = N_PIECES, n_test: int = N_TEST, jobs: int = 1,
                    progress: bool = True) -> Path:
    """Render gm-mix into ``root`` unless a complete render with the same settings is there."""
    root = Path(root)
    if done_with(root / MARKER, _settings(n_pieces, n_test, PIECE_SECONDS)):
        return root
    return render_dataset(root, n_pieces=n_pieces, n_test=n_test, jobs=jobs, progress=progress)


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, **options):
    """Load gm-mix, rendering it into the data home first if needed.

    ``options`` go to :func:`musicnet.read_layout` (``clip_seconds``, ``hop_seconds``, ...).
    """
    home = Path(data_home) if data_home else default_data_home()
    root = ensure_rendered(home / "gm-mix" / f"v{VERSION}", jobs=jobs, progress=progress)
    options.setdefault("valid_fraction", VALID_FRACTION)
    return musicnet.read_layout(root, name="gm-mix", version=VERSION, **options)
