"""NSynth's TFRecord release, written from the tiny gm-notes tree: the same clips as the json/wav
loader, converted once, and a cut-short record."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from instrument_bench.datasets import nsynth, nsynth_tfrecord
from instrument_bench.errors import DatasetError
from tests.replicas import clone, own


def test_nsynth_tfrecord_gives_the_json_wav_clips(data_root, tiny_data_root, tmp_path):
    reference = nsynth.read_layout(tiny_data_root / "nsynth")
    dataset = nsynth_tfrecord.load(data_root=data_root, data_home=tmp_path, progress=False)
    assert [(c.clip_id, c.split) for c in dataset.clips] == [(c.clip_id, c.split) for c in reference.clips]
    fields = nsynth.REQUIRED_FIELDS
    for ours, theirs in zip(dataset.clips, reference.clips):
        assert {k: ours.meta[k] for k in fields} == {k: theirs.meta[k] for k in fields}
    for ours, theirs in zip(dataset.clips[:5], reference.clips[:5]):
        ours_audio, theirs_audio = (sf.read(c.path, dtype="int16")[0] for c in (ours, theirs))
        np.testing.assert_array_equal(ours_audio, theirs_audio)
    again = nsynth_tfrecord.load(data_root=data_root, data_home=tmp_path, progress=False)  # converted once
    assert again.root == dataset.root and again.version == dataset.version


def test_nsynth_tfrecord_damaged(data_root, tmp_path):
    root = clone(data_root / "nsynth-tfrecord", tmp_path / "nsynth-tfrecord")
    record = own(root / "nsynth-valid.tfrecord")
    record.write_bytes(record.read_bytes()[:-50])  # the last record is cut short
    with pytest.raises(DatasetError, match=r"nsynth-valid\.tfrecord: record \d+: cannot parse"):
        nsynth_tfrecord.load(root=root, data_home=tmp_path / "home", progress=False)
    assert not list((tmp_path / "home" / "nsynth-tfrecord").glob("*/nsynth-test"))  # nothing half-written
