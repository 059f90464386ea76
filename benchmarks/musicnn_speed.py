"""musicnn extraction speed on one core: clips/s of 4 s clips at 16 kHz, for each rebuilt model.

Every thread pool is limited to one thread (OpenMP/BLAS through the environment before TensorFlow
is imported, TensorFlow's intra- and inter-op pools through ``tf.config.threading``). The clips are
``--clips`` synthetic harmonic tones with noise (random pitch), already in memory; a 4 s clip gives one
187-frame patch. For each model, after a warm-up (checkpoint loading and graph tracing, timed
separately), the best of ``--repeats`` passes of:

- ``preprocess``: :func:`log_mel_patches` alone (librosa mel, float16 rounding, log, patching);
- ``embed``: :func:`embed`, one clip per call (pre-processing + network + mean/max pooling);
- ``embed_batch``: :func:`embed_batch` on batches of ``--batch`` clips (one network call each).

Prints the table and writes ``benchmarks/results/musicnn_speed.json``.

    python benchmarks/musicnn_speed.py [--clips 64] [--batch 32] [--repeats 3] [--models MTT_musicnn,...]
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse  # noqa: E402 - the thread limits above must come before numpy and TensorFlow
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)

from instrument_bench.features import musicnn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SR = 16000
SECONDS = 4.0


def clips(n: int, seed: int = 0) -> np.ndarray:
    """``n`` 4 s harmonic tones (random f0 between 80 and 800 Hz, decaying) with a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SECONDS * SR)) / SR
    rows = []
    for f0 in rng.uniform(80, 800, n):
        partials = [k for k in range(1, 9) if k * f0 < SR / 2]
        tone = sum(0.3 / k * np.sin(2 * np.pi * f0 * k * t) for k in partials) * np.exp(-t / 2)
        rows.append(tone + 0.02 * rng.standard_normal(t.size))
    return np.asarray(rows, dtype=np.float32)


def best_time(function, repeats: int) -> tuple[float, float]:
    """Best wall time of ``repeats`` calls, and the process CPU time of that call (1.0 x = one core)."""
    best, cpu = np.inf, np.nan
    for _ in range(repeats):
        wall0, cpu0 = time.perf_counter(), time.process_time()
        function()
        wall = time.perf_counter() - wall0
        if wall < best:
            best, cpu = wall, time.process_time() - cpu0
    return best, cpu


def measure(name: str, audio: np.ndarray, *, batch: int, repeats: int) -> dict:
    start = time.perf_counter()
    musicnn.load_model(name)
    load_s = time.perf_counter() - start
    start = time.perf_counter()
    musicnn.embed(audio[0], sample_rate=SR, model=name)  # traces the predict function
    musicnn.embed_batch(audio[:batch], sample_rate=SR, model=name)
    warm_s = time.perf_counter() - start
    n = len(audio)
    paths = {
        "preprocess": lambda: [musicnn.log_mel_patches(a, sample_rate=SR) for a in audio],
        "embed": lambda: [musicnn.embed(a, sample_rate=SR, model=name) for a in audio],
        "embed_batch": lambda: [musicnn.embed_batch(audio[i:i + batch], sample_rate=SR, model=name)
                                for i in range(0, n, batch)],
    }
    row = {"model": name, "load_seconds": round(load_s, 2), "warmup_seconds": round(warm_s, 2),
           "patches_per_clip": len(musicnn.log_mel_patches(audio[0], sample_rate=SR)),
           "embedding_size": int(musicnn.embed(audio[0], sample_rate=SR, model=name).size)}
    for label, function in paths.items():
        wall, cpu = best_time(function, repeats)
        row[f"{label}_clips_per_s"] = round(n / wall, 1)
        row[f"{label}_cpu_per_wall"] = round(cpu / wall, 2)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=64)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3, help="best of N passes")
    parser.add_argument("--models", default=",".join(musicnn.MUSICNN_MODELS))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "musicnn_speed.json")
    args = parser.parse_args(argv)

    audio = clips(args.clips)
    rows = []
    for name in args.models.split(","):
        rows.append(measure(name, audio, batch=args.batch, repeats=args.repeats))
        print(rows[-1], flush=True)
    print(f"\n{'model':<12} {'preprocess':>11} {'embed':>8} {'embed_batch':>12}  (clips/s, one core)")
    for row in rows:
        print(f"{row['model']:<12} {row['preprocess_clips_per_s']:>11} {row['embed_clips_per_s']:>8} "
              f"{row['embed_batch_clips_per_s']:>12}")
    result = {
        "benchmark": "musicnn-speed",
        "clip_seconds": SECONDS, "sample_rate": SR, "clips": args.clips, "batch": args.batch,
        "repeats": args.repeats, "threads": 1,
        "python": platform.python_version(), "tensorflow": tf.__version__,
        "keras": __import__("keras").__version__, "librosa": __import__("librosa").__version__,
        "numpy": np.__version__, "machine": platform.machine(), "cpus": os.cpu_count(),
        "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "models": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
