"""OpenMIC-2018 (Humphrey, Durand & McFee 2018) in its own layout.

The layout (the Zenodo release)::

    ROOT/openmic-2018.npz        X (N, 10, 128) VGGish frames, Y_true (N, 20) annotator confidence,
                                 Y_mask (N, 20) which labels were annotated, sample_key (N,)
    ROOT/class-map.json          {instrument: column}
    ROOT/partitions/split01_train.csv, split01_test.csv    one sample_key a line
    ROOT/audio/<key[:3]>/<key>.ogg                          (optional: the 10 s clips)

Task ``openmic`` (20 instruments, multi-label): a label is positive when ``Y_true >= 0.5``, and
only annotated labels count (``Y_mask``): the others are unknown (-1) and are left out of training
(per-label models fit on the clips where that label was annotated) and of every metric, as in the
official baseline. The official split has no valid part: a seeded 15 % of the training keys is
held out. Features: ``vggish-mean`` (the time-averaged frames the official baseline uses) and
``vggish`` (the 10 x 128 frames).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from ..config import dataset_root
from ..errors import DatasetError
from .base import Clip, Dataset, grouped_split
from .families import FamilyMap

CLASSES = ("accordion", "banjo", "bass", "cello", "clarinet", "cymbals", "drums", "flute", "guitar",
           "mallet_percussion", "mandolin", "organ", "piano", "saxophone", "synthesizer", "trombone",
           "trumpet", "ukulele", "violin", "voice")
FAMILY_MAP = FamilyMap("instruments", {
    "accordion": "reed", "banjo": "guitar", "bass": "bass", "cello": "string", "clarinet": "reed",
    "cymbals": None, "drums": None, "flute": "flute", "guitar": "guitar",
    "mallet_percussion": "mallet", "mandolin": "guitar", "organ": "organ", "piano": "keyboard",
    "saxophone": "reed", "synthesizer": "synth_lead", "trombone": "brass", "trumpet": "brass",
    "ukulele": "guitar", "violin": "string", "voice": "vocal"})
ARCHIVE = "openmic-2018.npz"
ARRAYS = ("X", "Y_true", "Y_mask", "sample_key")
SPLIT_SEED = 2018


def _read_archive(path: Path) -> dict:
    if not path.is_file():
        raise DatasetError(f"{path}: OpenMIC archive not found")
    try:
        # The official archive may store sample_key as an object array (a pickle): only that
        # array is read with pickles allowed, and it must come back as strings.
        with np.load(path, allow_pickle=True) as archive:
            missing = [k for k in ARRAYS if k not in archive.files]
            if missing:
                raise DatasetError(f"{path}: lacks the arrays {', '.join(missing)}")
            data = {k: archive[k] for k in ARRAYS}
        for key in ("X", "Y_true", "Y_mask"):
            if data[key].dtype == object:
                raise DatasetError(f"{path}: {key} must be a numeric array, not objects")
        if not all(isinstance(k, str) for k in data["sample_key"].tolist()):
            raise DatasetError(f"{path}: sample_key must hold strings")
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from None
    n = len(data["sample_key"])
    shapes = {"X": (n, 10, 128), "Y_true": (n, len(CLASSES)), "Y_mask": (n, len(CLASSES))}
    for key, shape in shapes.items():
        if data[key].shape != shape:
            raise DatasetError(f"{path}: {key} has shape {data[key].shape}, expected {shape}")
    if not np.isfinite(data["Y_true"]).all():
        raise DatasetError(f"{path}: Y_true holds NaN or infinite values")
    return data


def _read_class_map(path: Path) -> list[str]:
    if not path.is_file():
        raise DatasetError(f"{path}: class map not found")
    try:
        mapping = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: malformed JSON ({exc})") from None
    if not isinstance(mapping, dict) or sorted(mapping.values()) != list(range(len(CLASSES))) \
            or set(mapping) != set(CLASSES):
        raise DatasetError(f"{path}: expected OpenMIC's 20 instruments mapped to columns 0-19")
    return sorted(mapping, key=mapping.get)


def _read_partition(path: Path, known: dict) -> list[str]:
    if not path.is_file():
        raise DatasetError(f"{path}: partition file not found")
    keys = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        key = line.strip().strip(",")
        if not key:
            continue
        if key not in known:
            raise DatasetError(f"{path}: line {number}: sample_key {key!r} is not in {ARCHIVE}")
        keys.append(key)
    if not keys:
        raise DatasetError(f"{path}: lists no sample_key")
    return keys


def read_layout(root, *, split: str = "split01", valid_fraction: float = 0.15,
                sample_rate: int = 16000) -> Dataset:
    """Read OpenMIC-2018 with an official partition.

    Raises
    ------
    DatasetError
        The archive, class map or partition files are missing or malformed, or a key is in both
        partitions.
    """
    root = Path(root)
    data = _read_archive(root / ARCHIVE)
    columns = _read_class_map(root / "class-map.json")
    keys = [str(k) for k in data["sample_key"]]
    index = {k: i for i, k in enumerate(keys)}
    if len(index) != len(keys):
        raise DatasetError(f"{root / ARCHIVE}: a sample_key appears twice")
    parts = {name: _read_partition(root / "partitions" / f"{split}_{name}.csv", index)
             for name in ("train", "test")}
    both = set(parts["train"]) & set(parts["test"])
    if both:
        raise DatasetError(f"{root / 'partitions'}: sample_key {sorted(both)[0]} is in both {split}_train "
                           f"and {split}_test")
    held_out = grouped_split([k.split("_")[0] for k in parts["train"]], fractions={"valid": valid_fraction},
                             seed=SPLIT_SEED)
    clips = []
    for name, part in parts.items():
        for key in part:
            i = index[key]
            annotated = data["Y_mask"][i].astype(bool)
            positive = annotated & (data["Y_true"][i] >= 0.5)
            audio = root / "audio" / key[:3] / f"{key}.ogg"
            split = held_out[key.split("_")[0]] if name == "train" else "test"
            clips.append(Clip(key, audio if audio.is_file() else None, split, {
                "instruments": [columns[j] for j in np.flatnonzero(positive)],
                "annotated": [columns[j] for j in np.flatnonzero(annotated)],
                "vggish": data["X"][i]}, duration=10.0))
    return Dataset(name="openmic-2018", root=root, sample_rate=sample_rate, clips=tuple(clips),
                   version=f"{split}-valid{valid_fraction:g}", clip_seconds=10.0)


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None,
         **options) -> Dataset:
    """Load OpenMIC-2018 from ``<data root>/openmic-2018``."""
    return read_layout(dataset_root("openmic-2018", data_root=data_root, root=root), **options)
