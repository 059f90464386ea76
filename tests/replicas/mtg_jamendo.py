"""MTG-Jamendo replica (instrument subset): split-0 tsvs, mp3 audio and mel spectrograms."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .common import WOODBLOCK, _check_mp3, _mix, _phrase, _write

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
