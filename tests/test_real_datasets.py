"""The real-dataset loaders on small replicas of their published layouts (tests/replicas.py),
intact and damaged; ``validate``; a run over a data root holding the replicas."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from instrument_bench.cli import main
from instrument_bench.datasets import (
    audio_folder,
    irmas,
    medley_solos_db,
    mtg_jamendo,
    nsynth,
    nsynth_tfrecord,
    openmic,
)
from instrument_bench.datasets.base import safe_path, window_starts
from instrument_bench.errors import BadClipsError, ConfigError, DatasetError, FeatureError
from instrument_bench.features import FEATURES
from instrument_bench.features.store import compute_features
from instrument_bench.protocol.tasks import TASKS
from instrument_bench.runner import task_view
from tests import replicas
from tests.replicas import clone, own


@pytest.fixture(scope="module")
def data_root(tmp_path_factory, tiny_data_root):
    """A data root holding every replica in its default folder (IRMAS and OpenMIC made smaller)."""
    root = tmp_path_factory.mktemp("replicas")
    replicas.write_irmas(root / "irmas", songs_per_class=2, test_files_per_part=2)
    replicas.write_medley_solos_db(root / "medley-solos-db")
    replicas.write_mtg_jamendo(root / "mtg-jamendo")
    replicas.write_openmic(root / "openmic-2018", n_samples=48)
    replicas.write_nsynth_tfrecord(root / "nsynth-tfrecord", nsynth_root=tiny_data_root / "nsynth")
    replicas.write_audio_folder(root / "audio-folder")
    return root


def splits_of(dataset, key):
    """``{value of key(clip): set of splits}``."""
    out = {}
    for clip in dataset.clips:
        out.setdefault(key(clip), set()).add(clip.split)
    return out


# -- base helpers -------------------------------------------------------------------------------

def test_safe_path_refuses_paths_that_leave_the_root(tmp_path):
    (tmp_path / "root" / "a").mkdir(parents=True)
    (tmp_path / "outside.mp3").write_bytes(b"x")
    (tmp_path / "root" / "link").symlink_to(tmp_path)
    inside = safe_path(tmp_path / "root", "a/b.mp3", source="m.tsv: line 2")
    assert inside == tmp_path / "root" / "a" / "b.mp3"
    for bad in ("../outside.mp3", "/etc/passwd", "a/../../outside.mp3", "link/outside.mp3", ""):
        with pytest.raises(DatasetError, match="m.tsv: line 2: path"):
            safe_path(tmp_path / "root", bad, source="m.tsv: line 2")


def test_window_starts():
    assert window_starts(3.0, window=1.0, hop=0.5) == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert window_starts(7.5, window=3.0, hop=3.0) == [0.0, 3.0]
    assert window_starts(1.2, window=3.0, hop=3.0) == [0.0]  # shorter: one padded window


# -- IRMAS --------------------------------------------------------------------------------------

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


# -- Medley-solos-DB ----------------------------------------------------------------------------

def test_medley_solos_db_official_subsets_and_piano_violin(data_root):
    dataset = medley_solos_db.read_layout(data_root / "medley-solos-db")
    assert {c.split for c in dataset.clips} == {"train", "valid", "test"}
    assert all(len(s) == 1 for s in splits_of(dataset, lambda c: c.meta["song_id"]).values())
    assert sf.info(dataset.clips[0].path).frames == 65536
    view = task_view(TASKS["piano-violin"], dataset)
    assert view.task.classes == ("piano", "violin")
    for split, clips in view.clips.items():
        assert {c.meta["instrument"] for c in clips} == {"piano", "violin"}
        assert len(clips) == view.keep[split].sum() < len(dataset.split(split))
    assert len(task_view(TASKS["medley-instrument"], dataset).clips["train"]) == len(dataset.split("train"))


@pytest.mark.parametrize("damage, message", [
    ("id-mismatch", r"Medley-solos-DB_metadata\.csv: line 2: instrument 'violin' does not match "
                    "instrument_id"),
    ("missing-wav", r"Medley-solos-DB_metadata\.csv: line 3: audio file .* not found"),
    ("bad-uuid", r"Medley-solos-DB_metadata\.csv: line 2: uuid4 '\.\./\.\./x' is not a UUID"),
    ("no-column", r"lacks the columns song_id"),
])
def test_medley_solos_db_damaged(data_root, tmp_path, damage, message):
    root = clone(data_root / "medley-solos-db", tmp_path / "medley")
    csv_path = own(root / medley_solos_db.METADATA)
    lines = csv_path.read_text().splitlines()
    cells = lines[1].split(",")
    if damage == "id-mismatch":
        cells[1] = "violin" if cells[1] != "violin" else "piano"
        lines[1] = ",".join(cells)
    elif damage == "missing-wav":
        subset, _, instrument_id, _, uuid4 = lines[2].split(",")
        (root / "audio" / f"Medley-solos-DB_{subset}-{instrument_id}_{uuid4}.wav").unlink()
    elif damage == "bad-uuid":
        cells[4] = "../../x"
        lines[1] = ",".join(cells)
    else:
        lines = [",".join(c for c in line.split(",")[:3] + line.split(",")[4:]) for line in lines]
    csv_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=message):
        medley_solos_db.read_layout(root)


# -- MTG-Jamendo --------------------------------------------------------------------------------

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


# -- OpenMIC-2018 -------------------------------------------------------------------------------

def test_openmic_labels_are_masked_and_split_official(data_root):
    root = data_root / "openmic-2018"
    dataset = openmic.read_layout(root)
    with np.load(root / "openmic-2018.npz") as archive:
        keys = list(archive["sample_key"])
        y_true, y_mask = archive["Y_true"], archive["Y_mask"]
    test_keys = (root / "partitions/split01_test.csv").read_text().split()
    assert [c.clip_id for c in dataset.split("test")] == test_keys
    y = TASKS["openmic"].labels(list(dataset.clips))
    for clip, row in zip(dataset.clips, y):
        i = keys.index(clip.clip_id)
        expected = np.where(y_mask[i], (y_true[i] >= 0.5).astype(int), -1)
        np.testing.assert_array_equal(row, expected)
    assert (y == -1).any() and {c.split for c in dataset.clips} == {"train", "valid", "test"}
    x = compute_features(list(dataset.clips), FEATURES["vggish-mean"], sample_rate=16000, progress=False)
    assert x.shape == (len(dataset.clips), 128)


@pytest.mark.parametrize("damage, message", [
    ("unknown-key", r"split01_test\.csv: line 1: sample_key '999999_0' is not in openmic-2018\.npz"),
    ("class-map", r"class-map\.json: expected OpenMIC's 20 instruments"),
    ("both", r"is in both split01_train and split01_test"),
])
def test_openmic_damaged(data_root, tmp_path, damage, message):
    root = clone(data_root / "openmic-2018", tmp_path / "openmic")
    test_csv = own(root / "partitions/split01_test.csv")
    if damage == "unknown-key":
        test_csv.write_text("999999_0\n" + test_csv.read_text())
    elif damage == "class-map":
        own(root / "class-map.json").write_text('{"piano": 0}')
    else:
        test_csv.write_text((root / "partitions/split01_train.csv").read_text().split()[0] + "\n")
    with pytest.raises(DatasetError, match=message):
        openmic.read_layout(root)


# -- NSynth TFRecord ----------------------------------------------------------------------------

def test_nsynth_tfrecord_gives_the_json_wav_clips(data_root, tiny_data_root, tmp_path):
    reference = nsynth.read_layout(tiny_data_root / "nsynth")
    dataset = nsynth_tfrecord.load(data_root=data_root, data_home=tmp_path, progress=False)
    assert [(c.clip_id, c.split) for c in dataset.clips] == [(c.clip_id, c.split) for c in reference.clips]
    fields = nsynth.REQUIRED_FIELDS
    for ours, theirs in zip(dataset.clips, reference.clips):
        assert {k: ours.meta[k] for k in fields} == {k: theirs.meta[k] for k in fields}
    for ours, theirs in zip(dataset.clips[:5], reference.clips[:5]):
        ours_audio, theirs_audio = (sf.read(c.path, dtype="int16")[0] for c in (ours, theirs))
        np.testing.assert_array_equal(ours_audio, theirs_audio)
    again = nsynth_tfrecord.load(data_root=data_root, data_home=tmp_path, progress=False)  # converted once
    assert again.root == dataset.root and again.version == dataset.version


def test_nsynth_tfrecord_damaged(data_root, tmp_path):
    root = clone(data_root / "nsynth-tfrecord", tmp_path / "nsynth-tfrecord")
    record = own(root / "nsynth-valid.tfrecord")
    record.write_bytes(record.read_bytes()[:-50])  # the last record is cut short
    with pytest.raises(DatasetError, match=r"nsynth-valid\.tfrecord: record \d+: cannot parse"):
        nsynth_tfrecord.load(root=root, data_home=tmp_path / "home", progress=False)
    assert not list((tmp_path / "home" / "nsynth-tfrecord").glob("*/nsynth-test"))  # nothing half-written


# -- audio-folder -------------------------------------------------------------------------------

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


# -- validate and run ---------------------------------------------------------------------------

def test_validate_reports_every_bad_file(data_root, tmp_path, capsys):
    assert main(["validate", "medley-solos-db", "--data-root", str(data_root), "-q", "--jobs", "2"]) == 0
    assert "OK" in capsys.readouterr().out
    root = clone(data_root / "medley-solos-db", tmp_path / "medley")
    wavs = sorted((root / "audio").glob("*.wav"))
    silent = replicas.silence_wav(own(wavs[0]))
    corrupt = replicas.corrupt_wav(own(wavs[1]))
    extra = shutil.copy(wavs[2], root / "audio" / "stray.wav")
    assert main(["validate", "medley-solos-db", "--root", str(root), "-q", "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert f"error: {silent}: audio is silent" in out
    assert f"error: {corrupt}: cannot read audio" in out
    assert f"warning: {extra}: unexpected file" in out
    assert "errors: 2; warnings: 1" in out and "FAILED" in out
    assert main(["validate", "irmas", "--data-root", str(tmp_path / "nowhere"), "-q"]) == 1
    assert main(["validate", "medley", "-q"]) == 2


def test_run_over_replicas(data_root, tmp_path, bench_home, capsys):
    suite = tmp_path / "replicas.toml"
    suite.write_text("""
name = "replicas"
seeds = 1
[[experiment]]
dataset = "irmas"
tasks = ["irmas"]
features = ["mfcc-stats"]
models = ["logreg"]
predictors = ["top-k"]
[[experiment]]
dataset = "medley-solos-db"
tasks = ["piano-violin"]
features = ["mfcc-stats"]
models = ["logreg", "svm"]
[[experiment]]
dataset = "openmic-2018"
tasks = ["openmic"]
features = ["vggish-mean"]
models = ["openmic-rf"]
predictors = ["threshold"]
[[experiment]]
dataset = "audio-folder"
tasks = ["label", "labels"]
features = ["mfcc-stats"]
models = ["logreg"]
[[experiment]]
dataset = "musicnet"
tasks = ["families"]
features = ["mfcc-stats"]
models = ["logreg"]
""")
    results = tmp_path / "results"
    code = main(["run", str(suite), "--data-root", str(data_root), "--results", str(results), "-q",
                 "--group-by", "^([a-z]+)_", "--jobs", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    import pandas as pd

    runs = pd.read_csv(results / "runs.csv")
    assert (runs["status"] == "ok").all() and len(runs) == 5
    by = runs.drop_duplicates("dataset").set_index("dataset")
    assert by.loc["irmas", "n_test_groups"] == 6  # excerpts, not windows
    assert by.loc["irmas", "n_test"] > 6
    assert by.loc["medley-solos-db", "n_classes"] == 2  # a two-class SVM's scores work too
    assert np.isnan(by.loc["openmic-2018", "samples_f1"]) and by.loc["openmic-2018", "macro_f1"] > 0
    assert "skipped musicnet:" in out and "dataset folder not found" in out
    assert "skipped audio-folder/labels: audio-folder has no 'labels' labels" in out
