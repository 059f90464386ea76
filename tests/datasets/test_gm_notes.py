"""gm-notes: rendering real SoundFont notes into NSynth's layout, split and determinism."""

import json

import numpy as np
import soundfile as sf

from instrument_bench.datasets import gm, gm_notes
from instrument_bench.datasets.nsynth import REQUIRED_FIELDS, read_layout
from instrument_bench.datasets.render import render_notes
from tests.conftest import TINY_PROGRAMS


def test_layout_and_fields(tiny_data_root):
    root = tiny_data_root / "nsynth"
    total = 0
    for split in ("train", "valid", "test"):
        examples = json.loads((root / f"nsynth-{split}" / "examples.json").read_text())
        total += len(examples)
        for note, example in examples.items():
            assert set(REQUIRED_FIELDS) | {"qualities_str"} <= set(example)
            assert note == f"{example['instrument_str']}-{example['pitch']:03d}-{example['velocity']:03d}"
            assert example["instrument_family_str"] == gm.family_of(example["instrument"])
            assert gm.NSYNTH_FAMILIES[example["instrument_family"]] == example["instrument_family_str"]
            info = sf.info(root / f"nsynth-{split}" / "audio" / f"{note}.wav")
            assert (info.samplerate, info.channels, info.frames) == (16000, 1, 64000)
    assert total == len(TINY_PROGRAMS) * 3 * 2


def test_split_is_instrument_disjoint(tiny_data_root):
    ds = read_layout(tiny_data_root / "nsynth")
    instruments = {s: {c.meta["instrument"] for c in ds.split(s)} for s in ("train", "valid", "test")}
    assert not instruments["train"] & instruments["test"]
    assert not instruments["train"] & instruments["valid"]
    assert not instruments["valid"] & instruments["test"]
    for split in instruments:  # every family of the tiny set is in every split
        assert {c.meta["instrument_family_str"] for c in ds.split(split)} == {"keyboard", "guitar", "string"}


def test_full_split_plan():
    splits = gm_notes.assign_splits(gm.all_programs())
    counts = {s: sum(v == s for v in splits.values()) for s in ("train", "valid", "test")}
    assert counts == {"train": 54, "valid": 11, "test": 22}
    assert splits == gm_notes.assign_splits(gm.all_programs())  # fixed seed


def test_note_plan_covers_the_range():
    plan = gm_notes.note_plan(40)
    pitches = sorted({p for p, _ in plan})
    assert (pitches[0], pitches[-1]) == gm.pitch_range(40)
    assert len(plan) == len(pitches) * len(gm_notes.VELOCITIES)


def test_rendering_is_sampled_audio_and_deterministic():
    kwargs = {"program": 73, "notes": [(72, 100)], "sample_rate": 16000, "note_seconds": 3.0,
              "clip_seconds": 4.0}
    first, second = render_notes(**kwargs), render_notes(**kwargs)
    np.testing.assert_array_equal(first[0], second[0])
    audio = first[0]
    assert audio.shape == (64000,) and np.abs(audio).max() > 1e-3
    # a sampled flute is not a sine: energy beyond the fundamental's bin
    spectrum = np.abs(np.fft.rfft(audio[8000:40000]))
    assert np.sort(spectrum)[-20:].sum() < 0.9 * spectrum.sum()
    # note held 3 s: sound at 2.5 s, much quieter at the end of the release
    assert np.abs(audio[40000:44000]).max() > 10 * np.abs(audio[62000:]).max()


def test_ensure_rendered_reuses_a_complete_render(tmp_path):
    settings = {"programs": (0, 24), "n_pitches": 1, "velocities": (100,)}
    root = gm_notes.ensure_rendered(tmp_path / "gm", progress=False, **settings)
    marker = root / gm_notes.MARKER
    stamp = marker.stat().st_mtime_ns
    gm_notes.ensure_rendered(tmp_path / "gm", progress=False, **settings)
    assert marker.stat().st_mtime_ns == stamp
    gm_notes.ensure_rendered(tmp_path / "gm", progress=False, **{**settings, "velocities": (90,)})
    assert marker.stat().st_mtime_ns != stamp  # other settings: rendered again
    assert not list(tmp_path.glob("*.tmp-*"))
