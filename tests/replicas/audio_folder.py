"""A user's own recordings: one folder per class, mixed formats, optionally a multi-label csv."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from .common import _check_mp3, _mix, _phrase, _write

FOLDER_PROGRAMS = {"piano": 0, "violin": 40, "flute": 73, "guitar": 24}
FOLDER_PLAYERS = ("alice", "bob", "carol", "dave")
# Format of each of a class's 8 files (player-major: alice take1, alice take2, bob take1, ...).
_FOLDER_FORMATS = ("wav16", "wavf", "flac", "wav16", "wavf", "wav16", "flac", "wavf")
_FOLDER_SPECIAL = {("guitar", "dave", 2): "mp3", ("flute", "carol", 2): "ogg"}
_FOLDER_LENGTHS = (1.5, 2.2, 2.8, 3.6, 4.5, 5.7, 7.3, 9.0)


def _write_any(path_stem: Path, kind: str, mono44: np.ndarray, mono22: np.ndarray) -> Path:
    """Write one file of the audio folder in format ``kind``; returns its path."""
    if kind == "wav16":  # 44.1 kHz stereo 16-bit
        stereo = np.stack([mono44, 0.8 * mono44], axis=1)
        return _write(path_stem.with_suffix(".wav"), stereo, 44100, subtype="PCM_16")
    if kind == "wavf":  # 22,050 Hz mono float
        return _write(path_stem.with_suffix(".wav"), mono22, 22050, subtype="FLOAT")
    if kind == "flac":  # 44.1 kHz mono 16-bit
        return _write(path_stem.with_suffix(".flac"), mono44, 44100, subtype="PCM_16")
    if kind == "mp3":  # 22,050 Hz mono
        return _write(path_stem.with_suffix(".mp3"), mono22, 22050, format="MP3")
    if kind == "ogg":  # 44.1 kHz stereo vorbis
        stereo = np.stack([0.8 * mono44, mono44], axis=1)
        return _write(path_stem.with_suffix(".ogg"), stereo, 44100, format="OGG", subtype="VORBIS")
    raise ValueError(kind)


def _render_both(instruments, seconds: float, rng: np.random.Generator, motif=None):
    """The same mixture (same note choices) at 44.1 kHz and 22,050 Hz."""
    state = rng.bit_generator.state
    out = []
    for sr in (44100, 22050):
        rng.bit_generator.state = state
        n = int(round(seconds * sr))
        out.append(_mix([_phrase(FOLDER_PROGRAMS[i], sr, n, rng, choices=motif) for i in instruments]))
    return out


def write_audio_folder(root, *, multi_label: bool = False) -> Path:
    """Write a folder of a user's own recordings, one sub-folder per class.

    ``<class>/<player>_take<k>.<ext>`` for classes piano, violin, flute, guitar, players alice,
    bob, carol, dave, takes 1-2 (32 files). Formats: wav 44.1 kHz stereo 16-bit, wav 22,050 Hz mono
    float, flac 44.1 kHz mono 16-bit, one mp3 (``guitar/dave_take2.mp3``, 22,050 Hz mono) and one
    ogg (``flute/carol_take2.ogg``, 44.1 kHz stereo); lengths 1.5-9 s.

    Parameters
    ----------
    root : str or Path
        Destination folder (created).
    multi_label : bool
        Also write ``mixes/<player>_mix<k>.wav`` (16 mixtures of 1-3 of the four instruments,
        44.1 kHz stereo 16-bit, 3-6 s) and ``labels.csv``: no header, rows
        ``file,label[,label...]`` with the path relative to root, for every file (class-folder
        files carry their folder's label).

    Returns
    -------
    Path
        ``root``.
    """
    if any(kind == "mp3" for kind in _FOLDER_SPECIAL.values()):
        _check_mp3()
    root = Path(root)
    rng = np.random.default_rng(6)
    labels: list[tuple[str, list[str]]] = []
    for name in FOLDER_PROGRAMS:
        lengths = [_FOLDER_LENGTHS[k] for k in rng.permutation(len(_FOLDER_LENGTHS))]
        for p, player in enumerate(FOLDER_PLAYERS):
            motif = rng.choice(12, size=4, replace=False)  # a player's own notes
            for take in (1, 2):
                k = 2 * p + take - 1
                kind = _FOLDER_SPECIAL.get((name, player, take), _FOLDER_FORMATS[k])
                mono44, mono22 = _render_both([name], lengths[k], rng, motif)
                path = _write_any(root / name / f"{player}_take{take}", kind, mono44, mono22)
                labels.append((path.relative_to(root).as_posix(), [name]))
    if multi_label:
        instruments = list(FOLDER_PROGRAMS)
        for p, player in enumerate(FOLDER_PLAYERS):
            for m in range(4):
                start, size = (p + m) % 4, 1 + (p + 2 * m) % 3
                present = [instruments[(start + j) % 4] for j in range(size)]
                seconds = round(float(rng.uniform(3.0, 6.0)), 1)
                mono44, _ = _render_both(present, seconds, rng)
                stereo = np.stack([mono44, 0.9 * mono44], axis=1)
                path = _write(root / "mixes" / f"{player}_mix{m + 1}.wav", stereo, 44100, subtype="PCM_16")
                labels.append((path.relative_to(root).as_posix(), present))
        with open(root / "labels.csv", "w", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerows([file, *present] for file, present in sorted(labels))
    return root
