"""Datasets. ``DATASETS`` maps a name to its loader (a real dataset is looked for in
``<data root>/<name>``; ``irmas-predominant`` reads ``irmas``).

A loader is ``load(*, data_root, data_home, jobs, progress, **options) -> Dataset``; ``options``
come from a suite's ``[datasets.<name>]`` table (every real dataset takes ``root``: its folder,
wherever it is).
"""

from . import (
    audio_folder,
    gm_mix,
    gm_notes,
    irmas,
    medley_solos_db,
    mtg_jamendo,
    musicnet,
    nsynth,
    nsynth_tfrecord,
    openmic,
)

DATASETS = {
    "gm-notes": gm_notes.load,
    "gm-mix": gm_mix.load,
    "nsynth": nsynth.load,
    "nsynth-tfrecord": nsynth_tfrecord.load,
    "musicnet": musicnet.load,
    "irmas": irmas.load,
    "irmas-predominant": irmas.load_predominant,
    "medley-solos-db": medley_solos_db.load,
    "mtg-jamendo": mtg_jamendo.load,
    "openmic-2018": openmic.load,
    "audio-folder": audio_folder.load,
}
