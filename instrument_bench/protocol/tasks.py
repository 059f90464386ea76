"""Tasks: which labels a clip carries, the label map, and the metric that ranks models.

Single-label tasks read one metadata field per clip (``family``: NSynth's instrument family).
Multi-label tasks read the clip's ``instruments`` field, the MusicNet instrument codes sounding in
it (General MIDI program + 1, as MusicNet writes them), and map each code to a class of their
label map; codes a map does not cover are ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ..datasets import irmas, medley_solos_db, mtg_jamendo, openmic
from ..datasets.gm import FAMILY_PROGRAMS, NSYNTH_FAMILIES, NSYNTH_SOURCES
from ..errors import DatasetError

# MusicNet's 11 instruments (as in the MusicNet ResNet-18 study), by MusicNet code (GM program + 1).
MUSICNET_INSTRUMENTS = {
    1: "piano", 7: "harpsichord", 41: "violin", 42: "viola", 43: "cello", 44: "contrabass",
    61: "horn", 69: "oboe", 71: "bassoon", 72: "clarinet", 74: "flute",
}
# 12 instrument groups (the MusicNet 12-group study grouped MusicNet's instruments into 12 classes
# without publishing the grouping): the first twelve General MIDI program families, eight programs
# each.
GM_GROUPS = ("piano", "chromatic_percussion", "organ", "guitar", "bass", "strings", "ensemble",
             "brass", "reed", "pipe", "synth_lead", "synth_pad")


def family_of_code(code: int) -> str | None:
    """NSynth family of a MusicNet instrument code (GM program + 1), or None."""
    program = int(code) - 1
    return next((f for f, programs in FAMILY_PROGRAMS.items() if program in programs), None)


def group_of_code(code: int) -> str | None:
    """GM program group (``GM_GROUPS``) of a MusicNet instrument code, or None past program 95."""
    program = int(code) - 1
    return GM_GROUPS[program // 8] if 0 <= program < 8 * len(GM_GROUPS) else None


@dataclass(frozen=True)
class Task:
    """A single-label classification task read from one metadata field.

    Parameters
    ----------
    name : str
        Registry name.
    field : str
        The clip metadata field holding the label.
    classes : tuple of str
        The label map, in index order.
    primary_metric : str
        The metric the leaderboard ranks by (higher is better).
    description : str
        One line for ``list``.
    """

    name: str
    field: str
    classes: tuple
    primary_metric: str = "macro_f1"
    description: str = ""
    subset: bool = False
    kind = "single-label"

    def keep(self, clips) -> np.ndarray:
        """Which clips the task uses: all of them, or (``subset`` tasks such as ``piano-violin``)
        those whose label is in the label map."""
        if not self.subset:
            return np.ones(len(clips), dtype=bool)
        return np.array([c.meta.get(self.field) in self.classes for c in clips], dtype=bool)

    def bind(self, clips) -> Task:
        """The task with its label map read from the data when it has none (``label``: a user's
        folder names), sorted."""
        if self.classes:
            return self
        values = {c.meta.get(self.field) for c in clips} - {None}
        return replace(self, classes=tuple(sorted(map(str, values))))

    def labels(self, clips) -> np.ndarray:
        """Class indices of ``clips``.

        Raises
        ------
        DatasetError
            A clip lacks the field or carries a label outside the label map.
        """
        index = {c: i for i, c in enumerate(self.classes)}
        out = np.empty(len(clips), dtype=np.int64)
        for k, clip in enumerate(clips):
            value = clip.meta.get(self.field)
            if value not in index:
                where = clip.path or clip.clip_id
                raise DatasetError(f"{where}: {self.field}={value!r} is not a label of task "
                                   f"{self.name!r} (labels: {', '.join(self.classes)})")
            out[k] = index[value]
        return out


@dataclass(frozen=True)
class MultiLabelTask:
    """A multi-label task: every instrument sounding in a clip, mapped onto a label map.

    Parameters
    ----------
    name : str
        Registry name.
    classes : tuple of str
        The label map, in index order.
    class_of : callable
        ``class_of(code) -> str or None``: the class of a MusicNet instrument code (None: ignored).
    field : str
        The clip metadata field holding the list of instrument codes.
    primary_metric : str
        The metric the leaderboard ranks by: macro-F1 over labels (depends on the predictor).
    description : str
        One line for ``list``.
    """

    name: str
    classes: tuple
    class_of: Callable | None = None
    field: str = "instruments"
    primary_metric: str = "macro_f1"
    description: str = ""
    kind = "multi-label"

    def keep(self, clips) -> np.ndarray:
        """Which clips the task uses: all of them."""
        return np.ones(len(clips), dtype=bool)

    def bind(self, clips) -> MultiLabelTask:
        """The task with its label map read from the data when it has none (``labels``: a user's
        CSV), sorted."""
        if self.classes:
            return self
        values = {self._name(code) for c in clips for code in c.meta.get(self.field) or ()} - {None}
        return replace(self, classes=tuple(sorted(values)))

    def _name(self, code):
        return self.class_of(code) if self.class_of is not None else code

    def labels(self, clips) -> np.ndarray:
        """``(clips, classes)`` indicator matrix: 1 sounding, 0 not, -1 unknown.

        A clip whose metadata has an ``annotated`` list (OpenMIC-2018: only some labels were
        asked of the annotators) gets -1 for every class outside it; models and metrics skip
        those entries. Codes outside the label map are ignored.

        Raises
        ------
        DatasetError
            A clip lacks the field.
        """
        index = {c: i for i, c in enumerate(self.classes)}
        out = np.zeros((len(clips), len(self.classes)), dtype=np.int64)
        for k, clip in enumerate(clips):
            codes = clip.meta.get(self.field)
            if codes is None:
                raise DatasetError(f"{clip.path or clip.clip_id}: no {self.field!r} field; task "
                                   f"{self.name!r} needs a multi-label dataset")
            annotated = clip.meta.get("annotated")
            if annotated is not None:
                out[k] = -1
                out[k, [index[n] for n in map(self._name, annotated) if n in index]] = 0
            for code in codes:
                name = self._name(code)
                if name in index:
                    out[k, index[name]] = 1
        return out


TASKS = {
    "family": Task("family", "instrument_family_str", NSYNTH_FAMILIES,
                   description="NSynth instrument family, 11 classes, single-label"),
    "source": Task("source", "instrument_source_str", NSYNTH_SOURCES,
                   description="NSynth instrument source (acoustic/electronic/synthetic)"),
    "families": MultiLabelTask("families", NSYNTH_FAMILIES, family_of_code,
                               description="every NSynth family sounding in a clip, multi-label"),
    "instruments": MultiLabelTask("instruments", tuple(MUSICNET_INSTRUMENTS.values()),
                                  MUSICNET_INSTRUMENTS.get,
                                  description="MusicNet's 11 instruments sounding in a clip "
                                              "(as in the MusicNet ResNet-18 study), multi-label"),
    "groups": MultiLabelTask("groups", GM_GROUPS, group_of_code,
                             description="12 GM program groups sounding in a clip, multi-label "
                                         "(as in the MusicNet 12-group study)"),
    "irmas": MultiLabelTask("irmas", irmas.CLASSES,
                            description="IRMAS's 11 instruments in an excerpt: trained on predominant "
                                        "labels, tested multi-label (Han et al. 2017)"),
    "predominant": Task("predominant", "instrument", irmas.CLASSES,
                        description="IRMAS's predominant instrument of a 3 s training excerpt, 11 "
                                    "classes, single-label (as in the IRMAS VGG study)"),
    "medley-instrument": Task("medley-instrument", "instrument", medley_solos_db.CLASSES,
                              description="Medley-solos-DB's 8 solo instruments, single-label"),
    "piano-violin": Task("piano-violin", "instrument", ("piano", "violin"), subset=True,
                         description="Medley-solos-DB's piano and violin clips only, 2 classes "
                                     "(as in the Medley-solos-DB / MTG-Jamendo study)"),
    "jamendo-instrument": MultiLabelTask("jamendo-instrument", mtg_jamendo.TAGS,
                                         description="MTG-Jamendo's 40 instrument tags of a track, "
                                                     "multi-label"),
    "openmic": MultiLabelTask("openmic", openmic.CLASSES,
                              description="OpenMIC-2018's 20 instruments, multi-label, annotated "
                                          "labels only"),
    "label": Task("label", "label", (),
                  description="audio-folder: the class sub-folder of a file, single-label"),
    "labels": MultiLabelTask("labels", (), field="labels",
                             description="audio-folder: the labels.csv labels of a file, multi-label"),
}
