"""Feature extraction and training at 1k, 10k and 100k clips: wall time and peak memory.

The clips are made from the rendered gm-notes: clip ``i`` takes note ``perm[i mod n]`` of the pool
(a seeded permutation), 1 s of it from a random offset (a time shift of 0-1 s), a random gain
(-12..0 dB) and white noise at 20-40 dB SNR, written once as 16 kHz 16-bit wavs in NSynth's layout
(each clip keeps its note's split, so the split stays instrument-disjoint). For each size,
``instrument-bench run`` (feature ``mfcc-stats``; ``logreg`` and ``mlp``; one seed) runs in a fresh
process with an empty feature cache; its wall time and peak RSS (``ru_maxrss`` of the process
tree: the largest single process, the run or one of its extraction workers) are printed and
appended to ``results/benchmarks.csv``, with the 100k / 10k memory ratio (target: at most 1.5).

    python benchmarks/bench_scaling.py [--sizes 1000,10000,100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from datetime import datetime, timezone
from multiprocessing import Pool
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from instrument_bench.datasets import gm_notes
from instrument_bench.results import append_csv

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_run_all import timed_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000
CLIP_SECONDS = 1.0
SEED = 2017
SUITE = """
name = "scaling"
seeds = 1
[keras]
epochs = 5
patience = 2
batch_size = 256
[[experiment]]
dataset = "nsynth"
tasks = ["family"]
features = ["mfcc-stats"]
models = ["logreg", "mlp"]
"""


def _pool(source: Path) -> list[tuple[str, str, dict]]:
    """``(split, note_str, fields)`` of every rendered gm-notes note, in a fixed order."""
    out = []
    for split in ("train", "valid", "test"):
        examples = json.loads((source / f"nsynth-{split}" / "examples.json").read_text())
        out += [(split, note, examples[note]) for note in sorted(examples)]
    return out


def _make(args) -> list[tuple[int, str, str, dict]]:
    """Write the clips of one pool note; return ``(index, split, clip_id, fields)`` of each."""
    source, note, split, fields, indices, audio_dir = args
    audio, _ = sf.read(source / f"nsynth-{split}" / "audio" / f"{note}.wav", dtype="float32")
    n = int(CLIP_SECONDS * RATE)
    out = []
    for i in indices:
        rng = np.random.default_rng([SEED, i])
        start = int(rng.integers(0, RATE))
        clip = audio[start:start + n] * 10 ** (rng.uniform(-12, 0) / 20)
        power = np.mean(clip ** 2) + 1e-12
        clip = clip + rng.normal(scale=np.sqrt(power / 10 ** (rng.uniform(20, 40) / 10)), size=n)
        clip_id = f"{note}-{i:06d}"
        sf.write(audio_dir / f"{clip_id}.wav", np.clip(clip, -1, 1), RATE, subtype="PCM_16")
        out.append((i, split, clip_id, {**fields, "note_str": clip_id}))
    return out


def make_clips(folder: Path, n: int, *, jobs: int) -> list[tuple[int, str, str, dict]]:
    """Write ``n`` varied clips into ``folder/audio`` (once); return them in index order."""
    source = gm_notes.load(jobs=jobs).root  # rendered once into the data home
    pool = _pool(source)
    perm = np.random.default_rng(SEED).permutation(len(pool))
    audio_dir = folder / "audio"
    index_file = folder / f"clips-{n}.json"
    if index_file.is_file():
        return json.loads(index_file.read_text())
    audio_dir.mkdir(parents=True, exist_ok=True)
    by_note = {}
    for i in range(n):
        by_note.setdefault(int(perm[i % len(pool)]), []).append(i)
    tasks = [(source, pool[k][1], pool[k][0], pool[k][2], idx, audio_dir) for k, idx in by_note.items()]
    with Pool(jobs) as workers:
        made = [row for rows in workers.imap_unordered(_make, tasks, chunksize=8) for row in rows]
    made.sort()
    index_file.write_text(json.dumps(made))
    return made


def nsynth_root(folder: Path, clips, n: int) -> Path:
    """A data root whose ``nsynth/`` lists the first ``n`` clips (the audio folder is shared)."""
    root = folder / f"root-{n}"
    for split in ("train", "valid", "test"):
        target = root / "nsynth" / f"nsynth-{split}"
        target.mkdir(parents=True, exist_ok=True)
        examples = {clip_id: fields for _, s, clip_id, fields in clips[:n] if s == split}
        (target / "examples.json").write_text(json.dumps(examples))
        if not (target / "audio").exists():
            (target / "audio").symlink_to(folder / "audio")
    return root


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--keep", type=Path, help="folder for the clips (reused) and the runs")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    work = args.keep or Path(tempfile.mkdtemp(prefix="ib-scaling-"))
    clips = make_clips(work / "clips", max(sizes), jobs=args.jobs)
    suite = work / "scaling.toml"
    suite.write_text(SUITE)
    rows = []
    for n in sizes:
        root = nsynth_root(work / "clips", clips, n)
        home, results = work / f"home-{n}", work / f"results-{n}"
        for old in (home, results):
            if old.exists():
                import shutil

                shutil.rmtree(old)
        env = {**os.environ, "INSTRUMENT_BENCH_HOME": str(home)}
        wall, rss = timed_run([sys.executable, "-m", "instrument_bench", "run", str(suite), "--data-root",
                               str(root), "--results", str(results), "-q", "--jobs", str(args.jobs)], env)
        runs = pd.read_csv(results / "runs.csv")
        rows.append({"benchmark": "scaling", "clips": n, "clip_seconds": CLIP_SECONDS,
                     "n_train": int(runs["n_train"].iloc[0]), "wall_seconds": round(wall, 1),
                     "peak_rss_mib": round(rss), "macro_f1_logreg": round(float(
                         runs.loc[runs["model"] == "logreg", "macro_f1"].iloc[0]), 3),
                     "macro_f1_mlp": round(float(runs.loc[runs["model"] == "mlp", "macro_f1"].iloc[0]), 3),
                     "cpus": os.cpu_count(), "python": platform.python_version(),
                     "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        print(pd.DataFrame(rows[-1:]).to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    by_size = table.set_index("clips")["peak_rss_mib"]
    if {10000, 100000} <= set(by_size.index):
        print(f"peak RSS 100k / 10k = {by_size[100000] / by_size[10000]:.2f} (target <= 1.5)")
    append_csv(table, ROOT / "results" / "benchmarks.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
