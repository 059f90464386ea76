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
    gm_varied,
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
    "gm-notes-fluidr3": gm_notes.load_fluidr3,
    "gm-notes-varied": gm_varied.load,
    "gm-notes-varied-fluidr3": gm_varied.load_fluidr3,
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

# every dataset's labels in NSynth's 11 families (the shared vocabulary; see families.py); an audio
# folder's map comes from its suite table
FAMILY_MAPS = {
    "gm-notes": nsynth.FAMILY_MAP, "gm-notes-fluidr3": nsynth.FAMILY_MAP, "gm-mix": gm_mix.FAMILY_MAP,
    "nsynth": nsynth.FAMILY_MAP, "nsynth-tfrecord": nsynth.FAMILY_MAP, "musicnet": musicnet.FAMILY_MAP,
    "irmas": irmas.FAMILY_MAP, "irmas-predominant": irmas.FAMILY_MAP,
    "medley-solos-db": medley_solos_db.FAMILY_MAP, "mtg-jamendo": mtg_jamendo.FAMILY_MAP,
    "openmic-2018": openmic.FAMILY_MAP,
    "gm-notes-varied": nsynth.FAMILY_MAP, "gm-notes-varied-fluidr3": nsynth.FAMILY_MAP,
}


def family_map_of(dataset):
    """The :class:`~.families.FamilyMap` of a loaded dataset (its own, else its module's).

    Raises
    ------
    DatasetError
        The dataset has none (an audio folder without a ``families`` option).
    """
    from ..errors import DatasetError

    found = dataset.family_map or FAMILY_MAPS.get(dataset.name)
    if found is None:
        raise DatasetError(f"{dataset.name}: its labels have no NSynth family map; give one in the "
                           f"suite: [datasets.{dataset.name}] families = {{\"cello\" = \"string\", ...}}")
    return found
