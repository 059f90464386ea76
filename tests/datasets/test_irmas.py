"""IRMAS on a replica of its published layout (tests/replicas): the official protocol, the
predominant-instrument split and damaged trees."""

from __future__ import annotations

import shutil

import pytest

from instrument_bench.datasets import irmas
from instrument_bench.errors import DatasetError
from instrument_bench.protocol.labels import task_view
from instrument_bench.protocol.tasks import TASKS
from tests.datasets.helpers import splits_of
from tests.replicas import clone, own


def test_irmas_official_protocol(data_root):
    dataset = irmas.read_layout(data_root / "irmas")
    train = [c for c in dataset.clips if c.split in ("train", "valid")]
    assert all(c.duration == 1.0 for c in dataset.clips)
    per_excerpt = splits_of(dataset, lambda c: c.meta["group"])
    assert all(len(s) == 1 for s in per_excerpt.values())  # an excerpt's windows stay together
    assert sum(1 for c in train if c.meta["group"].endswith("__1")) % 5 == 0  # 3 s -> 5 windows
    songs = splits_of(dataset, lambda c: c.meta.get("song"))
    songs.pop(None)
    assert all(len(s) == 1 for s in songs.values()) and any(s == {"valid"} for s in songs.values())
    assert {c.meta["instrument"] for c in train} == set(irmas.CLASSES)
    for clip in train:
        assert clip.meta["instruments"] == [clip.path.parent.name]
    test = [c for c in dataset.clips if c.split == "test"]
    for clip in test:
        lines = [x.strip() for x in clip.path.with_suffix(".txt").read_text().splitlines() if x.strip()]
        assert clip.meta["instruments"] == sorted(set(lines))
    assert len({c.meta["group"] for c in test}) == 6  # 2 files in each of 3 parts
    view = task_view(TASKS["irmas"], dataset)
    assert view.y["test"].sum(axis=1).max() > 1 and view.y["train"].sum(axis=1).max() == 1


def test_irmas_predominant_split_is_song_disjoint(data_root):
    dataset = irmas.read_predominant(data_root / "irmas")
    songs = splits_of(dataset, lambda c: c.meta["song"])
    assert all(len(s) == 1 for s in songs.values())
    assert {c.split for c in dataset.clips} == {"train", "valid", "test"}
    assert TASKS["predominant"].labels(dataset.split("test")).max() < len(irmas.CLASSES)


@pytest.mark.parametrize("damage, message", [
    ("missing-txt", r"\.txt: annotation file not found"),
    ("bad-code", r"\.txt: line 1: 'xyz' is not an IRMAS instrument code"),
    ("bad-name", r"pia/piano_01\.wav: not an IRMAS training file name"),
    ("wrong-folder", r"cel/\[pia\]\[cla\]9999__1\.wav: instrument 'pia' in the name but the file is in "
                     "folder 'cel'"),
])
def test_irmas_damaged(data_root, tmp_path, damage, message):
    root = clone(data_root / "irmas", tmp_path / "irmas")
    txt = sorted(root.glob("IRMAS-TestingData-Part1/*/*.txt"))[0]
    wav = sorted((root / "IRMAS-TrainingData" / "pia").glob("*.wav"))[0]
    if damage == "missing-txt":
        txt.unlink()
    elif damage == "bad-code":
        own(txt).write_text("xyz\t\npia\t\n")
    elif damage == "bad-name":
        shutil.copy(wav, wav.with_name("piano_01.wav"))
    else:
        shutil.copy(wav, root / "IRMAS-TrainingData" / "cel" / "[pia][cla]9999__1.wav")
    with pytest.raises(DatasetError, match=message):
        irmas.read_layout(root)
