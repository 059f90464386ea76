"""What moves cross-source transfer: each change to ``mfcc-stats`` measured alone.

Fits ``svm`` and ``logreg`` (one seed, grid on valid, as ``run`` does) on gm-notes (TimGM6mb)
family labels, on each variant of ``mfcc-stats``, and scores the test split of gm-notes and of
gm-notes-fluidr3 (the same test programs rendered from FluidR3_GM: program- and source-disjoint).
The variants switch the two padding/level changes of protocol 3 on one at a time:

- ``whole-clip, raw level``: statistics over every frame, zero padding included, MFCCs of
  ``power_to_db(ref=1)`` (the definition before protocol 3),
- ``sounding frames``: only frames within 60 dB of the loudest (``active_db=60``),
- ``level-free``: MFCCs relative to the clip's loudest bin (``level="peak"``),
- ``both``: today's default.

Prints a table and writes ``benchmarks/results/transfer_ablation_<feature>.csv`` (``--feature
essentia-descriptors`` switches the same two changes of that feature). Needs FluidR3_GM
(``sudo apt-get install fluid-soundfont-gm``).

    python benchmarks/transfer_ablation.py [--feature mfcc-stats] [--models svm,logreg] [--jobs 2]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from instrument_bench.config import data_home
from instrument_bench.datasets import DATASETS
from instrument_bench.features import FEATURES
from instrument_bench.features.store import load_features
from instrument_bench.models.fitting import class_scores, fit_model
from instrument_bench.protocol.labels import encode_labels
from instrument_bench.protocol.tasks import TASKS

OUT = Path(__file__).resolve().parent / "results"
VARIANTS = {
    "whole-clip, raw level": {"active_db": 0.0, "level": "raw"},
    "sounding frames": {"active_db": 60.0, "level": "raw"},
    "level-free": {"active_db": 0.0, "level": "peak"},
    "both (default)": {"active_db": 60.0, "level": "peak"},
}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="svm,logreg")
    parser.add_argument("--feature", default="mfcc-stats")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    source = DATASETS["gm-notes"](jobs=args.jobs)
    target = DATASETS["gm-notes-fluidr3"](jobs=args.jobs)
    task = TASKS["family"]
    cache = data_home() / "features"
    rows = []
    for variant, params in VARIANTS.items():
        spec = FEATURES[args.feature]
        spec = dataclasses.replace(spec, params={**spec.params, **params})
        X = {s: np.asarray(load_features(source, s, spec, cache_dir=cache, jobs=args.jobs))
             for s in ("train", "valid", "test")}
        X_target = np.asarray(load_features(target, "test", spec, cache_dir=cache, jobs=args.jobs))
        y = {s: task.labels(source.split(s)) for s in X}
        enc, label_map = encode_labels(task, y)
        y_target = np.array([label_map.index(task.classes[i]) for i in task.labels(target.split("test"))])
        for model_name in args.models.split(","):
            model, _, scores, info = fit_model(model_name, X, enc, spec=spec, seed=0, n_jobs=args.jobs,
                                               n_classes=len(label_map), multi_label=False)
            cross = class_scores(model, X_target).argmax(axis=1)
            in_source = float((scores.argmax(axis=1) == enc["test"]).mean())
            rows.append({"feature": args.feature, "variant": variant, "model": model_name,
                         "params": str(params), "in_source_accuracy": in_source,
                         "fluidr3_accuracy": float((cross == y_target).mean()),
                         "chosen": info.get("best_params", "")})
            print(f"{variant:24s} {model_name:8s} in-source {rows[-1]['in_source_accuracy']:.3f}  "
                  f"TimGM6mb -> FluidR3_GM {rows[-1]['fluidr3_accuracy']:.3f}", flush=True)
    frame = pd.DataFrame(rows)
    OUT.mkdir(parents=True, exist_ok=True)
    frame.to_csv(OUT / f"transfer_ablation_{args.feature}.csv", index=False)
    print(frame.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
