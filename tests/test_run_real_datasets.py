"""A run over a data root holding the real-dataset replicas (tests/replicas): every loader, windowed
and multi-label datasets, and a dataset that is not there."""

from __future__ import annotations

import numpy as np

from instrument_bench.cli import main
from tests.suites import experiment, write_suite

EXPERIMENTS = (
    experiment("irmas", tasks=["irmas"], features=["mfcc-stats"], models=["logreg"], predictors=["top-k"]),
    experiment("medley-solos-db", tasks=["piano-violin"], features=["mfcc-stats"], models=["logreg", "svm"]),
    experiment("openmic-2018", tasks=["openmic"], features=["vggish-mean"], models=["openmic-rf"],
               predictors=["threshold"]),
    experiment("audio-folder", tasks=["label", "labels"], features=["mfcc-stats"], models=["logreg"]),
    experiment("musicnet", tasks=["families"], features=["mfcc-stats"], models=["logreg"]),  # not there
)


def test_run_over_replicas(data_root, tmp_path, bench_home, capsys):
    suite = write_suite(tmp_path / "replicas.toml", *EXPERIMENTS, name="replicas", seeds=1)
    results = tmp_path / "results"
    code = main(["run", str(suite), "--data-root", str(data_root), "--results", str(results), "-q",
                 "--group-by", "^([a-z]+)_", "--jobs", "2"])
    out, err = capsys.readouterr()
    assert code == 0, err
    import pandas as pd

    runs = pd.read_csv(results / "runs.csv")
    assert (runs["status"] == "ok").all() and len(runs) == 5
    by = runs.drop_duplicates("dataset").set_index("dataset")
    assert by.loc["irmas", "n_test_groups"] == 6  # excerpts, not windows
    assert by.loc["irmas", "n_test"] > 6
    assert by.loc["medley-solos-db", "n_classes"] == 2  # a two-class SVM's scores work too
    assert np.isnan(by.loc["openmic-2018", "samples_f1"]) and by.loc["openmic-2018", "macro_f1"] > 0
    assert "skipped musicnet:" in out and "dataset folder not found" in out
    assert "skipped audio-folder/labels: audio-folder has no 'labels' labels" in out
