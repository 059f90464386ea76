"""Audio perturbations: a benchmark's test split re-scored under noise, MP3, reverb ... (robustness curves).

``PERTURBATIONS`` maps a name to its :class:`Perturbation`; :func:`perturb` applies one to a clip.
Every perturbation takes mono float32 audio at any sample rate and returns float32 audio of the same
length, bit-identical for the same (audio, name, severity, seed): the random ones draw from a
generator seeded with ``seed`` (:func:`clip_seed` gives one per clip), and every pedalboard plugin is
made afresh per call. ``reverse-frames`` acts on a feature array instead (:func:`reverse_frames`).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass

import librosa
import numpy as np
import pedalboard
from pedalboard.io import AudioFile
from scipy import signal

from ..errors import ConfigError, FeatureError, lookup


@dataclass(frozen=True)
class Perturbation:
    """A named perturbation and the severities a robustness curve draws, mildest first.

    ``apply(audio, *, sample_rate, severity, rng)`` returns float32 audio of the input's length;
    it is None for a perturbation of frame features (``on="frames"``).
    """

    name: str
    severities: tuple
    unit: str
    description: str
    apply: Callable | None
    on: str = "audio"


def _fit(audio: np.ndarray, n: int) -> np.ndarray:
    """``audio`` cut or zero-padded at the end to ``n`` samples, as float32."""
    audio = np.asarray(audio, dtype=np.float32)[:n]
    return np.pad(audio, (0, n - len(audio)))


def _noise(audio, *, sample_rate, severity, rng):
    """White Gaussian noise at ``severity`` dB SNR, relative to the mean power of the whole clip.

    The drawn noise is scaled so that its own mean power gives that SNR exactly; a silent clip stays
    silent. Nothing is clipped.
    """
    clean = audio.astype(np.float64)
    noise = rng.standard_normal(len(clean))
    power = np.mean(clean**2)
    if power == 0:
        return audio.copy()
    noise *= np.sqrt(power / (10 ** (severity / 10) * np.mean(noise**2)))
    return (clean + noise).astype(np.float32)


def _gain(audio, *, sample_rate, severity, rng):
    """``audio * 10**(severity/20)``, rounded once to float32; not clipped (level, not clipping)."""
    return (audio.astype(np.float64) * 10 ** (severity / 20)).astype(np.float32)


def _lowpass(audio, *, sample_rate, severity, rng):
    """A zero-phase low-pass at ``severity`` Hz: an order-8 Butterworth run forward and backward.

    The response is that Butterworth's squared: -6 dB at the cut-off, then about -96 dB/octave (no
    delay). A sample rate whose Nyquist frequency is at or below the cut-off leaves the clip as it is.
    """
    if severity >= sample_rate / 2:
        return audio.copy()
    sos = signal.butter(8, severity, btype="lowpass", fs=sample_rate, output="sos")
    padlen = min(3 * (2 * len(sos) + 1), len(audio) - 1)
    return signal.sosfiltfilt(sos, audio.astype(np.float64), padlen=max(padlen, 0)).astype(np.float32)


MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)  # what LAME encodes
MP3_DECODER_DELAY = 529  # samples of the MP3 synthesis filter bank, on top of the encoder's delay


def _mp3_delay(data: bytes) -> int:
    """Samples before the first input sample in the decoded stream: the encoder delay stored in the
    LAME tag of the first frame (576 if there is none) plus :data:`MP3_DECODER_DELAY`."""
    at = data.find(b"LAME", 0, 400)
    if at < 0:
        return 576 + MP3_DECODER_DELAY
    tag = data[at + 21:at + 23]
    return ((tag[0] << 4) | (tag[1] >> 4)) + MP3_DECODER_DELAY


def _mp3(audio, *, sample_rate, severity, rng):
    """MP3 encoded and decoded at ``severity`` kbit/s, constant bit rate (LAME, through pedalboard.io).

    The clip is scaled to peak 1 for the codec and back after (pedalboard feeds LAME 16-bit samples,
    so this neither clips a loud clip nor adds quantisation noise that depends on its level), and
    the codec's delay is cut from the decoded stream, so the output is aligned with the input. A
    sample rate LAME does not encode is resampled (librosa, soxr) to the next one up and back.
    """
    rate = next((r for r in MP3_RATES if r >= sample_rate), MP3_RATES[-1])
    x = audio if rate == sample_rate else librosa.resample(audio, orig_sr=sample_rate, target_sr=rate)
    peak = float(np.max(np.abs(x), initial=0.0)) or 1.0
    data = AudioFile.encode((x / peak)[None].astype(np.float32), rate, "mp3", 1,
                            quality=f"{severity:g} kbps")
    with AudioFile(io.BytesIO(data)) as f:
        decoded = f.read(f.frames)[0]
    delay = _mp3_delay(data)
    y = _fit(decoded[delay:], len(x)) * np.float32(peak)
    if rate != sample_rate:
        y = librosa.resample(y, orig_sr=rate, target_sr=sample_rate)
    return _fit(y, len(audio))


def _reverb(audio, *, sample_rate, severity, rng):
    """``pedalboard.Reverb`` (Freeverb) with room size ``severity``, damping 0.5, wet level 0.33,
    dry level 0.4, width 1 (pedalboard's defaults); the tail past the clip's end is dropped."""
    room = pedalboard.Reverb(room_size=severity, damping=0.5, wet_level=0.33, dry_level=0.4, width=1.0)
    return _fit(room(audio[None], sample_rate)[0], len(audio))


def _pitch(audio, *, sample_rate, severity, rng):
    """Pitch shifted by ``severity`` semitones, duration kept: Rubber Band's offline, high-quality,
    formant-preserving mode (``pedalboard.time_stretch`` at stretch factor 1)."""
    out = pedalboard.time_stretch(audio[None], sample_rate, stretch_factor=1.0,
                                  pitch_shift_in_semitones=float(severity))
    return _fit(out[0], len(audio))


def _stretch(audio, *, sample_rate, severity, rng):
    """Played ``severity`` times as fast, pitch kept (``pedalboard.time_stretch``, Rubber Band: 1.1
    is faster and shorter), then cut or zero-padded at the end to the input's length."""
    out = pedalboard.time_stretch(audio[None], sample_rate, stretch_factor=float(severity))
    return _fit(out[0], len(audio))


def _reverse(audio, *, sample_rate, severity, rng):
    """The audio played backwards."""
    return audio[::-1].copy()


def reverse_frames(X: np.ndarray) -> np.ndarray:
    """A (clips, frames, ...) feature array with each clip's frames in reverse order (axis 1)."""
    X = np.asarray(X)
    if X.ndim < 2:
        raise FeatureError(f"reverse-frames needs a (clips, frames, ...) array, got shape {X.shape}")
    return X[:, ::-1].copy()


PERTURBATIONS = {p.name: p for p in (
    Perturbation("noise", (30, 20, 10, 0), "dB SNR",
                 "additive white Gaussian noise at 30, 20, 10, 0 dB SNR (to the clip's mean power)", _noise),
    Perturbation("gain", (-12, 12), "dB", "level changed by -12 and +12 dB (exact, not clipped)", _gain),
    Perturbation("lowpass", (3400,), "Hz",
                 "low-pass at 3400 Hz, telephone band (zero-phase Butterworth, -6 dB there, -96 dB/octave)",
                 _lowpass),
    Perturbation("mp3", (64,), "kbit/s", "MP3 encoded and decoded at 64 kbit/s CBR (LAME), delay removed",
                 _mp3),
    Perturbation("reverb", (0.5,), "room size",
                 "room reverberation (Freeverb, room size 0.5, wet 0.33, dry 0.4), tail cut", _reverb),
    Perturbation("pitch", (-1, 1), "semitones", "pitch shifted by -1 and +1 semitone, duration kept",
                 _pitch),
    Perturbation("stretch", (0.9, 1.1), "rate",
                 "time stretched to 0.9x and 1.1x speed (1.1: faster), cut or zero-padded to length",
                 _stretch),
    Perturbation("reverse", (None,), "", "the audio played backwards", _reverse),
    Perturbation("reverse-frames", (None,), "",
                 "frame features (frames x bins) only: each clip's frames in reverse time order", None,
                 on="frames"),
)}


def severity_text(severity) -> str:
    """The ``severity`` column text of a results row: ``f"{value:g}"``, ``"-"`` for None."""
    return "-" if severity is None else f"{severity:g}"


def _check_severity(perturbation: Perturbation, severity) -> None:
    if severity not in perturbation.severities:
        valid = ", ".join(severity_text(s) for s in perturbation.severities)
        unit = f" ({perturbation.unit})" if perturbation.unit else ""
        raise ConfigError(f"perturbation {perturbation.name!r} has no severity {severity!r}; "
                          f"valid severities: {valid}{unit}")


def check_perturbations(names) -> None:
    """Raise ConfigError naming the unknown perturbation names and listing the known ones."""
    unknown = [name for name in names if name not in PERTURBATIONS]
    if unknown:
        raise ConfigError(f"unknown perturbation(s) {', '.join(map(repr, unknown))}; "
                          f"valid perturbations: {', '.join(PERTURBATIONS)}")


def clip_seed(*, seed: int, clip_id: str, name: str, severity) -> int:
    """A per-clip seed in [0, 2**63): sha256 of the run seed, clip id, perturbation and severity text,
    so stable across processes and Python runs."""
    key = "\0".join((str(int(seed)), str(clip_id), name, severity_text(severity)))
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") >> 1


def perturb(audio, *, name: str, severity, sample_rate: int, seed: int) -> np.ndarray:
    """float32 mono audio perturbed; same length as the input; deterministic for (audio, name, severity,
    seed).

    Parameters
    ----------
    audio : array-like
        Mono samples (1-d).
    name : str
        A name in :data:`PERTURBATIONS` whose ``on`` is ``"audio"``.
    severity : number or None
        One of that perturbation's ``severities``.
    sample_rate : int
        Sample rate in Hz.
    seed : int
        Seeds the generator of the random perturbations (:func:`clip_seed`).
    """
    perturbation = lookup(PERTURBATIONS, name, kind="perturbation")
    if perturbation.apply is None:
        raise ConfigError(f"perturbation {name!r} acts on frame features, not on audio "
                          "(use reverse_frames on a (clips, frames, bins) array)")
    _check_severity(perturbation, severity)
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim != 1:
        raise FeatureError(f"perturb takes mono (1-d) audio, got shape {audio.shape}")
    if len(audio) == 0:
        return audio.copy()
    out = perturbation.apply(audio, sample_rate=sample_rate, severity=severity,
                             rng=np.random.default_rng(seed))
    return _fit(out, len(audio))
