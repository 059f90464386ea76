"""What the command line prints: the leaderboard's top rows with their intervals, the plan of a
dry run."""

from __future__ import annotations

from .conditions import block_title, condition_order, perturbation_text
from .results import BLOCK, interval_text, is_clean, is_true


def print_leaderboard(board, *, top: int = 5) -> None:
    """The top rows of every dataset and task with their 95 % intervals, and how many rows the
    data cannot tell from the best (perturbed test sets: :func:`print_robustness`)."""
    if board.empty:
        return
    for block, sub in board.groupby(BLOCK, sort=False):
        if dict(zip(BLOCK, block))["perturbation"] != "-":
            continue
        primary = sub["primary_metric"].iloc[0]
        print(f"\n{block_title(block)}: {primary} (95 % CI over test units)")
        for _, row in sub.head(top).iterrows():
            seeds = "1 (deterministic)" if is_true(row.get("deterministic")) else f"{row['n_seeds']:.0f}"
            label = " / ".join(str(row[k]) for k in ("feature", "model", "loss", "predictor")
                               if row[k] not in ("-", "argmax", "categorical-crossentropy"))
            tie = "  tied with best" if is_true(row.get("tied_with_best")) and row["rank"] > 1 else ""
            print(f"  {row['rank']:>3.0f}  {label:<48} {row[primary + '_mean']:.3f} "
                  f"{interval_text(row, primary):<17} seeds {seeds}{tie}")
        if "tied_with_best" in sub and sub["tied_with_best"].notna().any():
            tied = sum(is_true(v) for v in sub["tied_with_best"]) - 1
            units = sub["n_test_units"].max()
            print(f"  {tied} of {len(sub) - 1} other rows are statistically tied with rank 1 (one-sided "
                  f"paired cluster bootstrap over {units:.0f} test units, Holm-corrected, 0.05)")


def print_transfer(board, *, top: int = 8) -> None:
    """The transfer matrix of every task with cross-source rows: the feature / model pairs that
    transfer best (rows) x "trained on -> tested on" (columns), the primary metric's mean."""
    if board.empty or "test_dataset" not in board:
        return
    board = board[is_clean(board)]
    for task, rows in board.groupby("task", sort=False):
        if not (rows["test_dataset"] != rows["dataset"]).any():
            continue
        primary = rows["primary_metric"].iloc[0]
        rows = rows.assign(_column=rows["dataset"] + " -> " + rows["test_dataset"],
                           _row=rows["feature"] + " / " + rows["model"], _value=rows[f"{primary}_mean"])
        matrix = rows.pivot_table(index="_row", columns="_column", values="_value", aggfunc="max")
        cross = [c for c in matrix.columns if c.split(" -> ")[0] != c.split(" -> ")[1]]
        matrix = matrix.loc[matrix[cross].mean(axis=1).sort_values(ascending=False).index[:top]]
        print(f"\ntransfer matrix, {task}: {primary} (best loss and predictor), the {len(matrix)} "
              "feature / model pairs that transfer best")
        width, names = max(len(c) for c in matrix.columns), max(len(n) for n in matrix.index)
        print(" " * (names + 3) + "  ".join(f"{c:>{width}}" for c in matrix.columns))
        for name, values in matrix.iterrows():
            cells = "  ".join(f"{'':>{width}}" if v != v else f"{v:>{width}.3f}" for v in values)
            print(f"  {name:<{names}} {cells}")


def print_robustness(board, *, top: int = 8) -> None:
    """Per training set and task with perturbed rows: the primary metric of the best models on the
    clean test split (rows) under each perturbation and severity (columns), mean over seeds."""
    if board.empty or "perturbation" not in board or (board["perturbation"] == "-").all():
        return
    keys = ["dataset", "train_source", "task", "test_dataset", "test_source"]
    for block, rows in board.groupby(keys, sort=False):
        perturbed = rows[rows["perturbation"] != "-"]
        clean = rows[rows["perturbation"] == "-"]
        if perturbed.empty or clean.empty:
            continue
        primary = rows["primary_metric"].iloc[0]
        rows = rows.assign(_row=rows["feature"] + " / " + rows["model"], _value=rows[f"{primary}_mean"],
                           _column=[perturbation_text(p, s) for p, s in zip(rows["perturbation"],
                                                                            rows["severity"])],
                           _order=[condition_order(p, s)
                                   for p, s in zip(rows["perturbation"], rows["severity"])])
        columns = list(dict.fromkeys(rows.sort_values("_order", kind="stable")["_column"]))
        matrix = rows.pivot_table(index="_row", columns="_column", values="_value", aggfunc="max")
        matrix = matrix.reindex(columns=columns).sort_values("clean", ascending=False).head(top)
        print(f"\nrobustness, {block_title(dict(zip(keys, block), perturbation='-', severity='-'))}: "
              f"{primary} on the test split under each perturbation (clean: unchanged)")
        width, names = max(8, *(len(c) for c in columns)), max(len(n) for n in matrix.index)
        print(" " * (names + 3) + "  ".join(f"{c:>{width}}" for c in columns))
        for name, values in matrix.iterrows():
            print(f"  {name:<{names}} " + "  ".join(f"{'':>{width}}" if v != v else f"{v:>{width}.3f}"
                                                    for v in values))


def skipped_lines(summary) -> list[str]:
    """One line per skipped dataset (naming the cross-source rows it takes with it), task and
    cross-source pair."""
    pairs = {}
    for key, reason in summary.skipped_targets.items():
        target = key.rsplit(" -> ", 1)[-1]
        if summary.skipped_datasets.get(target) == reason:
            pairs.setdefault(target, []).append(key)
    lines = [f"skipped {name}" + (f" (and the cross-source rows {', '.join(pairs[name])})"
                                  if name in pairs else "") + f": {reason}"
             for name, reason in summary.skipped_datasets.items()]
    lines += [f"skipped {name}: {reason}" for name, reason in summary.skipped_tasks.items()]
    lines += [f"skipped feature {name} (every cell on it): {reason}"
              for name, reason in summary.skipped_features.items()]
    lines += [f"skipped perturbation {name}: {reason}"
              for name, reason in summary.skipped_perturbations.items()]
    folded = {k for keys in pairs.values() for k in keys}
    lines += [f"skipped cross-source {key}: {reason}" for key, reason in summary.skipped_targets.items()
              if key not in folded]
    return lines


def print_plan(plan: dict, options) -> int:
    """Print a dry run: one line per cell, then what is left to compute and how long it may take."""
    cells = plan["cells"]
    for cell in cells:
        seconds = cell["seconds"]
        seconds = "?" if seconds is None else f"~{seconds:.1f}s" if seconds < 10 else f"~{seconds:.0f}s"
        keys = " ".join(f"{p}={k}" for p, k in cell["keys"].items())
        print(f"{'done' if cell['done'] else 'todo'}  {cell['name']}  {seconds}  {keys}")
    todo = [c for c in cells if not c["done"]]
    known = [c["seconds"] for c in todo if c["seconds"] is not None]
    print(f"\n{len(cells)} cells: {len(cells) - len(todo)} already in {options.results_dir / 'runs.csv'}, "
          f"{len(todo)} to compute; estimate {sum(known) / 60:.1f} min for the {len(known)} with a "
          f"timing in runs.csv ({len(todo) - len(known)} without one; rendering and feature "
          "extraction not included)")
    for name, reason in plan["skipped"].items():
        print(f"skipped {name}: {reason}")
    return 0
