"""Ctrl-C while the command line starts (TensorFlow loading) is an interrupt, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

# A KeyboardInterrupt raised while ``python -m instrument_bench`` imports its command line, as a
# Ctrl-C during TensorFlow's import does (a real signal's moment cannot be chosen: one that lands
# in a library's bare ``except`` is swallowed and the command just goes on).
CTRL_C_WHILE_IMPORTING = """
import runpy, sys

class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "instrument_bench.cli":
            raise KeyboardInterrupt
        return None

sys.meta_path.insert(0, CtrlC())
sys.argv = ["instrument_bench", "list"]
runpy.run_module("instrument_bench", run_name="__main__", alter_sys=True)
"""


@pytest.mark.processes
def test_ctrl_c_during_start_up():
    proc = subprocess.run([sys.executable, "-c", CTRL_C_WHILE_IMPORTING], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 130, proc.stderr[-2000:]
    assert proc.stderr.strip() == "instrument-bench: interrupted while starting"
