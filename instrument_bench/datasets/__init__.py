"""Datasets. ``DATASETS`` maps a name to its loader ``load(*, data_root, data_home, jobs, progress)``."""

from . import gm_notes, nsynth

DATASETS = {
    "gm-notes": gm_notes.load,
    "nsynth": nsynth.load,
}
