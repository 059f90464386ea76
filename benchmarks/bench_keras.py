"""Training throughput and predict latency of every Keras model, on its run-all input shape.

For each model: one warm-up epoch (graph tracing), then one timed epoch over ``--n`` synthetic
examples of the shape its feature gives a 4 s clip at 16 kHz (samples/s); predict latency of one
clip (batch 1, median of 20 calls) and throughput at batch 256. Prints a table and appends it to
``results/benchmarks.csv``.

    python benchmarks/bench_keras.py [--n 1920] [--models mlp,cnn,...]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from instrument_bench.results import append_csv

ROOT = Path(__file__).resolve().parents[1]
# (feature, shape of one 4 s clip at 16 kHz, window frames) as in the `all` suite
INPUTS = {
    "mlp": ("mfcc-stats", (80,), None),
    "cnn": ("log-mel", (63, 64), None),
    "vgg": ("log-mel", (63, 64), None),
    "crnn-attention": ("log-mel", (63, 64), 47),
    "transformer": ("mfcc-seq", (345, 13), None),
    "resnet18": ("log-mel", (63, 64), None),
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1920, help="training examples per epoch")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--models", default=",".join(INPUTS))
    args = parser.parse_args(argv)

    import keras

    from instrument_bench.models import MODELS
    from instrument_bench.models.keras.training import ClipWindows, predict_scores

    rows = []
    rng = np.random.default_rng(0)
    for name in args.models.split(","):
        feature, shape, window = INPUTS[name]
        x = rng.standard_normal((args.n, *shape)).astype(np.float32)
        y = np.eye(11, dtype=np.float32)[rng.integers(0, 11, args.n)]
        keras.utils.set_random_seed(0)
        model = MODELS[name].build((window, *shape[1:]) if window else shape, 11)
        model.compile(optimizer="adam", loss="categorical_crossentropy")
        data = ClipWindows(x, y, batch_size=args.batch_size, window=window, shuffle=True)
        model.fit(data, epochs=1, verbose=0)
        start = time.perf_counter()
        model.fit(data, epochs=1, verbose=0)
        epoch = time.perf_counter() - start
        examples = len(data) * data.batch_size
        one = x[:1]
        predict_scores(model, one, window=window)
        latencies = []
        for _ in range(20):
            t0 = time.perf_counter()
            predict_scores(model, one, window=window)
            latencies.append(time.perf_counter() - t0)
        start = time.perf_counter()
        predict_scores(model, x, window=window)
        batch = time.perf_counter() - start
        rows.append({"benchmark": "keras", "model": name, "feature": feature,
                     "input": "x".join(map(str, shape)),
                     "params": model.count_params(), "train_samples_per_s": round(examples / epoch),
                     "predict_ms_one_clip": round(1000 * float(np.median(latencies)), 1),
                     "predict_clips_per_s_batch256": round(len(x) / batch),
                     "backend": keras.backend.backend(), "cpus": os.cpu_count(),
                     "python": platform.python_version(),
                     "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.drop(columns=["utc_time", "python", "cpus"]).to_string(index=False))
    append_csv(table, ROOT / "results" / "benchmarks.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
