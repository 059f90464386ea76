"""Medley-solos-DB on a replica of its published layout: official subsets, the piano-violin task and
damaged metadata."""

from __future__ import annotations

import pytest
import soundfile as sf

from instrument_bench.datasets import medley_solos_db
from instrument_bench.errors import DatasetError
from instrument_bench.protocol.labels import task_view
from instrument_bench.protocol.tasks import TASKS
from tests.datasets.helpers import splits_of
from tests.replicas import clone, own


def test_medley_solos_db_official_subsets_and_piano_violin(data_root):
    dataset = medley_solos_db.read_layout(data_root / "medley-solos-db")
    assert {c.split for c in dataset.clips} == {"train", "valid", "test"}
    assert all(len(s) == 1 for s in splits_of(dataset, lambda c: c.meta["song_id"]).values())
    assert sf.info(dataset.clips[0].path).frames == 65536
    view = task_view(TASKS["piano-violin"], dataset)
    assert view.task.classes == ("piano", "violin")
    for split, clips in view.clips.items():
        assert {c.meta["instrument"] for c in clips} == {"piano", "violin"}
        assert len(clips) == view.keep[split].sum() < len(dataset.split(split))
    assert len(task_view(TASKS["medley-instrument"], dataset).clips["train"]) == len(dataset.split("train"))


@pytest.mark.parametrize("damage, message", [
    ("id-mismatch", r"Medley-solos-DB_metadata\.csv: line 2: instrument 'violin' does not match "
                    "instrument_id"),
    ("missing-wav", r"Medley-solos-DB_metadata\.csv: line 3: audio file .* not found"),
    ("bad-uuid", r"Medley-solos-DB_metadata\.csv: line 2: uuid4 '\.\./\.\./x' is not a UUID"),
    ("no-column", r"lacks the columns song_id"),
])
def test_medley_solos_db_damaged(data_root, tmp_path, damage, message):
    root = clone(data_root / "medley-solos-db", tmp_path / "medley")
    csv_path = own(root / medley_solos_db.METADATA)
    lines = csv_path.read_text().splitlines()
    cells = lines[1].split(",")
    if damage == "id-mismatch":
        cells[1] = "violin" if cells[1] != "violin" else "piano"
        lines[1] = ",".join(cells)
    elif damage == "missing-wav":
        subset, _, instrument_id, _, uuid4 = lines[2].split(",")
        (root / "audio" / f"Medley-solos-DB_{subset}-{instrument_id}_{uuid4}.wav").unlink()
    elif damage == "bad-uuid":
        cells[4] = "../../x"
        lines[1] = ",".join(cells)
    else:
        lines = [",".join(c for c in line.split(",")[:3] + line.split(",")[4:]) for line in lines]
    csv_path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DatasetError, match=message):
        medley_solos_db.read_layout(root)
