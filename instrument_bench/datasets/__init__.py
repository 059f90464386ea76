"""Datasets. ``DATASETS`` maps a name to its loader.

A loader is ``load(*, data_root, data_home, jobs, progress, **options) -> Dataset``; ``options``
come from a suite's ``[datasets.<name>]`` table.
"""

from . import gm_mix, gm_notes, musicnet, nsynth

DATASETS = {
    "gm-notes": gm_notes.load,
    "gm-mix": gm_mix.load,
    "nsynth": nsynth.load,
    "musicnet": musicnet.load,
}
