"""Audio perturbations on generated tones: what each one does, measured, and their determinism."""

import numpy as np
import pytest
from scipy import signal

from instrument_bench.errors import ConfigError
from instrument_bench.features.perturbations import (
    PERTURBATIONS,
    Perturbation,
    check_perturbations,
    clip_seed,
    perturb,
    reverse_frames,
    severity_text,
)

SR = 16000
AUDIO_CASES = [(name, severity) for name, p in PERTURBATIONS.items() if p.on == "audio"
               for severity in p.severities]


def times(seconds, sample_rate=SR):
    return np.arange(int(seconds * sample_rate)) / sample_rate


def tone(seconds=3.0, *, f0=220.0, sample_rate=SR, end=None, decay=1.0, start=0.0):
    """A five-harmonic tone with a 10 ms attack and an exponential decay, sounding from start to end."""
    t = times(seconds, sample_rate)
    x = sum(0.3 / k * np.sin(2 * np.pi * k * f0 * t) for k in range(1, 6))
    on = (t >= start) & (t < (seconds if end is None else end))
    envelope = np.minimum((t - start) / 0.01, 1) * np.exp(-decay * (t - start)) * on
    return (x * envelope).astype(np.float32)


def amplitude(y, frequency, t, sample_rate=SR):
    """The amplitude of a sinusoid of ``frequency`` in y[1 s:-1 s] (away from the filter's edges)."""
    part = slice(sample_rate, len(y) - sample_rate)
    return 2 * abs(np.mean(y[part].astype(np.float64) * np.exp(-2j * np.pi * frequency * t[part])))


def peak_frequency(y, sample_rate=SR):
    part = y[len(y) // 4:3 * len(y) // 4].astype(np.float64)
    spectrum = np.abs(np.fft.rfft(part * np.hanning(len(part)), 16 * len(part)))
    return np.fft.rfftfreq(16 * len(part), 1 / sample_rate)[np.argmax(spectrum)]


def best_lag(y, x, max_lag=2000):
    """The lag of y behind x at which their cross-correlation peaks."""
    size = len(x) + len(y)
    cc = np.fft.irfft(np.fft.rfft(y, size) * np.conj(np.fft.rfft(x, size)), size)
    lags = np.r_[np.arange(max_lag + 1), np.arange(-max_lag, 0)]
    return int(lags[np.argmax(cc[lags])])


def sounding(y, sample_rate=SR, floor_db=-30):
    """(first, last) time where y's 10 ms RMS is within floor_db of its peak RMS."""
    frame = sample_rate // 100
    rms = np.sqrt(np.mean(y[:len(y) // frame * frame].reshape(-1, frame).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (floor_db / 20))
    return loud[0] * frame / sample_rate, (loud[-1] + 1) * frame / sample_rate


@pytest.mark.parametrize("sample_rate", [16000, 22050])
@pytest.mark.parametrize("name,severity", AUDIO_CASES)
def test_every_audio_perturbation_is_deterministic_and_keeps_length(name, severity, sample_rate):
    audio = tone(2.5, sample_rate=sample_rate)
    first = perturb(audio, name=name, severity=severity, sample_rate=sample_rate, seed=7)
    again = perturb(audio.copy(), name=name, severity=severity, sample_rate=sample_rate, seed=7)
    assert first.dtype == np.float32 and first.shape == audio.shape
    assert np.isfinite(first).all()
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, audio)


def test_registry_entries_are_well_formed():
    for name, p in PERTURBATIONS.items():
        assert isinstance(p, Perturbation) and p.name == name and isinstance(p.severities, tuple)
        assert (p.apply is None) == (p.on == "frames") and "\n" not in p.description
    assert PERTURBATIONS["reverse-frames"].on == "frames"
    assert PERTURBATIONS["noise"].severities == (30, 20, 10, 0)


@pytest.mark.parametrize("snr", PERTURBATIONS["noise"].severities)
def test_noise_gives_the_stated_snr_and_depends_on_the_seed(snr):
    audio = tone(3.0)
    out = perturb(audio, name="noise", severity=snr, sample_rate=SR, seed=1)
    clean = audio.astype(np.float64)
    measured = 10 * np.log10(np.mean(clean**2) / np.mean((out - clean) ** 2))
    assert abs(measured - snr) < 0.5
    assert abs(measured - snr) < 1e-3  # exact up to float32 rounding
    other = perturb(audio, name="noise", severity=snr, sample_rate=SR, seed=2)
    assert not np.array_equal(out, other)


@pytest.mark.parametrize("db", PERTURBATIONS["gain"].severities)
def test_gain_is_an_exact_unclipped_multiplication(db):
    audio = tone(2.0) * 3  # peak above 1: +12 dB must not clip it
    out = perturb(audio, name="gain", severity=db, sample_rate=SR, seed=0)
    np.testing.assert_allclose(out, audio * 10 ** (db / 20), rtol=1e-6)


def test_lowpass_keeps_the_passband_and_removes_the_stopband():
    t = times(4.0)
    sos = signal.butter(8, 3400, fs=SR, output="sos")
    for frequency in (3400, 4000, 5000, 6000):
        audio = (0.5 * np.sin(2 * np.pi * 1000 * t) + 0.5 * np.sin(2 * np.pi * frequency * t))
        audio = audio.astype(np.float32)
        out = perturb(audio, name="lowpass", severity=3400, sample_rate=SR, seed=0)
        assert abs(20 * np.log10(amplitude(out, 1000, t) / amplitude(audio, 1000, t))) < 0.01
        drop = 20 * np.log10(amplitude(out, frequency, t) / amplitude(audio, frequency, t))
        expected = 40 * np.log10(abs(signal.sosfreqz(sos, worN=[frequency], fs=SR)[1][0]))  # forward + back
        if frequency == 6000:
            assert expected < -150 and drop < -120  # float32 output limits what can be measured
        else:
            assert abs(drop - expected) < 0.1
    assert abs(drop) > 40


@pytest.mark.parametrize("sample_rate", [16000, 22050, 12345])
def test_mp3_is_lossy_and_aligned(sample_rate):
    t = times(3.0, sample_rate)
    chirp = 0.2 * signal.chirp(t, 100, t[-1], 5000)
    audio = (tone(3.0, sample_rate=sample_rate) + chirp).astype(np.float32)
    out = perturb(audio, name="mp3", severity=64, sample_rate=sample_rate, seed=0)
    assert not np.allclose(out, audio, atol=1e-3)
    assert np.corrcoef(out, audio)[0, 1] > 0.9
    assert best_lag(out, audio) == 0
    clean = audio.astype(np.float64)
    error_db = 10 * np.log10(np.sum(clean**2) / np.sum((out - clean) ** 2))
    assert error_db > 15  # measured 26 dB; one sample off gives 2-4 dB
    part = slice(len(audio) // 10, -len(audio) // 10)
    assert np.corrcoef(out[part], audio[part])[0, 1] > 0.98


def test_mp3_removes_what_is_above_the_encoder_lowpass():
    sample_rate = 22050  # LAME at 64 kbit/s low-passes at about 10 kHz here (16 kHz: at Nyquist)
    audio = (0.1 * np.random.default_rng(0).standard_normal(3 * sample_rate)).astype(np.float32)
    out = perturb(audio, name="mp3", severity=64, sample_rate=sample_rate, seed=0)
    frequency = np.fft.rfftfreq(len(audio), 1 / sample_rate)

    def band_db(lo, hi):
        band = (frequency >= lo) & (frequency < hi)
        return 10 * np.log10(np.sum(np.abs(np.fft.rfft(out)[band]) ** 2)
                             / np.sum(np.abs(np.fft.rfft(audio)[band]) ** 2))

    assert abs(band_db(1000, 5000)) < 1.5
    assert band_db(10500, 11025) < -20


def test_mp3_neither_clips_a_loud_clip_nor_depends_on_level():
    audio = tone(2.0)
    out = perturb(audio, name="mp3", severity=64, sample_rate=SR, seed=0)
    for factor in (4.0, 0.01):  # peaks 1.87 and 0.005
        scaled = perturb(audio * factor, name="mp3", severity=64, sample_rate=SR, seed=0)
        np.testing.assert_allclose(scaled, out * factor, rtol=1e-5, atol=1e-4 * factor)  # -74 dB re peak


def test_reverb_adds_a_tail_after_the_note():
    audio = tone(3.0, end=2.0)
    out = perturb(audio, name="reverb", severity=0.5, sample_rate=SR, seed=0)
    assert out.shape == audio.shape
    after, before = slice(int(2.05 * SR), int(2.5 * SR)), slice(int(1.5 * SR), int(1.95 * SR))
    assert np.sum(audio[after] ** 2) == 0
    assert np.sum(out[after] ** 2) > 10 ** (-25 / 10) * np.sum(audio[before] ** 2)  # measured: -17.5 dB


@pytest.mark.parametrize("semitones", PERTURBATIONS["pitch"].severities)
def test_pitch_moves_the_fundamental_by_a_semitone(semitones):
    audio = tone(3.0, f0=220.0, decay=0.0, end=2.5)
    out = perturb(audio, name="pitch", severity=semitones, sample_rate=SR, seed=0)
    moved = 12 * np.log2(peak_frequency(out) / peak_frequency(audio))
    assert abs(moved - semitones) < 0.3
    assert abs(sounding(out)[1] - sounding(audio)[1]) < 0.03  # duration kept


@pytest.mark.parametrize("rate", PERTURBATIONS["stretch"].severities)
def test_stretch_scales_onset_and_offset_times(rate):
    audio = tone(4.0, start=0.5, end=2.5, decay=0.0)
    out = perturb(audio, name="stretch", severity=rate, sample_rate=SR, seed=0)
    onset, offset = sounding(out)
    assert abs(onset - 0.5 / rate) < 0.03 and abs(offset - 2.5 / rate) < 0.03


def test_reverse_plays_backwards():
    audio = tone(2.0)
    np.testing.assert_array_equal(perturb(audio, name="reverse", severity=None, sample_rate=SR, seed=0),
                                  audio[::-1])


def test_reverse_frames():
    X = np.arange(30.0).reshape(2, 5, 3)
    np.testing.assert_array_equal(reverse_frames(X), X[:, ::-1])
    with pytest.raises(ConfigError, match="reverse-frames"):
        perturb(tone(1.0), name="reverse-frames", severity=None, sample_rate=SR, seed=0)


def test_clip_seed_is_stable_and_distinct():
    seed = clip_seed(seed=0, clip_id="clip-1", name="noise", severity=30)
    assert seed == 3725629707147080608  # sha256, computed once: the same in every process
    assert seed == clip_seed(seed=0, clip_id="clip-1", name="noise", severity=30.0)
    others = {clip_seed(seed=1, clip_id="clip-1", name="noise", severity=30),
              clip_seed(seed=0, clip_id="clip-2", name="noise", severity=30),
              clip_seed(seed=0, clip_id="clip-1", name="gain", severity=30),
              clip_seed(seed=0, clip_id="clip-1", name="noise", severity=20)}
    assert len(others) == 4 and seed not in others


def test_severity_text():
    assert [severity_text(s) for s in (30, -12, 3400, 0.9, 0, None)] == ["30", "-12", "3400", "0.9", "0", "-"]


def test_bad_names_and_severities_raise_config_errors():
    with pytest.raises(ConfigError, match="'hiss'.*noise"):
        perturb(tone(1.0), name="hiss", severity=30, sample_rate=SR, seed=0)
    with pytest.raises(ConfigError, match=r"'noise' has no severity 15.*30, 20, 10, 0 \(dB SNR\)"):
        perturb(tone(1.0), name="noise", severity=15, sample_rate=SR, seed=0)
    with pytest.raises(ConfigError, match="'reverse' has no severity 1"):
        perturb(tone(1.0), name="reverse", severity=1, sample_rate=SR, seed=0)
    check_perturbations(["noise", "mp3", "reverse-frames"])
    with pytest.raises(ConfigError, match="'hiss', 'echo'.*valid perturbations: noise, gain"):
        check_perturbations(["noise", "hiss", "echo"])
