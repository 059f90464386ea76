"""The acceptance tests of the padding- and level-free statistics features (protocol 3).

On notes rendered from the project's SoundFont, one General MIDI program from each of NSynth's 11
families: for ``mfcc-stats`` and ``essentia-descriptors`` with their default parameters,

(i) a 0.3 s note on its own and the same note zero-padded to 4 s, and
(ii) a note at -40 dB peak and the same note at -6 dB peak

must lie closer together than notes of different families do: each pair's standardised distance
(the features z-scored with the mean and std over the reference notes) is below the median
standardised distance between reference notes of different families. The definition before
protocol 3 (``active_db=0, level="raw"``) fails (i) for ``mfcc-stats``, which shows the test can
fail. The fast and librosa backends of ``mfcc-stats`` agree with the new parameters.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from instrument_bench.datasets import gm
from instrument_bench.datasets.render import render_notes
from instrument_bench.features import FEATURES

SR = 16000
# one program per NSynth family: piano, vibraphone, church organ, nylon guitar, fingered bass,
# violin, choir aahs, trumpet, alto sax, flute, square lead
PROGRAMS = (0, 11, 19, 24, 33, 40, 52, 56, 65, 73, 80)
OLD = {"active_db": 0.0, "level": "raw"}  # the definition before protocol 3
PADDED_SECONDS = 4.0
SHORT_SECONDS = 0.3
STATISTICS = ("mfcc-stats", "essentia-descriptors")


def _pitches(program: int, n: int) -> list[int]:
    """``n`` pitches inside the program's playable range (away from its ends)."""
    low, high = gm.pitch_range(program)
    return [int(round(p)) for p in np.linspace(low + (high - low) / 4, high - (high - low) / 4, n)]


def _at_peak(audio: np.ndarray, db: float) -> np.ndarray:
    return (audio / np.abs(audio).max() * 10 ** (db / 20)).astype(np.float32)


@pytest.fixture(scope="module")
def notes():
    """Reference notes (two pitches per program, held 1 s in 1.5 s clips), their families, and one
    0.3 s note per program (the note's own 0.3 s of audio, from note-on to note-off)."""
    reference, families, short = [], [], []
    for program in PROGRAMS:
        clips = render_notes(program=program, notes=[(p, 100) for p in _pitches(program, 2)], sample_rate=SR,
                             note_seconds=1.0, clip_seconds=1.5)
        reference += clips
        families += [gm.family_of(program)] * len(clips)
        short += render_notes(program=program, notes=[(_pitches(program, 1)[0], 100)], sample_rate=SR,
                              note_seconds=SHORT_SECONDS, clip_seconds=SHORT_SECONDS)
    return {"reference": reference, "families": families, "short": short}


class Scale:
    """Features of one definition, z-scored with the reference notes' mean and std."""

    def __init__(self, feature: str, reference, families, **overrides):
        self.spec = FEATURES[feature]
        self.params = {**self.spec.params, **overrides}
        values = self.features(reference)
        self.mean, self.std = values.mean(axis=0), values.std(axis=0)
        self.std[self.std < 1e-9] = 1.0  # a constant descriptor adds no distance
        z = (values - self.mean) / self.std
        self.between_families = np.median([np.linalg.norm(z[i] - z[j])
                                           for i, j in itertools.combinations(range(len(z)), 2)
                                           if families[i] != families[j]])

    def features(self, clips) -> np.ndarray:
        return np.stack([self.spec.extract(np.asarray(c, dtype=np.float32), sample_rate=SR, **self.params)
                         for c in clips]).astype(np.float64)

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        fa, fb = self.features([a, b])
        return float(np.linalg.norm((fa - fb) / self.std))


def _padded(audio: np.ndarray) -> np.ndarray:
    return np.pad(audio, (0, int(PADDED_SECONDS * SR) - len(audio)))


def test_the_notes_span_every_family(notes):
    assert sorted(set(notes["families"])) == sorted(gm.NSYNTH_FAMILIES)
    assert all(np.abs(c).max() > 1e-3 for c in notes["reference"] + notes["short"])
    assert all(len(c) == int(SHORT_SECONDS * SR) for c in notes["short"])
    assert all(np.abs(c[-200:]).max() > 1e-3 for c in notes["short"])  # each ends while it sounds


@pytest.mark.parametrize("feature", STATISTICS)
def test_zero_padding_moves_a_note_less_than_a_change_of_family(notes, feature):
    scale = Scale(feature, notes["reference"], notes["families"])
    distances = [scale.distance(note, _padded(note)) for note in notes["short"]]
    assert max(distances) < scale.between_families, (
        f"{feature}: 0.3 s vs padded to 4 s {np.round(distances, 2).tolist()}, "
        f"median between families {scale.between_families:.2f}")


@pytest.mark.parametrize("feature", STATISTICS)
def test_level_moves_a_note_less_than_a_change_of_family(notes, feature):
    scale = Scale(feature, notes["reference"], notes["families"])
    one_per_program = notes["reference"][::2]
    distances = [scale.distance(_at_peak(note, -40.0), _at_peak(note, -6.0)) for note in one_per_program]
    assert max(distances) < scale.between_families, (
        f"{feature}: -40 vs -6 dB peak {np.round(distances, 2).tolist()}, "
        f"median between families {scale.between_families:.2f}")


def test_the_old_mfcc_stats_definition_fails_the_padding_test(notes):
    """Statistics over every frame (the padding included) at the absolute level: the padded note
    is as far from itself as notes of different families are from each other."""
    scale = Scale("mfcc-stats", notes["reference"], notes["families"], **OLD)
    distances = [scale.distance(note, _padded(note)) for note in notes["short"]]
    assert not max(distances) < scale.between_families
    assert np.median(distances) > scale.between_families


def test_the_old_mfcc_stats_definition_depends_on_the_level(notes):
    new = Scale("mfcc-stats", notes["reference"], notes["families"])
    old = Scale("mfcc-stats", notes["reference"], notes["families"], **OLD)
    note = notes["reference"][0]
    quiet, loud = _at_peak(note, -40.0), _at_peak(note, -6.0)
    assert new.distance(quiet, loud) < 1e-3 * new.between_families
    assert old.distance(quiet, loud) > 0.1 * old.between_families


def test_mfcc_stats_backends_agree_with_the_new_parameters(notes):
    spec = FEATURES["mfcc-stats"]
    clips = [notes["reference"][0], notes["reference"][10], _padded(notes["short"][4]),
             _at_peak(notes["reference"][12], -40.0), notes["short"][9]]
    length = max(len(c) for c in clips)
    batch = np.stack([np.pad(c, (0, length - len(c))) for c in clips]).astype(np.float32)
    assert spec.params["backend"] == "fast" and spec.params["active_db"] == 60.0
    assert spec.params["level"] == "peak"
    for params in (spec.params, {**spec.params, "active_db": 30.0}):
        fast = spec.extract_batch(batch, sample_rate=SR, **params)
        slow = spec.extract_batch(batch, sample_rate=SR, **{**params, "backend": "librosa"})
        assert fast.shape == slow.shape == (len(clips), 80)
        np.testing.assert_allclose(fast, slow, rtol=0, atol=1e-3)
    one = spec.extract(clips[2], sample_rate=SR, **{**spec.params, "backend": "librosa"})
    np.testing.assert_allclose(spec.extract(clips[2], sample_rate=SR, **spec.params), one, rtol=0, atol=1e-3)
