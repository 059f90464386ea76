"""The dataset contract: a :class:`Dataset` is a named, rooted collection of :class:`Clip`.

Every dataset module exposes ``load(*, data_root=None, data_home=None, jobs=1) -> Dataset``.
A clip carries its split (``train`` / ``valid`` / ``test``, the dataset's official one) and the
dataset's own metadata fields, from which tasks take their labels.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..windows import window_starts

SPLITS = ("train", "valid", "test")


@dataclass(frozen=True)
class Clip:
    """One labelled piece of audio.

    Parameters
    ----------
    clip_id : str
        Unique id within the dataset (NSynth's ``note_str``).
    path : Path or None
        The audio file, or None where a dataset ships features only.
    split : str
        ``train``, ``valid`` or ``test``.
    meta : Mapping
        The dataset's metadata fields for this clip.
    start : float
        Where the clip starts in the audio file, in seconds (clips cut from recordings).
    duration : float or None
        The clip's length in seconds (None: to the end of the file).
    """

    clip_id: str
    path: Path | None
    split: str
    meta: Mapping = field(default_factory=dict, compare=False, hash=False)
    start: float = 0.0
    duration: float | None = None


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset: its clips and where they came from.

    Parameters
    ----------
    name : str
        Registry name.
    root : Path
        Folder the dataset was read from.
    sample_rate : int
        Sample rate features should read the audio at.
    clips : tuple of Clip
        Every clip, in a fixed order.
    version : str
        A string that changes whenever the data changes (part of feature cache keys).
    clip_seconds : float or None
        The length of every clip, where the dataset fixes one (what ``predict`` cuts a user's
        recording into).
    unit_field : str
        The clip metadata field naming its *independence unit*: what test clips share when they
        are not independent (the instrument of an NSynth note, the recording of a MusicNet clip,
        the song of a Medley-solos-DB clip, the artist of an MTG-Jamendo track). Confidence
        intervals resample these units, not clips. Empty: the clip's ``group`` (its recording,
        for windowed datasets), else the clip itself.
    notes : tuple of str
        What the loader left out or changed, and why (a class with too few recordings): ``run``
        prints them when the dataset loads and ``validate`` lists them as warnings.
    family_map : FamilyMap, optional
        How its labels map to NSynth families, where the loader sets one (an audio folder's
        ``families`` option); otherwise its module's ``FAMILY_MAP`` applies.
    """

    name: str
    root: Path
    sample_rate: int
    clips: tuple
    version: str = ""
    clip_seconds: float | None = None
    unit_field: str = ""
    notes: tuple = ()
    family_map: object = None

    def unit_of(self, clip) -> str:
        """The independence unit of ``clip`` (see ``unit_field``)."""
        if self.unit_field:
            return str(clip.meta[self.unit_field])
        return str(clip.meta.get("group", clip.clip_id))

    def split(self, name: str) -> list[Clip]:
        """Clips of one split, in dataset order."""
        return [c for c in self.clips if c.split == name]

    def split_hash(self) -> str:
        """A short hash of (clip id, split) over all clips: equal hashes mean equal splits."""
        digest = hashlib.sha256()
        for clip in self.clips:
            digest.update(f"{clip.clip_id}\t{clip.split}\n".encode())
        return digest.hexdigest()[:12]


def safe_path(root, relative, *, source) -> Path:
    """``root / relative``, refusing a path that leaves ``root``.

    Parameters
    ----------
    root : str or Path
        The dataset folder.
    relative : str
        A path read from a metadata file.
    source : str
        Where the path was read (file and row), for the error message.

    Raises
    ------
    DatasetError
        The path is absolute or climbs out of ``root`` (``..``, a symlink pointing outside).
    """
    from ..errors import DatasetError

    root = Path(root)
    text = str(relative).strip()
    if not text or Path(text).is_absolute():
        raise DatasetError(f"{source}: path {text!r} must be relative to the dataset folder {root}")
    path = root / text
    if not path.resolve().is_relative_to(root.resolve()):
        raise DatasetError(f"{source}: path {text!r} leaves the dataset folder {root}")
    return path


def audio_seconds(path) -> float:
    """Duration of an audio file in seconds, read from its header; 0 when the header cannot be
    read or announces no samples (the file then gives one window, and feature extraction or
    ``--on-bad-clip skip`` reports it with the reason, like any other unusable clip).

    Raises
    ------
    DatasetError
        The file is missing.
    """
    import soundfile as sf

    from ..errors import DatasetError

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: audio file not found")
    try:
        info = sf.info(path)
    except (sf.LibsndfileError, RuntimeError, ValueError):
        return 0.0
    return info.frames / info.samplerate if info.frames > 0 and info.samplerate > 0 else 0.0


def windowed_clips(*, item_id: str, path, split: str, meta: Mapping, seconds: float, window: float,
                   hop: float) -> list[Clip]:
    """The windows of one recording as clips of its ``group`` (the recording's id).

    Every window carries the recording's labels; the runner scores the windows and averages their
    scores per group, so metrics count recordings (IRMAS excerpts, MTG-Jamendo tracks, a user's
    files), not windows.
    """
    starts = window_starts(seconds, window=window, hop=hop)
    return [Clip(f"{item_id}@{start:.3f}", path, split, {**meta, "group": item_id}, start=start,
                 duration=float(window)) for start in starts]


def grouped_split(groups, *, fractions: dict, seed: int) -> dict:
    """Assign groups to splits at random with fixed ``seed``: ``{group: split}``.

    ``fractions`` maps a split name to its share of the groups (``{"valid": 0.15}``; the rest
    stays in ``train``); each named split gets at least one group when there are enough.
    """
    order = list(np.random.default_rng(seed).permutation(sorted(set(groups))))
    out, at = {}, 0
    for split, fraction in fractions.items():
        n = max(1, int(round(fraction * len(order)))) if fraction > 0 and len(order) > len(fractions) else 0
        for group in order[at:at + n]:
            out[group] = split
        at += n
    for group in order[at:]:
        out[group] = "train"
    return out
