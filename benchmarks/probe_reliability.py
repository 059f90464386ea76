"""Replay the ways a run can be interrupted or damaged and check that no finished work is lost.

Renders a tiny gm-notes tree (9 programs, 54 notes) into a temporary data root, runs a small suite
cleanly once, then for each case damages or interrupts a run in a fresh results folder, reruns,
and compares the rerun with the clean run (run keys and metrics; timing columns aside):

- kill -9 at several moments (3 s into the run, before any cell is done; after 1, 3, 5 finished
  rows), then rerun;
- a torn last line of runs.csv (cut mid-field, cut inside a quoted field, a garbage line);
- a temporary file a killed writer left behind;
- two runs of the same suite into one results folder at once.

Prints one row per case and appends the table to ``results/benchmarks.csv``.

    python benchmarks/probe_reliability.py [--kills 0,1,3,5]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from instrument_bench.datasets import gm_notes
from instrument_bench.results import RUNS, append_csv

ROOT = Path(__file__).resolve().parents[1]
SUITE = """name = "probe"
seeds = 2
[[experiment]]
dataset = "nsynth"
tasks = ["family"]
features = ["mfcc-stats", "nsynth-attributes"]
models = ["random-forest", "xgboost", "logreg"]
"""
PROGRAMS = (0, 1, 6, 24, 25, 26, 40, 41, 42)


def command(suite, data, results) -> list[str]:
    return [sys.executable, "-m", "instrument_bench", "run", str(suite), "--data-root", str(data),
            "--results", str(results), "-q", "--jobs", "1", "--resamples", "200"]


def outcome(results: Path, clean: pd.DataFrame) -> dict:
    """How a rerun's runs.csv compares with the clean run's."""
    runs = pd.read_csv(results / RUNS)
    same = set(runs["run_key"]) == set(clean["run_key"])
    merged = runs.merge(clean, on="run_key", suffixes=("", "_clean"))
    metrics_equal = bool(((merged["macro_f1"] - merged["macro_f1_clean"]).abs() < 1e-9).all())
    temporaries = [p.name for p in results.rglob(".*.tmp-*")]
    return {"rows": len(runs), "duplicates": int(runs["run_key"].duplicated().sum()),
            "same_keys_as_clean": same, "metrics_equal": metrics_equal and same,
            "temporaries_left": len(temporaries), "rejected_file": (results / "runs.rejected.csv").is_file()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", default="0,1,3,5", help="kill -9 after this many finished rows")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="probe-"))
    env = {**os.environ, "INSTRUMENT_BENCH_HOME": str(work / "home"), "TF_CPP_MIN_LOG_LEVEL": "3"}
    gm_notes.render_dataset(work / "data" / "nsynth", programs=PROGRAMS, n_pitches=3, velocities=(80, 120),
                            jobs=2, progress=False)
    suite = work / "suite.toml"
    suite.write_text(SUITE)
    subprocess.run(command(suite, work / "data", work / "clean"), env=env, check=True)
    clean = pd.read_csv(work / "clean" / RUNS)
    rows = []

    def record(case, start, code, results, **extra):
        rows.append({"case": case, "exit": code, **outcome(results, clean),
                     "seconds": round(time.perf_counter() - start, 1), **extra})
        print(f"{case:<40} exit {code}  " + ", ".join(f"{k}={v}" for k, v in rows[-1].items()
                                                      if k not in ("case", "exit")), flush=True)

    for k in (int(v) for v in args.kills.split(",")):
        results, start = work / f"kill-{k}", time.perf_counter()
        proc = subprocess.Popen(command(suite, work / "data", results), env=env, stderr=subprocess.DEVNULL)
        while proc.poll() is None:
            if k == 0 and time.perf_counter() - start > 3:  # while loading, before any cell is done
                break
            if k and (results / RUNS).is_file() and len(pd.read_csv(results / RUNS)) >= k:
                break
            time.sleep(0.01)
        proc.kill()
        proc.wait()
        kept = len(pd.read_csv(results / RUNS)) if (results / RUNS).is_file() else 0
        code = subprocess.run(command(suite, work / "data", results), env=env).returncode
        record(f"kill -9 after {k} row(s)", start, code, results, rows_before_rerun=kept)

    text = (work / "clean" / RUNS).read_text()
    lines = text.splitlines(keepends=True)
    for name, damaged in (("torn last line, mid-field", "".join(lines[:-1]) + lines[-1][:40]),
                          ("torn last line, inside quotes",
                           "".join(lines[:-1]) + lines[-1][:lines[-1].index('"{') + 5]),
                          ("garbage line appended", text + "xyz\n")):
        results, start = work / name.replace(" ", "-").replace(",", ""), time.perf_counter()
        results.mkdir()
        (results / RUNS).write_text(damaged)
        code = subprocess.run(command(suite, work / "data", results), env=env).returncode
        record(name, start, code, results)

    results, start = work / "temporary-left", time.perf_counter()
    shutil.copytree(work / "clean", results)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True).stdout.strip()
    (results / f".runs.csv.tmp-{dead}-0123abcd.csv").write_text(text[: len(text) // 2])
    code = subprocess.run(command(suite, work / "data", results), env=env).returncode
    record("temporary of a killed writer", start, code, results)

    results, start = work / "concurrent", time.perf_counter()
    procs = [subprocess.Popen(command(suite, work / "data", results), env=env) for _ in range(2)]
    code = max(p.wait() for p in procs)
    record("two runs, one results folder", start, code, results)

    table = pd.DataFrame(rows)
    print("\n" + table.to_string(index=False))
    table.insert(0, "benchmark", "probe_reliability")
    table.insert(1, "utc_time", datetime.now(timezone.utc).isoformat(timespec="seconds"))
    append_csv(table, ROOT / "results" / "benchmarks.csv")
    shutil.rmtree(work, ignore_errors=True)
    ok = all(r["exit"] == 0 and r["metrics_equal"] and not r["duplicates"] and not r["temporaries_left"]
             for r in rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
