"""Pickled models load only when this tool wrote them here (signed), or with --trust; Keras and
manifest problems are one-line errors."""

from __future__ import annotations

import json
import pickle
import shutil

import pytest

from instrument_bench.artifacts import MANIFEST
from instrument_bench.cli import main


class Payload:
    """What a hostile pickle does when loaded: here, it only leaves a file behind."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def predict(folder, wav, *extra):
    return main(["predict", str(wav), "--model", str(folder), "--results", str(folder.parent.parent),
                 "--json", *extra])


def test_a_model_the_tool_saved_loads_and_a_copy_of_it_too(saved_model, tmp_path, capsys):
    folder, wav = saved_model
    assert "signature" in json.loads((folder / MANIFEST).read_text())
    assert predict(folder, wav) == 0
    copy = tmp_path / "elsewhere"
    shutil.copytree(folder, copy)
    assert predict(copy, wav) == 0  # the same bytes the tool signed, wherever they are


@pytest.mark.parametrize("where", ["in-results", "results-is-root"])
def test_a_crafted_pickle_is_refused_even_inside_the_results_folder(saved_model, tmp_path, capsys, where):
    folder, wav = saved_model
    marker = tmp_path / "pwned"
    (folder / "model.joblib").write_bytes(pickle.dumps(Payload(marker)))  # manifest and signature kept
    args = ["predict", str(wav), "--model", str(folder), "--results", "/" if where == "results-is-root"
            else str(folder.parent.parent)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "not signed by this tool on this machine" in err and "pass --trust" in err
    assert len(err.strip().splitlines()) == 1 and not marker.exists()  # refused before unpickling


def test_a_pickle_in_the_default_choice_is_refused_and_signing_is_explicit(saved_model, tmp_path, capsys):
    folder, wav = saved_model
    other = tmp_path / "moved"
    shutil.copytree(folder, other)
    manifest = json.loads((other / MANIFEST).read_text())
    manifest["signature"] = "0" * 64  # signed elsewhere, with another key
    (other / MANIFEST).write_text(json.dumps(manifest))
    assert predict(other, wav) == 1 and "not signed" in capsys.readouterr().err
    assert predict(other, wav, "--trust") == 0
    results = other.parent / "results-moved"
    (results / "models").mkdir(parents=True)
    shutil.move(other, results / "models" / other.name)
    assert main(["trust", "--results", str(results)]) == 0
    assert "signed 1 pickled model" in capsys.readouterr().out
    assert predict(results / "models" / other.name, wav) == 0


def test_signing_key_is_private_to_the_user(saved_model, bench_home):
    key = bench_home / "trust.key"
    assert key.stat().st_size == 32 and oct(key.stat().st_mode & 0o777) == "0o600"


@pytest.mark.parametrize("damage, message", [
    ("not-json", "not a readable manifest"),
    ("no-fields", "the manifest lacks"),
    ("keras-on-a-pickle", "cannot load as a Keras model in safe mode"),
])
def test_manifest_problems_are_one_line_errors(saved_model, capsys, damage, message):
    folder, wav = saved_model
    manifest = json.loads((folder / MANIFEST).read_text())
    if damage == "not-json":
        (folder / MANIFEST).write_text("{not json")
    elif damage == "no-fields":
        (folder / MANIFEST).write_text(json.dumps({"model_file": "model.joblib"}))
    else:
        shutil.copy(folder / "model.joblib", folder / "model.keras")
        (folder / MANIFEST).write_text(json.dumps({**manifest, "model_format": "keras",
                                                   "model_file": "model.keras"}))
    assert predict(folder, wav) == 1
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
