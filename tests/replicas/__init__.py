"""Small, layout-exact replicas of six real datasets, with audio from the project's SoundFont.

Every replica reproduces the folder layout, file naming, metadata format and audio format of the
real dataset, at a tiny scale, so that loaders can be tested without downloading anything (the
audio is built in :mod:`.common`).

Writers (each ``write_<name>(root, ...) -> root``, one module each):

- :func:`write_irmas` -- IRMAS (training excerpts + 3 testing parts with ``.txt`` labels)
- :func:`write_medley_solos_db` -- Medley-solos-DB (metadata csv + float32 wavs)
- :func:`write_mtg_jamendo` -- MTG-Jamendo instrument subset (split-0 tsvs, mp3 audio, melspecs)
- :func:`write_openmic` -- OpenMIC-2018 (npz of VGGish-like frames, class map, split01 partitions)
- :func:`write_nsynth_tfrecord` -- NSynth's TFRecord release, from an NSynth json/wav tree
- :func:`write_audio_folder` -- a user's own recordings (class folders, mixed formats)

:func:`write_all` writes all six under one folder; ``python -m tests.replicas DIR`` does the same
from the command line. :func:`corrupt_wav`, :func:`silence_wav` and :func:`truncate_file` damage
one file of a replica (:mod:`.damage`).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from .audio_folder import write_audio_folder
from .common import note_pool
from .damage import clone, corrupt_wav, own, silence_wav, truncate_file
from .irmas import write_irmas
from .medley_solos_db import write_medley_solos_db
from .mtg_jamendo import mtg_melspec, write_mtg_jamendo
from .nsynth_tfrecord import render_tiny_nsynth, write_nsynth_tfrecord
from .openmic import openmic_frames, write_openmic

__all__ = [
    "DEFAULT_FOLDERS", "clone", "corrupt_wav", "mtg_melspec", "note_pool", "openmic_frames", "own",
    "render_tiny_nsynth", "silence_wav", "truncate_file", "write_all", "write_audio_folder",
    "write_irmas", "write_medley_solos_db", "write_mtg_jamendo", "write_nsynth_tfrecord",
    "write_openmic",
]

# Replica name -> its folder under a data root (the registry name of the dataset it replicates).
DEFAULT_FOLDERS = {
    "irmas": "irmas",
    "medley_solos_db": "medley-solos-db",
    "mtg_jamendo": "mtg-jamendo",
    "openmic": "openmic-2018",
    "nsynth_tfrecord": "nsynth-tfrecord",
    "audio_folder": "audio-folder",
}

WRITERS = {
    "irmas": write_irmas,
    "medley_solos_db": write_medley_solos_db,
    "mtg_jamendo": write_mtg_jamendo,
    "openmic": write_openmic,
    "nsynth_tfrecord": write_nsynth_tfrecord,
    "audio_folder": write_audio_folder,
}


def write_all(data_root, *, nsynth_root=None, options: dict | None = None) -> dict[str, Path]:
    """Write all six replicas into ``data_root/<DEFAULT_FOLDERS[name]>``.

    Parameters
    ----------
    data_root : str or Path
        Destination folder (created).
    nsynth_root : str or Path, optional
        NSynth json/wav tree for the TFRecord replica; when None the tests' tiny gm-notes tree is
        rendered into a temporary folder (removed afterwards).
    options : dict, optional
        Replica name to keyword arguments of its writer (e.g. ``{"irmas": {"songs_per_class": 2}}``).

    Returns
    -------
    dict of str to Path
        Replica name (as in ``DEFAULT_FOLDERS``) to its root.
    """
    data_root, options = Path(data_root), dict(options or {})
    unknown = sorted(set(options) - set(WRITERS))
    if unknown:
        raise ValueError(f"no replica named {', '.join(unknown)}; replicas: {', '.join(WRITERS)}")
    out = {}
    with tempfile.TemporaryDirectory(prefix="replica-nsynth-") as tmp:
        for name, write in WRITERS.items():
            kwargs = dict(options.get(name, {}))
            if name == "nsynth_tfrecord":
                kwargs["nsynth_root"] = nsynth_root or render_tiny_nsynth(Path(tmp) / "nsynth")
            out[name] = write(data_root / DEFAULT_FOLDERS[name], **kwargs)
    return out
