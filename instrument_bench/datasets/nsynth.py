"""NSynth in its own json/wav layout.

The layout (as the official download unpacks)::

    ROOT/nsynth-train/examples.json     {note_str: {field: value, ...}, ...}
    ROOT/nsynth-train/audio/<note_str>.wav
    ROOT/nsynth-valid/...
    ROOT/nsynth-test/...

The built-in ``gm-notes`` data is written in this layout, so the same code reads both. The real
dataset is found under ``<data root>/nsynth`` (``--data-root`` or ``INSTRUMENT_BENCH_DATA``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..config import dataset_root
from ..errors import DatasetError
from .base import SPLITS, Clip, Dataset
from .families import identity
from .gm import NSYNTH_FAMILIES, NSYNTH_QUALITIES, NSYNTH_SOURCES

SAMPLE_RATE = 16000
FAMILY_MAP = identity("instrument_family_str")  # NSynth's families are the shared vocabulary
CLIP_SECONDS = 4.0  # every NSynth note is 4 s long
REQUIRED_FIELDS = {
    "note_str": str, "instrument": int, "instrument_str": str, "instrument_family": int,
    "instrument_family_str": str, "instrument_source": int, "instrument_source_str": str,
    "pitch": int, "velocity": int, "sample_rate": int, "qualities": list,
}


def _check_example(note: str, example, *, path: Path) -> dict:
    if not isinstance(example, dict):
        raise DatasetError(f"{path}: entry {note!r} is not an object")
    for name, kind in REQUIRED_FIELDS.items():
        if name not in example:
            raise DatasetError(f"{path}: entry {note!r} lacks the field {name!r}")
        if not isinstance(example[name], kind) or (kind is int and isinstance(example[name], bool)):
            raise DatasetError(f"{path}: entry {note!r} field {name!r} should be {kind.__name__}, "
                               f"got {example[name]!r}")
    family = example["instrument_family_str"]
    if family not in NSYNTH_FAMILIES:
        raise DatasetError(f"{path}: entry {note!r} has unknown instrument family {family!r}; "
                           f"NSynth's families are {', '.join(NSYNTH_FAMILIES)}")
    if example["instrument_source_str"] not in NSYNTH_SOURCES:
        raise DatasetError(f"{path}: entry {note!r} has unknown instrument source "
                           f"{example['instrument_source_str']!r}")
    qualities = example["qualities"]
    if len(qualities) != len(NSYNTH_QUALITIES) or any(q not in (0, 1) for q in qualities):
        raise DatasetError(f"{path}: entry {note!r} qualities must be {len(NSYNTH_QUALITIES)} "
                           f"0/1 flags, got {qualities!r}")
    if example["note_str"] != note:
        raise DatasetError(f"{path}: entry {note!r} has note_str {example['note_str']!r}")
    return example


def read_layout(root, *, name: str = "nsynth", version: str = "") -> Dataset:
    """Read an NSynth json/wav tree.

    Parameters
    ----------
    root : str or Path
        Folder holding ``nsynth-train``, ``nsynth-valid`` and ``nsynth-test``.
    name : str
        Dataset name to give the result.
    version : str
        Data version string (part of feature cache keys).

    Raises
    ------
    DatasetError
        A split folder or examples.json is missing or malformed, a family is unknown, or an
        audio file named in examples.json is missing.
    """
    root = Path(root)
    clips = []
    seen = {}
    for split in SPLITS:
        folder = root / f"nsynth-{split}"
        path = folder / "examples.json"
        if not path.is_file():
            raise DatasetError(f"{path}: NSynth examples.json not found (expected the layout "
                               f"{root}/nsynth-{{train,valid,test}}/examples.json)")
        try:
            examples = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise DatasetError(f"{path}: malformed JSON ({exc})") from None
        if not isinstance(examples, dict):
            raise DatasetError(f"{path}: expected an object mapping note_str to fields")
        audio_dir = folder / "audio"
        present = set(os.listdir(audio_dir)) if audio_dir.is_dir() else set()
        for note in sorted(examples):
            example = _check_example(note, examples[note], path=path)
            if f"{note}.wav" not in present:
                raise DatasetError(f"{path}: audio for {note!r} is missing "
                                   f"({audio_dir / (note + '.wav')})")
            if note in seen:
                raise DatasetError(f"{path}: note {note!r} also appears in nsynth-{seen[note]}")
            seen[note] = split
            clips.append(Clip(note, audio_dir / f"{note}.wav", split, example))
    return Dataset(name=name, root=root, sample_rate=SAMPLE_RATE, clips=tuple(clips),
                   version=version, clip_seconds=CLIP_SECONDS, unit_field="instrument_str")


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None) -> Dataset:
    """Load the real NSynth from ``<data root>/nsynth`` (json/wav layout)."""
    return read_layout(dataset_root("nsynth", data_root=data_root, root=root), name="nsynth")
