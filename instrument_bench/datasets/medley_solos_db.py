"""Medley-solos-DB (Lostanlen & Cella 2016) in its own layout.

The layout (the Zenodo release: one metadata CSV and a folder of wavs)::

    ROOT/Medley-solos-DB_metadata.csv     subset,instrument,instrument_id,song_id,uuid4
    ROOT/audio/Medley-solos-DB_<subset>-<instrument_id>_<uuid4>.wav

(the CSV may also sit in ``ROOT/annotation/`` and the wavs directly in ``ROOT``, as mirdata
lays it out). Every clip is 65,536 samples at 22,050 Hz (2.97 s) of one instrument solo; the
official ``training`` / ``validation`` / ``test`` subsets are song-disjoint. Tasks:
``medley-instrument`` (8 classes) and ``piano-violin`` (the piano and violin clips only: the
two-class task of the Medley-solos-DB / MTG-Jamendo study).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd

from ..config import dataset_root
from ..errors import DatasetError
from .base import Clip, Dataset
from .families import FamilyMap

CLASSES = ("clarinet", "distorted electric guitar", "female singer", "flute", "piano",
           "tenor saxophone", "trumpet", "violin")
FAMILY_MAP = FamilyMap("instrument", {
    "clarinet": "reed", "distorted electric guitar": "guitar", "female singer": "vocal",
    "flute": "flute", "piano": "keyboard", "tenor saxophone": "reed", "trumpet": "brass",
    "violin": "string"})
METADATA = "Medley-solos-DB_metadata.csv"
COLUMNS = ("subset", "instrument", "instrument_id", "song_id", "uuid4")
SUBSETS = {"training": "train", "validation": "valid", "test": "test"}
SAMPLE_RATE = 16000
CLIP_SECONDS = 65536 / 22050


def _find(root: Path, *candidates) -> Path | None:
    return next((root / c for c in candidates if (root / c).exists()), None)


def _check_row(row: dict, *, line: int, path: Path) -> None:
    where = f"{path}: line {line}"
    if row["subset"] not in SUBSETS:
        raise DatasetError(f"{where}: subset {row['subset']!r} is not one of {', '.join(SUBSETS)}")
    try:
        instrument_id = int(row["instrument_id"])
        int(row["song_id"])
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: instrument_id and song_id must be integers, got "
                           f"{row['instrument_id']!r}, {row['song_id']!r}") from None
    if not 0 <= instrument_id < len(CLASSES) or CLASSES[instrument_id] != row["instrument"]:
        raise DatasetError(f"{where}: instrument {row['instrument']!r} does not match instrument_id "
                           f"{row['instrument_id']!r} (ids 0-7: {', '.join(CLASSES)})")
    try:
        uuid.UUID(str(row["uuid4"]))
    except ValueError:
        raise DatasetError(f"{where}: uuid4 {row['uuid4']!r} is not a UUID") from None


def read_layout(root, *, sample_rate: int = SAMPLE_RATE) -> Dataset:
    """Read Medley-solos-DB with its official subsets.

    Raises
    ------
    DatasetError
        The metadata file is missing or malformed (a row is named by its line), or a listed wav is
        missing.
    """
    root = Path(root)
    path = _find(root, METADATA, f"annotation/{METADATA}")
    if path is None:
        raise DatasetError(f"{root / METADATA}: metadata file not found")
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    missing = [c for c in COLUMNS if c not in table]
    if missing:
        raise DatasetError(f"{path}: lacks the columns {', '.join(missing)} (expected {', '.join(COLUMNS)})")
    audio_dir = _find(root, "audio") or root
    present = {p.name for p in audio_dir.glob("*.wav")}
    clips, songs = [], {}
    for line, row in enumerate(table.to_dict("records"), start=2):
        _check_row(row, line=line, path=path)
        split = SUBSETS[row["subset"]]
        if songs.setdefault(row["song_id"], split) != split:
            raise DatasetError(f"{path}: line {line}: song {row['song_id']} is in both "
                               f"{songs[row['song_id']]} and {split}")
        name = f"Medley-solos-DB_{row['subset']}-{int(row['instrument_id'])}_{row['uuid4']}.wav"
        if name not in present:
            raise DatasetError(f"{path}: line {line}: audio file {audio_dir / name} not found")
        clips.append(Clip(row["uuid4"], audio_dir / name, split,
                          {"instrument": row["instrument"], "song_id": int(row["song_id"])}))
    if not clips:
        raise DatasetError(f"{path}: no rows")
    return Dataset(name="medley-solos-db", root=root, sample_rate=sample_rate, clips=tuple(clips),
                   clip_seconds=CLIP_SECONDS, unit_field="song_id")


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None,
         **options) -> Dataset:
    """Load Medley-solos-DB from ``<data root>/medley-solos-db``."""
    return read_layout(dataset_root("medley-solos-db", data_root=data_root, root=root), **options)
