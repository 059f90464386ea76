"""A folder of a user's own recordings (a replica with class folders and mixed formats): windows,
group-aware splits, a multi-label csv and unreadable files."""

from __future__ import annotations

import pytest
import soundfile as sf

from instrument_bench.datasets import audio_folder
from instrument_bench.errors import BadClipsError, ConfigError, DatasetError
from instrument_bench.features import FEATURES
from instrument_bench.features.store import compute_features
from instrument_bench.protocol.labels import task_view
from instrument_bench.protocol.tasks import TASKS
from instrument_bench.windows import window_starts
from tests import replicas
from tests.datasets.helpers import splits_of
from tests.replicas import clone, own


def test_audio_folder_windows_and_group_aware_split(data_root):
    root = data_root / "audio-folder"
    dataset = audio_folder.read_layout(root, group_by=r"^([a-z]+)_")
    players = splits_of(dataset, lambda c: c.meta["source_group"])
    assert set(players) == {"alice", "bob", "carol", "dave"}
    assert all(len(s) == 1 for s in players.values())  # a player's files never straddle splits
    assert {c.split for c in dataset.clips} == {"train", "valid", "test"}
    for path in (root / "guitar/dave_take2.mp3", root / "flute/carol_take2.ogg"):
        windows = [c for c in dataset.clips if c.path == path]
        assert len(windows) == len(window_starts(sf.info(path).duration, window=3.0, hop=3.0))
        assert windows[0].meta["label"] == path.parent.name
    view = task_view(TASKS["label"], dataset)
    assert view.task.classes == ("flute", "guitar", "piano", "violin")
    # without a pattern, files are their own groups
    assert len(splits_of(audio_folder.read_layout(root), lambda c: c.meta["group"])) == 32
    with pytest.raises(ConfigError, match="--group-by '\\(' is not a regular expression"):
        audio_folder.read_layout(root, group_by="(")


def test_audio_folder_multi_label_csv(tmp_path):
    root = replicas.write_audio_folder(tmp_path / "folder", multi_label=True)
    dataset = audio_folder.read_layout(root, group_by=r"^([a-z]+)_")
    view = task_view(TASKS["labels"], dataset)
    assert view.task.classes == ("flute", "guitar", "piano", "violin")
    assert view.y["train"].sum(axis=1).max() > 1
    rows = (root / "labels.csv").read_text().splitlines()
    (root / "labels.csv").write_text("\n".join(rows + ["../outside.wav,piano"]) + "\n")
    escape = rf"labels\.csv: line {len(rows) + 1}: path '\.\./outside\.wav' leaves"
    with pytest.raises(DatasetError, match=escape):
        audio_folder.read_layout(root)


def test_audio_folder_corrupt_file_is_named(data_root, tmp_path):
    root = clone(data_root / "audio-folder", tmp_path / "folder")
    bad = replicas.corrupt_wav(own(root / "piano" / "alice_take1.wav"))
    silent = replicas.silence_wav(own(root / "violin" / "alice_take1.wav"))
    dataset = audio_folder.read_layout(root)  # the layout is fine; the files are not
    assert len([c for c in dataset.clips if c.path == bad]) == 1
    expected = rf"2 clip\(s\) cannot be used: .*{bad}: cannot read audio"
    with pytest.raises(BadClipsError, match=expected) as caught:
        compute_features(list(dataset.clips), FEATURES["mfcc-stats"], sample_rate=16000, jobs=2,
                         progress=False)
    assert {path for _, path, _ in caught.value.problems} == {bad, silent}
