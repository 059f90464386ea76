"""The NSynth json/wav loader, and the clear errors it gives on a broken tree."""

import json
import shutil

import pytest

from instrument_bench.config import dataset_root
from instrument_bench.datasets import nsynth
from instrument_bench.errors import DatasetError, DatasetNotFoundError


@pytest.fixture()
def tree(tiny_data_root, tmp_path):
    root = tmp_path / "nsynth"
    shutil.copytree(tiny_data_root / "nsynth", root)
    return root


def edit_examples(root, split, fn):
    path = root / f"nsynth-{split}" / "examples.json"
    examples = json.loads(path.read_text())
    fn(examples)
    path.write_text(json.dumps(examples))
    return path


def test_reads_the_tree(tree):
    ds = nsynth.load(data_root=tree.parent)
    assert ds.name == "nsynth" and ds.sample_rate == 16000 and len(ds.clips) == 54
    assert all(c.path.is_file() for c in ds.clips)
    assert ds.split_hash() == nsynth.read_layout(tree).split_hash()


def test_missing_root_is_not_found(tmp_path, monkeypatch):
    monkeypatch.delenv("INSTRUMENT_BENCH_DATA", raising=False)
    with pytest.raises(DatasetNotFoundError, match="--data-root"):
        nsynth.load()
    with pytest.raises(DatasetNotFoundError, match="not found"):
        dataset_root("nsynth", data_root=tmp_path)


def test_missing_examples_json(tree):
    (tree / "nsynth-valid" / "examples.json").unlink()
    with pytest.raises(DatasetError, match=r"nsynth-valid.examples\.json.*not found"):
        nsynth.read_layout(tree)


def test_malformed_json(tree):
    (tree / "nsynth-test" / "examples.json").write_text("{not json")
    with pytest.raises(DatasetError, match=r"nsynth-test.examples\.json: malformed JSON"):
        nsynth.read_layout(tree)


def test_unknown_family_names_the_file_and_note(tree):
    def corrupt(examples):
        note = sorted(examples)[0]
        examples[note]["instrument_family_str"] = "theremin"
    path = edit_examples(tree, "train", corrupt)
    with pytest.raises(DatasetError, match="unknown instrument family 'theremin'") as err:
        nsynth.read_layout(tree)
    assert str(path) in str(err.value)


def test_missing_field_and_wrong_type(tree):
    edit_examples(tree, "train", lambda ex: ex[sorted(ex)[0]].pop("pitch"))
    with pytest.raises(DatasetError, match="lacks the field 'pitch'"):
        nsynth.read_layout(tree)


def test_wrong_type(tree):
    edit_examples(tree, "valid", lambda ex: ex[sorted(ex)[0]].update(velocity="loud"))
    with pytest.raises(DatasetError, match="field 'velocity' should be int"):
        nsynth.read_layout(tree)


def test_missing_audio_names_the_wav(tree):
    wav = sorted((tree / "nsynth-test" / "audio").glob("*.wav"))[0]
    wav.unlink()
    with pytest.raises(DatasetError, match=f"audio for '{wav.stem}' is missing"):
        nsynth.read_layout(tree)
