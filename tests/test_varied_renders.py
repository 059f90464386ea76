"""gm-notes-varied: notes rendered with their own timing, level and controls, and qualities that
follow each note's timing (real TimGM6mb renders, a few programs and notes)."""

import functools
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from instrument_bench.datasets import DATASETS, FAMILY_MAPS, gm_notes, gm_varied
from instrument_bench.datasets.gm import NSYNTH_QUALITIES
from instrument_bench.datasets.nsynth import REQUIRED_FIELDS, read_layout
from instrument_bench.datasets.qualities import derive_qualities
from instrument_bench.datasets.render import (
    PlayedNote,
    render_notes,
    render_played,
    soundfont_fingerprint,
    soundfont_path,
)
from instrument_bench.errors import DatasetNotFoundError

# keyboard x 3 (one program per split), a string and a flute (train): 5 x 6 = 30 notes
PROGRAMS = (0, 1, 6, 40, 73)
NOTES_PER_PROGRAM = 6
TINY = {"programs": PROGRAMS, "notes_per_program": NOTES_PER_PROGRAM}
SR = 16000


def examples_of(root) -> dict:
    out = {}
    for split in ("train", "valid", "test"):
        out.update({k: {**v, "split": split}
                    for k, v in json.loads((root / f"nsynth-{split}" / "examples.json").read_text()).items()})
    return out


def wav(root, example):
    audio, _ = sf.read(root / f"nsynth-{example['split']}" / "audio" / f"{example['note_str']}.wav")
    return audio


@pytest.fixture(scope="module")
def varied(tmp_path_factory):
    """``(home, dataset)``: the tiny render, loaded through ``load`` from a data home."""
    home = tmp_path_factory.mktemp("varied-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(gm_varied, "ensure_rendered", functools.partial(gm_varied.ensure_rendered, **TINY))
        dataset = gm_varied.load(data_home=home, progress=False)
    return home, dataset


def test_registered():
    assert DATASETS["gm-notes-varied"] is gm_varied.load
    assert FAMILY_MAPS["gm-notes-varied"] is FAMILY_MAPS["gm-notes"]


def test_layout_fields_and_split(varied):
    home, dataset = varied
    root = home / "gm-notes-varied" / "v1-varied1"
    assert dataset.root == root and dataset.version == "1-varied1" and dataset.name == "gm-notes-varied"
    assert len(dataset.clips) == len(PROGRAMS) * NOTES_PER_PROGRAM
    splits = gm_notes.assign_splits(PROGRAMS)
    assert {c.meta["instrument"]: c.split for c in dataset.clips} == splits
    assert set(splits.values()) == {"train", "valid", "test"}
    for clip in dataset.clips:
        meta = clip.meta
        assert set(REQUIRED_FIELDS) | {"qualities_str", "gm_program_name", "onset_seconds", "note_seconds",
                                       "held_seconds", "gain_db", "expression", "vibrato", "room", "noise",
                                       "mic"} <= set(meta)
        assert meta["note_seconds"] == pytest.approx(min(meta["held_seconds"], 4.0 - meta["onset_seconds"]))
        assert meta["room"] == meta["noise"] == meta["mic"] == 0
        info = sf.info(clip.path)
        assert (info.samplerate, info.channels, info.frames) == (16000, 1, 64000)
    assert len({c.clip_id for c in dataset.clips}) == len(dataset.clips)
    assert read_layout(root).clips  # the plain NSynth reader reads it too


def test_rerun_renders_nothing(varied):
    home, _ = varied
    marker = home / "gm-notes-varied" / "v1-varied1" / gm_varied.MARKER
    stamp = marker.stat().st_mtime_ns
    gm_varied.ensure_rendered(marker.parent, progress=False, **TINY)
    assert marker.stat().st_mtime_ns == stamp
    assert json.loads(marker.read_text())["dropped"] == []
    assert not list(marker.parent.parent.glob(".*.tmp-*"))


def test_the_notes_vary(varied):
    home, dataset = varied
    metas = [c.meta for c in dataset.clips]
    held = [m["held_seconds"] for m in metas]
    assert min(held) <= 0.3 and max(held) >= 2.0
    onsets = [m["onset_seconds"] for m in metas]
    assert 0 <= min(onsets) < 0.05 and 0.2 < max(onsets) <= 0.25
    peaks = [20 * np.log10(np.abs(sf.read(c.path)[0]).max()) for c in dataset.clips]
    assert max(peaks) - min(peaks) >= 30
    assert len({m["pitch"] for m in metas}) >= 15 and len({m["velocity"] for m in metas}) >= 15
    assert min(m["velocity"] for m in metas) >= 20
    assert any(m["expression"] for m in metas) and any(m["vibrato"] for m in metas)
    for clip in dataset.clips:  # the vibrato flag says what was played: it starts before the note's end
        meta, k = clip.meta, int(clip.clip_id.split("-")[1])
        drawn = gm_varied.draw_note(meta["instrument"], k)
        sounds = drawn["vibrato"] is not None and drawn["vibrato_delay"] < meta["note_seconds"]
        assert meta["vibrato"] == int(sounds)
        assert meta.get("vibrato_kind") == (drawn["vibrato"] if sounds else None)
    # a piano's held note only decays: no swell, no vibrato
    decaying = [m for m in metas if m["instrument"] not in gm_varied.SUSTAINED]
    assert decaying and not any(m["expression"] or m["vibrato"] for m in decaying)
    # the sound starts at the onset: nothing before it, something within 20 ms after it
    for clip in dataset.clips[:10]:
        audio, onset = sf.read(clip.path)[0], clip.meta["onset_seconds"]
        before = audio[: max(0, int((onset - 0.005) * SR))]
        assert np.abs(before).max(initial=0) < max(2 ** -14, 0.01 * np.abs(audio).max())  # 2 LSB
        assert np.abs(audio[int(onset * SR): int((onset + 0.02) * SR)]).max() > 0


def test_render_is_deterministic(varied, tmp_path):
    home, _ = varied
    first = home / "gm-notes-varied" / "v1-varied1"
    second = gm_varied.render_dataset(tmp_path / "again", progress=False, **TINY)
    for split in ("train", "valid", "test"):
        assert ((first / f"nsynth-{split}" / "examples.json").read_bytes()
                == (second / f"nsynth-{split}" / "examples.json").read_bytes())
        names = sorted(p.name for p in (first / f"nsynth-{split}" / "audio").iterdir())
        assert names == sorted(p.name for p in (second / f"nsynth-{split}" / "audio").iterdir())
        for name in names:
            assert ((first / f"nsynth-{split}" / "audio" / name).read_bytes()
                    == (second / f"nsynth-{split}" / "audio" / name).read_bytes())


def test_draws_do_not_depend_on_how_many_notes():
    assert gm_varied.draw_note(40, 3) == gm_varied.draw_note(40, 3)
    assert gm_varied.draw_note(40, 3) != gm_varied.draw_note(41, 3)


def test_recording_chain_options(varied, tmp_path):
    home, dataset = varied
    plain = examples_of(home / "gm-notes-varied" / "v1-varied1")
    one = {"programs": (40,), "notes_per_program": 3}
    assert gm_varied.version_of() == "1-varied1"
    for option in ("room", "noise", "mic"):
        assert gm_varied.version_of(**{option: True}) == f"1-varied1-{option}"
        roots = [gm_varied.render_dataset(tmp_path / f"{option}{k}", progress=False, **one, **{option: True})
                 for k in range(2)]
        examples = examples_of(roots[0])
        assert examples == examples_of(roots[1])
        assert len(examples) == 3
        for note, example in examples.items():
            assert example[option] == 1
            # the same performance and qualities as without the option, other audio
            same = ("pitch", "velocity", "onset_seconds", "note_seconds", "qualities")
            assert {k: example[k] for k in same} == {k: plain[note][k] for k in same}
            audio = wav(roots[0], example)
            assert np.array_equal(audio, wav(roots[1], example))
            dry = wav(home / "gm-notes-varied" / "v1-varied1", plain[note])
            held = slice(int(example["onset_seconds"] * SR),
                         int((example["onset_seconds"] + example["note_seconds"]) * SR))
            change = np.sqrt(((audio - dry)[held] ** 2).mean() / (dry[held] ** 2).mean())
            if option == "noise":  # the noise is at the SNR recorded, 20-40 dB
                assert -20 * np.log10(change) == pytest.approx(example["noise_snr_db"], abs=2.5)
                assert 20 <= example["noise_snr_db"] <= 40
            else:
                assert change > {"room": 0.2, "mic": 0.02}[option]
    assert gm_varied.version_of(room=True, noise=True, mic=True) == "1-varied1-room-noise-mic"
    named = gm_varied.version_of(soundfont=soundfont_path())
    assert named == f"1-varied1-{soundfont_fingerprint(soundfont_path())}"


def test_too_quiet_notes_are_dropped_and_listed(tmp_path, monkeypatch):
    monkeypatch.setattr(gm_varied, "GAIN_DB", (-200.0, -199.0))
    root = gm_varied.render_dataset(tmp_path / "quiet", programs=(40,), notes_per_program=2, progress=False)
    marker = json.loads((root / gm_varied.MARKER).read_text())
    assert len(marker["dropped"]) == 2 and marker["counts"] == {"train": 0, "valid": 0, "test": 0}


def test_quietest_gain_keeps_most_notes():
    # the quietest gain on a soft note of each family still beats gm-notes' MIN_PEAK
    quietest = gm_notes.GAIN * 10 ** (gm_varied.GAIN_DB[0] / 20)
    for program, pitch in ((0, 60), (40, 67), (73, 72)):
        (audio,) = render_notes(program=program, notes=[(pitch, 40)], sample_rate=SR, note_seconds=1.0,
                                clip_seconds=2.0)
        assert np.abs(audio).max() * quietest > 3 * gm_notes.MIN_PEAK


# -- render_played --------------------------------------------------------------------------------


def test_played_plain_notes_sound_as_render_notes():
    kwargs = {"program": 73, "sample_rate": SR, "clip_seconds": 4.0}
    old = render_notes(notes=[(72, 100), (74, 90)], note_seconds=3.0, gap_seconds=1.0, **kwargs)
    new = render_played(notes=[PlayedNote(72, 100, 0.0, 3.0), PlayedNote(74, 90, 0.0, 3.0)], gap_seconds=1.0,
                        **kwargs)
    np.testing.assert_array_equal(old[0], new[0])
    np.testing.assert_allclose(old[1][:47000], new[1][:47000], atol=1e-4)
    # render_notes' last note stops dead at its note-off (midirenderer ends at the last event);
    # render_played renders its release
    assert np.abs(old[1][48100:]).max() == 0 and np.abs(new[1][48100:48800]).max() > 1e-4


def test_controls_do_not_carry_over_to_the_next_note():
    kwargs = {"program": 40, "sample_rate": SR, "clip_seconds": 2.0}
    after = PlayedNote(67, 100, 0.1, 1.0)
    bent = PlayedNote(64, 100, 0.0, 1.0, controls=((0.0, 11, 40), (0.2, 1, 127)), bends=((0.3, 2000),))
    alone = render_played(notes=[PlayedNote(64, 100, 0.0, 1.0), after], **kwargs)[1]
    following = render_played(notes=[bent, PlayedNote(64, 100, 0.0, 1.0)], **kwargs)
    np.testing.assert_allclose(render_played(notes=[bent, after], **kwargs)[1], alone, atol=1e-4)
    plain = render_played(notes=[PlayedNote(64, 100, 0.0, 1.0)] * 2, **kwargs)[0]
    quiet = np.sqrt((following[0][3200:12800] ** 2).mean()) / np.sqrt((plain[3200:12800] ** 2).mean())
    assert 20 * np.log10(quiet) < -12  # CC 11 = 40 is heard


# -- qualities follow each note's timing ----------------------------------------------------------


def flags(audio, pitch, *, onset, held):
    out = derive_qualities(audio, sample_rate=SR, pitch=pitch, note_seconds=held, onset_seconds=onset)
    return dict(zip(NSYNTH_QUALITIES, out))


def test_a_short_note_is_not_called_fast_decaying():
    # a sustained flute held 0.5 s, then silence: the fixed 2.7-2.95 s window of gm-notes' rule
    # hears the silence (fast_decay); the note's own window (0.2-0.45 s) hears it held
    notes = [PlayedNote(72, 100, 0.0, 0.5), PlayedNote(72, 100, 0.0, 3.0)]
    short, held = render_played(program=73, notes=notes, sample_rate=SR, clip_seconds=4.0)
    assert flags(short, 72, onset=0.0, held=3.0)["fast_decay"] == 1  # the fixed-time rule
    assert flags(short, 72, onset=0.0, held=0.5)["fast_decay"] == 0
    assert flags(held, 72, onset=0.0, held=3.0)["fast_decay"] == 0


def test_release_is_judged_after_the_notes_own_note_off():
    # a brass note held 0.5 s rings on after its note-off: heard 0.3-0.5 s and 0.8-1.0 s after it
    short, _ = render_played(program=56, notes=[PlayedNote(62, 100, 0.0, 0.5), PlayedNote(62, 100, 0.0, 3.0)],
                             sample_rate=SR, clip_seconds=4.0)
    fixed, timed = flags(short, 62, onset=0.0, held=3.0), flags(short, 62, onset=0.0, held=0.5)
    assert fixed["long_release"] == 0 and fixed["reverb"] == 0
    assert timed["long_release"] == 1 and timed["reverb"] == 1


@pytest.mark.parametrize("program, pitch", [(0, 60), (40, 67), (56, 62), (11, 72)])
def test_an_onset_shift_keeps_the_flags_of_a_note(program, pitch):
    notes = [PlayedNote(pitch, 100, onset, held) for held in (0.4, 2.5) for onset in (0.0, 0.2)]
    clips = render_played(program=program, notes=notes + [notes[0]], sample_rate=SR, clip_seconds=4.0)
    for k in (0, 2):
        assert (flags(clips[k], pitch, onset=0.0, held=notes[k].held)
                == flags(clips[k + 1], pitch, onset=0.2, held=notes[k].held))


def test_a_named_soundfont(tmp_path, monkeypatch):
    with pytest.raises(DatasetNotFoundError, match="not found"):
        gm_varied.load(data_home=tmp_path, soundfont=tmp_path / "missing.sf2", progress=False)
    if not Path(gm_notes.FLUIDR3).is_file():
        pytest.skip(f"no FluidR3_GM: {gm_notes.FLUIDR3_INSTALL}")
    monkeypatch.setattr(gm_varied, "ensure_rendered", functools.partial(gm_varied.ensure_rendered,
                                                                        programs=(40,), notes_per_program=2))
    fluid = gm_varied.load(data_home=tmp_path, soundfont=gm_notes.FLUIDR3, progress=False)
    version = f"1-varied1-{soundfont_fingerprint(gm_notes.FLUIDR3)}"
    assert fluid.version == version and fluid.root == tmp_path / "gm-notes-varied" / f"v{version}"
    tim = gm_varied.load(data_home=tmp_path, progress=False)
    # the same notes (a note FluidR3 has no sample for is dropped), other audio
    assert {c.clip_id for c in fluid.clips} <= {c.clip_id for c in tim.clips} and fluid.clips
    paths = {c.clip_id: c.path for c in tim.clips}
    for clip in fluid.clips:
        assert not np.array_equal(sf.read(clip.path)[0], sf.read(paths[clip.clip_id])[0])
