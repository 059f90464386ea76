"""``gm-notes``: isolated notes of General MIDI instruments, in NSynth's json/wav layout.

Every GM program 0-54 and 56-87 is one instrument. Each is played at ``N_PITCHES`` pitches spread
over its usable range and at each of ``VELOCITIES``: 87 x 12 x 3 = 3,132 notes, 16 kHz mono, 4 s
long with the note held 3 s, rendered from the SoundFont that ships inside ``pretty_midi``.

The split is instrument-disjoint as NSynth's is: within every family the programs are shuffled with
a fixed seed and a quarter (at least one) go to test, one to valid, the rest to train.
The data is rendered once into ``<data home>/gm-notes/v<VERSION>``; changing anything that alters
the audio or metadata must bump ``VERSION`` so that the data is rendered again.

``gm-notes-fluidr3`` renders the same programs, notes and split from a second SoundFont,
``FluidR3_GM.sf2`` (Debian's ``fluid-soundfont-gm``; any SF2 file can be named with its
``soundfont`` option), into ``<data home>/gm-notes-fluidr3/v<VERSION>-<SoundFont hash>``: a model
fitted on one source and tested on the other's test split meets programs and a sound source it has
never heard. ``gm-notes`` itself is TimGM6mb only, so its leaderboard is the same on every machine.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import data_home as default_data_home
from ..errors import DatasetNotFoundError
from ..parallel import parallel_map
from ..storage import atomic_dir, done_with, mark_done
from . import gm
from .nsynth import read_layout
from .qualities import derive_qualities
from .render import render_notes, soundfont_fingerprint

VERSION = "1"
SAMPLE_RATE = 16000
CLIP_SECONDS = 4.0
NOTE_SECONDS = 3.0
N_PITCHES = 12
VELOCITIES = (50, 100, 127)
GAIN = 2.0  # fixed gain on every render (TimGM6mb renders peak near 0.15); velocity stays audible
SPLIT_SEED = 2017
MIN_PEAK = 1e-4  # a render quieter than this (no sample zone for the key) is left out
MARKER = "gm-notes.json"
FLUIDR3 = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
FLUIDR3_INSTALL = "sudo apt-get install fluid-soundfont-gm"


def assign_splits(programs, *, seed: int = SPLIT_SEED) -> dict[int, str]:
    """Instrument-disjoint split: program -> train / valid / test.

    Within each family, programs are shuffled with ``seed``; ``max(1, round(n / 4))`` go to test
    and one to valid when the family has 3 or more, 1 to test when it has 2, all to train when 1.
    """
    by_family: dict[str, list[int]] = {}
    for program in sorted(programs):
        by_family.setdefault(gm.family_of(program), []).append(program)
    splits = {}
    for k, family in enumerate(gm.NSYNTH_FAMILIES):
        members = by_family.get(family, [])
        order = list(np.random.default_rng(seed + k).permutation(members))
        n = len(order)
        n_test = max(1, round(n / 4)) if n >= 2 else 0
        n_valid = 1 if n >= 3 else 0
        for i, program in enumerate(order):
            splits[int(program)] = "test" if i < n_test else "valid" if i < n_test + n_valid else "train"
    return splits


def note_plan(program: int, *, n_pitches: int = N_PITCHES, velocities=VELOCITIES) -> list[tuple[int, int]]:
    """(pitch, velocity) of every note played on ``program``."""
    low, high = gm.pitch_range(program)
    pitches = np.unique(np.round(np.linspace(low, high, n_pitches)).astype(int))
    return [(int(p), int(v)) for p in pitches for v in velocities]


def instrument_str(program: int) -> str:
    """NSynth-style instrument name, e.g. ``keyboard_acoustic_000`` for program 0."""
    return f"{gm.family_of(program)}_{gm.source_of(program)}_{program:03d}"


def _render_program(program: int, notes, audio_dir: Path, soundfont=None) -> tuple[dict, list]:
    clips = render_notes(program=program, notes=notes, sample_rate=SAMPLE_RATE,
                         note_seconds=NOTE_SECONDS, clip_seconds=CLIP_SECONDS, soundfont=soundfont)
    examples, dropped = {}, []
    for (pitch, velocity), audio in zip(notes, clips):
        note = f"{instrument_str(program)}-{pitch:03d}-{velocity:03d}"
        audio = audio * GAIN
        if np.abs(audio).max() < MIN_PEAK:
            dropped.append(note)
            continue
        qualities = derive_qualities(audio, sample_rate=SAMPLE_RATE, pitch=pitch,
                                     note_seconds=NOTE_SECONDS)
        sf.write(audio_dir / f"{note}.wav", np.clip(audio, -1.0, 1.0), SAMPLE_RATE, subtype="PCM_16")
        examples[note] = example_fields(note=note, program=program, pitch=pitch, velocity=velocity,
                                        qualities=qualities)
    return examples, dropped


def example_fields(*, note: str, program: int, pitch: int, velocity: int, qualities) -> dict:
    """The examples.json entry of one rendered note (NSynth's fields and the GM program's name)."""
    family, source = gm.family_of(program), gm.source_of(program)
    return {
        "note_str": note,
        "instrument": program,
        "instrument_str": instrument_str(program),
        "instrument_family": gm.NSYNTH_FAMILIES.index(family),
        "instrument_family_str": family,
        "instrument_source": gm.NSYNTH_SOURCES.index(source),
        "instrument_source_str": source,
        "pitch": pitch,
        "velocity": velocity,
        "sample_rate": SAMPLE_RATE,
        "qualities": qualities,
        "qualities_str": [q for q, flag in zip(gm.NSYNTH_QUALITIES, qualities) if flag],
        "gm_program_name": _program_name(program),
    }


def _program_name(program: int) -> str:
    import pretty_midi

    return pretty_midi.program_to_instrument_name(program)


def _settings(programs, n_pitches, velocities, soundfont=None) -> dict:
    settings = {"version": VERSION, "programs": list(programs), "n_pitches": n_pitches,
                "velocities": list(velocities), "sample_rate": SAMPLE_RATE, "split_seed": SPLIT_SEED}
    if soundfont:  # TimGM6mb renders keep the settings they always had
        settings["soundfont"] = soundfont_fingerprint(soundfont)
    return settings


def render_dataset(root, *, programs=None, n_pitches: int = N_PITCHES, velocities=VELOCITIES,
                   jobs: int = 1, progress: bool = True, soundfont=None) -> Path:
    """Render gm-notes into ``root`` (NSynth layout), replacing anything there.

    Rendering happens in a sibling temporary folder that is renamed into place at the end, so an
    interrupted render never leaves a half-written dataset behind.

    Parameters
    ----------
    root : str or Path
        Destination folder.
    programs : sequence of int, optional
        GM programs to render (default: all 87).
    n_pitches : int
        Pitches per program, spread over its range.
    velocities : sequence of int
        MIDI velocities per pitch.
    jobs : int
        Worker processes.
    progress : bool
        Show a progress bar.
    soundfont : str or Path, optional
        The SF2 file to render (default: TimGM6mb, inside pretty_midi).
    """
    root = Path(root)
    programs = list(programs if programs is not None else gm.all_programs())
    splits = assign_splits(programs)
    what = "gm-notes" + (f" from {Path(soundfont).name}" if soundfont else "")
    with atomic_dir(root) as tmp:
        for split in ("train", "valid", "test"):
            (tmp / f"nsynth-{split}" / "audio").mkdir(parents=True)
        tasks = [(p, note_plan(p, n_pitches=n_pitches, velocities=velocities),
                  tmp / f"nsynth-{splits[p]}" / "audio", soundfont) for p in programs]
        results = parallel_map(_render_program, tasks, jobs=jobs, desc=f"rendering {what}",
                               unit="program", progress=progress)
        write_examples(tmp, programs=programs, splits=splits, results=results, marker=MARKER,
                       settings=_settings(programs, n_pitches, velocities, soundfont))
    return root


def write_examples(folder: Path, *, programs, splits: dict, results, marker: str, settings: dict) -> None:
    """Write each split's ``examples.json`` from the programs' rendered ``(examples, dropped)`` and
    then the done marker (settings, dropped notes, counts per split)."""
    per_split = {"train": {}, "valid": {}, "test": {}}
    dropped = []
    for program, (examples, lost) in zip(programs, results):
        per_split[splits[program]].update(examples)
        dropped.extend(lost)
    for split, examples in per_split.items():
        (folder / f"nsynth-{split}" / "examples.json").write_text(json.dumps(examples, indent=1,
                                                                             sort_keys=True))
    mark_done(folder / marker, {**settings, "dropped": dropped,
                                "counts": {s: len(e) for s, e in per_split.items()}})


def ensure_rendered(root, *, programs=None, n_pitches: int = N_PITCHES, velocities=VELOCITIES,
                    jobs: int = 1, progress: bool = True, soundfont=None) -> Path:
    """Render gm-notes into ``root`` unless a complete render with the same settings is there."""
    root = Path(root)
    programs = list(programs if programs is not None else gm.all_programs())
    if done_with(root / MARKER, _settings(programs, n_pitches, velocities, soundfont)):
        return root
    return render_dataset(root, programs=programs, n_pitches=n_pitches, velocities=velocities,
                          jobs=jobs, progress=progress, soundfont=soundfont)


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True):
    """Load gm-notes, rendering it into the data home first if needed."""
    home = Path(data_home) if data_home else default_data_home()
    root = ensure_rendered(home / "gm-notes" / f"v{VERSION}", jobs=jobs, progress=progress)
    return read_layout(root, name="gm-notes", version=VERSION)


def load_fluidr3(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True,
                 soundfont: str = FLUIDR3):
    """Load gm-notes-fluidr3 (gm-notes from a second SoundFont, FluidR3_GM), rendering it first.

    The same programs, notes and split as gm-notes, played by ``soundfont`` (an SF2 file, by
    default Debian's FluidR3_GM).

    Raises
    ------
    DatasetNotFoundError
        The SoundFont file is not there (with the command that installs FluidR3_GM).
    """
    path = Path(soundfont).expanduser()
    if not path.is_file():
        hint = f"install it with `{FLUIDR3_INSTALL}`" if str(path) == FLUIDR3 else "check the path"
        raise DatasetNotFoundError(f"SoundFont {path} not found; {hint} (or name any SF2 file with "
                                   "soundfont = PATH in [datasets.gm-notes-fluidr3])")
    home = Path(data_home) if data_home else default_data_home()
    version = f"{VERSION}-{soundfont_fingerprint(path)}"
    root = ensure_rendered(home / "gm-notes-fluidr3" / f"v{version}", jobs=jobs, progress=progress,
                           soundfont=path)
    return read_layout(root, name="gm-notes-fluidr3", version=version)
