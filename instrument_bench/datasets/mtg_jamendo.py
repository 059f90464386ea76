"""MTG-Jamendo's instrument subset (Bogdanov et al. 2019) in its own layout.

The layout (the GitHub repository's ``data/`` folder beside the downloaded archives)::

    ROOT/data/splits/split-<N>/autotagging_instrument-{train,validation,test}.tsv
    ROOT/audio/<PATH>                  the MP3s (PATH as in the TSV: 48/948.mp3)
    ROOT/melspecs/<PATH>.npy           the published mel spectrograms (48/948.npy: 96 x frames)

A TSV row is ``TRACK_ID  ARTIST_ID  ALBUM_ID  PATH  DURATION  tag  tag ...`` (tab-separated, one
``instrument---<name>`` per tag column). Splits are the official artist-disjoint ones (``split``
option, default 0). Tracks are multi-label over the 40 instrument tags (task
``jamendo-instrument``). Every track is cut into ``window_seconds`` snippets (default 3 s, as in
the Medley-solos-DB / MTG-Jamendo study); models score snippets, scores are averaged per track.
``source``: ``melspec`` reads the published spectrograms (feature ``provided-melspec``), ``audio``
the MP3s (every audio feature); the default takes the spectrograms when the ``melspecs`` folder
exists.
"""

from __future__ import annotations

import csv
from pathlib import Path

from ..config import dataset_root
from ..errors import DatasetError
from .base import Dataset, safe_path, windowed_clips
from .families import FamilyMap

TAGS = ("accordion", "acousticbassguitar", "acousticguitar", "bass", "beat", "bell", "bongo", "brass",
        "cello", "clarinet", "classicalguitar", "computer", "doublebass", "drummachine", "drums",
        "electricguitar", "electricpiano", "flute", "guitar", "harmonica", "harp", "horn", "keyboard",
        "oboe", "orchestra", "organ", "pad", "percussion", "piano", "pipeorgan", "rhodes", "sampler",
        "saxophone", "strings", "synthesizer", "trombone", "trumpet", "viola", "violin", "voice")
# NSynth family of every instrument tag; None: percussion, samplers and ensembles with no family
FAMILY_MAP = FamilyMap("instruments", {
    "accordion": "reed", "acousticbassguitar": "bass", "acousticguitar": "guitar", "bass": "bass",
    "beat": None, "bell": "mallet", "bongo": None, "brass": "brass", "cello": "string",
    "clarinet": "reed", "classicalguitar": "guitar", "computer": None, "doublebass": "string",
    "drummachine": None, "drums": None, "electricguitar": "guitar", "electricpiano": "keyboard",
    "flute": "flute", "guitar": "guitar", "harmonica": "reed", "harp": "string", "horn": "brass",
    "keyboard": "keyboard", "oboe": "reed", "orchestra": None, "organ": "organ", "pad": None,
    "percussion": None, "piano": "keyboard", "pipeorgan": "organ", "rhodes": "keyboard",
    "sampler": None, "saxophone": "reed", "strings": "string", "synthesizer": "synth_lead",
    "trombone": "brass", "trumpet": "brass", "viola": "string", "violin": "string", "voice": "vocal"})
PREFIX = "instrument---"
HEADER = ("TRACK_ID", "ARTIST_ID", "ALBUM_ID", "PATH", "DURATION")
SPLIT_FILES = {"train": "train", "valid": "validation", "test": "test"}
SAMPLE_RATE = 16000
MELSPEC_RATE, MELSPEC_HOP, MELSPEC_BANDS = 16000, 256, 96  # how MTG computed the published ones


def read_split_file(path: Path) -> list[dict]:
    """The rows of one split TSV, checked.

    Raises
    ------
    DatasetError
        The file is missing, its header is not MTG-Jamendo's, or a row is malformed (named by its
        line number): too few columns, a duration that is not a positive number, a tag outside
        the 40 instrument tags.
    """
    if not path.is_file():
        raise DatasetError(f"{path}: split file not found")
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        lines = list(csv.reader(f, delimiter="\t"))
    if not lines or tuple(lines[0][:5]) != HEADER:
        raise DatasetError(f"{path}: header should start with {' '.join(HEADER)}")
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not cells:
            continue
        if len(cells) < 6:
            raise DatasetError(f"{path}: line {number}: expected {len(HEADER)} columns and at least one "
                               f"tag, got {len(cells)} columns")
        try:
            duration = float(cells[4])
        except ValueError:
            duration = -1.0
        if not duration > 0:
            raise DatasetError(f"{path}: line {number}: DURATION {cells[4]!r} is not a positive number")
        tags = []
        for cell in cells[5:]:
            tag = cell.strip().removeprefix(PREFIX)
            if tag not in TAGS:
                raise DatasetError(f"{path}: line {number}: {cell.strip()!r} is not one of the 40 "
                                   f"instrument tags ({PREFIX}<name>)")
            tags.append(tag)
        rows.append({"track": cells[0], "artist": cells[1], "album": cells[2], "path": cells[3],
                     "duration": duration, "tags": sorted(set(tags)), "line": number})
    return rows


def read_layout(root, *, split: int = 0, source: str | None = None, window_seconds: float = 3.0,
                hop_seconds: float | None = None, sample_rate: int = SAMPLE_RATE) -> Dataset:
    """Read one official split of the instrument subset, cut into snippets.

    Parameters
    ----------
    root : str or Path
        Folder holding ``data/splits``, ``audio`` and/or ``melspecs``.
    split : int
        Official split number (0-4).
    source : str, optional
        ``melspec`` or ``audio`` (default: ``melspec`` when ``ROOT/melspecs`` exists).
    window_seconds, hop_seconds : float
        Snippet length and hop (default hop: the snippet length).
    sample_rate : int
        Rate audio features read the MP3s at.

    Raises
    ------
    DatasetError
        A split file or row is malformed, a path leaves the dataset folder, a track is in two
        splits, or a track's file is missing.
    """
    root = Path(root)
    source = source or ("melspec" if (root / "melspecs").is_dir() else "audio")
    if source not in ("melspec", "audio"):
        raise DatasetError(f"{root}: source must be 'melspec' or 'audio', got {source!r}")
    folder = root / "data" / "splits" / f"split-{split}"
    clips, seen = [], {}
    for name, file_name in SPLIT_FILES.items():
        path = folder / f"autotagging_instrument-{file_name}.tsv"
        for row in read_split_file(path):
            where = f"{path}: line {row['line']}"
            if row["track"] in seen:
                raise DatasetError(f"{where}: track {row['track']} is also in the {seen[row['track']]} split")
            seen[row["track"]] = name
            audio = safe_path(root / "audio", row["path"], source=where)
            meta = {"instruments": row["tags"], "artist": row["artist"], "album": row["album"]}
            if source == "melspec":
                melspec = safe_path(root / "melspecs", str(Path(row["path"]).with_suffix(".npy")),
                                    source=where)
                if not melspec.is_file():
                    raise DatasetError(f"{where}: mel spectrogram {melspec} not found")
                meta["melspec_path"] = str(melspec)
                audio = None
            elif not audio.is_file():
                raise DatasetError(f"{where}: audio file {audio} not found")
            clips += windowed_clips(item_id=row["track"], path=audio, split=name, meta=meta,
                                    seconds=row["duration"], window=window_seconds,
                                    hop=hop_seconds or window_seconds)
    version = f"split{split}-{source}-window{window_seconds:g}-hop{hop_seconds or window_seconds:g}"
    return Dataset(name="mtg-jamendo", root=root, sample_rate=sample_rate, clips=tuple(clips),
                   version=version, clip_seconds=float(window_seconds), unit_field="artist")


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None,
         **options) -> Dataset:
    """Load MTG-Jamendo's instrument subset from ``<data root>/mtg-jamendo``."""
    return read_layout(dataset_root("mtg-jamendo", data_root=data_root, root=root), **options)
