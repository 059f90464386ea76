"""NSynth's TFRecord release, read through ``tf.data``.

The layout (as the official download)::

    ROOT/nsynth-train.tfrecord   ROOT/nsynth-valid.tfrecord   ROOT/nsynth-test.tfrecord

one ``tf.train.Example`` per note with NSynth's fields (``note_str``, ``pitch``, ``velocity``,
``instrument(_str)``, ``instrument_family(_str)``, ``instrument_source(_str)``, ``sample_rate``,
``qualities``, ``qualities_str``) and ``audio``, 64,000 float samples. A first load streams each
file once with ``tf.data`` and writes the notes in NSynth's json/wav layout (16-bit, the release's
own quantisation, so no sample changes) under ``<data home>/nsynth-tfrecord/<hash of the files>``;
the json/wav reader then gives exactly the clips the json/wav release gives.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import soundfile as sf

from ..config import data_home as default_data_home
from ..config import dataset_root
from ..errors import DatasetError
from ..parallel import progress_bar
from ..storage import atomic_dir, mark_done, read_done
from .base import SPLITS
from .nsynth import read_layout

INT_FIELDS = ("pitch", "velocity", "instrument", "instrument_family", "instrument_source", "sample_rate")
STR_FIELDS = ("note_str", "instrument_str", "instrument_family_str", "instrument_source_str")
N_SAMPLES = 64000
CONVERTER_VERSION = "1"
MARKER = "converted.json"  # the done marker of a conversion


def _feature_spec():
    import tensorflow as tf

    spec = {name: tf.io.FixedLenFeature([], tf.int64) for name in INT_FIELDS}
    spec.update({name: tf.io.FixedLenFeature([], tf.string) for name in STR_FIELDS})
    spec["audio"] = tf.io.FixedLenFeature([N_SAMPLES], tf.float32)
    spec["qualities"] = tf.io.FixedLenFeature([10], tf.int64)
    spec["qualities_str"] = tf.io.VarLenFeature(tf.string)
    return spec


def read_records(path):
    """Yield every note of one NSynth TFRecord file as ``(fields, audio)``.

    Raises
    ------
    DatasetError
        The file is missing, not a TFRecord, or a record lacks a field (named by its index).
    """
    import tensorflow as tf

    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: TFRecord file not found")
    spec = _feature_spec()
    index = 0
    try:
        for record in tf.data.TFRecordDataset(str(path)):
            index += 1
            example = tf.io.parse_single_example(record, spec)
            fields = {name: int(example[name]) for name in INT_FIELDS}
            fields.update({name: example[name].numpy().decode() for name in STR_FIELDS})
            fields["qualities"] = [int(q) for q in example["qualities"].numpy()]
            names = tf.sparse.to_dense(example["qualities_str"]).numpy()
            fields["qualities_str"] = [q.decode() for q in names]
            yield fields, example["audio"].numpy()
    except (tf.errors.OpError, UnicodeDecodeError) as exc:
        message = str(getattr(exc, "message", exc)).splitlines()[0]
        raise DatasetError(f"{path}: record {index}: cannot parse ({message})") from None


def _fingerprint(root: Path) -> str:
    digest = hashlib.sha256(CONVERTER_VERSION.encode())
    for split in SPLITS:
        path = root / f"nsynth-{split}.tfrecord"
        if not path.is_file():
            raise DatasetError(f"{path}: TFRecord file not found (layout: "
                               f"{root}/nsynth-{{train,valid,test}}.tfrecord)")
        stat = path.stat()
        digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def convert(root, target, *, progress: bool = True) -> Path:
    """Write the notes of ``root``'s TFRecords into NSynth's json/wav layout under ``target``
    (atomically: a half-written conversion is never read)."""
    root, target = Path(root), Path(target)
    with atomic_dir(target) as tmp:
        for split in SPLITS:
            source = root / f"nsynth-{split}.tfrecord"
            audio_dir = tmp / f"nsynth-{split}" / "audio"
            audio_dir.mkdir(parents=True)
            examples = {}
            with progress_bar(total=None, desc=f"reading {source.name}", unit="note",
                              enabled=progress) as bar:
                for fields, audio in read_records(source):
                    note = fields["note_str"]
                    if not note or "/" in note or note.startswith("."):
                        raise DatasetError(f"{source}: note_str {note!r} is not a file name")
                    if note in examples:
                        raise DatasetError(f"{source}: note {note!r} appears twice")
                    examples[note] = fields
                    pcm = np.clip(np.round(audio * 32768.0), -32768, 32767).astype(np.int16)
                    sf.write(audio_dir / f"{note}.wav", pcm, fields["sample_rate"], subtype="PCM_16")
                    bar.update()
            (tmp / f"nsynth-{split}" / "examples.json").write_text(json.dumps(examples))
        mark_done(tmp / MARKER, {"converter": CONVERTER_VERSION, "source": str(root)})
    return target


def load(*, data_root=None, data_home=None, jobs: int = 1, progress: bool = True, root=None):
    """Load NSynth from its TFRecords in ``<data root>/nsynth-tfrecord``, converted once."""
    source = dataset_root("nsynth-tfrecord", data_root=data_root, root=root)
    target = Path(data_home or default_data_home()) / "nsynth-tfrecord" / _fingerprint(source)
    if read_done(target / MARKER) is None:
        convert(source, target, progress=progress)
    return read_layout(target, name="nsynth-tfrecord", version=target.name)
