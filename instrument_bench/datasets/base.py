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
    """

    name: str
    root: Path
    sample_rate: int
    clips: tuple
    version: str = ""
    clip_seconds: float | None = None

    def split(self, name: str) -> list[Clip]:
        """Clips of one split, in dataset order."""
        return [c for c in self.clips if c.split == name]

    def split_hash(self) -> str:
        """A short hash of (clip id, split) over all clips: equal hashes mean equal splits."""
        digest = hashlib.sha256()
        for clip in self.clips:
            digest.update(f"{clip.clip_id}\t{clip.split}\n".encode())
        return digest.hexdigest()[:12]
