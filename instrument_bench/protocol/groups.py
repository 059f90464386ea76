"""Scores of windows or snippets turned into scores of the recordings they were cut from.

Datasets that cut recordings into windows (IRMAS excerpts, MTG-Jamendo tracks, a user's files)
give every window the recording's id as its ``group``; models score windows, and the metrics
count recordings: a recording's scores are the mean (or max) of its windows' scores.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError

AGGREGATES = ("mean", "max")


def aggregate_windows(scores: np.ndarray, clips: np.ndarray, *, n_clips: int,
                      aggregate: str = "mean") -> np.ndarray:
    """Per-clip scores from per-window ``scores``: the ``mean`` or ``max`` over each clip's windows.

    Parameters
    ----------
    scores : np.ndarray
        ``(windows, classes)``.
    clips : np.ndarray
        The clip index of every window.
    n_clips : int
        Number of clips.
    aggregate : str
        ``mean`` or ``max``.
    """
    if aggregate not in AGGREGATES:
        raise ConfigError(f"unknown aggregate {aggregate!r}; valid: {', '.join(AGGREGATES)}")
    if aggregate == "max":
        out = np.full((n_clips, scores.shape[1]), -np.inf)
        np.maximum.at(out, clips, scores)
        return out
    sums = np.zeros((n_clips, scores.shape[1]))
    np.add.at(sums, clips, scores)
    return sums / np.bincount(clips, minlength=n_clips)[:, None]


def aggregate_groups(scores, labels, groups, *, aggregate: str = "mean"):
    """Scores and labels per group, groups in order of first appearance.

    Parameters
    ----------
    scores : np.ndarray
        ``(windows, classes)`` scores.
    labels : np.ndarray
        The windows' labels (a group's windows share its labels; the first window's are kept).
    groups : sequence
        The group id of every window.
    aggregate : str
        ``mean`` or ``max`` of a group's window scores.

    Returns
    -------
    scores, labels, ids
        One row per group, and the group ids.
    """
    ids, first, inverse = np.unique(np.asarray(groups), return_index=True, return_inverse=True)
    order = np.argsort(first)  # groups in order of first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    index = rank[inverse.ravel()]
    out = aggregate_windows(np.asarray(scores, dtype=np.float64), index, n_clips=len(ids),
                            aggregate=aggregate)
    return out, np.asarray(labels)[first[order]], ids[order]
