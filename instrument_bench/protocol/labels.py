"""Binding a task to a dataset: the clips it uses per split, their labels, and the label map a
model learns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datasets.base import SPLITS
from ..errors import DatasetError, TaskNotApplicableError

__all__ = ["SPLITS", "TaskView", "encode_labels", "kept_rows", "task_view"]


def encode_labels(task, y: dict) -> tuple[dict, list]:
    """Labels as the model sees them, and the label map of the classes it learns.

    Single-label: indices into the classes that occur in train. Multi-label: the indicator
    columns of the classes with a positive in train.

    Raises
    ------
    DatasetError
        A class occurs in valid or test but not in train.
    """
    if task.kind == "multi-label":  # unknown labels (-1) count neither way
        kept = (y["train"] == 1).sum(axis=0) > 0
        present = {split: set(np.flatnonzero((y[split] == 1).sum(axis=0) > 0)) for split in ("valid", "test")}
    else:
        kept = np.isin(np.arange(len(task.classes)), y["train"])
        present = {split: set(np.unique(y[split])) for split in ("valid", "test")}
    for split, classes in present.items():
        unseen = sorted(c for c in classes if not kept[c])
        if unseen:
            names = ", ".join(task.classes[i] for i in unseen)
            raise DatasetError(f"task {task.name!r}: classes {names} occur in {split} but not in "
                               "train; a model cannot learn them")
    if task.kind == "multi-label":
        return {split: y[split][:, kept] for split in y}, [c for c, k in zip(task.classes, kept) if k]
    index = np.cumsum(kept) - 1
    return {split: index[y[split]] for split in y}, [c for c, k in zip(task.classes, kept) if k]


def kept_rows(X: dict, keep: dict) -> dict:
    """The rows ``keep`` selects from each split's array (the array itself when it keeps all)."""
    return {s: x if keep[s].all() else np.asarray(x[keep[s]]) for s, x in X.items()}


@dataclass
class TaskView:
    """A task on a dataset: the task (label map bound to the data), the clips it uses per split,
    their labels and, for windowed datasets, the recording (``group``) of every clip."""

    task: object
    keep: dict
    clips: dict
    y: dict
    groups: dict | None

    def rows(self, X: dict) -> dict:
        """The feature rows of the clips the task uses (all rows, unchanged, when it uses all)."""
        return kept_rows(X, self.keep)


def task_view(task, dataset) -> TaskView:
    """Bind ``task`` to ``dataset``: its label map, kept clips, labels and groups.

    Raises
    ------
    TaskNotApplicableError
        No clip of the dataset carries the task's label field (``labels`` on a folder without
        ``labels.csv``).
    DatasetError
        A split has no clip for the task, or a clip's label is outside the label map.
    """
    if not any(task.field in c.meta for c in dataset.clips):
        raise TaskNotApplicableError(f"{dataset.name} has no {task.field!r} labels for task "
                                     f"{task.name!r}")
    task = task.bind(dataset.clips)
    keep, clips = {}, {}
    for s in SPLITS:
        split = dataset.split(s)
        keep[s] = task.keep(split)
        clips[s] = [c for c, k in zip(split, keep[s]) if k]
        if not clips[s]:
            raise DatasetError(f"{dataset.name}: the {s} split has no clip for task {task.name!r}")
    grouped = any("group" in c.meta for c in dataset.clips)
    groups = {s: np.asarray([c.meta.get("group", c.clip_id) for c in clips[s]]) for s in SPLITS} \
        if grouped else None
    return TaskView(task=task, keep=keep, clips=clips, y={s: task.labels(clips[s]) for s in SPLITS},
                    groups=groups)
