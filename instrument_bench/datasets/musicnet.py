"""MusicNet in its own layout, cut into multi-label clips.

The layout (as the official release unpacks)::

    ROOT/musicnet_metadata.csv          one row per recording (``id``, ``ensemble``, ``seconds`` ...)
    ROOT/train_data/<id>.wav            ROOT/train_labels/<id>.csv
    ROOT/test_data/<id>.wav             ROOT/test_labels/<id>.csv

A label CSV has one row per note: ``start_time, end_time`` (in samples of the recording),
``instrument`` (MusicNet's code: General MIDI program + 1), ``note`` (MIDI pitch), ``start_beat``,
``end_beat`` (the note's length in beats) and ``note_value``. The built-in ``gm-mix`` data is
written in this layout, so the same code reads both; the real dataset is found under
``<data root>/musicnet``.

Recordings are cut into clips of ``clip_seconds`` (default 3 s) every ``hop_seconds`` (default:
``clip_seconds``, no overlap). A clip is labelled with every instrument that has a note sounding
for at least ``min_overlap`` seconds inside it (field ``instruments``, a sorted list of codes).
MusicNet has no validation split: ``valid_fraction`` of the training recordings, drawn with a fixed
seed, form it, so train, valid and test are recording-disjoint. Clips of one recording are
consecutive, and feature extraction decodes each recording once per pass, not once per clip
(the block caching of the MusicNet ResNet-18 study).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from ..config import dataset_root
from ..errors import DatasetError
from .base import Clip, Dataset, grouped_split
from .families import FamilyMap, gm_code_families

METADATA = "musicnet_metadata.csv"
LABEL_COLUMNS = ("start_time", "end_time", "instrument", "note", "start_beat", "end_beat", "note_value")
REQUIRED_COLUMNS = ("start_time", "end_time", "instrument", "note")
FAMILY_MAP = FamilyMap("instruments", gm_code_families())  # codes are GM program + 1
SAMPLE_RATE = 16000  # features read the 44.1 kHz recordings resampled to this rate
SPLIT_SEED = 2017


@lru_cache(maxsize=8)
def _read_labels_cached(path: str, mtime: float) -> pd.DataFrame:
    try:
        table = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read the label CSV ({exc})") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in table]
    if missing:
        raise DatasetError(f"{path}: label CSV lacks the columns {', '.join(missing)} "
                           f"(MusicNet's columns: {', '.join(LABEL_COLUMNS)})")
    for column in REQUIRED_COLUMNS:
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() | (values < 0)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise DatasetError(f"{path}: row {row + 2}: {column}={table[column].iloc[row]!r} is not a "
                               "non-negative number")
        table[column] = values.astype(np.int64)
    backwards = table["end_time"] < table["start_time"]
    if backwards.any():
        row = int(np.flatnonzero(backwards.to_numpy())[0])
        raise DatasetError(f"{path}: row {row + 2}: end_time is before start_time")
    return table


def read_labels(path) -> pd.DataFrame:
    """A recording's note table, checked (times, instrument and note as integers).

    Raises
    ------
    DatasetError
        The file is missing, unreadable, lacks a column or holds a malformed row (named by its
        line number).
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: label file not found")
    return _read_labels_cached(str(path), path.stat().st_mtime)


def clip_instruments(notes: pd.DataFrame, *, starts, clip_samples: int, min_overlap: int) -> list[list[int]]:
    """Instrument codes sounding at least ``min_overlap`` samples in each clip ``[s, s + clip_samples)``."""
    a, b = notes["start_time"].to_numpy(), notes["end_time"].to_numpy()
    codes = notes["instrument"].to_numpy()
    starts = np.asarray(starts, dtype=np.int64)[:, None]
    overlap = np.minimum(b[None], starts + clip_samples) - np.maximum(a[None], starts)
    sounding = overlap >= min_overlap
    return [sorted({int(c) for c in codes[row]}) for row in sounding]


def frame_labels(clip: Clip, *, n_frames: int, hop_seconds: float, task) -> np.ndarray:
    """Frame-level labels of a clip: one label vector per feature frame.

    Frame ``i`` is labelled with every instrument with a note sounding at
    ``clip.start + i * hop_seconds``, mapped by a multi-label ``task`` (the MusicNet 12-group study
    labelled its MFCC frames this way).

    Returns
    -------
    np.ndarray
        ``(n_frames, len(task.classes))`` 0/1 matrix.
    """
    notes = read_labels(clip.meta["labels_path"])
    rate = clip.meta["recording_rate"]
    times = np.round((clip.start + np.arange(n_frames) * hop_seconds) * rate).astype(np.int64)[:, None]
    a, b = notes["start_time"].to_numpy()[None], notes["end_time"].to_numpy()[None]
    sounding = (a <= times) & (times < b)
    codes = notes["instrument"].to_numpy()
    index = {c: i for i, c in enumerate(task.classes)}
    out = np.zeros((n_frames, len(task.classes)), dtype=np.int64)
    for frame, note in zip(*np.nonzero(sounding)):
        name = task.class_of(int(codes[note]))
        if name is not None:
            out[frame, index[name]] = 1
    return out


def _recordings(root: Path, split: str) -> list[tuple[str, Path, Path]]:
    data = root / f"{split}_data"
    if not data.is_dir():
        raise DatasetError(f"{data}: folder not found (MusicNet layout: {split}_data/ and {split}_labels/)")
    out = []
    for wav in sorted(data.glob("*.wav")):
        labels = root / f"{split}_labels" / f"{wav.stem}.csv"
        if not labels.is_file():
            raise DatasetError(f"{labels}: label file not found for recording {wav.name}")
        out.append((wav.stem, wav, labels))
    if not out:
        raise DatasetError(f"{data}: no .wav recordings")
    return out


def _metadata(root: Path) -> dict[str, dict]:
    path = root / METADATA
    if not path.is_file():
        raise DatasetError(f"{path}: metadata file not found")
    try:
        table = pd.read_csv(path, dtype={"id": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    if "id" not in table:
        raise DatasetError(f"{path}: no 'id' column")
    duplicated = table["id"][table["id"].duplicated()]
    if len(duplicated):
        raise DatasetError(f"{path}: recording id {duplicated.iloc[0]} appears twice")
    return {str(row["id"]): row for row in table.to_dict("records")}


def valid_recordings(train_ids, *, fraction: float, seed: int = SPLIT_SEED) -> set[str]:
    """The training recordings held out as the valid split (at least one when there are two or more)."""
    split_of = grouped_split(train_ids, fractions={"valid": fraction}, seed=seed)
    return {rid for rid, split in split_of.items() if split == "valid"}


def read_layout(root, *, name: str = "musicnet", version: str = "", clip_seconds: float = 3.0,
                hop_seconds: float | None = None, min_overlap: float = 0.1,
                valid_fraction: float = 0.15, sample_rate: int = SAMPLE_RATE) -> Dataset:
    """Read a dataset in MusicNet's layout and cut it into labelled clips.

    Parameters
    ----------
    root : str or Path
        The dataset folder.
    name, version : str
        Dataset name and data version (the cut settings are appended to the version).
    clip_seconds : float
        Clip length.
    hop_seconds : float, optional
        Hop between clip starts (default: ``clip_seconds``).
    min_overlap : float
        Seconds a note must sound inside a clip for its instrument to count.
    valid_fraction : float
        Share of the training recordings held out as the valid split.
    sample_rate : int
        Rate features read the audio at.

    Raises
    ------
    DatasetError
        A folder, recording, label file or metadata row is missing or malformed.
    """
    root = Path(root)
    hop_seconds = hop_seconds or clip_seconds
    if clip_seconds <= 0 or hop_seconds <= 0 or min_overlap < 0:
        raise DatasetError(f"{root}: clip_seconds and hop_seconds must be positive, min_overlap >= 0")
    meta = _metadata(root)
    listing = {split: _recordings(root, split) for split in ("train", "test")}
    ids = [rid for split in listing.values() for rid, _, _ in split]
    if len(set(ids)) != len(ids):
        raise DatasetError(f"{root}: a recording id is in both train_data and test_data")
    held_out = valid_recordings([rid for rid, _, _ in listing["train"]], fraction=valid_fraction)
    clips = []
    for split, recordings in listing.items():
        for rid, wav, labels_path in recordings:
            if rid not in meta:
                raise DatasetError(f"{root / METADATA}: no row for recording {rid} ({wav})")
            try:
                info = sf.info(wav)
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise DatasetError(f"{wav}: cannot read audio ({exc})") from None
            notes = read_labels(labels_path)
            rate = info.samplerate
            clip_samples, hop = int(round(clip_seconds * rate)), int(round(hop_seconds * rate))
            starts = np.arange(0, info.frames - clip_samples + 1, hop)
            labels = clip_instruments(notes, starts=starts, clip_samples=clip_samples,
                                      min_overlap=int(round(min_overlap * rate)))
            clip_split = "valid" if rid in held_out else split
            for start, instruments in zip(starts, labels):
                seconds = start / rate
                clips.append(Clip(
                    clip_id=f"{rid}-{int(round(seconds * 1000)):08d}", path=wav, split=clip_split,
                    meta={"recording": rid, "instruments": instruments, "ensemble": meta[rid].get("ensemble"),
                          "labels_path": str(labels_path), "recording_rate": rate},
                    start=float(seconds), duration=float(clip_seconds)))
    cut = f"clip{clip_seconds:g}-hop{hop_seconds:g}-overlap{min_overlap:g}-valid{valid_fraction:g}"
    return Dataset(name=name, root=root, sample_rate=sample_rate, clips=tuple(clips),
                   version=f"{version}-{cut}" if version else cut, clip_seconds=float(clip_seconds),
                   unit_field="recording")


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None,
         **options) -> Dataset:
    """Load the real MusicNet from ``<data root>/musicnet`` (``options`` go to :func:`read_layout`)."""
    root = dataset_root("musicnet", data_root=data_root, root=root)
    return read_layout(root, name="musicnet", version="musicnet", **options)
