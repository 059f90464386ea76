"""Medley-solos-DB replica: a metadata csv and mono float32 wavs."""

from __future__ import annotations

import csv
import functools
import random
import uuid
from pathlib import Path

import numpy as np

from .common import _mix, _phrase, _unique, _write

MEDLEY_CLASSES = ("clarinet", "distorted electric guitar", "female singer", "flute", "piano",
                  "tenor saxophone", "trumpet", "violin")
MEDLEY_PROGRAMS = (71, 30, 52, 73, 0, 66, 56, 40)
MEDLEY_SAMPLE_RATE = 22050
MEDLEY_SAMPLES = 65536
MEDLEY_SUBSETS = ("training", "validation", "test")
# Clips per song, per subset: most classes, and the dominant piano / violin.
_MEDLEY_SONGS = {"training": (3, 3), "validation": (2,), "test": (3,)}
_MEDLEY_SONGS_LARGE = {"training": (4, 3, 3), "validation": (2, 2), "test": (3, 2)}


def write_medley_solos_db(root) -> Path:
    """Write a Medley-solos-DB replica.

    ``Medley-solos-DB_metadata.csv`` (``subset,instrument,instrument_id,song_id,uuid4``) and
    ``audio/Medley-solos-DB_<subset>-<instrument_id>_<uuid4>.wav``: mono 22,050 Hz float32 wavs of
    exactly 65,536 samples. Songs are subset-disjoint. Per class 6 training clips (2 songs),
    2 validation (1 song), 3 test (1 song); piano and violin 10 / 4 / 5 (3 / 2 / 2 songs).

    Parameters
    ----------
    root : str or Path
        Destination folder (created).

    Returns
    -------
    Path
        ``root``.
    """
    root = Path(root)
    sr = MEDLEY_SAMPLE_RATE
    rng = np.random.default_rng(2)
    ids = random.Random(2019)
    rows = []
    seen: set = set()
    song_id = 0
    for subset in MEDLEY_SUBSETS:
        for instrument_id, (name, program) in enumerate(zip(MEDLEY_CLASSES, MEDLEY_PROGRAMS)):
            plan = _MEDLEY_SONGS_LARGE if name in ("piano", "violin") else _MEDLEY_SONGS
            for clips in plan[subset]:
                motif = rng.choice(12, size=5, replace=False)  # the song's notes
                phrase = functools.partial(_phrase, program, sr, MEDLEY_SAMPLES, rng, choices=motif)
                for _ in range(clips):
                    key = str(uuid.UUID(int=ids.getrandbits(128), version=4))
                    audio = _mix([_unique(phrase, seen)])
                    _write(root / "audio" / f"Medley-solos-DB_{subset}-{instrument_id}_{key}.wav",
                           audio, sr, subtype="FLOAT")
                    rows.append((subset, name, instrument_id, song_id, key))
                song_id += 1
    with open(root / "Medley-solos-DB_metadata.csv", "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["subset", "instrument", "instrument_id", "song_id", "uuid4"])
        writer.writerows(rows)
    return root
