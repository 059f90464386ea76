"""OpenMIC-2018 replica: an npz of VGGish-like frames, the class map and split01 partitions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .common import WOODBLOCK, _mix, _phrase

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
