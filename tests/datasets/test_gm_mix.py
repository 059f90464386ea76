"""gm-mix (polyphonic pieces in MusicNet's layout) and the MusicNet loader that reads it."""

import shutil

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from instrument_bench.audio import load_audio
from instrument_bench.datasets import gm, gm_mix, musicnet
from instrument_bench.errors import DatasetError, DatasetNotFoundError
from instrument_bench.features import FEATURES
from instrument_bench.features.store import chunk_clips, compute_features
from instrument_bench.protocol.tasks import MUSICNET_INSTRUMENTS, TASKS
from tests.conftest import TINY_MIX


def test_compose_is_deterministic_with_2_to_5_instruments_of_different_families():
    sizes = set()
    for index in range(30):
        score = gm_mix.compose(index)
        assert score == gm_mix.compose(index)
        programs = score["programs"]
        sizes.add(len(programs))
        assert 2 <= len(programs) <= 5
        assert len({gm.family_of(p) for p in programs}) == len(programs)
        for program in programs:
            low, high = gm.pitch_range(program)
            assert score["parts"][program]
            assert all(low <= pitch <= high for _, _, pitch, _ in score["parts"][program])
    assert sizes == {2, 3, 4, 5}
    # over any 11 consecutive pieces every MusicNet instrument is heard
    heard = {p + 1 for i in range(11, 22) for p in gm_mix.compose(i)["programs"]}
    assert set(MUSICNET_INSTRUMENTS) <= heard


def test_pieces_have_entries_dropouts_and_overlaps():
    score = gm_mix.compose(3, piece_seconds=60.0)
    bars = score["n_bars"]
    active = {p: {int(start // 4) for start, *_ in notes} for p, notes in score["parts"].items()}
    assert any(len(a) < bars for a in active.values())  # someone rests for a while
    assert set().union(*active.values()) == set(range(bars))  # someone always plays


def test_layout_and_label_files(tiny_mix_root):
    root = tiny_mix_root / "musicnet"
    meta = pd.read_csv(root / musicnet.METADATA)
    assert list(meta.columns) == ["id", "composer", "composition", "movement", "ensemble", "source",
                                  "transcriber", "catalog_name", "seconds"]
    assert len(meta) == TINY_MIX["n_pieces"]
    assert len(list((root / "test_data").glob("*.wav"))) == TINY_MIX["n_test"]
    for wav in sorted(root.glob("*_data/*.wav")):
        info = sf.info(wav)
        assert (info.samplerate, info.channels) == (44100, 1)
        labels = pd.read_csv(root / wav.parent.name.replace("_data", "_labels") / f"{wav.stem}.csv")
        assert tuple(labels.columns) == musicnet.LABEL_COLUMNS
        assert (labels["end_time"] > labels["start_time"]).all()
        assert labels["end_time"].max() <= info.frames
        assert labels["start_time"].is_monotonic_increasing
        score = gm_mix.compose(int(wav.stem) - gm_mix.FIRST_ID, piece_seconds=TINY_MIX["piece_seconds"])
        assert set(labels["instrument"]) <= {p + 1 for p in score["programs"]}  # codes: program + 1
        # start_time in samples = start_beat in seconds at the piece's tempo
        seconds = labels["start_beat"] * score["beat_seconds"]
        assert np.allclose(labels["start_time"], np.round(seconds * 44100), atol=1)


def test_render_is_deterministic(tmp_path, tiny_mix_root):
    root = gm_mix.render_dataset(tmp_path / "again", n_pieces=1, n_test=0, piece_seconds=20.0,
                                 progress=False)
    first = tiny_mix_root / "musicnet" / "train_data" / f"{gm_mix.FIRST_ID}.wav"
    assert np.array_equal(sf.read(root / "train_data" / first.name)[0], sf.read(first)[0])


def test_loader_cuts_labelled_recording_disjoint_clips(tiny_mix_root):
    ds = musicnet.load(data_root=tiny_mix_root, valid_fraction=0.2)
    recordings = {s: {c.meta["recording"] for c in ds.split(s)} for s in ("train", "valid", "test")}
    assert len(recordings["valid"]) == 1 and len(recordings["test"]) == TINY_MIX["n_test"]
    assert not (recordings["train"] & recordings["valid"] or recordings["train"] & recordings["test"])
    clip = ds.split("train")[2]
    assert clip.duration == 3.0 and clip.start == 6.0 and clip.clip_id.endswith("-00006000")
    # the label is every instrument with a note sounding >= 0.1 s inside [6 s, 9 s)
    notes = musicnet.read_labels(clip.meta["labels_path"])
    a, b = notes["start_time"] / 44100, notes["end_time"] / 44100
    overlap = np.minimum(b, 9.0) - np.maximum(a, 6.0)
    assert clip.meta["instruments"] == sorted(set(notes["instrument"][overlap >= 0.1 - 1e-6]))
    assert any(len(c.meta["instruments"]) >= 2 for c in ds.clips)  # polyphony
    labels = TASKS["families"].labels(ds.split("train"))
    assert labels.shape[1] == 11 and labels.sum(axis=1).max() >= 2


def test_hop_and_clip_length_options(tiny_mix_root):
    short = musicnet.load(data_root=tiny_mix_root, clip_seconds=2.0, hop_seconds=1.0)
    default = musicnet.load(data_root=tiny_mix_root)
    assert len(short.clips) > 2 * len(default.clips)
    assert short.version != default.version
    first = [c for c in short.clips if c.meta["recording"] == short.clips[0].meta["recording"]]
    assert [c.start for c in first[:3]] == [0.0, 1.0, 2.0]


def test_frame_labels_follow_the_notes(tiny_mix_root):
    ds = musicnet.load(data_root=tiny_mix_root)
    clip = ds.split("train")[1]
    hop = 512 / 44100
    frames = musicnet.frame_labels(clip, n_frames=258, hop_seconds=hop, task=TASKS["families"])
    assert frames.shape == (258, 11)
    notes = musicnet.read_labels(clip.meta["labels_path"])
    t = round((clip.start + 100 * hop) * 44100)
    sounding = notes[(notes["start_time"] <= t) & (t < notes["end_time"])]["instrument"]
    expected = {TASKS["families"].class_of(c) for c in sounding}
    assert {TASKS["families"].classes[i] for i in np.flatnonzero(frames[100])} == expected
    # the clip label is the union of what its frames hear (notes shorter than 0.1 s aside)
    assert set(np.flatnonzero(frames.max(axis=0))) >= set(
        np.flatnonzero(TASKS["families"].labels([clip])[0]))


def test_segment_features_decode_each_recording_once_and_match_the_slice(tiny_mix_root):
    ds = musicnet.load(data_root=tiny_mix_root)
    clips = ds.split("train")
    chunks = chunk_clips(clips, size=4)
    for chunk in chunks[:-1]:  # a chunk ends only where a recording ends
        later = clips[clips.index(chunk[-1]) + 1]
        assert later.path != chunk[-1].path
    spec = FEATURES["mfcc-stats"]
    feats = compute_features(clips[:3], spec, sample_rate=16000, progress=False)
    audio = load_audio(clips[1].path, sample_rate=16000)
    direct = spec.extract(audio[int(clips[1].start * 16000):][:48000], sample_rate=16000, **spec.params)
    assert np.allclose(feats[1], direct, atol=1e-4)


@pytest.fixture()
def tree(tiny_mix_root, tmp_path):
    root = tmp_path / "musicnet"
    shutil.copytree(tiny_mix_root / "musicnet", root)
    return root


def test_clear_errors_on_a_broken_tree(tree):
    first = sorted((tree / "train_labels").glob("*.csv"))[0]
    table = pd.read_csv(first)
    table["start_time"] = table["start_time"].astype(object)
    table.loc[3, "start_time"] = "soon"
    table.to_csv(first, index=False)
    with pytest.raises(DatasetError, match=rf"{first.name}: row 5: start_time='soon'"):
        musicnet.read_layout(tree)
    table.drop(columns=["instrument"]).to_csv(first, index=False)
    with pytest.raises(DatasetError, match="lacks the columns instrument"):
        musicnet.read_layout(tree)
    first.unlink()
    with pytest.raises(DatasetError, match=f"{first.name}: label file not found"):
        musicnet.read_layout(tree)


def test_missing_metadata_row_and_missing_dataset(tree, tmp_path):
    meta = pd.read_csv(tree / musicnet.METADATA)
    meta.iloc[1:].to_csv(tree / musicnet.METADATA, index=False)
    with pytest.raises(DatasetError, match=f"no row for recording {meta['id'][0]}"):
        musicnet.read_layout(tree)
    with pytest.raises(DatasetNotFoundError):
        musicnet.load(data_root=tmp_path / "nowhere")
