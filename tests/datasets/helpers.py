"""Helpers shared by the dataset tests."""

from __future__ import annotations


def splits_of(dataset, key) -> dict:
    """``{value of key(clip): set of splits}`` over the dataset's clips."""
    out = {}
    for clip in dataset.clips:
        out.setdefault(key(clip), set()).add(clip.split)
    return out
