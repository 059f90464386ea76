"""The leaderboard's ``<metric>_mean`` is the mean over seeds (not the median), ``<metric>_std``
the population spread, ``seed_std`` the sample spread of the primary metric, and rows are ranked by
that mean."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from instrument_bench import results


def row(model, seed, f1, fit_seconds):
    return {"run_key": f"{model}{seed:015d}", "status": "ok", "dataset": "d", "task": "family",
            "task_kind": "single-label", "feature": "f", "model": model, "seed": seed,
            "primary_metric": "macro_f1", "accuracy": f1, "balanced_accuracy": f1, "macro_f1": f1,
            "micro_f1": f1, "fit_seconds": fit_seconds, "predict_ms_per_clip": 0.1, "model_bytes": 100,
            "utc_time": f"2026-01-01T00:00:0{seed}"}


# model a: one bad seed drags its mean (0.6) below its median (0.8); model b is steady at 0.7
A = [0.2, 0.8, 0.8]
B = [0.7, 0.7, 0.7]
FIT = [1.0, 1.0, 10.0]  # skewed costs too: mean 4, median 1


def test_leaderboard_averages_three_seeds_by_their_mean():
    runs = pd.DataFrame([row("a", s, f, t) for s, (f, t) in enumerate(zip(A, FIT))]
                        + [row("b", s, f, 2.0) for s, f in enumerate(B)])
    board = results.leaderboard(runs).set_index("model")
    assert board.loc["a", "n_seeds"] == 3
    assert board.loc["a", "macro_f1_mean"] == pytest.approx(np.mean(A)) == pytest.approx(0.6)
    assert board.loc["a", "accuracy_mean"] == pytest.approx(0.6)
    assert board.loc["a", "fit_seconds_mean"] == pytest.approx(4.0)
    assert board.loc["a", "macro_f1_std"] == pytest.approx(np.std(A))
    assert board.loc["a", "seed_std"] == pytest.approx(np.std(A, ddof=1))
    assert board.loc["b", "macro_f1_mean"] == pytest.approx(0.7)
    # ranked by the mean: the steady model first (by the median, a's 0.8 would win)
    assert board.loc["b", "rank"] == 1 and board.loc["a", "rank"] == 2
