"""predict's limits: bounded memory whatever --hop is, clear errors for a hop below one frame, a
bad --top and files that are not recordings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from instrument_bench.cli import main

ADDRESS_SPACE = 4 << 30  # bytes


LIMIT = (f"import resource, sys; resource.setrlimit(resource.RLIMIT_AS, ({ADDRESS_SPACE}, {ADDRESS_SPACE})); "
         "from instrument_bench.cli import main; sys.exit(main(sys.argv[1:]))")


@pytest.mark.processes
@pytest.mark.slow
def test_predict_at_the_finest_hop_stays_under_4_gb_of_address_space(saved_model, tmp_path):
    """Ten minutes at one window per feature frame: 18,751 windows of 4 s, 4.8 GB if stacked at
    once (as predict once did); scored in batches, they fit under the limit."""
    folder, _ = saved_model
    wav = tmp_path / "ten-minutes.wav"
    t = np.arange(604 * 16000) / 16000
    sf.write(wav, 0.3 * np.sin(2 * np.pi * 330 * t) * (1 + 0.5 * np.sin(t)), 16000)
    proc = subprocess.run([sys.executable, "-c", LIMIT, "predict", str(wav), "--model", str(folder), "--json",
                           "--hop", "0.032"], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout)
    assert len(out["windows"]) == 18751 and out["seconds"] == pytest.approx(604.0)


@pytest.mark.parametrize("hop, message", [("0.0001", "must be at least one feature frame"),
                                          ("-1", "must be at least one feature frame"),
                                          ("0", "must be at least one feature frame")])
def test_a_hop_below_one_frame_is_a_clear_error(saved_model, capsys, hop, message):
    folder, wav = saved_model
    assert main(["predict", str(wav), "--model", str(folder), "--hop", hop]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and "mfcc-stats" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("top", ["-2", "0", "two"])
def test_top_must_be_positive(saved_model, capsys, top):
    folder, wav = saved_model
    with pytest.raises(SystemExit) as exit_:
        main(["predict", str(wav), "--model", str(folder), "--top", top])
    assert exit_.value.code == 2 and "expected a whole number of at least 1" in capsys.readouterr().err


def test_jobs_above_the_cores_are_capped_with_a_word(capsys):
    from instrument_bench.cli import build_parser

    args = build_parser().parse_args(["run", "quick", "--jobs", str(10 * (os.cpu_count() or 1))])
    assert args.jobs == os.cpu_count() and "more than the" in capsys.readouterr().err


def test_folders_empty_files_and_absurd_rates_are_named(saved_model, tmp_path, capsys):
    folder, _ = saved_model
    empty, one_hertz = tmp_path / "empty.wav", tmp_path / "one-hertz.wav"
    empty.write_bytes(b"")
    sf.write(one_hertz, np.sin(np.arange(200_000) / 3.0) * 0.5, 1)  # 400 KB at 1 Hz
    assert main(["predict", str(tmp_path), str(empty), str(one_hertz), "--model", str(folder)]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path}: is a folder, not an audio file" in err
    assert f"{empty}: empty file (0 bytes)" in err
    assert f"{one_hertz}: sample rate 1 Hz is outside 1000 - 384000 Hz" in err
