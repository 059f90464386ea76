"""The feature contract: a :class:`FeatureSpec` turns one clip into one fixed-length vector."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class FeatureSpec:
    """A named feature family and its parameters.

    Parameters
    ----------
    name : str
        Registry name.
    params : dict
        Keyword arguments of ``extract`` (part of the cache key).
    libraries : tuple of str
        Distributions whose versions change the output (part of the cache key).
    extract : callable, optional
        ``extract(audio, *, sample_rate, **params) -> 1-d array`` for audio features.
    from_meta : callable, optional
        ``from_meta(meta) -> 1-d array`` for features read from a clip's metadata.
    description : str
        One line for ``list``.
    frame_seconds : callable, optional
        ``frame_seconds(params, sample_rate) -> float``: the hop between frames of a
        ``(frames, bins)`` feature, so that models can cut windows of a given duration.
    extract_batch : callable, optional
        ``extract_batch(audio, *, sample_rate, **params) -> array``: the feature of a
        ``(clips, samples)`` batch of equal-length clips at once (used when given).
    from_file : callable, optional
        ``from_file(path, *, start, duration) -> array`` for features a dataset ships as files
        (the clip's ``meta[file_field]``), read in the clip's window.
    file_field : str
        The clip metadata field naming that file.
    components : tuple of FeatureSpec
        A union's parts (:func:`union`): its values are theirs side by side, and its cache is
        assembled from theirs.
    requires : callable, optional
        ``requires() -> str or None``: why the feature cannot be computed on this machine (an
        optional package missing, with its install command), or None; a run skips its cells with
        that one line instead of failing them.
    """

    name: str
    params: dict = field(default_factory=dict)
    libraries: tuple = ()
    extract: Callable | None = None
    from_meta: Callable | None = None
    description: str = ""
    frame_seconds: Callable | None = None
    extract_batch: Callable | None = None
    from_file: Callable | None = None
    file_field: str = ""
    requires: Callable | None = None
    components: tuple = ()

    def missing(self) -> str | None:
        """Why the feature cannot run here (see ``requires``), or None."""
        return self.requires() if self.requires is not None else None

    @property
    def needs_audio(self) -> bool:
        """True when the feature reads the clip's audio."""
        return self.extract is not None or any(p.needs_audio for p in self.components)

    @property
    def reads_files(self) -> bool:
        """True when the feature reads a file per clip (audio or a shipped feature file)."""
        return self.extract is not None or self.from_file is not None or any(
            p.reads_files for p in self.components)

    def extract_many(self, clips, *, sample_rate: int, params: dict | None = None):
        """Features of several clips as one float32 array: one ``extract_batch`` call when the
        feature has one and the clips are of one length, else ``extract`` clip by clip."""
        if self.components:
            return np.concatenate([p.extract_many(clips, sample_rate=sample_rate).reshape(len(clips), -1)
                                   for p in self.components], axis=1)
        params = self.params if params is None else params
        if self.extract_batch is not None and len({len(a) for a in clips}) == 1:
            return np.asarray(self.extract_batch(np.stack(clips), sample_rate=sample_rate, **params),
                              dtype=np.float32)
        rows = [self.extract(a, sample_rate=sample_rate, **params) for a in clips]
        return np.stack(rows).astype(np.float32)


def union(name: str, parts, *, description: str = "") -> FeatureSpec:
    """Flat features side by side (``mfcc-stats`` and ``essentia-descriptors`` as one vector).

    Its parameters carry every part's, so a change to a part changes the union's cache key; its
    cache is built from the parts' caches, so nothing is extracted twice.
    """
    parts = tuple(parts)
    return FeatureSpec(name=name, params={"parts": {p.name: p.params for p in parts}},
                       libraries=tuple(dict.fromkeys(lib for p in parts for lib in p.libraries)),
                       components=parts, description=description)
