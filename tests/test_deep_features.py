"""Time-frequency features on rendered notes: shapes, and agreement between backends."""

import librosa
import numpy as np
import pytest

from instrument_bench.audio import load_audio
from instrument_bench.datasets.nsynth import read_layout
from instrument_bench.features import FEATURES


@pytest.fixture(scope="module")
def notes(tiny_data_root):
    ds = read_layout(tiny_data_root / "nsynth")
    return [load_audio(c.path, sample_rate=16000) for c in ds.split("test")[:4]]


def feature(name, audio):
    spec = FEATURES[name]
    return spec.extract(audio, sample_rate=16000, **spec.params)


@pytest.mark.parametrize("name, shape", [("log-mel", (63, 64)), ("log-mel-essentia", (63, 64)),
                                         ("mfcc-seq", (345, 13)), ("spectrogram-150", (150, 150))])
def test_shapes_of_a_4_second_note(notes, name, shape):
    out = feature(name, notes[0])
    assert out.shape == shape and out.dtype == np.float32 and np.isfinite(out).all()


def test_essentia_log_mel_matches_librosa(notes):
    for audio in notes:
        a, b = feature("log-mel", audio), feature("log-mel-essentia", audio)
        audible = a > -60
        assert np.abs(a - b)[audible].mean() < 0.1
        assert np.percentile(np.abs(a - b)[audible], 99) < 0.5


def test_log_mel_is_librosa_melspectrogram_in_db(notes):
    mel = librosa.feature.melspectrogram(y=notes[1], sr=16000, n_fft=1024, hop_length=1024, n_mels=64,
                                         fmin=30.0, fmax=8000.0)
    reference = 10 * np.log10(np.maximum(mel, 1e-10)).T
    spec = FEATURES["log-mel"]
    librosa_backend = spec.extract(notes[1], sample_rate=16000, **{**spec.params, "backend": "librosa"})
    np.testing.assert_allclose(librosa_backend, reference, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(feature("log-mel", notes[1]), reference, atol=1e-2)  # the batched default


def test_mfcc_seq_hop_is_11_6_ms(notes):
    spec = FEATURES["mfcc-seq"]
    assert spec.frame_seconds(spec.params, 16000) == pytest.approx(0.011625)
    direct = librosa.feature.mfcc(y=notes[2], sr=16000, n_mfcc=13, n_fft=512, hop_length=186, n_mels=40)
    np.testing.assert_allclose(feature("mfcc-seq", notes[2]), direct.T, rtol=1e-4, atol=1e-3)


def test_spectrogram_150_keeps_the_image_of_the_note(notes):
    image = feature("spectrogram-150", notes[3])
    # louder while the note is held (first 3 s = first 112 rows) than in the release tail
    assert image[:100].mean() > image[-20:].mean()
