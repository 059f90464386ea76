"""Wall time and peak memory of ``python -m instrument_bench run all``, cold and warm.

Cold: an empty data home (gm-notes is rendered, every feature extracted) and an empty results
folder. Warm: the same command again (rendered data, feature cache and finished cells reused).
Prints a table and appends it to ``results/benchmarks.csv``.

    python benchmarks/bench_run_all.py [--suite all] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from instrument_bench.results import append_csv

ROOT = Path(__file__).resolve().parents[1]


def timed_run(args, env) -> tuple[float, float]:
    """Run a command; return (wall seconds, peak RSS in MiB of the child)."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed with exit code {os.waitstatus_to_exitcode(status)}")
    return wall, usage.ru_maxrss / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="all")
    parser.add_argument("--keep", type=Path, help="use this folder for the data home and results")
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="ib-bench-"))
    env = {**os.environ, "INSTRUMENT_BENCH_HOME": str(work / "home")}
    command = [sys.executable, "-m", "instrument_bench", "run", args.suite, "--results",
               str(work / "results"), "-q"]
    rows = []
    for phase in ("cold", "warm"):
        wall, rss = timed_run(command, env)
        rows.append({"benchmark": f"run {args.suite}", "phase": phase, "wall_seconds": round(wall, 1),
                     "peak_rss_mib": round(rss), "cpus": os.cpu_count(), "python": platform.python_version(),
                     "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds")})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    append_csv(table, ROOT / "results" / "benchmarks.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
