"""A folder of a user's own recordings (a replica with class folders and mixed formats): windows,
group-aware splits, a multi-label csv and unreadable files."""

from __future__ import annotations

import inspect
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
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


def _noise_folder(root, files: dict) -> Path:
    """Write ``{class: [file stem, ...]}`` as 0.2 s, 8 kHz noise wavs under ``root/<class>/``."""
    rng = np.random.default_rng(0)
    for label, stems in files.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for stem in stems:
            sf.write(root / label / f"{stem}.wav", 0.1 * rng.standard_normal(1600), 8000)
    return root


def _split_shares(dataset, labels) -> dict:
    """``{split: share of the groups of classes labels}``: every group counted once."""
    groups = {c.meta["source_group"]: c.split for c in dataset.clips if c.meta["label"] in labels}
    return {s: sum(v == s for v in groups.values()) / len(groups) for s in ("train", "valid", "test")}


def test_small_classes_never_reshape_the_split(tmp_path):
    # 10 classes of 10 groups (players, 2 takes each), one class of 3 single-file groups (kept: one
    # group can go to each split) and one of 2 (dropped: it cannot be in train, valid and test)
    big = {f"c{k}": [f"c{k}p{g}_take{t}" for g in range(10) for t in (1, 2)] for k in range(10)}
    root = _noise_folder(tmp_path / "folder", {**big, "tuba": ["tuba0", "tuba1", "tuba2"],
                                               "harp": ["harp0", "harp1"]})
    dataset = audio_folder.read_layout(root, group_by=r"^([a-z]+\d(?:p\d)?)")
    shares = _split_shares(dataset, set(big))
    assert abs(shares["test"] - 0.2) <= 0.03 and abs(shares["valid"] - 0.1) <= 0.03, shares
    assert all(len(s) == 1 for s in splits_of(dataset, lambda c: c.meta["source_group"]).values())
    labels = {c.meta["label"] for c in dataset.clips}
    assert "harp" not in labels and "tuba" in labels
    assert "train" in {c.split for c in dataset.clips if c.meta["label"] == "tuba"}
    assert dataset.notes == ("class 'harp' left out: its files make 2 group(s); a class needs at least 3 "
                             "(one for each of train, valid and test)",)
    assert "harp" in dataset.version
    # without small classes, nothing is dropped and the version does not mention it
    clean = audio_folder.read_layout(_noise_folder(tmp_path / "clean", big), group_by=r"^(c\dp\d)")
    assert clean.notes == () and "dropped" not in clean.version
    assert abs(_split_shares(clean, set(big))["test"] - 0.2) <= 0.03
    # every class too small: an error naming them
    _noise_folder(tmp_path / "tiny", {"a": ["a0", "a1"], "b": ["b0"]})
    with pytest.raises(DatasetError, match=r"every class has fewer than 3 groups: a \(2\), b \(1\)"):
        audio_folder.read_layout(tmp_path / "tiny")


def test_rare_label_of_a_labels_csv_is_dropped(tmp_path):
    root = _noise_folder(tmp_path / "folder", {"mixes": [f"m{k}" for k in range(13)]})
    rows = [f"mixes/m{k}.wav,{'piano' if k % 2 else 'violin'}" for k in range(12)]
    rows[0] += ",gong"
    (root / "labels.csv").write_text("\n".join([*rows, "mixes/m12.wav,gong"]) + "\n")
    dataset = audio_folder.read_layout(root)
    assert len(dataset.notes) == 1 and "class 'gong' left out: its files make 2 group(s)" in dataset.notes[0]
    assert {label for c in dataset.clips for label in c.meta["labels"]} == {"piano", "violin"}
    # m0 keeps its other label; m12, left without one, is left out
    assert {c.meta["group"] for c in dataset.clips} == {f"mixes/m{k}.wav" for k in range(12)}


def test_validate_lists_dropped_classes_and_classes_missing_from_train(tmp_path, capsys):
    from instrument_bench.cli import main
    from instrument_bench.validate import classes_not_in_train

    big = {f"c{k}": [f"c{k}f{g}" for g in range(10)] for k in range(3)}
    root = _noise_folder(tmp_path / "folder", {**big, "harp": ["harp0", "harp1"]})
    assert main(["validate", "audio-folder", "--root", str(root), "-q", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert ("warning: class 'harp' left out: its files make 2 group(s); a class needs at least 3 "
            "(one for each of train, valid and test)") in out
    dataset = audio_folder.read_layout(root)
    assert classes_not_in_train(dataset) == []
    moved = replace(dataset, clips=tuple(replace(c, split="test") if c.meta["label"] == "c1" else c
                                         for c in dataset.clips))
    assert classes_not_in_train(moved) == ["class 'c1' occurs in test but not in train: every cell "
                                           "of its task would fail (give it more files or groups)"]


@pytest.mark.parametrize("option, value, allowed", [
    ("window_seconds", 0, "a number of seconds above 0"),
    ("window_seconds", -1.5, "a number of seconds above 0"),
    ("window_seconds", "3", "a number of seconds above 0"),
    ("hop_seconds", 0, "a number of seconds above 0 \\(or left out: the window length\\)"),
    ("hop_seconds", -1, "a number of seconds above 0"),
    ("test_fraction", 0, "a number between 0 and 1, exclusive"),
    ("test_fraction", 1.2, "a number between 0 and 1, exclusive"),
    ("valid_fraction", 1, "a number between 0 and 1, exclusive"),
    ("group_by", 3, "a regular expression \\(a string\\)"),
    ("sample_rate", 0, "a whole number of Hz above 0"),
])
def test_audio_folder_options_are_validated(tmp_path, option, value, allowed):
    with pytest.raises(ConfigError, match=rf"audio-folder option {option} = {re.escape(repr(value))}: "
                                          rf"must be {allowed}"):
        audio_folder.read_layout(tmp_path, **{option: value})  # checked before any file is read


def test_audio_folder_fractions_must_leave_a_train_split(tmp_path):
    with pytest.raises(ConfigError, match=r"test_fraction \+ valid_fraction = 0\.6 \+ 0\.5: must be "
                                          r"below 1 \(the rest is train\)"):
        audio_folder.read_layout(tmp_path, test_fraction=0.6, valid_fraction=0.5)


def test_symlinks_leaving_the_folder_are_refused(tmp_path):
    big = {f"c{k}": [f"c{k}f{g}" for g in range(5)] for k in range(3)}
    root = _noise_folder(tmp_path / "folder", big)
    outside = _noise_folder(tmp_path / "elsewhere", {"secret": ["s0", "s1", "s2"]})
    # a symlink that stays inside the folder is fine
    (root / "c0" / "again.wav").symlink_to(root / "c1" / "c1f0.wav")
    (root / "alias").symlink_to(root / "c2", target_is_directory=True)
    inside = audio_folder.read_layout(root)
    assert {c.meta["label"] for c in inside.clips} == {"c0", "c1", "c2", "alias"}
    # a class folder that is a symlink to a folder outside
    (root / "secret").symlink_to(outside / "secret", target_is_directory=True)
    target = (outside / "secret" / "s0.wav").resolve()
    message = f"{root / 'secret' / 's0.wav'}: leads (through a symlink) to {target}, outside the dataset"
    with pytest.raises(DatasetError, match=re.escape(message)):
        audio_folder.read_layout(root)
    (root / "secret").unlink()
    # a file symlinked from outside
    (root / "c0" / "stolen.wav").symlink_to(outside / "secret" / "s1.wav")
    with pytest.raises(DatasetError, match=r"c0/stolen\.wav: leads \(through a symlink\) to .*s1\.wav, "
                                           r"outside the dataset folder"):
        audio_folder.read_layout(root)


def test_load_takes_the_options_of_read_layout():
    # load names them (a suite's are checked against its signature) with the same defaults
    load = inspect.signature(audio_folder.load).parameters
    options = {k: p.default for k, p in inspect.signature(audio_folder.read_layout).parameters.items()
               if k != "root"}
    assert {k: load[k].default for k in options} == options
    assert set(options) == set(audio_folder.OPTION_RULES)
