"""``validate``: a replica that reads cleanly, then one with a silent, a corrupt and a stray file."""

from __future__ import annotations

import shutil

from instrument_bench.cli import main
from tests import replicas
from tests.replicas import clone, own


def test_validate_reports_every_bad_file(data_root, tmp_path, capsys):
    assert main(["validate", "medley-solos-db", "--data-root", str(data_root), "-q", "--jobs", "2"]) == 0
    assert "OK" in capsys.readouterr().out
    root = clone(data_root / "medley-solos-db", tmp_path / "medley")
    wavs = sorted((root / "audio").glob("*.wav"))
    silent = replicas.silence_wav(own(wavs[0]))
    corrupt = replicas.corrupt_wav(own(wavs[1]))
    extra = shutil.copy(wavs[2], root / "audio" / "stray.wav")
    assert main(["validate", "medley-solos-db", "--root", str(root), "-q", "--jobs", "2"]) == 1
    out = capsys.readouterr().out
    assert f"error: {silent}: audio is silent" in out
    assert f"error: {corrupt}: cannot read audio" in out
    assert f"warning: {extra}: unexpected file" in out
    assert "errors: 2; warnings: 1" in out and "FAILED" in out
    assert main(["validate", "irmas", "--data-root", str(tmp_path / "nowhere"), "-q"]) == 1
    assert main(["validate", "medley", "-q"]) == 2
