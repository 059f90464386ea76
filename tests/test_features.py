"""Features on rendered notes, and the on-disk cache."""

import librosa
import numpy as np
import pytest

from instrument_bench.audio import load_audio
from instrument_bench.datasets.nsynth import read_layout
from instrument_bench.features import FEATURES
from instrument_bench.features.store import cache_key, compute_features, load_features


@pytest.fixture(scope="module")
def dataset(tiny_data_root):
    return read_layout(tiny_data_root / "nsynth", name="tiny", version="t1")


def test_mfcc_stats_match_librosa(dataset):
    """The default: librosa's MFCCs of power_to_db(ref=np.max) of the clip cut to its sound (first to
    last sample within 60 dB of the peak), over the frames within 60 dB of the loudest, deltas
    included; active_db=0 and level=raw: librosa.feature.mfcc over the whole clip."""
    clip = dataset.split("train")[0]
    audio = np.pad(load_audio(clip.path, sample_rate=16000), (8000, 16000))  # silence either side
    spec = FEATURES["mfcc-stats"]
    vec = spec.extract(audio, sample_rate=16000, **spec.params)
    loud = np.flatnonzero(np.abs(audio) > np.abs(audio).max() * 1e-3)
    cut = audio[loud[0]:loud[-1] + 1]
    mel = librosa.feature.melspectrogram(y=cut, sr=16000, n_fft=2048, hop_length=512, n_mels=128)
    mfcc = librosa.feature.mfcc(S=librosa.power_to_db(mel, ref=np.max), n_mfcc=20)
    sounding = mfcc[:, librosa.power_to_db(mel.sum(axis=0), ref=np.max) >= -60]
    delta = librosa.feature.delta(sounding)
    assert vec.shape == (80,) and len(cut) < len(audio)
    for got, want in zip(np.split(vec, 4), (sounding.mean(axis=1), sounding.std(axis=1),
                                            delta.mean(axis=1), delta.std(axis=1))):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-3)
    whole = spec.extract(audio, sample_rate=16000, **{**spec.params, "active_db": 0.0, "level": "raw"})
    mfcc = librosa.feature.mfcc(y=audio, sr=16000, n_mfcc=20, n_fft=2048, hop_length=512, n_mels=128)
    np.testing.assert_allclose(whole[:20], mfcc.mean(axis=1), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(whole[20:40], mfcc.std(axis=1), rtol=1e-5, atol=1e-4)


def test_nsynth_attributes_come_from_metadata(dataset):
    clip = dataset.split("test")[0]
    vec = FEATURES["nsynth-attributes"].from_meta(clip.meta)
    assert vec.shape == (12,)
    assert list(vec[:10]) == clip.meta["qualities"]
    assert (vec[10], vec[11]) == (clip.meta["pitch"], clip.meta["velocity"])


def test_essentia_descriptors_are_finite_and_vary(dataset):
    clips = dataset.split("valid")[:4]
    X = compute_features(clips, FEATURES["essentia-descriptors"], sample_rate=16000, progress=False)
    assert X.shape == (4, 32) and np.isfinite(X).all()
    assert (X.std(axis=0) > 0).sum() > 30  # descriptors differ between notes


@pytest.mark.parametrize("name", ["mfcc-stats", "essentia-descriptors"])
def test_parallel_equals_serial(dataset, name):
    clips = dataset.split("train")[:20]  # more than one chunk of 16
    serial = compute_features(clips, FEATURES[name], sample_rate=16000, jobs=1, progress=False)
    again = compute_features(clips, FEATURES[name], sample_rate=16000, jobs=1, progress=False)
    parallel = compute_features(clips, FEATURES[name], sample_rate=16000, jobs=2, progress=False)
    np.testing.assert_array_equal(serial, again)  # deterministic, digital-silence tails included
    # worker processes run BLAS on one thread: summation order may differ in the last bits
    np.testing.assert_allclose(serial, parallel, rtol=1e-5, atol=1e-5)


def test_cache_is_read_on_the_second_call(dataset, tmp_path):
    spec = FEATURES["mfcc-stats"]
    first = load_features(dataset, "test", spec, cache_dir=tmp_path, progress=False)
    key = cache_key(dataset, "test", spec)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == [
        f"test-{key}.ids.npy", f"test-{key}.npy"]
    assert isinstance(first, np.memmap)  # read back memory-mapped, not loaded whole
    # the cached file is what the second call returns: moving the audio away does not matter
    for clip in dataset.split("test"):
        clip.path.rename(clip.path.with_suffix(".moved"))
    try:
        second = load_features(dataset, "test", spec, cache_dir=tmp_path, progress=False)
    finally:
        for clip in dataset.split("test"):
            clip.path.with_suffix(".moved").rename(clip.path)
    np.testing.assert_array_equal(first, second)
    assert not list(tmp_path.rglob("*.tmp-*"))


def test_cache_key_changes_with_params_and_split(dataset):
    spec = FEATURES["mfcc-stats"]
    other = type(spec)(**{**spec.__dict__, "params": {**spec.params, "n_mfcc": 13}})
    assert cache_key(dataset, "test", spec) != cache_key(dataset, "test", other)
    assert cache_key(dataset, "test", spec) != cache_key(dataset, "train", spec)


def test_an_interrupted_write_is_not_read(dataset, tmp_path):
    spec = FEATURES["nsynth-attributes"]
    first = np.array(load_features(dataset, "valid", spec, cache_dir=tmp_path, progress=False))
    ids = next(tmp_path.rglob("*.ids.npy"))
    ids.unlink()  # as if killed between the array and its ids marker
    array = next(tmp_path.rglob("*.npy"))
    array.write_bytes(b"torn")
    again = load_features(dataset, "valid", spec, cache_dir=tmp_path, progress=False)
    np.testing.assert_array_equal(first, again)


def test_a_union_is_its_parts_side_by_side_built_from_their_caches(dataset, tmp_path):
    union = FEATURES["mfcc+essentia"]
    parts = [FEATURES["mfcc-stats"], FEATURES["essentia-descriptors"]]
    cached = [load_features(dataset, "valid", p, cache_dir=tmp_path, progress=False) for p in parts]
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*.npy")}
    X = load_features(dataset, "valid", union, cache_dir=tmp_path, progress=False)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # the parts were read, not recomputed
    np.testing.assert_array_equal(X, np.concatenate([np.asarray(c) for c in cached], axis=1))
    audio = [load_audio(c.path, sample_rate=16000) for c in dataset.split("valid")[:2]]
    np.testing.assert_allclose(union.extract_many(audio, sample_rate=16000), X[:2], rtol=1e-5, atol=1e-5)
    assert union.needs_audio and X.shape[1] == 112
    assert cache_key(dataset, "valid", union) != cache_key(dataset, "valid", parts[0])
