"""The batched extraction path against librosa's reference output, on rendered notes."""

import librosa
import numpy as np
import pytest

from instrument_bench.audio import load_audio
from instrument_bench.datasets.nsynth import read_layout
from instrument_bench.errors import ConfigError
from instrument_bench.features import FEATURES, fast
from instrument_bench.features.store import compute_features

MFCC = {"n_mfcc": 20, "n_fft": 2048, "hop_length": 512, "n_mels": 128}


@pytest.fixture(scope="module")
def notes(tiny_data_root):
    dataset = read_layout(tiny_data_root / "nsynth", name="tiny", version="t1")
    clips = dataset.split("train")[::3]
    return clips, np.stack([load_audio(c.path, sample_rate=16000) for c in clips])


def test_power_spectrogram_equals_librosa_stft(notes):
    _, audio = notes
    ours = fast.power_spectrogram(audio[:3], n_fft=1024, hop_length=256)
    for clip, power in zip(audio[:3], ours):
        reference = np.abs(librosa.stft(clip, n_fft=1024, hop_length=256)) ** 2
        np.testing.assert_allclose(power.T, reference, rtol=1e-4, atol=1e-6 * reference.max())


def test_mfcc_equals_librosa(notes):
    _, audio = notes
    ours = fast.mfcc(audio, sample_rate=16000, **MFCC)
    for clip, coefficients in zip(audio, ours):
        reference = librosa.feature.mfcc(y=clip, sr=16000, **MFCC)
        assert coefficients.shape == reference.shape
        np.testing.assert_allclose(coefficients, reference, atol=2e-3, rtol=1e-4)


def test_log_mel_equals_librosa_within_the_documented_tolerance(notes):
    _, audio = notes
    spec = FEATURES["log-mel"]
    params = {k: v for k, v in spec.params.items() if k != "backend"}
    batched = spec.extract_batch(audio, sample_rate=16000, **params, backend="fast")
    reference = spec.extract_batch(audio, sample_rate=16000, **params, backend="librosa")
    assert batched.shape == reference.shape == (len(audio), 63, 64)
    assert np.abs(batched - reference).max() < 0.01  # dB, every bin
    assert np.abs(batched - reference)[reference > -60].max() < 1e-3  # dB, audible bins


def test_mfcc_stats_batched_equal_per_clip_librosa(notes):
    _, audio = notes
    spec = FEATURES["mfcc-stats"]
    params = {k: v for k, v in spec.params.items() if k != "backend"}
    batched = spec.extract_batch(audio, sample_rate=16000, **params)
    per_clip = spec.extract_batch(audio, sample_rate=16000, **params, backend="librosa")
    np.testing.assert_allclose(batched, per_clip, rtol=1e-4, atol=2e-3)
    one = spec.extract(audio[0], sample_rate=16000, **params)
    np.testing.assert_allclose(one, batched[0], rtol=1e-5, atol=1e-4)  # a batch of one


def test_store_uses_the_batch_path(notes):
    clips, audio = notes
    spec = FEATURES["log-mel"]
    stored = compute_features(clips, spec, sample_rate=16000, progress=False)
    direct = np.stack([spec.extract(a, sample_rate=16000, **spec.params) for a in audio])
    np.testing.assert_allclose(stored, direct, atol=1e-4)


def test_unknown_backend_is_refused(notes):
    _, audio = notes
    spec = FEATURES["mfcc-stats"]
    with pytest.raises(ConfigError, match="unknown feature backend 'gpu'"):
        spec.extract_batch(audio[:1], sample_rate=16000, **{**spec.params, "backend": "gpu"})
