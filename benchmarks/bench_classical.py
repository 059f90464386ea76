"""Classical models: fit time against training-set size (1k, 2k, 4k, 8k clips), one core.

The rows are gm-notes' ``mfcc-stats`` vectors (80 values; all 3,111 notes), drawn with replacement
and jittered by Gaussian noise of 5 % of each feature's spread, so sets larger than the data
stay distinct. Each model is fitted with its builder's default hyperparameters and ``n_jobs=1``
(best of ``--repeats``). Prints a table and appends it to ``results/benchmarks.csv``.

    python benchmarks/bench_classical.py [--sizes 1000,2000,4000,8000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from instrument_bench.config import data_home
from instrument_bench.datasets import gm_notes
from instrument_bench.features import FEATURES
from instrument_bench.features.store import load_features
from instrument_bench.models import MODELS
from instrument_bench.protocol.tasks import TASKS
from instrument_bench.results import append_csv

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,2000,4000,8000")
    parser.add_argument("--repeats", type=int, default=2, help="best of N fits")
    args = parser.parse_args(argv)

    dataset = gm_notes.load(progress=False)
    spec = FEATURES["mfcc-stats"]
    splits = ("train", "valid", "test")
    X = np.concatenate([np.asarray(load_features(dataset, s, spec, cache_dir=data_home() / "features",
                                                 progress=False)) for s in splits])
    y = np.concatenate([TASKS["family"].labels(dataset.split(s)) for s in splits])
    rng = np.random.default_rng(0)
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        pick = rng.integers(0, len(X), size)
        x = X[pick] + rng.normal(0, 0.05, (size, X.shape[1])) * X.std(axis=0)
        labels = np.unique(y[pick], return_inverse=True)[1]
        for name, spec in ((n, s) for n, s in MODELS.items() if not s.is_keras):
            best = np.inf
            with threadpool_limits(1):
                for _ in range(args.repeats):
                    model = spec.build(seed=0, n_jobs=1)
                    start = time.perf_counter()
                    model.fit(x, labels)
                    best = min(best, time.perf_counter() - start)
            rows.append({"benchmark": "classical-fit", "model": name, "feature": spec.name,
                         "n_train": size, "fit_seconds": round(best, 3), "cores": 1,
                         "python": platform.python_version(),
                         "utc_time": datetime.now(timezone.utc).isoformat(timespec="seconds")})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.pivot(index="model", columns="n_train", values="fit_seconds").to_string())
    append_csv(table, ROOT / "results" / "benchmarks.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
