"""The derived NSynth qualities on synthetic tones whose properties are known by construction."""

import numpy as np
import pytest

from instrument_bench.datasets.gm import NSYNTH_QUALITIES
from instrument_bench.datasets.qualities import derive_qualities

SR = 16000
T = np.arange(4 * SR) / SR


def harmonic_tone(f0, n_harmonics, rolloff=1.0):
    return sum((rolloff ** -k) * np.sin(2 * np.pi * f0 * k * T) for k in range(1, n_harmonics + 1))


def flags(audio, pitch):
    return dict(zip(NSYNTH_QUALITIES, derive_qualities(audio.astype(np.float32), sample_rate=SR,
                                                      pitch=pitch)))


def held(audio, release=0.05):
    """Hold until 3 s, then an exponential release with time constant ``release``."""
    env = np.where(T < 3.0, 1.0, np.exp(-(T - 3.0) / release))
    return 0.3 * audio * env


def test_result_is_ten_binary_flags():
    out = derive_qualities(held(np.sin(2 * np.pi * 220 * T)).astype(np.float32), sample_rate=SR, pitch=57)
    assert len(out) == 10 and set(out) <= {0, 1}


def test_low_sine_is_dark_not_bright():
    f = flags(held(np.sin(2 * np.pi * 110 * T)), pitch=45)
    assert f["dark"] == 1 and f["bright"] == 0 and f["multiphonic"] == 0


def test_rich_high_tone_is_bright_and_dense_spectrum_is_distortion():
    f = flags(held(harmonic_tone(440.0, 18, rolloff=1.02)), pitch=69)
    assert f["bright"] == 1 and f["dark"] == 0 and f["distortion"] == 1


def test_fast_decay_versus_sustain():
    tone = np.sin(2 * np.pi * 220 * T)
    assert flags(0.3 * tone * np.exp(-T / 0.2), pitch=57)["fast_decay"] == 1
    assert flags(held(tone), pitch=57)["fast_decay"] == 0


def test_long_release_and_reverb_tail():
    tone = np.sin(2 * np.pi * 220 * T)
    short, long = flags(held(tone, release=0.02), pitch=57), flags(held(tone, release=0.6), pitch=57)
    assert short["long_release"] == 0 and short["reverb"] == 0
    assert long["long_release"] == 1 and long["reverb"] == 1


def test_noise_onset_is_percussive():
    rng = np.random.default_rng(0)
    tone = held(np.sin(2 * np.pi * 220 * T))
    burst = np.where(T < 0.04, rng.standard_normal(len(T)), 0.0)
    assert flags(tone + burst, pitch=57)["percussive"] == 1
    assert flags(tone, pitch=57)["percussive"] == 0


def test_second_fundamental_is_multiphonic():
    two = held(harmonic_tone(220.0, 3) + 2 * harmonic_tone(220.0 * 1.41, 3))
    assert flags(two, pitch=57)["multiphonic"] == 1


def test_tremolo_is_tempo_synced_and_a_swell_is_nonlinear():
    tone = np.sin(2 * np.pi * 220 * T)
    tremolo = held(tone * (1 + 0.8 * np.sin(2 * np.pi * 4 * T)))
    assert flags(tremolo, pitch=57)["tempo-synced"] == 1
    assert flags(held(tone), pitch=57)["tempo-synced"] == 0
    swell = held(tone * np.interp(T, [0, 0.5, 1.5, 2.5, 4], [1, 0.2, 0.2, 1, 1]))
    assert flags(swell, pitch=57)["nonlinear_env"] == 1
    assert flags(held(tone), pitch=57)["nonlinear_env"] == 0


@pytest.mark.parametrize("pitch", [30, 90])
def test_extreme_pitches_do_not_fail(pitch):
    f0 = 440 * 2 ** ((pitch - 69) / 12)
    assert len(derive_qualities(held(np.sin(2 * np.pi * f0 * T)).astype(np.float32), sample_rate=SR,
                                pitch=pitch)) == 10
