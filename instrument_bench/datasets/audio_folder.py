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
(scikit-learn's ``StratifiedGroupKFold``) and keep their fractions whatever the class sizes: a class
whose files make fewer than three groups (one each for train, valid and test) is left out, and
named in the dataset's version and notes (``run`` prints them, ``validate`` lists them). Every file found
in a class folder must lie inside the folder once symlinks are resolved.
"""

from __future__ import annotations

import csv
import json
import math
import re
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, StratifiedGroupKFold

from ..config import dataset_root
from ..errors import ConfigError, DatasetError
from .base import Dataset, audio_seconds, safe_path, windowed_clips
from .families import FamilyMap
from .gm import NSYNTH_FAMILIES

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif", ".aifc", ".au", ".caf", ".w64"}
LABELS_CSV = "labels.csv"
SPLIT_SEED = 2017
MIN_GROUPS = 3  # a class needs a group for each of train, valid and test
DROPPED = "-dropped"  # in the version, before the left-out classes as JSON


def _class_folders(root: Path) -> list[tuple[Path, list[str]]]:
    """Audio files of the class folders, refusing any that a symlink takes outside ``root``."""
    files, inside = [], root.resolve()
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in AUDIO_SUFFIXES and path.is_file():
                if not path.resolve().is_relative_to(inside):
                    raise DatasetError(f"{path}: leads (through a symlink) to {path.resolve()}, outside the "
                                       f"dataset folder {root}; copy the file in or remove the link")
                files.append((path, [folder.name]))
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


def small_classes(labels, groups, *, min_groups: int = MIN_GROUPS) -> dict:
    """Classes whose files make fewer than ``min_groups`` groups: ``{class: groups}``.

    Parameters
    ----------
    labels : list of list of str
        Every file's labels.
    groups : list of str
        Every file's group.
    min_groups : int
        Groups a class needs: one for each of train, valid and test. A class with fewer cannot be in
        all three, and one missing from train fails every cell of its task.
    """
    seen = {}
    for file_labels, group in zip(labels, groups):
        for label in file_labels:
            seen.setdefault(label, set()).add(group)
    return {label: len(found) for label, found in sorted(seen.items()) if len(found) < min_groups}


def assign_splits(labels, groups, *, test_fraction: float, valid_fraction: float,
                  seed: int = SPLIT_SEED) -> list[str]:
    """Split files group-aware and stratified by their first label: one split name per file.

    Test is the first of ``round(1 / test_fraction)`` folds of the groups and valid the first of
    ``round((1 - test_fraction) / valid_fraction)`` folds of the rest, whatever the class sizes (a
    class with fewer groups than folds is in fewer folds; :func:`read_layout` leaves out classes
    with fewer than ``MIN_GROUPS`` groups first). With fewer groups than folds a held-out split
    takes one group; where no class has a file per fold, the folds are not stratified.
    """
    labels, groups = np.asarray(labels), np.asarray(groups)
    n_groups = len(set(groups.tolist()))
    if n_groups < 3:
        raise DatasetError(f"{n_groups} group(s) cannot make train, valid and test splits; give more "
                           "files or a --group-by pattern with more groups")
    out = np.array(["train"] * len(labels), dtype=object)
    rest = np.arange(len(labels))
    for split, fraction in (("test", test_fraction), ("valid", valid_fraction / (1 - test_fraction))):
        n_splits = int(np.clip(round(1 / fraction), 2, len(set(groups[rest].tolist()))))
        if np.unique(labels[rest], return_counts=True)[1].max() >= n_splits:
            folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
        else:
            folds = GroupShuffleSplit(n_splits=1, test_size=1 / n_splits, random_state=seed)
        with warnings.catch_warnings():  # small classes are expected to miss some folds
            warnings.filterwarnings("ignore", message="The least populated class", category=UserWarning)
            _, held = next(folds.split(np.zeros(len(rest)), labels[rest], groups[rest]))
        out[rest[held]] = split
        rest = np.setdiff1d(rest, rest[held])
    return out.tolist()


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_SECONDS, _FRACTION = "a number of seconds above 0", "a number between 0 and 1, exclusive"
OPTION_RULES = {  # read_layout's options: (check, what is allowed)
    "group_by": (lambda v: v is None or isinstance(v, str), "a regular expression (a string)"),
    "window_seconds": (lambda v: _number(v) and v > 0, _SECONDS),
    "hop_seconds": (lambda v: v is None or _number(v) and v > 0,
                    f"{_SECONDS} (or left out: the window length)"),
    "test_fraction": (lambda v: _number(v) and 0 < v < 1, _FRACTION),
    "valid_fraction": (lambda v: _number(v) and 0 < v < 1, _FRACTION),
    "sample_rate": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v > 0,
                    "a whole number of Hz above 0"),
    "families": (lambda v: v is None or isinstance(v, dict) and all(isinstance(f, str) for f in v.values()),
                 'a table of label = "family" (an NSynth family, or "" for none)'),
    "test_only": (lambda v: isinstance(v, bool), "true or false"),
}


def check_options(options: dict) -> None:
    """Check :func:`read_layout`'s options (raises ConfigError naming the first one not allowed)."""
    for name, (check, allowed) in OPTION_RULES.items():
        if not check(options[name]):
            raise ConfigError(f"audio-folder option {name} = {options[name]!r}: must be {allowed}")
    test, valid = options["test_fraction"], options["valid_fraction"]
    if test + valid >= 1:
        raise ConfigError(f"audio-folder options test_fraction + valid_fraction = {test:g} + {valid:g}: "
                          "must be below 1 (the rest is train)")


def read_layout(root, *, group_by: str | None = None, window_seconds: float = 3.0,
                hop_seconds: float | None = None, test_fraction: float = 0.2, valid_fraction: float = 0.1,
                sample_rate: int = 16000, families: dict | None = None, test_only: bool = False) -> Dataset:
    """Read a folder of recordings into windowed, group-split clips.

    Parameters
    ----------
    root : str or Path
        The folder.
    group_by : str, optional
        Regular expression naming each file's group (``^([a-z]+)_``: the player before ``_``).
    window_seconds, hop_seconds : float
        Window length and hop, above 0 (default hop: the window length).
    test_fraction, valid_fraction : float
        Shares of the groups held out for test and valid, in (0, 1), summing below 1.
    sample_rate : int
        Rate features read the audio at.
    families : dict, optional
        Each label's NSynth family (or "" for none): the folder's map onto the shared vocabulary,
        which cross-source experiments (``test_on``) score it through.
    test_only : bool
        Every recording goes to the test split and no class is left out: a folder that is only
        scored by models trained elsewhere (``test_on``).

    Raises
    ------
    DatasetError
        No audio, an unreadable file (named), a malformed CSV row, a path leaving the folder (a
        symlink too), every class with fewer than ``MIN_GROUPS`` groups.
    ConfigError
        An option out of range, or ``group_by`` not a valid regular expression.
    """
    check_options({"group_by": group_by, "window_seconds": window_seconds, "hop_seconds": hop_seconds,
                   "test_fraction": test_fraction, "valid_fraction": valid_fraction,
                   "sample_rate": sample_rate, "families": families, "test_only": test_only})
    root = Path(root)
    try:
        pattern = re.compile(group_by) if group_by else None
    except re.error as exc:
        raise ConfigError(f"--group-by {group_by!r} is not a regular expression ({exc})") from None
    multi_label = (root / LABELS_CSV).is_file()
    files = _labels_csv(root) if multi_label else _class_folders(root)
    groups = [group_of(path, pattern) for path, _ in files]
    family_map = _family_map(families, root)
    dropped = {} if test_only else small_classes([labels for _, labels in files], groups)
    kept = [(path, [c for c in labels if c not in dropped], group)
            for (path, labels), group in zip(files, groups)]
    kept = [row for row in kept if row[1]]  # a file left with no label is left out
    if not kept:
        raise DatasetError(f"{root}: every class has fewer than {MIN_GROUPS} groups: "
                           f"{', '.join(f'{c} ({n})' for c, n in dropped.items())}; a class needs one for "
                           "each of train, valid and test (give more files or a --group-by pattern with "
                           "more groups)")
    files, groups = [(path, labels) for path, labels, _ in kept], [group for *_, group in kept]
    splits = ["test"] * len(files) if test_only else assign_splits(
        [labels[0] for _, labels in files], groups, test_fraction=test_fraction,
        valid_fraction=valid_fraction)
    clips = []
    for (path, labels), group, split in zip(files, groups, splits):
        item = path.relative_to(root).as_posix()
        meta = {"labels": labels, "source_group": group} if multi_label else {"label": labels[0],
                                                                               "source_group": group}
        clips += windowed_clips(item_id=item, path=path, split=split, meta=meta,
                                seconds=audio_seconds(path), window=window_seconds,
                                hop=hop_seconds or window_seconds)
    note = f"{DROPPED}{json.dumps(dropped, separators=(',', ':'))}" if dropped else ""
    version = (f"{'csv' if multi_label else 'folders'}{note}-group{group_by or ''}-window{window_seconds:g}-"
               f"hop{hop_seconds or window_seconds:g}-test{test_fraction:g}-valid{valid_fraction:g}"
               + ("-test-only" if test_only else ""))
    notes = tuple(f"class {label!r} left out: its files make {n} group(s); a class needs at least "
                  f"{MIN_GROUPS} (one for each of train, valid and test)" for label, n in dropped.items())
    return Dataset(name="audio-folder", root=root, sample_rate=sample_rate, clips=tuple(clips),
                   version=version, clip_seconds=float(window_seconds), unit_field="source_group",
                   notes=notes, family_map=family_map)


def _family_map(families, root) -> FamilyMap | None:
    """The folder's family map from its ``families`` option (labels it does not list are errors
    when a cross-source experiment reads them)."""
    if families is None:
        return None
    bad = sorted(v for v in families.values() if v and v not in NSYNTH_FAMILIES)
    if bad:
        raise ConfigError(f"audio-folder option families: {', '.join(map(repr, bad))} are not NSynth "
                          f"families ({', '.join(NSYNTH_FAMILIES)}) for {root}")
    return FamilyMap("labels" if (Path(root) / LABELS_CSV).is_file() else "label",
                     {k: v or None for k, v in families.items()})


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None,
         group_by: str | None = None, window_seconds: float = 3.0, hop_seconds: float | None = None,
         test_fraction: float = 0.2, valid_fraction: float = 0.1, sample_rate: int = 16000,
         families: dict | None = None, test_only: bool = False) -> Dataset:
    """Load a folder of recordings from ``root`` or ``<data root>/audio-folder`` (the options are
    :func:`read_layout`'s, named here so that a suite's are checked before a run)."""
    return read_layout(dataset_root("audio-folder", data_root=data_root, root=root), group_by=group_by,
                       window_seconds=window_seconds, hop_seconds=hop_seconds, test_fraction=test_fraction,
                       valid_fraction=valid_fraction, sample_rate=sample_rate, families=families,
                       test_only=test_only)
