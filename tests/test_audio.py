"""Audio reading: conversions and the errors that name the file."""

import numpy as np
import pytest
import soundfile as sf

from instrument_bench.audio import load_audio
from instrument_bench.errors import AudioError


def tone(sr, seconds=1.0, channels=1):
    t = np.arange(int(sr * seconds)) / sr
    mono = 0.5 * np.sin(2 * np.pi * 440 * t)
    return np.stack([mono] * channels, axis=1) if channels > 1 else mono


def test_stereo_other_rate_is_mixed_and_resampled(tmp_path):
    path = tmp_path / "stereo.flac"
    sf.write(path, tone(44100, channels=2), 44100)
    audio = load_audio(path, sample_rate=16000)
    assert audio.dtype == np.float32 and audio.ndim == 1 and abs(len(audio) - 16000) <= 1


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "PCM_32", "FLOAT"])
def test_bit_depths(tmp_path, subtype):
    path = tmp_path / f"{subtype}.wav"
    sf.write(path, tone(16000), 16000, subtype=subtype)
    np.testing.assert_allclose(load_audio(path, sample_rate=16000), tone(16000), atol=1e-3)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="nope.wav: audio file not found"):
        load_audio(tmp_path / "nope.wav", sample_rate=16000)


def test_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + bytes(100))
    with pytest.raises(AudioError, match="corrupt.wav: cannot read audio"):
        load_audio(path, sample_rate=16000)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0), 16000)
    with pytest.raises(AudioError, match="empty.wav: audio file holds no samples"):
        load_audio(path, sample_rate=16000)


def test_silent_file(tmp_path):
    path = tmp_path / "silent.wav"
    sf.write(path, np.zeros(16000), 16000)
    with pytest.raises(AudioError, match="silent.wav: audio is silent"):
        load_audio(path, sample_rate=16000)


def test_nan_samples(tmp_path):
    path = tmp_path / "nan.wav"
    data = tone(16000)
    data[100] = np.nan
    sf.write(path, data, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav: audio holds NaN"):
        load_audio(path, sample_rate=16000)
