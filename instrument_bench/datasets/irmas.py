"""IRMAS in its own layout (Bosch et al. 2012), read as Han et al. (2017) evaluate it.

The layout (as the official archives unpack)::

    ROOT/IRMAS-TrainingData/<code>/[<code>][<genre>]<song>__<n>.wav     3 s excerpts
        (optionally a drum tag after the instrument: [pia][dru][jaz_blu]1454__3.wav)
    ROOT/IRMAS-TestingData-Part1/.../<name>.wav + <name>.txt             5-20 s excerpts
    ROOT/IRMAS-TestingData-Part2/...   ROOT/IRMAS-TestingData-Part3/...

A training excerpt has one label, its predominant instrument (the folder, also the first tag of
its name); a testing excerpt has a ``.txt`` beside it listing every instrument present, one code a
line. The 11 codes: cel cla flu gac gel org pia sax tru vio voi.

``irmas`` (task ``irmas``, multi-label, the official protocol): train on the training data (a
seeded 15 % of its songs held out as valid, so no song is in both), test on the testing data.
Every excerpt is cut into 1 s windows every 0.5 s; models see windows, and their scores are
averaged per excerpt before the predictor and the metrics (micro/macro F1, LRAP), as Han et al.

``irmas-predominant`` (task ``predominant``, single-label, as in the IRMAS VGG study): the
training data alone, its songs split 70/15/15 into train/valid/test with a fixed seed, one whole
3 s excerpt per clip.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..config import dataset_root
from ..errors import DatasetError
from .base import Clip, Dataset, audio_seconds, grouped_split, windowed_clips
from .families import FamilyMap

CLASSES = ("cel", "cla", "flu", "gac", "gel", "org", "pia", "sax", "tru", "vio", "voi")
NAMES = {"cel": "cello", "cla": "clarinet", "flu": "flute", "gac": "acoustic guitar",
         "gel": "electric guitar", "org": "organ", "pia": "piano", "sax": "saxophone",
         "tru": "trumpet", "vio": "violin", "voi": "voice"}
# every IRMAS code in NSynth's families (the shared vocabulary of cross-source experiments)
FAMILY_MAP = FamilyMap("instruments", {
    "cel": "string", "cla": "reed", "flu": "flute", "gac": "guitar", "gel": "guitar", "org": "organ",
    "pia": "keyboard", "sax": "reed", "tru": "brass", "vio": "string", "voi": "vocal"})
TRAIN_DIR = "IRMAS-TrainingData"
TEST_DIRS = ("IRMAS-TestingData-Part1", "IRMAS-TestingData-Part2", "IRMAS-TestingData-Part3")
TRAIN_NAME = re.compile(r"^\[(?P<code>[a-z]{3})\](?P<tags>(\[[a-z_]+\])*)(?P<song>\d+)__(?P<n>\d+)$")
DRUM_TAGS = {"dru": True, "nod": False}
SAMPLE_RATE = 16000
SPLIT_SEED = 2017


def parse_training_name(path: Path) -> dict:
    """The fields of a training excerpt's file name: instrument, drums, genre, song, excerpt.

    Raises
    ------
    DatasetError
        The name does not follow ``[<code>][<genre>]<song>__<n>.wav`` or its instrument is not the
        folder's.
    """
    match = TRAIN_NAME.match(path.stem)
    if match is None:
        raise DatasetError(f"{path}: not an IRMAS training file name (expected "
                           "[<instrument>][<genre>]<song>__<n>.wav)")
    code = match["code"]
    if code not in CLASSES:
        raise DatasetError(f"{path}: unknown IRMAS instrument {code!r}; codes: {', '.join(CLASSES)}")
    if code != path.parent.name:
        raise DatasetError(f"{path}: instrument {code!r} in the name but the file is in folder "
                           f"{path.parent.name!r}")
    tags = re.findall(r"\[([a-z_]+)\]", match["tags"])
    drums = [DRUM_TAGS[t] for t in tags if t in DRUM_TAGS]
    genres = [t for t in tags if t not in DRUM_TAGS]
    if len(genres) != 1:
        raise DatasetError(f"{path}: expected one genre tag, got {genres or 'none'}")
    return {"instrument": code, "drums": drums[0] if drums else None, "genre": genres[0],
            "song": match["song"], "excerpt": int(match["n"])}


def read_annotation(path: Path) -> list[str]:
    """The instrument codes of a testing excerpt's ``.txt`` (one code a line, blanks ignored).

    Raises
    ------
    DatasetError
        The file is missing, empty, or a line is not one of the 11 codes (named by line number).
    """
    if not path.is_file():
        raise DatasetError(f"{path}: annotation file not found (every testing .wav needs a .txt "
                           "beside it)")
    codes = []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        code = line.strip()
        if not code:
            continue
        if code not in CLASSES:
            raise DatasetError(f"{path}: line {number}: {code!r} is not an IRMAS instrument code "
                               f"({', '.join(CLASSES)})")
        codes.append(code)
    if not codes:
        raise DatasetError(f"{path}: lists no instrument")
    return sorted(set(codes))


def training_excerpts(root: Path) -> list[tuple[Path, dict]]:
    """Every training excerpt with the fields of its name, in a fixed order.

    Raises
    ------
    DatasetError
        The training folder is missing or empty, or a name or folder is malformed.
    """
    folder = root / TRAIN_DIR
    if not folder.is_dir():
        raise DatasetError(f"{folder}: folder not found (IRMAS layout: {TRAIN_DIR}/<instrument>/*.wav)")
    unknown = sorted(p.name for p in folder.iterdir() if p.is_dir() and p.name not in CLASSES)
    if unknown:
        raise DatasetError(f"{folder}: unknown instrument folders {', '.join(unknown)}; codes: "
                           f"{', '.join(CLASSES)}")
    out = [(path, parse_training_name(path)) for path in sorted(folder.glob("*/*.wav"))]
    if not out:
        raise DatasetError(f"{folder}: no training excerpts (*/*.wav)")
    return out


def testing_excerpts(root: Path) -> list[tuple[Path, list[str]]]:
    """Every testing excerpt (any depth under the three Part folders) with its instruments.

    Raises
    ------
    DatasetError
        No Part folder exists, or an annotation is missing or malformed.
    """
    parts = [root / name for name in TEST_DIRS if (root / name).is_dir()]
    if not parts:
        raise DatasetError(f"{root}: no testing folders ({', '.join(TEST_DIRS)})")
    out = [(wav, read_annotation(wav.with_suffix(".txt")))
           for part in parts for wav in sorted(part.rglob("*.wav"))]
    if not out:
        raise DatasetError(f"{root}: the testing folders hold no .wav excerpts")
    return out


def read_layout(root, *, window_seconds: float = 1.0, hop_seconds: float = 0.5,
                valid_fraction: float = 0.15, sample_rate: int = SAMPLE_RATE) -> Dataset:
    """Read IRMAS for the official protocol: windows of training and testing excerpts.

    Parameters
    ----------
    root : str or Path
        Folder holding ``IRMAS-TrainingData`` and ``IRMAS-TestingData-Part1..3``.
    window_seconds, hop_seconds : float
        Window length and hop (Han et al.: 1 s windows; 0.5 s hop).
    valid_fraction : float
        Share of the training songs held out as the valid split.
    sample_rate : int
        Rate features read the audio at.
    """
    root = Path(root)
    train = training_excerpts(root)
    split_of = grouped_split([f["song"] for _, f in train], fractions={"valid": valid_fraction},
                             seed=SPLIT_SEED)
    clips = []
    for path, fields in train:
        item = f"train/{path.parent.name}/{path.stem}"
        clips += windowed_clips(item_id=item, path=path, split=split_of[fields["song"]],
                                meta={**fields, "instruments": [fields["instrument"]]},
                                seconds=audio_seconds(path), window=window_seconds, hop=hop_seconds)
    for path, codes in testing_excerpts(root):
        item = f"test/{path.relative_to(root).with_suffix('').as_posix()}"
        clips += windowed_clips(item_id=item, path=path, split="test", meta={"instruments": codes},
                                seconds=audio_seconds(path), window=window_seconds, hop=hop_seconds)
    version = f"window{window_seconds:g}-hop{hop_seconds:g}-valid{valid_fraction:g}"
    return Dataset(name="irmas", root=root, sample_rate=sample_rate, clips=tuple(clips),
                   version=version, clip_seconds=float(window_seconds))


def read_predominant(root, *, valid_fraction: float = 0.15, test_fraction: float = 0.15,
                     sample_rate: int = SAMPLE_RATE) -> Dataset:
    """Read IRMAS's training data alone, split by song (the IRMAS VGG study's single-label experiment)."""
    root = Path(root)
    train = training_excerpts(root)
    split_of = grouped_split([f["song"] for _, f in train],
                             fractions={"test": test_fraction, "valid": valid_fraction}, seed=SPLIT_SEED)
    clips = tuple(Clip(f"{path.parent.name}/{path.stem}", path, split_of[fields["song"]], fields,
                       duration=3.0) for path, fields in train)
    return Dataset(name="irmas-predominant", root=root, sample_rate=sample_rate, clips=clips,
                   version=f"valid{valid_fraction:g}-test{test_fraction:g}", clip_seconds=3.0,
                   unit_field="song")


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None,
         **options) -> Dataset:
    """Load IRMAS from ``<data root>/irmas``, official protocol (1 s windows per excerpt).

    Options: ``window_seconds``, ``hop_seconds``, ``valid_fraction``, ``sample_rate``.
    """
    return read_layout(dataset_root("irmas", data_root=data_root, root=root), **options)


def load_predominant(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None,
                     **options) -> Dataset:
    """Load IRMAS's training data from ``<data root>/irmas`` for the single-label task."""
    return read_predominant(dataset_root("irmas", data_root=data_root, root=root), **options)
