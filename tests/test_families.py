"""The shared family vocabulary: every dataset's labels mapped onto NSynth's 11 families.

Each registered dataset (but an audio folder, whose map comes from its suite table) has a
FamilyMap in FAMILY_MAPS that lists every label of its vocabulary, mapped to an NSynth family or
explicitly to None; FamilyMap.of / known read clips; an audio folder's ``families`` option is
checked when it loads.
"""

from __future__ import annotations

import pytest

from instrument_bench.datasets import (
    DATASETS,
    FAMILY_MAPS,
    family_map_of,
    gm_mix,
    irmas,
    medley_solos_db,
    mtg_jamendo,
    musicnet,
    nsynth,
    openmic,
)
from instrument_bench.datasets.audio_folder import read_layout
from instrument_bench.datasets.base import Clip, Dataset
from instrument_bench.datasets.families import FamilyMap, gm_code_families, identity
from instrument_bench.datasets.gm import FAMILY_PROGRAMS, NSYNTH_FAMILIES
from instrument_bench.errors import ConfigError, DatasetError
from instrument_bench.protocol.tasks import MUSICNET_INSTRUMENTS, family_of_code

# dataset -> (its family map, every label of its vocabulary)
VOCABULARIES = {
    "irmas": (irmas.FAMILY_MAP, irmas.CLASSES),
    "irmas-predominant": (irmas.FAMILY_MAP, irmas.CLASSES),
    "medley-solos-db": (medley_solos_db.FAMILY_MAP, medley_solos_db.CLASSES),
    "mtg-jamendo": (mtg_jamendo.FAMILY_MAP, mtg_jamendo.TAGS),
    "openmic-2018": (openmic.FAMILY_MAP, openmic.CLASSES),
    "musicnet": (musicnet.FAMILY_MAP, tuple(range(1, 129))),
    "gm-mix": (gm_mix.FAMILY_MAP, tuple(range(1, 129))),
    "nsynth": (nsynth.FAMILY_MAP, NSYNTH_FAMILIES),
    "nsynth-tfrecord": (nsynth.FAMILY_MAP, NSYNTH_FAMILIES),
    "gm-notes": (nsynth.FAMILY_MAP, NSYNTH_FAMILIES),
    "gm-notes-fluidr3": (nsynth.FAMILY_MAP, NSYNTH_FAMILIES),
    "gm-notes-varied": (nsynth.FAMILY_MAP, NSYNTH_FAMILIES),
    "gm-notes-varied-fluidr3": (nsynth.FAMILY_MAP, NSYNTH_FAMILIES),
}


def clip(meta: dict, *, clip_id: str = "clip-1", path=None) -> Clip:
    return Clip(clip_id, path, "test", meta)


def test_every_dataset_but_the_audio_folder_has_a_family_map():
    assert set(FAMILY_MAPS) == set(DATASETS) - {"audio-folder"}
    assert set(VOCABULARIES) == set(FAMILY_MAPS)  # this file checks the vocabulary of each
    for name, family_map in FAMILY_MAPS.items():
        assert isinstance(family_map, FamilyMap), name
        assert family_map is VOCABULARIES[name][0], name


@pytest.mark.parametrize("name", sorted(VOCABULARIES))
def test_every_label_of_the_vocabulary_is_mapped(name):
    family_map, labels = VOCABULARIES[name]
    missing = [label for label in labels if label not in family_map.families]
    assert not missing, f"{name}: {missing} have no entry in the family map"
    for label in labels:
        family = family_map.families[label]
        assert family is None or family in NSYNTH_FAMILIES, (name, label, family)
    extra = set(family_map.families) - set(labels)
    assert not extra, f"{name}: the map lists labels outside the vocabulary: {extra}"


def test_openmic_drums_and_cymbals_are_explicitly_dropped():
    assert openmic.FAMILY_MAP.families["drums"] is None
    assert openmic.FAMILY_MAP.families["cymbals"] is None
    assert mtg_jamendo.FAMILY_MAP.families["drums"] is None
    assert mtg_jamendo.FAMILY_MAP.families["computer"] is None


def test_nsynth_families_map_to_themselves():
    assert dict(nsynth.FAMILY_MAP.families) == {f: f for f in NSYNTH_FAMILIES}
    assert nsynth.FAMILY_MAP.field == "instrument_family_str"
    assert identity("x").families == nsynth.FAMILY_MAP.families


def test_gm_codes_follow_the_program_families():
    codes = gm_code_families()
    assert set(codes) == set(range(1, 129))
    for code, family in codes.items():
        assert family == family_of_code(code), code
        expected = next((f for f, programs in FAMILY_PROGRAMS.items() if code - 1 in programs), None)
        assert family == expected, code
    assert codes[1] == "keyboard" and codes[41] == "string" and codes[74] == "flute"
    assert codes[56] is None and codes[128] is None  # orchestra hit, sound effects: no family
    for family_map in (musicnet.FAMILY_MAP, gm_mix.FAMILY_MAP):
        assert family_map.field == "instruments"
        assert dict(family_map.families) == codes


def test_musicnet_instruments_map_to_family_of_code():
    for code in MUSICNET_INSTRUMENTS:
        family = musicnet.FAMILY_MAP.families[code]
        assert family is not None and family == family_of_code(code), code
    assert musicnet.FAMILY_MAP.families[1] == "keyboard"  # piano
    assert musicnet.FAMILY_MAP.families[72] == "reed"  # clarinet
    assert musicnet.FAMILY_MAP.families[43] == "string"  # cello


def test_of_reads_a_list_field():
    families = irmas.FAMILY_MAP.of(clip({"instruments": ["vio", "cel", "pia"]}))
    assert families == ("keyboard", "string")  # sorted, each family once


def test_of_reads_a_single_field():
    assert medley_solos_db.FAMILY_MAP.of(clip({"instrument": "tenor saxophone"})) == ("reed",)
    assert nsynth.FAMILY_MAP.of(clip({"instrument_family_str": "mallet"})) == ("mallet",)


def test_of_drops_labels_without_a_family():
    assert openmic.FAMILY_MAP.of(clip({"instruments": ["drums", "cymbals"]})) == ()
    assert openmic.FAMILY_MAP.of(clip({"instruments": ["drums", "voice"]})) == ("vocal",)


def test_of_a_clip_without_the_field_is_none():
    assert irmas.FAMILY_MAP.of(clip({"instrument": "vio"})) is None


def test_of_an_unmapped_label_names_the_clip():
    with pytest.raises(DatasetError, match=r"clip-7.*'kazoo'"):
        irmas.FAMILY_MAP.of(clip({"instruments": ["vio", "kazoo"]}, clip_id="clip-7"))
    with pytest.raises(DatasetError, match=r"songs/a\.wav.*'theremin'"):
        medley_solos_db.FAMILY_MAP.of(clip({"instrument": "theremin"}, path="songs/a.wav"))
    with pytest.raises(DatasetError, match="200"):
        musicnet.FAMILY_MAP.of(clip({"instruments": [1, 200]}))


def test_a_map_onto_a_family_nsynth_lacks_is_refused():
    with pytest.raises(DatasetError, match="percussion"):
        FamilyMap("label", {"snare": "percussion"})


def test_known_reads_openmic_annotated():
    family_map = openmic.FAMILY_MAP
    annotated = clip({"instruments": ["violin"], "annotated": ["violin", "drums", "trumpet", "cello"]})
    assert family_map.known(annotated) == ("brass", "string")  # drums has no family
    assert family_map.of(annotated) == ("string",)
    assert family_map.known(clip({"instruments": ["violin"]})) is None  # no annotated: all known
    assert family_map.known(clip({"instruments": [], "annotated": []})) == ()


def _folder(root, classes=("piano", "violin", "flute")):
    """A class-folder audio folder with three one-second files (3 groups) per class."""
    import numpy as np
    import soundfile as sf

    t = np.arange(16000) / 16000
    for k, name in enumerate(classes):
        for player in ("a", "b", "c"):
            path = root / name / f"{player}_take1.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, 0.3 * np.sin(2 * np.pi * (220 + 110 * k) * t), 16000)
    return root


def test_audio_folder_families_option(tmp_path):
    root = _folder(tmp_path / "folder")
    dataset = read_layout(root, window_seconds=1.0, test_only=True,
                          families={"piano": "keyboard", "violin": "string", "flute": ""})
    family_map = family_map_of(dataset)
    assert family_map.field == "label"
    assert dict(family_map.families) == {"piano": "keyboard", "violin": "string", "flute": None}
    assert {c.split for c in dataset.clips} == {"test"}
    assert dataset.version.endswith("-test-only")
    by_label = {c.meta["label"]: family_map.of(c) for c in dataset.clips}
    assert by_label == {"piano": ("keyboard",), "violin": ("string",), "flute": ()}


@pytest.mark.parametrize("families, match", [
    ({"piano": "keys"}, "'keys'"),
    ({"piano": "keyboard", "violin": "strings"}, "'strings'"),
    ({"piano": 3}, "families"),
    (["piano", "keyboard"], "families"),
])
def test_audio_folder_bad_family_is_a_config_error(tmp_path, families, match):
    root = _folder(tmp_path / "folder")
    with pytest.raises(ConfigError, match=match):
        read_layout(root, window_seconds=1.0, families=families)


def test_audio_folder_bad_family_in_a_suite_table_is_a_config_error(tmp_path):
    from instrument_bench.datasets.loading import load_dataset

    root = _folder(tmp_path / "folder")
    with pytest.raises(ConfigError, match="'woodwind'"):
        load_dataset("audio-folder", options={"root": str(root), "window_seconds": 1.0, "test_only": True,
                                              "families": {"flute": "woodwind"}})


def test_audio_folder_without_families_has_no_map(tmp_path):
    dataset = read_layout(_folder(tmp_path / "folder"), window_seconds=1.0, test_only=True)
    with pytest.raises(DatasetError, match="families"):
        family_map_of(dataset)


def test_family_map_of_prefers_the_datasets_own_map():
    own = FamilyMap("label", {"x": "reed"})
    dataset = Dataset(name="irmas", root=None, sample_rate=16000, clips=(), version="1", family_map=own)
    assert family_map_of(dataset) is own
    plain = Dataset(name="irmas", root=None, sample_rate=16000, clips=(), version="1")
    assert family_map_of(plain) is irmas.FAMILY_MAP
