"""runs.csv bookkeeping and the leaderboard's mean/std/rank."""

import hashlib

import pandas as pd
import pytest

from instrument_bench import results


def key(name: str) -> str:
    """A run key (16 hex digits) for a readable name."""
    return hashlib.sha256(name.encode()).hexdigest()[:16]


def row(model, seed, f1, key_name=None, status="ok"):
    return {"run_key": key(key_name or f"{model}-{seed}"), "status": status, "dataset": "d",
            "task": "family", "task_kind": "single-label", "utc_time": "2026-11-25T10:00:00+00:00",
            "feature": "f", "model": model, "seed": seed, "primary_metric": "macro_f1",
            "accuracy": f1 + 0.1, "balanced_accuracy": f1, "macro_f1": f1, "micro_f1": f1 + 0.1,
            "fit_seconds": 1.0, "predict_ms_per_clip": 0.1, "model_bytes": 100}


def test_leaderboard_mean_std_rank():
    runs = pd.DataFrame([row("a", 0, 0.5), row("a", 1, 0.7), row("b", 0, 0.8), row("b", 1, 0.8),
                         row("c", 0, 0.99, status="failed")])
    board = results.leaderboard(runs)
    assert list(board["model"]) == ["b", "a"]
    assert list(board["rank"]) == [1, 2]
    a = board.set_index("model").loc["a"]
    assert a["macro_f1_mean"] == pytest.approx(0.6)
    assert a["macro_f1_std"] == pytest.approx(0.1)
    assert a["n_seeds"] == 2


def test_record_runs_replaces_same_key_and_tracks_finished(tmp_path):
    results.record_runs(tmp_path, [row("a", 0, 0.5, status="failed")], [])
    assert results.finished_keys(tmp_path) == set()
    results.record_runs(tmp_path, [row("a", 0, 0.6)], [{"run_key": key("a-0"), "class": "x", "f1": 0.6}])
    results.record_runs(tmp_path, [row("a", 1, 0.7)], [{"run_key": key("a-1"), "class": "x", "f1": 0.7}])
    runs = results.read_csv(tmp_path / results.RUNS)
    assert len(runs) == 2 and set(runs["status"]) == {"ok"}
    assert results.finished_keys(tmp_path) == {key("a-0"), key("a-1")}
    assert len(results.read_csv(tmp_path / results.PER_CLASS)) == 2
    board = results.write_leaderboard(tmp_path)
    assert (tmp_path / results.LEADERBOARD).is_file() and len(board) == 1
    assert not list(tmp_path.glob(".*tmp*"))


def test_leaderboard_groups_by_loss_and_predictor_and_ranks_multi_label():
    def multi(predictor, loss, seed, f1):
        return {**row("cnn", seed, f1, key_name=f"{predictor}-{loss}-{seed}"), "task": "families",
                "loss": loss, "predictor": predictor, "map": 0.9, "hamming_loss": 0.1,
                "accuracy": float("nan"), "balanced_accuracy": float("nan")}

    runs = pd.DataFrame([multi("top-k", "bce", 0, 0.5), multi("top-k", "bce", 1, 0.6),
                         multi("threshold", "bce", 0, 0.7), multi("threshold", "focal", 0, 0.4),
                         row("old", 0, 0.3)])  # a row written before loss/predictor columns existed
    board = results.leaderboard(runs)
    multi_board = board[board["task"] == "families"]
    assert list(zip(multi_board["predictor"], multi_board["loss"])) == [
        ("threshold", "bce"), ("top-k", "bce"), ("threshold", "focal")]
    assert list(multi_board["rank"]) == [1, 2, 3]
    assert multi_board.iloc[1]["macro_f1_mean"] == pytest.approx(0.55)
    old = board[board["model"] == "old"].iloc[0]
    assert (old["loss"], old["predictor"], old["rank"]) == ("-", "argmax", 1)
    assert "map_mean" in board and "hamming_loss_mean" in board


def test_leaderboard_uses_each_datasets_latest_split():
    old = [{**row("a", s, 0.9, key_name=f"old-{s}"), "split_hash": "v1", "utc_time": "2026-01-01T00:00:00"}
           for s in (0, 1)]
    new = [{**row("a", s, 0.5, key_name=f"new-{s}"), "split_hash": "v2", "utc_time": "2026-02-01T00:00:00"}
           for s in (0, 1)]
    board = results.leaderboard(pd.DataFrame(old + new))
    assert len(board) == 1 and board["macro_f1_mean"].iloc[0] == pytest.approx(0.5)
    assert results.best_model_keys(pd.DataFrame([{**r, "model_key": r["run_key"]} for r in old + new])) \
        == {("d", "-", "family", "d", "-", "-", "-", "f", "a", "-", "argmax"): key("new-0")}
    # (the GROUP key: test_dataset its own, every source, no perturbation)
