"""Ctrl-C while the command line starts (TensorFlow loading) is an interrupt, not a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest


@pytest.mark.processes
def test_ctrl_c_during_start_up(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "instrument_bench", "list", "models"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    time.sleep(0.8)  # inside the imports (TensorFlow takes seconds)
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err[-2000:]
    assert "interrupted while starting" in err and "Traceback" not in err
