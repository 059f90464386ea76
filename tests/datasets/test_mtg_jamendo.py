"""MTG-Jamendo (instrument subset) on a replica of its published layout: snippets per track, the
provided mel spectrograms and damaged split files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from instrument_bench.datasets import mtg_jamendo
from instrument_bench.errors import DatasetError, FeatureError
from instrument_bench.features import FEATURES
from instrument_bench.features.store import compute_features
from tests.datasets.helpers import splits_of
from tests.replicas import clone, own


def test_mtg_jamendo_snippets_per_track_and_provided_melspec(data_root):
    root = data_root / "mtg-jamendo"
    dataset = mtg_jamendo.read_layout(root)
    tracks = {row["track"]: row for name in ("train", "validation", "test")
              for row in mtg_jamendo.read_split_file(
                  root / "data/splits/split-0" / f"autotagging_instrument-{name}.tsv")}
    for track, row in tracks.items():
        windows = [c for c in dataset.clips if c.meta["group"] == track]
        assert len(windows) == int((row["duration"] - 3.0) // 3.0) + 1
        assert all(c.meta["instruments"] == row["tags"] for c in windows)
    artists = splits_of(dataset, lambda c: c.meta["artist"])
    assert all(len(s) == 1 for s in artists.values())
    spec = FEATURES["provided-melspec"]
    x = compute_features(list(dataset.clips[:3]), spec, sample_rate=16000, progress=False)
    assert x.shape == (3, 188, 96)
    first = np.load(dataset.clips[0].meta["melspec_path"])
    np.testing.assert_array_equal(x[0], first[:, :188].T)
    with pytest.raises(FeatureError, match="has no audio"):
        compute_features(list(dataset.clips[:1]), FEATURES["mfcc-stats"], sample_rate=16000, progress=False)
    audio = mtg_jamendo.read_layout(root, source="audio")
    assert audio.clips[0].path.suffix == ".mp3" and audio.clips[0].path.is_file()
    assert [c.clip_id for c in audio.clips] == [c.clip_id for c in dataset.clips]


@pytest.mark.parametrize("damage, message", [
    ("unknown-tag", r"train\.tsv: line 2: 'instrument---kazoo' is not one of the 40 instrument tags"),
    ("escape", r"train\.tsv: line 2: path '\.\./\.\./outside\.mp3' leaves the dataset folder"),
    ("bad-duration", r"train\.tsv: line 2: DURATION 'long' is not a positive number"),
    ("missing-melspec", r"train\.tsv: line 2: mel spectrogram .*\.npy not found"),
])
def test_mtg_jamendo_damaged(data_root, tmp_path, damage, message):
    root = clone(data_root / "mtg-jamendo", tmp_path / "mtg")
    tsv = own(root / "data/splits/split-0/autotagging_instrument-train.tsv")
    lines = tsv.read_text().splitlines()
    cells = lines[1].split("\t")
    if damage == "unknown-tag":
        cells[5] = "instrument---kazoo"
    elif damage == "escape":
        cells[3] = "../../outside.mp3"
    elif damage == "bad-duration":
        cells[4] = "long"
    else:
        (root / "melspecs" / Path(cells[3]).with_suffix(".npy")).unlink()
    lines[1] = "\t".join(cells)
    tsv.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=message):
        mtg_jamendo.read_layout(root)
