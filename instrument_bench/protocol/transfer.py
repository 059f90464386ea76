"""Scoring a fitted model on test data it was not selected on: another dataset's test split seen
through the shared family vocabulary, the clips of instrument sources it never heard (seed 004's
source test), and its own test split perturbed.

An experiment with ``test_on = [...]`` fits on its dataset's train split, selects on its valid
split, and then scores each named dataset's test split (every clip of a ``test_only`` audio
folder) once, with the labels each dataset's :class:`~..datasets.families.FamilyMap` gives. Only
tasks whose labels are NSynth's families (``FAMILY_TASKS``) can cross datasets. Nothing of a target
but its test split is read, so a cross-source score never sees the target's train or valid clips.

An experiment with ``train_source`` fits and selects on one instrument source's clips
(:func:`source_view`) and scores the clips of each other source, from every split, since none of
their instruments was heard in training (:func:`source_targets`). ``perturbations`` score the test
split again under each perturbation and severity (:func:`perturbation_targets`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datasets import family_map_of
from ..datasets.base import SPLITS
from ..errors import ConfigError, DatasetError, TaskNotApplicableError
from ..features.perturbations import PERTURBATIONS, severity_text
from .labels import TaskView

SOURCE_FIELD = "instrument_source_str"  # NSynth's (and gm-notes') instrument source of a note

FAMILY_TASKS = ("family", "families")  # tasks whose label map is NSynth's families


@dataclass(frozen=True)
class TargetView:
    """The clips of a target a task scores, and their labels.

    Parameters
    ----------
    dataset : str
        The target's name.
    version, split_hash : str
        Its data version and split (part of the cross-source rows' run keys).
    keep : dict
        Which clips of each split read are scored, ``{split: mask}`` (a cross-source target: its
        test split's clips with exactly one family, single-label).
    clips : list
        Those clips.
    y : np.ndarray
        Their labels as indices into the task's classes (single-label) or a ``(clips, classes)``
        indicator matrix, -1 where the target's annotation does not say (multi-label).
    groups : np.ndarray or None
        The recording of each clip, for windowed targets.
    source : str
        The instrument source of a source test's target (``-``: every source).
    perturbation, severity : str
        The perturbation of its audio and its severity (``-``: none).
    """

    dataset: str
    version: str
    split_hash: str
    keep: dict
    clips: list
    y: np.ndarray
    groups: np.ndarray | None
    source: str = "-"
    perturbation: str = "-"
    severity: str = "-"

    @property
    def key(self) -> str:
        """The target's name in run keys and prediction files: the dataset, ``@source``,
        ``~perturbation~severity``."""
        return (self.dataset + (f"@{self.source}" if self.source != "-" else "")
                + (f"~{self.perturbation}" if self.perturbation != "-" else "")
                + (f"~{self.severity}" if self.severity != "-" else ""))

    def key_fields(self) -> dict:
        """What a target adds to a cell's run key (the condition only where it is set, so the keys
        of plain cross-source rows stay what they were)."""
        fields = {"test_dataset": self.dataset, "test_version": self.version,
                  "test_split_hash": self.split_hash}
        for name in ("source", "perturbation", "severity"):
            if getattr(self, name) != "-":
                fields[f"test_{name}" if name == "source" else name] = getattr(self, name)
        return fields

    def applies_to(self, spec) -> str | None:
        """Why this target cannot be scored on the feature ``spec`` (None: it can): an audio
        perturbation needs a feature computed from audio, reversed frames a ``(frames, bins)``
        feature."""
        if self.perturbation == "-":
            return None
        if PERTURBATIONS[self.perturbation].on == "frames":
            return None if spec.frame_seconds is not None else (
                f"{spec.name} has no time frames to reverse (a statistics vector)")
        if spec.from_meta is not None or spec.from_file is not None:
            return f"{spec.name} is not computed from the audio the perturbation changes"
        return None


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
                      keep={"test": keep}, clips=clips, y=y, groups=groups)


def _sources(clips) -> list:
    return [c.meta.get(SOURCE_FIELD) for c in clips]


def source_view(view: TaskView, dataset, source: str) -> tuple[TaskView, list]:
    """A task view restricted to the clips of one instrument source (every split), and notes.

    Single-label classes with no train clip of that source cannot be learnt, so their valid and
    test clips are left out too (one note names them).

    Raises
    ------
    TaskNotApplicableError
        The dataset's clips carry no instrument source, or the task is multi-label.
    DatasetError
        A split has no clip of that source.
    """
    task = view.task
    if not any(SOURCE_FIELD in c.meta for c in dataset.clips):
        raise TaskNotApplicableError(f"{dataset.name} has no {SOURCE_FIELD!r} field: a source test "
                                     "(train_source) needs NSynth's instrument sources")
    if task.kind != "single-label":
        raise TaskNotApplicableError(f"a source test (train_source) takes single-label tasks; "
                                     f"{task.name!r} is {task.kind}")
    keep, clips, y, notes, masks = {}, {}, {}, [], {}
    of_source = {s: np.array([v == source for v in _sources(view.clips[s])], dtype=bool) for s in SPLITS}
    learnt = set(np.asarray(view.y["train"])[of_source["train"]].tolist())
    for s in SPLITS:
        mask = of_source[s] & np.isin(view.y[s], sorted(learnt))
        dropped = sorted({task.classes[int(c)] for c in np.asarray(view.y[s])[of_source[s] & ~mask]})
        if dropped:
            notes.append(f"{s}: {', '.join(dropped)} left out (no {source} instrument of it in train)")
        if not mask.any():
            raise DatasetError(f"{dataset.name}: the {s} split has no {source} clip for task {task.name!r}")
        full = np.flatnonzero(view.keep[s])
        keep[s] = np.zeros_like(view.keep[s])
        keep[s][full[mask]] = True
        clips[s] = [c for c, k in zip(view.clips[s], mask) if k]
        y[s] = np.asarray(view.y[s])[mask]
        masks[s] = mask
    groups = {s: view.groups[s][masks[s]] for s in SPLITS} if view.groups is not None else None
    return TaskView(task=task, keep=keep, clips=clips, y=y, groups=groups), notes


def source_targets(view: TaskView, dataset, source: str) -> list[TargetView]:
    """The clips of every other instrument source than ``source`` (from every split: none of
    their instruments was heard in training) as targets of a source test, one per source."""
    task, targets = view.task, []
    for other in sorted({v for v in _sources(dataset.clips) if v and v != source}):
        keep, clips = {}, []
        for s in SPLITS:
            split = dataset.split(s)
            keep[s] = np.asarray(task.keep(split), dtype=bool) & np.array(
                [c.meta.get(SOURCE_FIELD) == other for c in split], dtype=bool)
            clips += [c for c, k in zip(split, keep[s]) if k]
        if not clips:
            continue
        grouped = any("group" in c.meta for c in clips)
        groups = np.asarray([c.meta.get("group", c.clip_id) for c in clips]) if grouped else None
        targets.append(TargetView(dataset=dataset.name, version=dataset.version,
                                  split_hash=dataset.split_hash(), keep=keep, clips=clips,
                                  y=np.asarray(task.labels(clips)), groups=groups, source=other))
    return targets


def perturbation_targets(view: TaskView, dataset, names, *, source: str = "-") -> list[TargetView]:
    """The view's own test clips under each named perturbation at each of its severities."""
    targets = []
    for name in names:
        for severity in PERTURBATIONS[name].severities:
            targets.append(TargetView(
                dataset=dataset.name, version=dataset.version, split_hash=dataset.split_hash(),
                keep={"test": view.keep["test"]}, clips=view.clips["test"], y=np.asarray(view.y["test"]),
                groups=view.groups["test"] if view.groups is not None else None, source=source,
                perturbation=name, severity=severity_text(severity)))
    return targets


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
