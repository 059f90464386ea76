"""NSynth's TFRecord release, written from an NSynth json/wav tree."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf

NSYNTH_SPLITS = ("train", "valid", "test")


def write_nsynth_tfrecord(root, *, nsynth_root) -> Path:
    """Write NSynth's TFRecord release from an NSynth json/wav tree.

    Reads ``nsynth_root/nsynth-{train,valid,test}/examples.json`` and ``audio/<note_str>.wav`` and
    writes ``root/nsynth-{train,valid,test}.tfrecord``, one ``tf.train.Example`` per note (sorted
    by note_str) with NSynth's features: ``note_str``, ``instrument_str``,
    ``instrument_family_str``, ``instrument_source_str`` (bytes); ``pitch``, ``velocity``,
    ``instrument``, ``instrument_family``, ``instrument_source``, ``sample_rate`` (int64);
    ``audio`` (float, int16 samples / 32768); ``qualities`` (10 int64); ``qualities_str``
    (bytes list); and ``note`` (int64) only where the json has a ``note`` field, as the real
    NSynth json does.

    Parameters
    ----------
    root : str or Path
        Destination folder (created).
    nsynth_root : str or Path
        The NSynth json/wav tree, e.g. from ``gm_notes.render_dataset``.

    Returns
    -------
    Path
        ``root``.
    """
    import tensorflow as tf

    def ints(values):
        return tf.train.Feature(int64_list=tf.train.Int64List(value=[int(v) for v in values]))

    def texts(values):
        return tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(v).encode() for v in values]))

    root, nsynth_root = Path(root), Path(nsynth_root)
    root.mkdir(parents=True, exist_ok=True)
    for split in NSYNTH_SPLITS:
        folder = nsynth_root / f"nsynth-{split}"
        examples = json.loads((folder / "examples.json").read_text())
        with tf.io.TFRecordWriter(str(root / f"nsynth-{split}.tfrecord")) as writer:
            for note_str in sorted(examples):
                meta = examples[note_str]
                samples, _ = sf.read(folder / "audio" / f"{note_str}.wav", dtype="int16")
                feature = {
                    "note_str": texts([meta["note_str"]]),
                    "pitch": ints([meta["pitch"]]),
                    "velocity": ints([meta["velocity"]]),
                    "instrument": ints([meta["instrument"]]),
                    "instrument_str": texts([meta["instrument_str"]]),
                    "instrument_family": ints([meta["instrument_family"]]),
                    "instrument_family_str": texts([meta["instrument_family_str"]]),
                    "instrument_source": ints([meta["instrument_source"]]),
                    "instrument_source_str": texts([meta["instrument_source_str"]]),
                    "sample_rate": ints([meta["sample_rate"]]),
                    "audio": tf.train.Feature(float_list=tf.train.FloatList(
                        value=(samples.astype(np.float32) / 32768.0).tolist())),
                    "qualities": ints(meta["qualities"]),
                    "qualities_str": texts(meta["qualities_str"]),
                }
                if "note" in meta:
                    feature["note"] = ints([meta["note"]])
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
    return root


def render_tiny_nsynth(root) -> Path:
    """Render the tests' tiny gm-notes tree (9 programs, 3 pitches, 2 velocities) into ``root``."""
    from instrument_bench.datasets import gm_notes

    return gm_notes.render_dataset(root, jobs=2, progress=False, programs=(0, 1, 6, 24, 25, 26, 40, 41, 42),
                                   n_pitches=3, velocities=(80, 120))
