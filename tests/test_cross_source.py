"""Cross-source evaluation (``test_on``): a model fitted on one dataset's families, scored on
another dataset's test split through the shared family vocabulary.

(a) target_view / to_label_map and the suite checks; (b) a run end to end on a tiny NSynth-layout
render scored on a Medley-solos-DB replica and on a test-only audio folder; (c) the target's train
and valid audio is never read; (d) a missing SoundFont skips gm-notes-fluidr3 in one line, and a
two-note FluidR3_GM render differs from TimGM6mb's but keeps the split.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from instrument_bench.cli import main
from instrument_bench.config import load_suite
from instrument_bench.datasets import gm_notes
from instrument_bench.datasets.base import Clip, Dataset
from instrument_bench.datasets.gm import NSYNTH_FAMILIES
from instrument_bench.errors import ConfigError, DatasetError, DatasetNotFoundError, SuiteError
from instrument_bench.plan import validate_suite
from instrument_bench.predict import choose_model
from instrument_bench.protocol.tasks import TASKS
from instrument_bench.protocol.transfer import FAMILY_TASKS, target_view, to_label_map
from tests.replicas import write_audio_folder, write_medley_solos_db
from tests.suites import experiment, write_suite

FAMILY = {f: i for i, f in enumerate(NSYNTH_FAMILIES)}
# the families the tiny NSynth render (tests/conftest.py TINY_PROGRAMS) trains on
LEARNT = ("guitar", "keyboard", "string")
FOLDER_FAMILIES = {"piano": "keyboard", "violin": "string", "flute": "flute", "guitar": "guitar"}
MEDLEY_LEARNT = {"piano", "violin", "distorted electric guitar"}  # Medley classes in LEARNT families


# ---------------------------------------------------------------- (a) views, label maps, suites

def _dataset(name: str, clips) -> Dataset:
    return Dataset(name=name, root=Path("/nowhere"), sample_rate=16000, clips=tuple(clips), version="v1")


def _openmic_clip(clip_id, instruments, annotated=None, split="test", **meta):
    fields = {"instruments": list(instruments), **meta}
    if annotated is not None:
        fields["annotated"] = list(annotated)
    return Clip(clip_id, None, split, fields)


def test_single_label_view_keeps_clips_with_exactly_one_family():
    clips = [
        _openmic_clip("a", ["violin"]),
        _openmic_clip("b", ["violin", "cello"]),  # two labels, one family: kept
        _openmic_clip("c", ["violin", "piano"]),  # two families: left out
        _openmic_clip("d", ["drums", "cymbals"]),  # no family: left out
        _openmic_clip("e", ["drums", "trumpet"]),  # drums dropped, one family left: kept
        _openmic_clip("t", ["kazoo"], split="train"),  # never read (its label is not even mapped)
        _openmic_clip("v", ["violin", "piano"], split="valid"),
    ]
    view = target_view(TASKS["family"], _dataset("openmic-2018", clips))
    assert view.dataset == "openmic-2018" and view.version == "v1"
    assert view.split_hash == _dataset("openmic-2018", clips).split_hash()
    assert list(view.keep) == ["test"] and view.keep["test"].tolist() == [True, True, False, False, True]
    assert [c.clip_id for c in view.clips] == ["a", "b", "e"]
    assert view.y.tolist() == [FAMILY["string"], FAMILY["string"], FAMILY["brass"]]
    assert view.groups is None


def test_multi_label_view_gives_indicator_rows_unknown_where_not_annotated():
    clips = [
        _openmic_clip("a", ["violin"], annotated=["violin", "trumpet", "drums"]),
        _openmic_clip("b", ["drums"], annotated=["drums"]),  # no family present: kept, all unknown
        _openmic_clip("c", ["piano", "voice"]),  # no annotated list: every family decided
    ]
    view = target_view(TASKS["families"], _dataset("openmic-2018", clips))
    assert view.keep["test"].tolist() == [True, True, True]
    assert view.y.shape == (3, len(NSYNTH_FAMILIES))
    expected = np.full((3, len(NSYNTH_FAMILIES)), -1)
    expected[0, [FAMILY["string"], FAMILY["brass"]]] = [1, 0]
    expected[2] = 0
    expected[2, [FAMILY["keyboard"], FAMILY["vocal"]]] = 1
    np.testing.assert_array_equal(view.y, expected)


def test_view_of_windowed_clips_carries_their_recordings():
    clips = [Clip(f"rec{r}@{w}", None, "test", {"instruments": ["vio"], "group": f"rec{r}"})
             for r in range(2) for w in range(3)]
    view = target_view(TASKS["family"], _dataset("irmas", clips))
    assert view.groups.tolist() == ["rec0"] * 3 + ["rec1"] * 3
    assert view.y.tolist() == [FAMILY["string"]] * 6


def test_view_errors():
    with pytest.raises(DatasetError, match="no test clip carries exactly one"):
        target_view(TASKS["family"], _dataset("openmic-2018", [_openmic_clip("a", ["drums"])]))
    with pytest.raises(DatasetError, match="'instruments'"):  # a clip without the map's field
        target_view(TASKS["family"], _dataset("irmas", [Clip("a", None, "test", {"instrument": "vio"})]))
    with pytest.raises(DatasetError, match="'kazoo'"):
        target_view(TASKS["family"], _dataset("irmas", [_openmic_clip("a", ["kazoo"])]))
    with pytest.raises(DatasetError, match="families"):  # an audio folder without a families table
        target_view(TASKS["family"], _dataset("audio-folder", [Clip("a", None, "test", {"label": "x"})]))


@pytest.mark.parametrize("task", ["source", "instruments", "irmas", "medley-instrument", "label"])
def test_a_non_family_task_cannot_cross_datasets(task):
    assert task not in FAMILY_TASKS
    with pytest.raises(ConfigError, match="cross-source"):
        target_view(TASKS[task], _dataset("openmic-2018", [_openmic_clip("a", ["violin"])]))


def test_to_label_map_drops_families_the_model_never_learnt():
    task = TASKS["family"]
    y = np.array([FAMILY[f] for f in ("string", "reed", "keyboard", "flute", "guitar", "string")])
    labels, rows = to_label_map(task, y, list(LEARNT))
    assert rows.tolist() == [True, False, True, False, True, True]
    assert labels.tolist() == [LEARNT.index(f) for f in ("string", "keyboard", "guitar", "string")]
    assert labels.dtype == np.int64


def test_to_label_map_multi_label_takes_the_learnt_columns():
    task = TASKS["families"]
    y = np.zeros((2, len(NSYNTH_FAMILIES)), dtype=np.int64)
    y[0, FAMILY["reed"]] = 1
    y[0, FAMILY["string"]] = 1
    y[1] = -1
    y[1, FAMILY["keyboard"]] = 1
    labels, rows = to_label_map(task, y, ["string", "keyboard"])
    assert rows.tolist() == [True, True]  # a clip of a family the model never saw still scores
    assert labels.tolist() == [[1, 0], [-1, 1]]


def _suite_file(tmp_path, **exp_keys):
    keys = {"tasks": ["family"], "test_on": ["medley-solos-db"], **exp_keys}
    return write_suite(tmp_path / "cross.toml", experiment("nsynth", features=["mfcc-stats"],
                                                           models=["logreg"], **keys))


@pytest.mark.parametrize("tasks, named", [(["source"], "source"), (["family", "source"], "source"),
                                          (["families", "instruments"], "instruments")])
def test_suite_refuses_test_on_with_a_non_family_task(tmp_path, capsys, tasks, named):
    path = _suite_file(tmp_path, tasks=tasks)
    with pytest.raises(SuiteError, match=f"test_on.*{named}"):
        validate_suite(load_suite(str(path)))
    code = main(["run", str(path), "--results", str(tmp_path / "r"), "-q"])
    err = capsys.readouterr().err
    assert code == 2 and "test_on" in err and named in err
    assert not (tmp_path / "r" / "runs.csv").exists()


def test_suite_refuses_an_unknown_test_on_dataset(tmp_path, capsys):
    path = _suite_file(tmp_path, test_on=["medley-solos-db", "no-such-set"])
    with pytest.raises(ConfigError, match="unknown dataset 'no-such-set'"):
        validate_suite(load_suite(str(path)))
    code = main(["run", str(path), "--results", str(tmp_path / "r"), "-q"])
    assert code == 2 and "unknown dataset 'no-such-set'" in capsys.readouterr().err


def test_suite_refuses_test_on_that_is_not_a_list_of_names(tmp_path, capsys):
    path = _suite_file(tmp_path, test_on="medley-solos-db")
    code = main(["run", str(path), "--results", str(tmp_path / "r"), "-q"])
    assert code == 2 and "test_on" in capsys.readouterr().err


# ---------------------------------------------------------------- (b) a run end to end

@pytest.fixture(scope="module")
def medley_root(tmp_path_factory):
    return write_medley_solos_db(tmp_path_factory.mktemp("medley") / "medley-solos-db")


@pytest.fixture(scope="module")
def folder_root(tmp_path_factory):
    return write_audio_folder(tmp_path_factory.mktemp("folder") / "audio-folder")


def _data_root(tmp_path, tiny_data_root, medley_root) -> Path:
    """A data root with the tiny NSynth render and the Medley-solos-DB replica (linked)."""
    root = tmp_path / "data"
    root.mkdir()
    os.symlink(tiny_data_root / "nsynth", root / "nsynth")
    os.symlink(medley_root, root / "medley-solos-db")
    return root


def _medley_scored(medley_root) -> int:
    """Medley test clips whose family the tiny NSynth render trains on."""
    with open(medley_root / "Medley-solos-DB_metadata.csv") as f:
        rows = list(csv.DictReader(f))
    return sum(row["subset"] == "test" and row["instrument"] in MEDLEY_LEARNT for row in rows)


def _run(suite, data_root, results, capsys, *extra):
    code = main(["run", str(suite), "--data-root", str(data_root), "--results", str(results), "--jobs", "2",
                 "-q", *extra])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cross_source_run_end_to_end(tiny_data_root, medley_root, folder_root, bench_home, tmp_path, capsys):
    data_root = _data_root(tmp_path, tiny_data_root, medley_root)
    targets = ["medley-solos-db", "audio-folder"]
    suite = write_suite(
        tmp_path / "cross.toml",
        experiment("nsynth", tasks=["family"], features=["mfcc-stats"], models=["logreg", "knn"],
                   test_on=targets),
        datasets={"audio-folder": {"root": str(folder_root), "test_only": True, "families": FOLDER_FAMILIES}})
    res = tmp_path / "results"
    code, out, err = _run(suite, data_root, res, capsys)
    assert code == 0, err
    assert "2 cells computed" in out

    runs = pd.read_csv(res / "runs.csv", dtype={"run_key": str, "model_key": str})
    assert set(runs["status"]) == {"ok"} and set(runs["dataset"]) == {"nsynth"}
    assert len(runs) == 2 * 3  # 2 models x (in-source + 2 targets)
    assert runs["run_key"].is_unique and runs["run_key"].str.fullmatch(r"[0-9a-f]{16}").all()
    in_source = runs[runs["test_dataset"] == runs["dataset"]]
    assert len(in_source) == 2 and in_source["predictions_key"].isna().all()
    assert sorted(runs["test_dataset"].unique()) == sorted(["nsynth", *targets])
    # every model's three rows share its fitted model (one model_key) and its fitted predictor
    for _, rows in runs.groupby("model"):
        assert rows["model_key"].nunique() == 1 and len(rows) == 3
        assert rows["label_map"].nunique() == 1 and rows["predictor_params"].nunique() == 1
        assert rows["best_params"].nunique() == 1
    expected_n = {"medley-solos-db": _medley_scored(medley_root),
                  "audio-folder": 3 * 8}  # piano, violin, guitar recordings (flute never learnt)
    for _, row in runs[runs["test_dataset"] != runs["dataset"]].iterrows():
        target = row["test_dataset"]
        assert row["n_test"] == expected_n[target], target
        assert row["predictions_key"] == f"{row['model_key']}-{target}"
        saved = np.load(res / "predictions" / f"{row['model_key']}-{target}.npz")
        assert list(saved["label_map"]) == list(LEARNT) == json.loads(row["label_map"])
        assert len(saved["y_true"]) == len(saved["scores"]) == len(saved["clip_ids"]) == row["n_test"]
        assert saved["scores"].shape[1] == len(LEARNT)
        accuracy = float((saved["scores"].argmax(axis=1) == saved["y_true"]).mean())
        assert row["accuracy"] == pytest.approx(accuracy)
        if target == "audio-folder":  # windows averaged per recording: one row per file
            kept = {f"{name}/{p.name}" for name in ("piano", "violin", "guitar")
                    for p in (folder_root / name).iterdir()}
            assert set(saved["clip_ids"]) == kept
        else:
            assert len(set(saved["units"])) < row["n_test"]  # Medley's units are songs
    for _, row in in_source.iterrows():
        assert (res / "predictions" / f"{row['model_key']}.npz").is_file()
        assert row["n_test"] == len(np.load(res / "predictions" / f"{row['model_key']}.npz")["y_true"])

    per_class = pd.read_csv(res / "per_class.csv", dtype={"run_key": str})
    assert set(per_class["run_key"]) == set(runs["run_key"])

    board = pd.read_csv(res / "leaderboard.csv")
    assert len(board) == 6
    assert (board["dataset"] == "nsynth").all()
    for test_dataset, block in board.groupby("test_dataset"):
        assert sorted(block["rank"]) == [1, 2], test_dataset
        ordered = block.sort_values("rank")["macro_f1_mean"]
        assert ordered.is_monotonic_decreasing, test_dataset
    assert "tested on medley-solos-db" in out and "tested on audio-folder" in out
    assert "transfer matrix, family: macro_f1" in out and "nsynth -> medley-solos-db" in out

    # predict's default: the saved model with the best mean primary metric over the other sources
    cross = board[board["test_dataset"] != board["dataset"]]
    best = cross.groupby("model")["macro_f1_mean"].mean().idxmax()
    folder, predictor, why = choose_model(res, dataset="nsynth", task="family")
    assert json.loads((folder / "manifest.json").read_text())["model"] == best and predictor == "argmax"
    assert why.startswith("best transfer: macro_f1") and "audio-folder, medley-solos-db" in why

    stamp = (res / "runs.csv").stat().st_mtime_ns
    code, out, err = _run(suite, data_root, res, capsys)  # a rerun computes nothing
    assert code == 0, err
    assert "0 cells computed, 2 reused" in out
    assert (res / "runs.csv").stat().st_mtime_ns == stamp


# ---------------------------------------------------------------- (c) only the target's test split

def test_cross_source_never_reads_the_targets_train_or_valid_audio(tiny_data_root, medley_root, bench_home,
                                                                   tmp_path, capsys):
    medley = tmp_path / "medley"
    shutil.copytree(medley_root, medley)
    rng = np.random.default_rng(0)
    garbled = 0
    with open(medley / "Medley-solos-DB_metadata.csv") as f:
        for row in csv.DictReader(f):
            if row["subset"] != "test":
                path = medley / "audio" / (f"Medley-solos-DB_{row['subset']}-{row['instrument_id']}_"
                                           f"{row['uuid4']}.wav")
                assert path.is_file()
                path.write_bytes(rng.integers(0, 256, size=path.stat().st_size, dtype=np.uint8).tobytes())
                garbled += 1
    assert garbled > 0
    with pytest.raises(sf.LibsndfileError):  # the garbled files cannot be decoded
        sf.read(next(p for p in (medley / "audio").iterdir() if "_training-" in p.name))
    data_root = _data_root(tmp_path, tiny_data_root, medley)
    suite = write_suite(tmp_path / "cross.toml",
                        experiment("nsynth", tasks=["family"], features=["mfcc-stats"], models=["logreg"],
                                   test_on=["medley-solos-db"]))
    res = tmp_path / "results"
    code, out, err = _run(suite, data_root, res, capsys)
    assert code == 0, err
    runs = pd.read_csv(res / "runs.csv")
    assert set(runs["status"]) == {"ok"}
    cross = runs[runs["test_dataset"] == "medley-solos-db"]
    assert len(cross) == 1 and cross["n_test"].iloc[0] == _medley_scored(medley_root)


# ---------------------------------------------------------------- (d) gm-notes-fluidr3

def test_missing_soundfont_is_dataset_not_found(tmp_path, monkeypatch):
    missing = tmp_path / "nope" / "FluidR3_GM.sf2"
    with pytest.raises(DatasetNotFoundError, match="check the path"):
        gm_notes.load_fluidr3(soundfont=str(missing), data_home=tmp_path / "home")
    monkeypatch.setattr(gm_notes, "FLUIDR3", str(missing))  # the default path: the install command
    with pytest.raises(DatasetNotFoundError, match="sudo apt-get install fluid-soundfont-gm"):
        gm_notes.load_fluidr3(soundfont=str(missing), data_home=tmp_path / "home")
    assert not (tmp_path / "home").exists()  # nothing rendered


def test_missing_soundfont_skips_the_cross_source_rows_in_one_line(tiny_data_root, bench_home, tmp_path,
                                                                   capsys):
    missing = tmp_path / "missing.sf2"
    suite = write_suite(tmp_path / "fluid.toml",
                        experiment("nsynth", tasks=["family"], features=["mfcc-stats"], models=["logreg"],
                                   test_on=["gm-notes-fluidr3"]),
                        datasets={"gm-notes-fluidr3": {"soundfont": str(missing)}})
    res = tmp_path / "results"
    code, out, err = _run(suite, tiny_data_root, res, capsys)
    assert code == 0, err
    runs = pd.read_csv(res / "runs.csv")
    assert len(runs) == 1 and runs["status"].iloc[0] == "ok"
    assert (runs["test_dataset"] == "nsynth").all()
    lines = [line for line in out.splitlines() if line.startswith("skipped")]
    assert len(lines) == 1, out
    assert lines[0].startswith("skipped gm-notes-fluidr3")
    assert "nsynth -> gm-notes-fluidr3" in lines[0] and str(missing) in lines[0]
    assert not (bench_home / "gm-notes-fluidr3").exists()
    _, _, why = choose_model(res, dataset="nsynth", task="family")  # no cross-source rows
    assert why.startswith("best in-source row")
    code, out, _ = _run(suite, tiny_data_root, res, capsys)  # a rerun: nothing left to compute
    assert code == 0 and "0 cells computed, 1 reused" in out


def test_a_file_that_is_not_a_soundfont_is_named(tmp_path):
    bad = tmp_path / "bad.sf2"
    bad.write_bytes(b"RIFF\0\0\0\0WAVEfmt " + bytes(64))
    with pytest.raises(DatasetError, match="not an SF2"):
        gm_notes.load_fluidr3(soundfont=str(bad), data_home=tmp_path / "home")


@pytest.mark.skipif(not Path(gm_notes.FLUIDR3).is_file(), reason=gm_notes.FLUIDR3_INSTALL)
def test_fluidr3_render_differs_from_timgm6mb_and_keeps_the_split(tmp_path):
    settings = {"programs": [0, 1, 2, 40], "n_pitches": 2, "velocities": (100,), "progress": False}
    tim = gm_notes.render_dataset(tmp_path / "tim", **settings)
    fluid = gm_notes.render_dataset(tmp_path / "fluid", soundfont=gm_notes.FLUIDR3, **settings)
    a = gm_notes.read_layout(tim, name="gm-notes")
    b = gm_notes.read_layout(fluid, name="gm-notes-fluidr3")
    assert [(c.clip_id, c.split) for c in a.clips] == [(c.clip_id, c.split) for c in b.clips]
    assert a.split_hash() == b.split_hash()
    assert {c.split for c in a.clips} == {"train", "valid", "test"}
    for x, y in zip(a.clips, b.clips):
        wa, wb = sf.read(x.path)[0], sf.read(y.path)[0]
        assert wa.shape == wb.shape
        assert np.abs(wb).max() > 1e-3  # FluidR3 has a zone for the key
        assert not np.allclose(wa, wb, atol=1e-3), x.clip_id
    markers = [json.loads((root / gm_notes.MARKER).read_text()) for root in (tim, fluid)]
    assert "soundfont" not in markers[0] and len(markers[1]["soundfont"]) == 12
    assert markers[0]["counts"] == markers[1]["counts"]


def test_predict_leaves_windows_of_silence_and_release_out_of_a_files_scores():
    """A level-free feature amplifies a window of near-silence to full scale: such windows (RMS more
    than 30 dB below the loudest window) do not vote for the file."""
    from instrument_bench.datasets.render import render_notes
    from instrument_bench.predict import sounding_windows, window_positions

    note = render_notes(program=40, notes=[(62, 100)], sample_rate=16000, note_seconds=3.0,
                        clip_seconds=4.0)[0]
    hiss = np.random.default_rng(0).normal(0, 1e-4, 8 * 16000).astype(np.float32)
    audio = np.concatenate([note, hiss])
    starts = window_positions(len(audio), clip_samples=4 * 16000, hop_samples=4 * 16000)
    assert list(sounding_windows(audio, starts, 4 * 16000)) == [True, False, False]
    assert sounding_windows(hiss, [0], 4 * 16000).all()  # the loudest window always counts


def test_suite_refuses_its_own_dataset_in_test_on(tmp_path, capsys):
    suite = write_suite(tmp_path / "own.toml",
                        experiment("gm-notes", tasks=["family"], features=["mfcc-stats"], models=["logreg"],
                                   test_on=["gm-notes"]))
    assert main(["run", str(suite), "--results", str(tmp_path / "r"), "-q"]) == 2
    assert "names its own dataset in test_on" in capsys.readouterr().err
