"""A corpus of bad and unusual input: each file gets a clear error naming it, or a documented
handling; ``--on-bad-clip fail|skip``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from instrument_bench.audio import load_audio
from instrument_bench.cli import main
from instrument_bench.datasets import DATASETS
from instrument_bench.datasets.base import Clip, Dataset
from instrument_bench.datasets.loading import load_dataset
from instrument_bench.errors import AudioError, DatasetError
from instrument_bench.protocol.labels import encode_labels
from instrument_bench.protocol.tasks import TASKS
from tests import replicas
from tests.replicas import clone, own
from tests.suites import experiment, write_suite

RATE = 16000


def tone(seconds=1.0, rate=RATE, channels=1):
    t = np.arange(int(seconds * rate)) / rate
    x = 0.5 * np.sin(2 * np.pi * 440 * t) * np.exp(-t)
    return np.stack([x] * channels, axis=1) if channels > 1 else x


@pytest.fixture()
def corpus(tmp_path):
    """Bad and unusual files, written by the test itself."""
    out = {}

    def write(name, data, rate=RATE, **kwargs):
        sf.write(tmp_path / name, data, rate, **kwargs)
        out[name] = tmp_path / name

    write("reference.wav", tone(), subtype="PCM_16")
    for subtype in ("PCM_U8", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"):
        write(f"{subtype}.wav", tone(), subtype=subtype)
    write("stereo.wav", tone(channels=2), subtype="PCM_16")
    write("8k.wav", tone(rate=8000), rate=8000, subtype="PCM_16")
    write("96k.wav", tone(rate=96000), rate=96000, subtype="PCM_24")
    write("note.flac", tone(), format="FLAC")
    write("note.mp3", tone(), format="MP3")
    write("zeros.wav", np.zeros(RATE), subtype="PCM_16")
    nan = tone().astype(np.float32)
    nan[100] = np.nan
    write("nan.wav", nan, subtype="FLOAT")
    inf = tone().astype(np.float32)
    inf[100] = np.inf
    write("inf.wav", inf, subtype="FLOAT")
    write("no-samples.wav", np.zeros(0), subtype="PCM_16")
    reference = out["reference.wav"].read_bytes()
    for name, data in (("corrupt-header.wav", b"RIFF" + bytes(range(200))),
                       ("truncated.wav", reference[:len(reference) // 2]),
                       ("zero-length.wav", b"")):
        (tmp_path / name).write_bytes(data)
        out[name] = tmp_path / name
    out["missing.wav"] = tmp_path / "missing.wav"
    return out


@pytest.mark.parametrize("name", ["PCM_U8.wav", "PCM_24.wav", "PCM_32.wav", "FLOAT.wav", "DOUBLE.wav",
                                  "stereo.wav", "note.flac"])
def test_formats_read_as_the_same_mono_signal(corpus, name):
    reference = load_audio(corpus["reference.wav"], sample_rate=RATE)
    audio = load_audio(corpus[name], sample_rate=RATE)
    assert audio.dtype == np.float32 and audio.shape == reference.shape
    tolerance = 1e-2 if name == "PCM_U8.wav" else 1e-4
    np.testing.assert_allclose(audio, reference, atol=tolerance)


@pytest.mark.parametrize("name", ["8k.wav", "96k.wav", "note.mp3"])
def test_other_rates_and_mp3_are_resampled_to_the_dataset_rate(corpus, name):
    audio = load_audio(corpus[name], sample_rate=RATE)
    assert abs(len(audio) - RATE) <= 0.1 * RATE  # mp3 pads a few frames
    assert np.isfinite(audio).all() and np.abs(audio).max() > 0.1


@pytest.mark.parametrize("name, message", [
    ("corrupt-header.wav", "cannot read audio"),
    ("truncated.wav", r"truncated \(its header announces 32000 bytes of audio, the file holds"),
    ("zero-length.wav", r"empty file \(0 bytes\)"),
    ("no-samples.wav", "audio file holds no samples"),
    ("zeros.wav", r"audio is silent \(peak below 1e-05\)"),
    ("nan.wav", "audio holds NaN or infinite samples"),
    ("inf.wav", "audio holds NaN or infinite samples"),
    ("missing.wav", "audio file not found"),
])
def test_bad_files_raise_an_error_naming_the_file(corpus, name, message):
    with pytest.raises(AudioError, match=rf"^{corpus[name]}: {message}"):
        load_audio(corpus[name], sample_rate=RATE)


def test_unknown_label_and_classes_missing_from_a_split():
    task = TASKS["family"]
    clip = Clip("a", None, "train", {"instrument_family_str": "kazoo"})
    with pytest.raises(DatasetError, match="instrument_family_str='kazoo' is not a label of task 'family'"):
        task.labels([clip])
    y = {"train": np.array([0, 0, 1]), "valid": np.array([0, 1]), "test": np.array([0, 2])}
    with pytest.raises(DatasetError, match=f"classes {task.classes[2]} occur in test but not in train"):
        encode_labels(task, y)
    y["test"] = np.array([0, 0])  # a class empty in test is fine: metrics cover the classes present
    encoded, label_map = encode_labels(task, y)
    assert label_map == list(task.classes[:2]) and encoded["test"].tolist() == [0, 0]


def test_duplicate_clip_ids_are_refused(monkeypatch, tmp_path):
    clips = (Clip("note-1", None, "train"), Clip("note-2", None, "valid"), Clip("note-1", None, "test"))
    monkeypatch.setitem(DATASETS, "twice", lambda **_: Dataset("twice", tmp_path, RATE, clips))
    with pytest.raises(DatasetError, match=f"{tmp_path}: clip id 'note-1' appears more than once in twice"):
        load_dataset("twice", options={})


NSYNTH = experiment("nsynth", tasks=["family"], features=["mfcc-stats", "nsynth-attributes"],
                    models=["logreg"])


def test_on_bad_clip_fail_lists_every_bad_clip_and_skip_leaves_them_out(tmp_path, tiny_data_root,
                                                                         bench_home, capsys):
    root = clone(tiny_data_root, tmp_path / "data")
    audio = sorted((root / "nsynth" / "nsynth-train" / "audio").glob("*.wav"))
    replicas.corrupt_wav(own(audio[0]))
    replicas.silence_wav(own(audio[1]))
    suite = write_suite(tmp_path / "bad.toml", NSYNTH, name="bad", seeds=1)
    args = ["run", str(suite), "--data-root", str(root), "-q", "--jobs", "2"]

    assert main([*args, "--results", str(tmp_path / "fail")]) == 1
    runs = pd.read_csv(tmp_path / "fail" / "runs.csv").set_index("feature")
    error = runs.loc["mfcc-stats", "error"]
    assert runs.loc["mfcc-stats", "status"] == "failed" and "2 clip(s) cannot be used" in error
    assert f"{audio[0]}: cannot read audio" in error and f"{audio[1]}: audio is silent" in error
    assert runs.loc["nsynth-attributes", "status"] == "ok"  # the metadata feature reads no audio

    capsys.readouterr()
    assert main([*args, "--results", str(tmp_path / "skip"), "--on-bad-clip", "skip"]) == 0
    skipped = pd.read_csv(tmp_path / "skip" / "skipped.csv")
    assert sorted(skipped["clip_id"]) == sorted(p.stem for p in audio[:2])
    assert skipped["error"].str.contains("cannot read audio|audio is silent").all()
    runs = pd.read_csv(tmp_path / "skip" / "runs.csv")
    assert (runs["status"] == "ok").all() and (runs["n_train"] == 16).all()  # 18 train notes - 2


def test_on_bad_clip_fail_lists_the_bad_clips_of_every_split(tmp_path, tiny_data_root, bench_home, capsys):
    root = clone(tiny_data_root, tmp_path / "data")
    train = sorted((root / "nsynth" / "nsynth-train" / "audio").glob("*.wav"))[0]
    test = sorted((root / "nsynth" / "nsynth-test" / "audio").glob("*.wav"))[0]
    replicas.corrupt_wav(own(train))
    replicas.silence_wav(own(test))
    suite = write_suite(tmp_path / "bad.toml", NSYNTH, name="bad", seeds=1)
    assert main(["run", str(suite), "--data-root", str(root), "-q", "--results", str(tmp_path / "r")]) == 1
    runs = pd.read_csv(tmp_path / "r" / "runs.csv").set_index("feature")
    error = runs.loc["mfcc-stats", "error"]
    assert "2 clip(s) cannot be used" in error
    assert f"{train}: cannot read audio" in error and f"{test}: audio is silent" in error


def test_one_bad_file_read_as_many_windows_is_named_once():
    from instrument_bench.errors import BadClipsError

    problems = [(f"song@{k}", "song.wav", "song.wav: cannot read audio (bad header)") for k in range(10)]
    message = str(BadClipsError("mfcc-stats", problems))
    assert "10 clip(s) cannot be used" in message and message.count("bad header") == 1
