"""Tasks: which label a clip carries, the label map, and the metric that ranks models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..datasets.gm import NSYNTH_FAMILIES, NSYNTH_SOURCES
from ..errors import DatasetError


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
    kind : str
        ``single-label``.
    description : str
        One line for ``list``.
    """

    name: str
    field: str
    classes: tuple
    primary_metric: str = "macro_f1"
    kind: str = "single-label"
    description: str = ""

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


TASKS = {
    "family": Task("family", "instrument_family_str", NSYNTH_FAMILIES,
                   description="NSynth instrument family, 11 classes, single-label"),
    "source": Task("source", "instrument_source_str", NSYNTH_SOURCES,
                   description="NSynth instrument source (acoustic/electronic/synthetic)"),
}
