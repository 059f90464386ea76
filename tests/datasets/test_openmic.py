"""OpenMIC-2018 on a replica of its published layout: masked labels, the official split and damaged
partitions."""

from __future__ import annotations

import numpy as np
import pytest

from instrument_bench.datasets import openmic
from instrument_bench.errors import DatasetError
from instrument_bench.features import FEATURES
from instrument_bench.features.store import compute_features
from instrument_bench.protocol.tasks import TASKS
from tests.replicas import clone, own


def test_openmic_labels_are_masked_and_split_official(data_root):
    root = data_root / "openmic-2018"
    dataset = openmic.read_layout(root)
    with np.load(root / "openmic-2018.npz") as archive:
        keys = list(archive["sample_key"])
        y_true, y_mask = archive["Y_true"], archive["Y_mask"]
    test_keys = (root / "partitions/split01_test.csv").read_text().split()
    assert [c.clip_id for c in dataset.split("test")] == test_keys
    y = TASKS["openmic"].labels(list(dataset.clips))
    for clip, row in zip(dataset.clips, y):
        i = keys.index(clip.clip_id)
        expected = np.where(y_mask[i], (y_true[i] >= 0.5).astype(int), -1)
        np.testing.assert_array_equal(row, expected)
    assert (y == -1).any() and {c.split for c in dataset.clips} == {"train", "valid", "test"}
    x = compute_features(list(dataset.clips), FEATURES["vggish-mean"], sample_rate=16000, progress=False)
    assert x.shape == (len(dataset.clips), 128)


@pytest.mark.parametrize("damage, message", [
    ("unknown-key", r"split01_test\.csv: line 1: sample_key '999999_0' is not in openmic-2018\.npz"),
    ("class-map", r"class-map\.json: expected OpenMIC's 20 instruments"),
    ("both", r"is in both split01_train and split01_test"),
])
def test_openmic_damaged(data_root, tmp_path, damage, message):
    root = clone(data_root / "openmic-2018", tmp_path / "openmic")
    test_csv = own(root / "partitions/split01_test.csv")
    if damage == "unknown-key":
        test_csv.write_text("999999_0\n" + test_csv.read_text())
    elif damage == "class-map":
        own(root / "class-map.json").write_text('{"piano": 0}')
    else:
        test_csv.write_text((root / "partitions/split01_train.csv").read_text().split()[0] + "\n")
    with pytest.raises(DatasetError, match=message):
        openmic.read_layout(root)
