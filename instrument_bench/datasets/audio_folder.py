"""A user's own recordings: one sub-folder per class, or a CSV of labels.

The layout (as ``keras.utils.audio_dataset_from_directory`` expects)::

    ROOT/<class>/<any name>.<wav|flac|ogg|mp3|aiff|...>        task ``label`` (single-label)
    ROOT/labels.csv     file,label[,label...] (no header)       task ``labels`` (multi-label)

Any format libsndfile reads, any sample rate, mono or stereo, any length: every file is cut into
``window_seconds`` windows every ``hop_seconds`` (a shorter file gives one zero-padded window),
models score the windows and scores are averaged per file. The split is seeded and group-aware:
``group_by`` is a regular expression searched in each file's name (its first group, or the whole
match, is the group: a player, a source recording), and a group's files all land in one split;
without it every file is its own group. Splits are stratified by class where the classes allow
(scikit-learn's ``StratifiedGroupKFold``).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

from ..config import dataset_root
from ..errors import ConfigError, DatasetError
from .base import Dataset, audio_seconds, safe_path, windowed_clips

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".aifc", ".au", ".caf", ".w64"}
LABELS_CSV = "labels.csv"
SPLIT_SEED = 2017


def _class_folders(root: Path) -> list[tuple[Path, list[str]]]:
    files = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        files += [(path, [folder.name]) for path in sorted(folder.rglob("*"))
                  if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file()]
    if not files:
        raise DatasetError(f"{root}: no audio files in class sub-folders (layout: {root}/<class>/<file>)")
    return files


def _labels_csv(root: Path) -> list[tuple[Path, list[str]]]:
    path = root / LABELS_CSV
    files, seen = [], set()
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        for number, row in enumerate(csv.reader(f), start=1):
            cells = [c.strip() for c in row]
            if not any(cells):
                continue
            if len(cells) < 2 or not all(cells):
                raise DatasetError(f"{path}: line {number}: expected file,label[,label...], got {row!r}")
            audio = safe_path(root, cells[0], source=f"{path}: line {number}")
            if not audio.is_file():
                raise DatasetError(f"{path}: line {number}: audio file {audio} not found")
            if audio in seen:
                raise DatasetError(f"{path}: line {number}: {cells[0]} is listed twice")
            seen.add(audio)
            files.append((audio, sorted(set(cells[1:]))))
    if not files:
        raise DatasetError(f"{path}: no rows")
    return files


def group_of(path: Path, pattern) -> str:
    """The group of a file: the first group (or the whole match) of ``pattern`` in its name,
    else the file's own path."""
    match = pattern.search(path.name) if pattern is not None else None
    if match is None:
        return str(path)
    return match.group(1) if match.re.groups else match.group(0)


def assign_splits(labels, groups, *, test_fraction: float, valid_fraction: float,
                  seed: int = SPLIT_SEED) -> list[str]:
    """Split files group-aware and stratified by their first label: one split name per file."""
    labels, groups = np.asarray(labels), np.asarray(groups)
    n_groups = len(set(groups.tolist()))
    if n_groups < 3:
        raise DatasetError(f"{n_groups} group(s) cannot make train, valid and test splits; give more "
                           "files or a --group-by pattern with more groups")
    out = np.array(["train"] * len(labels), dtype=object)
    rest = np.arange(len(labels))
    for split, fraction in (("test", test_fraction), ("valid", valid_fraction / (1 - test_fraction))):
        counts = np.unique(labels[rest], return_counts=True)[1]
        n_splits = int(np.clip(round(1 / fraction), 2, len(set(groups[rest].tolist()))))
        if counts.max() >= 2:  # stratified where the class counts allow it
            n_splits = min(n_splits, max(2, counts.min()))
            folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        else:
            folds = GroupShuffleSplit(n_splits=1, test_size=1 / n_splits, random_state=seed)
        _, held = next(folds.split(np.zeros(len(rest)), labels[rest], groups[rest]))
        out[rest[held]] = split
        rest = np.setdiff1d(rest, rest[held])
    return out.tolist()


def read_layout(root, *, group_by: str | None = None, window_seconds: float = 3.0,
                hop_seconds: float | None = None, test_fraction: float = 0.2, valid_fraction: float = 0.1,
                sample_rate: int = 16000) -> Dataset:
    """Read a folder of recordings into windowed, group-split clips.

    Parameters
    ----------
    root : str or Path
        The folder.
    group_by : str, optional
        Regular expression naming each file's group (``^([a-z]+)_``: the player before ``_``).
    window_seconds, hop_seconds : float
        Window length and hop (default hop: the window length).
    test_fraction, valid_fraction : float
        Shares of the groups held out for test and valid.
    sample_rate : int
        Rate features read the audio at.

    Raises
    ------
    DatasetError
        No audio, an unreadable file (named), a malformed CSV row, a path leaving the folder.
    ConfigError
        ``group_by`` is not a valid regular expression.
    """
    root = Path(root)
    try:
        pattern = re.compile(group_by) if group_by else None
    except re.error as exc:
        raise ConfigError(f"--group-by {group_by!r} is not a regular expression ({exc})") from None
    multi_label = (root / LABELS_CSV).is_file()
    files = _labels_csv(root) if multi_label else _class_folders(root)
    groups = [group_of(path, pattern) for path, _ in files]
    splits = assign_splits([labels[0] for _, labels in files], groups, test_fraction=test_fraction,
                           valid_fraction=valid_fraction)
    clips = []
    for (path, labels), group, split in zip(files, groups, splits):
        item = path.relative_to(root).as_posix()
        meta = {"labels": labels, "source_group": group} if multi_label else {"label": labels[0],
                                                                               "source_group": group}
        clips += windowed_clips(item_id=item, path=path, split=split, meta=meta,
                                seconds=audio_seconds(path), window=window_seconds,
                                hop=hop_seconds or window_seconds)
    version = (f"{'csv' if multi_label else 'folders'}-group{group_by or ''}-window{window_seconds:g}-"
               f"hop{hop_seconds or window_seconds:g}-test{test_fraction:g}-valid{valid_fraction:g}")
    return Dataset(name="audio-folder", root=root, sample_rate=sample_rate, clips=tuple(clips),
                   version=version, clip_seconds=float(window_seconds), unit_field="source_group")


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None,
         **options) -> Dataset:
    """Load a folder of recordings from ``root`` or ``<data root>/audio-folder``."""
    return read_layout(dataset_root("audio-folder", data_root=data_root, root=root), **options)
