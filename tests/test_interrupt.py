"""Ctrl-C while the command line starts (TensorFlow loading) is an interrupt, not a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest


def interrupted(delay: float) -> tuple[int, str]:
    """Exit status and stderr of ``list models`` sent SIGINT ``delay`` seconds after it starts."""
    proc = subprocess.Popen([sys.executable, "-m", "instrument_bench", "list", "models"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


@pytest.mark.processes
def test_ctrl_c_during_start_up():
    # Where the signal lands decides what happens: a library importing an optional module inside a
    # bare ``except`` swallows it (the command then finishes normally), anywhere else the start-up
    # stops with one line and status 130. Never a traceback.
    outcomes = [interrupted(delay) for delay in (0.3, 0.6, 0.9, 1.2)]
    assert not [err for _, err in outcomes if "Traceback" in err], outcomes
    assert all(code in (0, 130) for code, _ in outcomes), outcomes
    assert any(code == 130 and "interrupted while starting" in err for code, err in outcomes), outcomes
