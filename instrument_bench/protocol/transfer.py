"""Cross-source evaluation: another dataset's test split seen through the shared family vocabulary.

An experiment with ``test_on = [...]`` fits on its dataset's train split, selects on its valid
split, and then scores each named dataset's test split (every clip of a ``test_only`` audio
folder) once, with the labels each dataset's :class:`~..datasets.families.FamilyMap` gives. Only
tasks whose labels are NSynth's families (``FAMILY_TASKS``) can cross datasets. Nothing of a target
but its test split is read, so a cross-source score never sees the target's train or valid clips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datasets import family_map_of
from ..errors import ConfigError, DatasetError

FAMILY_TASKS = ("family", "families")  # tasks whose label map is NSynth's families


@dataclass(frozen=True)
class TargetView:
    """The test clips of a target dataset a family task scores, and their labels.

    Parameters
    ----------
    dataset : str
        The target's name.
    version, split_hash : str
        Its data version and split (part of the cross-source rows' run keys).
    keep : np.ndarray
        Which of the target's test clips are scored (single-label: those with exactly one family).
    clips : list
        Those clips.
    y : np.ndarray
        Their labels as indices into the task's classes (single-label) or a ``(clips, classes)``
        indicator matrix, -1 where the target's annotation does not say (multi-label).
    groups : np.ndarray or None
        The recording of each clip, for windowed targets.
    """

    dataset: str
    version: str
    split_hash: str
    keep: np.ndarray
    clips: list
    y: np.ndarray
    groups: np.ndarray | None


def target_view(task, dataset) -> TargetView:
    """Bind a family task to a target dataset's test split.

    Raises
    ------
    ConfigError
        The task's labels are not NSynth families.
    DatasetError
        The target has no family map, a clip lacks its label field or carries an unmapped label,
        or no test clip is left.
    """
    if task.name not in FAMILY_TASKS:
        raise ConfigError(f"task {task.name!r} cannot be scored on another dataset: cross-source "
                          f"experiments (test_on) need a task on NSynth's families "
                          f"({', '.join(FAMILY_TASKS)})")
    family_map = family_map_of(dataset)
    index = {c: i for i, c in enumerate(task.classes)}
    split = dataset.split("test")
    keep, labels = np.zeros(len(split), dtype=bool), []
    for k, clip in enumerate(split):
        families = family_map.of(clip)
        if families is None:
            raise DatasetError(f"{clip.path or clip.clip_id}: no {family_map.field!r} field to map "
                               f"onto NSynth families")
        if task.kind == "single-label":
            if len(families) == 1:
                keep[k] = True
                labels.append(index[families[0]])
            continue
        row = np.zeros(len(task.classes), dtype=np.int64)
        known = family_map.known(clip)
        if known is not None:
            row[:] = -1
            row[[index[f] for f in known]] = 0
        row[[index[f] for f in families]] = 1
        keep[k] = True
        labels.append(row)
    clips = [c for c, k in zip(split, keep) if k]
    if not clips:
        how = "exactly one" if task.kind == "single-label" else "a"
        raise DatasetError(f"{dataset.name}: no test clip carries {how} NSynth family for task "
                           f"{task.name!r}")
    grouped = any("group" in c.meta for c in clips)
    groups = np.asarray([c.meta.get("group", c.clip_id) for c in clips]) if grouped else None
    y = np.asarray(labels, dtype=np.int64)
    return TargetView(dataset=dataset.name, version=dataset.version, split_hash=dataset.split_hash(),
                      keep=keep, clips=clips, y=y, groups=groups)


def to_label_map(task, y: np.ndarray, label_map: list) -> tuple[np.ndarray, np.ndarray]:
    """A target's labels in the indices (columns) of the classes a model learnt.

    Returns
    -------
    y : np.ndarray
        Single-label: indices into ``label_map`` of the clips whose family the model knows;
        multi-label: the indicator columns of ``label_map``.
    rows : np.ndarray
        Which clips are kept (single-label: a family the model never saw in training cannot be
        predicted, so its clips are left out; multi-label: all).
    """
    position = [task.classes.index(c) for c in label_map]
    if task.kind == "multi-label":
        return y[:, position], np.ones(len(y), dtype=bool)
    lookup = {p: i for i, p in enumerate(position)}
    rows = np.array([int(v) in lookup for v in y], dtype=bool)
    return np.array([lookup[int(v)] for v in y[rows]], dtype=np.int64), rows
