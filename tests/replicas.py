"""Small, layout-exact replicas of six real datasets, with audio from the project's SoundFont.

Every replica reproduces the folder layout, file naming, metadata format and audio format of the
real dataset, at a tiny scale, so that loaders can be tested without downloading anything. The
audio is made of isolated notes rendered by :func:`instrument_bench.datasets.render.render_notes`
(real sampled instruments), concatenated into phrases and summed into mixtures. Everything is
deterministic (fixed seeds).

Writers (each ``write_<name>(root, ...) -> root``):

- :func:`write_irmas` -- IRMAS (training excerpts + 3 testing parts with ``.txt`` labels)
- :func:`write_medley_solos_db` -- Medley-solos-DB (metadata csv + float32 wavs)
- :func:`write_mtg_jamendo` -- MTG-Jamendo instrument subset (split-0 tsvs, mp3 audio, melspecs)
- :func:`write_openmic` -- OpenMIC-2018 (npz of VGGish-like frames, class map, split01 partitions)
- :func:`write_nsynth_tfrecord` -- NSynth's TFRecord release, from an NSynth json/wav tree
- :func:`write_audio_folder` -- a user's own recordings (class folders, mixed formats)

:func:`write_all` writes all six under one folder; ``python -m tests.replicas DIR`` does the same
from the command line. :func:`corrupt_wav`, :func:`silence_wav` and :func:`truncate_file` damage
one file of a replica.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import soundfile as sf

from instrument_bench.datasets.render import render_notes

DEFAULT_FOLDERS = {
    "irmas": "irmas",
    "medley_solos_db": "medley-solos-db",
    "mtg_jamendo": "mtg-jamendo",
    "openmic": "openmic-2018",
    "nsynth_tfrecord": "nsynth-tfrecord",
    "audio_folder": "audio-folder",
}

# ---------------------------------------------------------------------------------------------
# Audio building blocks
# ---------------------------------------------------------------------------------------------

NOTE_SECONDS = 1.0  # length of one pooled note clip (held for 80 % of it)
VELOCITIES = (80, 110)
INTERVALS = (0, 2, 4, 7, 9, 12)  # pooled pitches above each program's base pitch
MIX_PEAK = 0.5
MIN_PEAK = 1e-3  # a note or file quieter than this counts as silent

# Lowest pooled pitch per GM program, within the instrument's usual compass (default 55).
_BASE_PITCH = {
    0: 55, 4: 55, 12: 60, 19: 50, 21: 55, 24: 50, 25: 67, 30: 45, 32: 33, 40: 62, 42: 43,
    46: 55, 52: 57, 56: 58, 57: 45, 66: 50, 71: 55, 73: 67, 80: 60, 105: 57, 107: 60,
    115: 60, 119: 60,
}
WOODBLOCK = 115  # stands in for drums / percussion


@functools.lru_cache(maxsize=256)
def note_pool(program: int, sample_rate: int, seconds: float = NOTE_SECONDS) -> tuple[np.ndarray, ...]:
    """Rendered notes of one GM program, shared by all writers.

    Parameters
    ----------
    program : int
        General MIDI program (0-based).
    sample_rate : int
        Sample rate in Hz.
    seconds : float
        Length of each clip; the note is held for 80 % of it.

    Returns
    -------
    tuple of np.ndarray
        Read-only mono float32 clips (6 pitches x 2 velocities, silent renders left out).
    """
    base = _BASE_PITCH.get(program, 55)
    notes = [(base + step, velocity) for step in INTERVALS for velocity in VELOCITIES]
    clips = render_notes(program=program, notes=notes, sample_rate=sample_rate,
                         note_seconds=0.8 * seconds, clip_seconds=seconds)
    pool = tuple(clip for clip in clips if np.abs(clip).max() > MIN_PEAK)
    if not pool:
        raise RuntimeError(f"GM program {program} renders no audible note")
    for clip in pool:
        clip.setflags(write=False)
    return pool


def _phrase(program: int, sample_rate: int, n_samples: int, rng: np.random.Generator, *,
            seconds: float = NOTE_SECONDS, choices=None) -> np.ndarray:
    """``n_samples`` of randomly picked pooled notes played one after another."""
    pool = note_pool(program, sample_rate, seconds)
    choices = list(range(len(pool))) if choices is None else [c % len(pool) for c in choices]
    n_notes = math.ceil(n_samples / len(pool[0]))
    picks = rng.choice(choices, size=n_notes)
    return np.concatenate([pool[k] for k in picks])[:n_samples].astype(np.float32)


def _mix(tracks, *, weights=None, pans=None, peak: float = MIX_PEAK) -> np.ndarray:
    """Sum tracks (each normalised to unit peak, then weighted), scaled to ``peak``.

    Mono ``(n,)`` when ``pans`` is None, else stereo ``(n, 2)`` with each track panned
    (-1 left .. +1 right, equal-power).
    """
    weights = [1.0] * len(tracks) if weights is None else weights
    n = max(len(t) for t in tracks)
    out = np.zeros((n, 1 if pans is None else 2), dtype=np.float64)
    for k, (track, weight) in enumerate(zip(tracks, weights)):
        track = np.asarray(track, dtype=np.float64)
        track = weight * track / max(np.abs(track).max(), MIN_PEAK)
        if pans is None:
            out[:len(track), 0] += track
        else:
            angle = (pans[k] + 1.0) * np.pi / 4
            out[:len(track), 0] += np.cos(angle) * track
            out[:len(track), 1] += np.sin(angle) * track
    out *= peak / max(np.abs(out).max(), MIN_PEAK)
    out = out.astype(np.float32)
    return out[:, 0] if pans is None else out


def _unique(make, seen: set) -> np.ndarray:
    """Call ``make()`` until it returns audio not in ``seen`` (content hashes), record it."""
    for _ in range(100):
        audio = make()
        key = hashlib.sha1(np.ascontiguousarray(audio).tobytes()).hexdigest()
        if key not in seen:
            seen.add(key)
            return audio
    raise RuntimeError("could not make distinct audio")


def _write(path: Path, audio: np.ndarray, sample_rate: int, **kwargs) -> Path:
    """``soundfile.write`` after creating the folder; refuses silent audio."""
    if np.abs(audio).max() < MIN_PEAK:
        raise RuntimeError(f"{path}: refusing to write silent audio")
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.clip(audio, -1.0, 1.0), sample_rate, **kwargs)
    return path


def _check_mp3() -> None:
    if "MP3" not in sf.available_formats():
        raise RuntimeError(f"libsndfile {sf.__libsndfile_version__} cannot write MP3 (needs >= 1.1)")


# ---------------------------------------------------------------------------------------------
# IRMAS
# ---------------------------------------------------------------------------------------------

IRMAS_SAMPLE_RATE = 44100
IRMAS_PROGRAMS = {"cel": 42, "cla": 71, "flu": 73, "gac": 24, "gel": 30, "org": 19, "pia": 0,
                  "sax": 66, "tru": 56, "vio": 40, "voi": 52}
IRMAS_GENRES = ("cla", "pop_roc", "jaz_blu", "cou_fol", "lat_sou")


def write_irmas(root, *, songs_per_class: int = 3, test_files_per_part: int = 4) -> Path:
    """Write an IRMAS replica.

    Training: ``IRMAS-TrainingData/<code>/[<code>]([dru]|[nod])?[<genre>]<song>__<n>.wav``, 3.0 s
    44.1 kHz stereo 16-bit excerpts, 2-3 per song, song numbers unique over the training set.
    Testing: ``IRMAS-TestingData-Part{1,2,3}/Part{k}/<name>.wav`` of 5-10 s with a ``<name>.txt``
    beside it listing the instruments present (one code per line, each ending ``"\\t\\n"``).

    Parameters
    ----------
    root : str or Path
        Destination folder (created).
    songs_per_class : int
        Training songs per class; songs give 3, 3, 2, 3, 3, 2, ... excerpts.
    test_files_per_part : int
        Test excerpts in each of the three parts (1-3 instruments each).

    Returns
    -------
    Path
        ``root``.
    """
    root = Path(root)
    sr = IRMAS_SAMPLE_RATE
    rng = np.random.default_rng(1)
    codes = sorted(IRMAS_PROGRAMS)
    songs = iter(int(s) for s in rng.choice(np.arange(1, 2500), size=len(codes) * songs_per_class,
                                            replace=False))
    n_excerpt = 3 * sr
    seen: set = set()
    for code in codes:
        program = IRMAS_PROGRAMS[code]
        for s in range(songs_per_class):
            song = next(songs)
            genre = IRMAS_GENRES[int(rng.integers(len(IRMAS_GENRES)))]
            drums = ("", "dru", "nod")[int(rng.choice(3, p=[0.5, 0.3, 0.2]))]
            tags = f"[{code}]" + (f"[{drums}]" if drums else "") + f"[{genre}]"
            others = [c for c in codes if c != code]
            accompaniment = others[int(rng.integers(len(others)))] if rng.random() < 0.6 else None
            motif = rng.choice(12, size=4, replace=False)  # the song's notes, shared by its excerpts
            for n in range(1, (2 if s % 3 == 2 else 3) + 1):

                def excerpt(program=program, motif=motif, accompaniment=accompaniment, drums=drums):
                    tracks = [_phrase(program, sr, n_excerpt, rng, choices=motif)]
                    weights, pans = [1.0], [float(rng.uniform(-0.3, 0.3))]
                    if accompaniment is not None:
                        tracks.append(_phrase(IRMAS_PROGRAMS[accompaniment], sr, n_excerpt, rng))
                        weights.append(0.25)
                        pans.append(-pans[0] * 2)
                    if drums == "dru":
                        tracks.append(_phrase(WOODBLOCK, sr, n_excerpt, rng, seconds=0.5))
                        weights.append(0.3)
                        pans.append(0.0)
                    return _mix(tracks, weights=weights, pans=pans)

                audio = _unique(excerpt, seen)
                _write(root / "IRMAS-TrainingData" / code / f"{tags}{song:04d}__{n}.wav", audio, sr,
                       subtype="PCM_16")

    # Testing: every class appears in some test file (when there are at least 11 files).
    order = [codes[k] for k in rng.permutation(len(codes))]
    titles = ("Replica Song", "replica tune", "Another Take", "blue notes", "Hymn", "Night Drive")
    k = 0
    for part in (1, 2, 3):
        folder = root / f"IRMAS-TestingData-Part{part}" / f"Part{part}"
        for j in range(test_files_per_part):
            first = order[k % len(order)]
            rest = [c for c in codes if c != first]
            present = [first] + [rest[i] for i in rng.choice(len(rest), size=k % 3, replace=False)]
            n = int(round(float(rng.uniform(5.0, 10.0)) * sr))
            tracks = [_phrase(IRMAS_PROGRAMS[c], sr, n, rng) for c in present]
            pans = list(np.linspace(-0.6, 0.6, len(present))) if len(present) > 1 else [0.0]
            audio = _mix(tracks, weights=[1.0] + [0.8] * (len(present) - 1), pans=pans)
            title = titles[k % len(titles)]
            stem = (f"({k + 1:02d}) {title.lower()}-{j + 1}" if k % 2 else
                    f"{k + 1:02d} - {title} {part}-{j + 1}")
            _write(folder / f"{stem}.wav", audio, sr, subtype="PCM_16")
            (folder / f"{stem}.txt").write_text("".join(f"{c}\t\n" for c in present))
            k += 1
    return root


# ---------------------------------------------------------------------------------------------
# Medley-solos-DB
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# MTG-Jamendo (instrument subset)
# ---------------------------------------------------------------------------------------------

MTG_SAMPLE_RATE = 22050
MTG_PROGRAMS = {"piano": 0, "voice": 52, "guitar": 24, "violin": 40, "flute": 73, "drums": WOODBLOCK,
                "bass": 32, "synthesizer": 80}
MTG_HEADER = "TRACK_ID\tARTIST_ID\tALBUM_ID\tPATH\tDURATION\tTAGS"
# Tags of each track, per split; every tag of validation / test is in train.
_MTG_TRACKS = {
    "train": (("piano", "voice"), ("guitar", "bass", "drums"), ("violin",), ("flute", "piano"),
              ("synthesizer", "drums", "bass"), ("voice", "guitar"), ("piano",),
              ("violin", "flute", "synthesizer")),
    "validation": (("piano", "voice"), ("guitar", "drums"), ("violin",)),
    "test": (("flute", "piano"), ("synthesizer", "bass"), ("voice", "guitar", "drums")),
}
_MTG_ARTISTS = {"train": 4, "validation": 2, "test": 2}


def mtg_melspec(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """MTG-Jamendo's published mel-spectrogram format: (96, T) float32, 16 kHz, 512 / 256.

    ``log10(10000 * S + 1)`` of librosa's 96-band power mel spectrogram of the audio resampled to
    16 kHz (``T = n_samples_16k // 256 + 1``).
    """
    import librosa

    y = librosa.resample(np.asarray(audio, dtype=np.float32), orig_sr=sample_rate, target_sr=16000)
    mel = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96)
    return np.log10(10000.0 * mel + 1.0).astype(np.float32)


def write_mtg_jamendo(root, *, audio: bool = True, melspecs: bool = True) -> Path:
    """Write an MTG-Jamendo (autotagging_instrument, split-0) replica.

    ``data/splits/split-0/autotagging_instrument-{train,validation,test}.tsv`` (8 / 3 / 3 tracks,
    artist-disjoint splits, tags piano voice guitar violin flute drums bass synthesizer),
    ``audio/<NN>/<id>.mp3`` (22,050 Hz mono, 7-12 s mixtures of the track's instruments) and
    ``melspecs/<NN>/<id>.npy`` ((96, T) float32, see :func:`mtg_melspec`).

    Parameters
    ----------
    root : str or Path
        Destination folder (created).
    audio : bool
        Write the mp3 files.
    melspecs : bool
        Write the mel-spectrogram ``.npy`` files.

    Returns
    -------
    Path
        ``root``.
    """
    if audio:
        _check_mp3()
    root = Path(root)
    sr = MTG_SAMPLE_RATE
    rng = np.random.default_rng(3)  # metadata: the same whatever audio / melspecs say
    audio_rng = np.random.default_rng(33)
    n_tracks = sum(len(v) for v in _MTG_TRACKS.values())
    track_ids = iter(int(t) for t in rng.choice(np.arange(100, 1_400_000), size=n_tracks, replace=False))
    artist_ids = iter(int(a) for a in rng.choice(np.arange(1, 9000), size=sum(_MTG_ARTISTS.values()),
                                                 replace=False))
    album_ids = iter(int(a) for a in rng.choice(np.arange(1, 20000), size=n_tracks, replace=False))
    splits = root / "data" / "splits" / "split-0"
    splits.mkdir(parents=True, exist_ok=True)
    for split, tracks in _MTG_TRACKS.items():
        artists = [next(artist_ids) for _ in range(_MTG_ARTISTS[split])]
        lines = [MTG_HEADER]
        for k, tags in enumerate(tracks):
            number = next(track_ids)
            path = f"{number % 100:02d}/{number}.mp3"
            tenths = int(rng.integers(70, 121))
            n = tenths * sr // 10
            row = [f"track_{number:07d}", f"artist_{artists[k % len(artists)]:06d}",
                   f"album_{next(album_ids):06d}", path, f"{tenths / 10:.1f}"]
            lines.append("\t".join(row + [f"instrument---{t}" for t in tags]))
            if not (audio or melspecs):
                continue
            mixture = _mix([_phrase(MTG_PROGRAMS[t], sr, n, audio_rng, seconds=0.5 if t == "drums" else 1.0)
                            for t in tags])
            if audio:
                _write(root / "audio" / path, mixture, sr, format="MP3")
            if melspecs:
                target = root / "melspecs" / path.replace(".mp3", ".npy")
                target.parent.mkdir(parents=True, exist_ok=True)
                np.save(target, mtg_melspec(mixture, sr))
        (splits / f"autotagging_instrument-{split}.tsv").write_text("\n".join(lines) + "\n")
    return root


# ---------------------------------------------------------------------------------------------
# OpenMIC-2018
# ---------------------------------------------------------------------------------------------

OPENMIC_CLASSES = ("accordion", "banjo", "bass", "cello", "clarinet", "cymbals", "drums", "flute",
                   "guitar", "mallet_percussion", "mandolin", "organ", "piano", "saxophone",
                   "synthesizer", "trombone", "trumpet", "ukulele", "violin", "voice")
# GM stand-ins; cymbals use Reverse Cymbal (119) so that they differ from drums (woodblock).
OPENMIC_PROGRAMS = {"accordion": 21, "banjo": 105, "bass": 32, "cello": 42, "clarinet": 71,
                    "cymbals": 119, "drums": WOODBLOCK, "flute": 73, "guitar": 24,
                    "mallet_percussion": 12, "mandolin": 25, "organ": 19, "piano": 0,
                    "saxophone": 66, "synthesizer": 80, "trombone": 57, "trumpet": 56,
                    "ukulele": 107, "violin": 40, "voice": 52}
OPENMIC_SAMPLE_RATE = 16000


def openmic_frames(audio: np.ndarray, sample_rate: int, *, n_frames: int = 10) -> np.ndarray:
    """VGGish-like ``(n_frames, 128)`` uint8 frames: per-second means of a 128-band log-mel.

    The power mel spectrogram is averaged over each second, converted to dB (ref 1) and mapped
    linearly from [-80, +30] dB onto 0..255.
    """
    import librosa

    mel = librosa.feature.melspectrogram(y=np.asarray(audio, dtype=np.float32), sr=sample_rate,
                                         n_fft=1024, hop_length=sample_rate // 100, n_mels=128)
    per_second = np.stack([mel[:, k * 100:(k + 1) * 100].mean(axis=1) for k in range(n_frames)])
    db = 10.0 * np.log10(per_second + 1e-12)
    return np.clip(np.round((db + 80.0) / 110.0 * 255.0), 0, 255).astype(np.uint8)


def write_openmic(root, *, n_samples: int = 60, train_fraction: float = 0.75) -> Path:
    """Write an OpenMIC-2018 replica.

    ``openmic-2018.npz`` with ``X`` (N, 10, 128) uint8 (:func:`openmic_frames` of a 10 s rendered
    mixture of the sample's 1-3 instruments), ``Y_true`` (N, 20) float32 (positives in
    (0.5, 1], annotated negatives in [0, 0.45], unannotated 0.5), ``Y_mask`` (N, 20) bool (the
    positives and 1-3 negatives) and ``sample_key`` (N,) str ``'<6-digit FMA id>_<offset>'``,
    sorted; ``class-map.json``; ``partitions/split01_{train,test}.csv`` (one key a line, no
    header). Every class with an annotated positive in test has an annotated positive and an
    annotated negative in train.

    Parameters
    ----------
    root : str or Path
        Destination folder (created).
    n_samples : int
        Number of samples N (at least 20 / train_fraction so that train covers every class).
    train_fraction : float
        Fraction of samples in ``split01_train.csv``.

    Returns
    -------
    Path
        ``root``.
    """
    root = Path(root)
    sr = OPENMIC_SAMPLE_RATE
    rng = np.random.default_rng(4)
    n_classes = len(OPENMIC_CLASSES)
    n_train = int(round(n_samples * train_fraction))
    if n_train < n_classes:
        raise ValueError(f"n_samples={n_samples}: the train split must hold every class at least once")
    fma_ids = rng.choice(np.arange(1, 155_000), size=n_samples, replace=False)
    keys = [f"{int(t):06d}_{int(rng.integers(0, 120)) * 3840}" for t in fma_ids]
    X = np.zeros((n_samples, 10, 128), dtype=np.uint8)
    Y_true = np.full((n_samples, n_classes), 0.5, dtype=np.float32)
    Y_mask = np.zeros((n_samples, n_classes), dtype=bool)
    for i in range(n_samples):
        first = i % n_classes if i < n_train else int(rng.integers(n_classes))
        rest = [c for c in range(n_classes) if c != first]
        positives = [first] + [int(c) for c in rng.choice(rest, size=int(rng.integers(0, 3)), replace=False)]
        negatives = [c for c in range(n_classes) if c not in positives]
        annotated = rng.choice(negatives, size=int(rng.integers(1, 4)), replace=False)
        Y_true[i, positives] = rng.uniform(0.55, 1.0, size=len(positives)).round(3)
        Y_true[i, annotated] = rng.uniform(0.0, 0.45, size=len(annotated)).round(3)
        Y_mask[i, positives] = True
        Y_mask[i, annotated] = True
        tracks = [_phrase(OPENMIC_PROGRAMS[OPENMIC_CLASSES[c]], sr, 10 * sr, rng) for c in positives]
        X[i] = openmic_frames(_mix(tracks), sr)
    # Every class needs an annotated negative in train.
    for c in range(n_classes):
        train_negative = Y_mask[:n_train, c] & (Y_true[:n_train, c] < 0.5)
        if not train_negative.any():
            i = next(i for i in range(n_train) if not Y_mask[i, c])
            Y_mask[i, c], Y_true[i, c] = True, 0.1
    order = np.argsort(keys)
    root.mkdir(parents=True, exist_ok=True)
    np.savez(root / "openmic-2018.npz", X=X[order], Y_true=Y_true[order], Y_mask=Y_mask[order],
             sample_key=np.array(keys)[order])
    (root / "class-map.json").write_text(json.dumps({c: k for k, c in enumerate(OPENMIC_CLASSES)}, indent=2))
    partitions = root / "partitions"
    partitions.mkdir(exist_ok=True)
    (partitions / "split01_train.csv").write_text("".join(f"{k}\n" for k in sorted(keys[:n_train])))
    (partitions / "split01_test.csv").write_text("".join(f"{k}\n" for k in sorted(keys[n_train:])))
    return root


# ---------------------------------------------------------------------------------------------
# NSynth TFRecord
# ---------------------------------------------------------------------------------------------

NSYNTH_SPLITS = ("train", "valid", "test")


def write_nsynth_tfrecord(root, *, nsynth_root) -> Path:
    """Write NSynth's TFRecord release from an NSynth json/wav tree.

    Reads ``nsynth_root/nsynth-{train,valid,test}/examples.json`` and ``audio/<note_str>.wav`` and
    writes ``root/nsynth-{train,valid,test}.tfrecord``, one ``tf.train.Example`` per note (sorted
    by note_str) with NSynth's features: ``note_str``, ``instrument_str``,
    ``instrument_family_str``, ``instrument_source_str`` (bytes); ``pitch``, ``velocity``,
    ``instrument``, ``instrument_family``, ``instrument_source``, ``sample_rate`` (int64);
    ``audio`` (float, int16 samples / 32768); ``qualities`` (10 int64); ``qualities_str``
    (bytes list); and ``note`` (int64) only where the json has a ``note`` field, as the real
    NSynth json does.

    Parameters
    ----------
    root : str or Path
        Destination folder (created).
    nsynth_root : str or Path
        The NSynth json/wav tree, e.g. from ``gm_notes.render_dataset``.

    Returns
    -------
    Path
        ``root``.
    """
    import tensorflow as tf

    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))

    def texts(values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(v).encode() for v in values]))

    root, nsynth_root = Path(root), Path(nsynth_root)
    root.mkdir(parents=True, exist_ok=True)
    for split in NSYNTH_SPLITS:
        folder = nsynth_root / f"nsynth-{split}"
        examples = json.loads((folder / "examples.json").read_text())
        with tf.io.TFRecordWriter(str(root / f"nsynth-{split}.tfrecord")) as writer:
            for note_str in sorted(examples):
                meta = examples[note_str]
                samples, _ = sf.read(folder / "audio" / f"{note_str}.wav", dtype="int16")
                feature = {
                    "note_str": texts([meta["note_str"]]),
                    "pitch": ints([meta["pitch"]]),
                    "velocity": ints([meta["velocity"]]),
                    "instrument": ints([meta["instrument"]]),
                    "instrument_str": texts([meta["instrument_str"]]),
                    "instrument_family": ints([meta["instrument_family"]]),
                    "instrument_family_str": texts([meta["instrument_family_str"]]),
                    "instrument_source": ints([meta["instrument_source"]]),
                    "instrument_source_str": texts([meta["instrument_source_str"]]),
                    "sample_rate": ints([meta["sample_rate"]]),
                    "audio": tf.train.Feature(float_list=tf.train.FloatList(
                        value=(samples.astype(np.float32) / 32768.0).tolist())),
                    "qualities": ints(meta["qualities"]),
                    "qualities_str": texts(meta["qualities_str"]),
                }
                if "note" in meta:
                    feature["note"] = ints([meta["note"]])
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
    return root


def render_tiny_nsynth(root) -> Path:
    """Render the tests' tiny gm-notes tree (9 programs, 3 pitches, 2 velocities) into ``root``."""
    from instrument_bench.datasets import gm_notes

    return gm_notes.render_dataset(root, jobs=2, progress=False, programs=(0, 1, 6, 24, 25, 26, 40, 41, 42),
                                   n_pitches=3, velocities=(80, 120))


# ---------------------------------------------------------------------------------------------
# A user's own recordings
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# All of them, and damaged files
# ---------------------------------------------------------------------------------------------


def write_all(data_root, *, nsynth_root=None) -> dict[str, Path]:
    """Write all six replicas into ``data_root/<DEFAULT_FOLDERS[name]>``.

    Parameters
    ----------
    data_root : str or Path
        Destination folder (created).
    nsynth_root : str or Path, optional
        NSynth json/wav tree for the TFRecord replica; when None the tests' tiny gm-notes tree is
        rendered into a temporary folder (removed afterwards).

    Returns
    -------
    dict of str to Path
        Replica name (as in ``DEFAULT_FOLDERS``) to its root.
    """
    data_root = Path(data_root)
    out = {
        "irmas": write_irmas(data_root / DEFAULT_FOLDERS["irmas"]),
        "medley_solos_db": write_medley_solos_db(data_root / DEFAULT_FOLDERS["medley_solos_db"]),
        "mtg_jamendo": write_mtg_jamendo(data_root / DEFAULT_FOLDERS["mtg_jamendo"]),
        "openmic": write_openmic(data_root / DEFAULT_FOLDERS["openmic"]),
    }
    target = data_root / DEFAULT_FOLDERS["nsynth_tfrecord"]
    if nsynth_root is None:
        with tempfile.TemporaryDirectory(prefix="replica-nsynth-") as tmp:
            out["nsynth_tfrecord"] = write_nsynth_tfrecord(
                target, nsynth_root=render_tiny_nsynth(Path(tmp) / "nsynth"))
    else:
        out["nsynth_tfrecord"] = write_nsynth_tfrecord(target, nsynth_root=nsynth_root)
    out["audio_folder"] = write_audio_folder(data_root / DEFAULT_FOLDERS["audio_folder"])
    return out


def _pick(path, pattern: str) -> Path:
    """``path`` itself, or the first file (sorted) under it matching ``pattern``."""
    path = Path(path)
    if path.is_dir():
        matches = sorted(p for p in path.rglob(pattern) if p.is_file())
        if not matches:
            raise FileNotFoundError(f"{path}: no {pattern} file")
        return matches[0]
    return path


def clone(src, dst) -> Path:
    """A copy of a replica made of hard links (instant); damage files only after :func:`own`."""
    shutil.copytree(src, dst, copy_function=os.link)
    return Path(dst)


def own(path) -> Path:
    """Give a hard-linked file its own copy, so damaging it leaves the original intact."""
    path = Path(path)
    data = path.read_bytes()
    path.unlink()
    path.write_bytes(data)
    return path


def corrupt_wav(path) -> Path:
    """Overwrite a wav with ``b"RIFF"`` followed by 100 bytes of (seeded) garbage.

    Parameters
    ----------
    path : str or Path
        The wav, or a replica root (its first wav, sorted, is damaged).

    Returns
    -------
    Path
        The damaged file.
    """
    target = _pick(path, "*.wav")
    garbage = np.random.default_rng(7).integers(0, 256, size=100, dtype=np.uint8).tobytes()
    target.write_bytes(b"RIFF" + garbage)
    return target


def silence_wav(path) -> Path:
    """Rewrite a wav with zeros: same length, sample rate, channels and subtype (silent on purpose).

    Parameters
    ----------
    path : str or Path
        The wav, or a replica root (its first wav, sorted, is damaged).

    Returns
    -------
    Path
        The damaged file.
    """
    target = _pick(path, "*.wav")
    info = sf.info(target)
    zeros = np.zeros((info.frames, info.channels), dtype=np.float32)
    sf.write(target, zeros, info.samplerate, subtype=info.subtype, format=info.format)
    return target


def truncate_file(path) -> Path:
    """Cut a file to its first 60 bytes.

    Parameters
    ----------
    path : str or Path
        The file, or a replica root (its first wav, sorted, is damaged).

    Returns
    -------
    Path
        The damaged file.
    """
    target = _pick(path, "*.wav")
    with open(target, "r+b") as f:
        f.truncate(60)
    return target


def main(argv=None) -> int:
    """``python -m tests.replicas DIR``: write all six replicas under DIR, one line each."""
    parser = argparse.ArgumentParser(prog="python -m tests.replicas", description=main.__doc__)
    parser.add_argument("dir", type=Path, help="data root to write the replicas into")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    for name, path in write_all(args.dir).items():
        files = [p for p in path.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files) / 1e6
        print(f"{name:16s} {path}  {len(files)} files, {size:.1f} MB")
    print(f"done in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
