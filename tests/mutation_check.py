"""Mutation check: does the suite notice when the protocol is broken?

Copies the package (``instrument_bench/``), the tests (``tests/``) and ``setup.cfg`` into a temporary
folder, then applies ONE mutation at a time to the copy of the package: an exact text replacement
(old -> new) in a named file. The tests that guard each mutation run against the mutated copy:

    python -m pytest -x -q -p no:cacheprovider <test ids>

from the temporary folder, with that folder first on ``PYTHONPATH`` (so the copy, not the
editable install of the repository, is imported, here and in worker processes). A small pytest
plugin written into the folder (``_mutation_probe``) fails the run with exit status 17 when any
``instrument_bench`` or ``tests`` module was imported from elsewhere, so a mutation can never look
killed or survived because the wrong code ran.

Before any mutation, the unmutated copy must pass every test the selected mutations run (otherwise
the table would mean nothing). Results:

- ``killed``: a test failed (pytest exit status 1);
- ``SURVIVED``: every test passed;
- ``ERROR``: the mutation no longer applies (its old text is not in the file exactly once), the
  mutated file does not compile, the wrong package was imported, or pytest did not run the tests
  (any other exit status, a timeout).

The exit status is 0 only if every mutation is killed.

Usage (from the repository root, in the project's environment)::

    python tests/mutation_check.py            # every mutation
    python tests/mutation_check.py --list     # the mutations and the tests that guard them
    python tests/mutation_check.py --only leaderboard-median-of-seeds
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "instrument_bench"
WRONG_IMPORT = 17  # the probe's exit status: a module came from outside the copy
TIMEOUT = 900  # seconds per pytest run

PROBE = '''"""pytest plugin of tests/mutation_check.py: every instrument_bench and tests module must come
from the folder under test (MUTATION_CHECK_ROOT), never from the repository's editable install."""

import os
import sys

import pytest

ROOT = os.path.realpath(os.environ["MUTATION_CHECK_ROOT"])
STATUS = {status}


def _outside():
    if "{package}" not in sys.modules:
        return ["{package} was never imported"]
    bad = []
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in ("{package}", "tests"):
            continue
        path = getattr(module, "__file__", None)
        if path and not os.path.realpath(path).startswith(ROOT + os.sep):
            bad.append(f"{{name}}: {{path}}")
    return bad


def _report(bad):
    return "MUTATION-CHECK: imported from outside " + ROOT + ": " + "; ".join(bad)


def pytest_collection_finish(session):
    bad = _outside()
    if bad:
        pytest.exit(_report(bad), returncode=STATUS)


def pytest_sessionfinish(session, exitstatus):
    bad = _outside()
    if bad:
        print("\\n" + _report(bad))
        session.exitstatus = STATUS
'''


@dataclass(frozen=True)
class Mutation:
    """One deliberate bug: replace ``old`` by ``new`` in ``file`` (relative to the package)."""

    name: str
    file: str
    old: str
    new: str
    tests: tuple
    what: str


HONESTY = "tests/test_protocol_honesty.py"
ATOMIC = "tests/test_atomic_results.py"
AVERAGING = "tests/test_metric_averaging.py"
TOP_K = "tests/test_multilabel_protocol.py::test_registered_top_k_predicts_exactly_k_classes"
DISJOINT = "tests/datasets/test_gm_notes.py::test_split_is_instrument_disjoint"

MUTATIONS = (
    # --- the mutations that survived the suite before these tests were written
    Mutation("grid-search-on-test", "models/fitting.py",
             'model_name, flat["train"], enc["train"], flat["valid"], enc["valid"], seed=seed,',
             'model_name, flat["train"], enc["train"], flat["test"], enc["test"], seed=seed,',
             (f"{HONESTY}::test_grid_search_selects_on_valid_not_test",),
             "the classical grid search scores its candidates on test instead of valid"),
    Mutation("thresholds-tuned-on-test", "cell.py",
             "params = predictor.fit(valid_scores, y_valid, k=top_k, threshold=threshold)",
             "params = predictor.fit(scores, y_test, k=top_k, threshold=threshold)",
             (f"{HONESTY}::test_class_thresholds_are_tuned_on_valid_scores",),
             "class-thresholds (every predictor) fitted on the test scores instead of valid"),
    Mutation("single-label-macro-f1-is-micro", "protocol/metrics.py",
             '"macro_f1": float(f1_score(y_true, y_pred, average="macro", labels=labels, zero_division=0)),',
             '"macro_f1": float(f1_score(y_true, y_pred, average="micro", labels=labels, zero_division=0)),',
             (AVERAGING,), "single-label macro_f1 computed with average='micro'"),
    Mutation("multi-label-macro-f1-is-micro", "protocol/metrics.py",
             '"macro_f1": f1_score(y_true, y_pred, average="macro", zero_division=0),',
             '"macro_f1": f1_score(y_true, y_pred, average="micro", zero_division=0),',
             (AVERAGING,), "multi-label macro_f1 computed with average='micro'"),
    Mutation("csv-written-in-place", "results.py",
             "    with atomic_write(path) as tmp:\n        frame.to_csv(tmp, index=False)",
             "    for tmp in (path,):\n        frame.to_csv(tmp, index=False)",
             (ATOMIC,), "write_csv_atomic writes straight to the final path"),
    Mutation("atomic-write-without-temporary", "storage.py",
             "    tmp = temporary_name(path)\n    try:\n"
             "        path.parent.mkdir(parents=True, exist_ok=True)\n        yield tmp\n",
             "    tmp = path\n    try:\n"
             "        path.parent.mkdir(parents=True, exist_ok=True)\n        yield tmp\n",
             (ATOMIC,), "atomic_write hands out the final path itself as its 'temporary'"),
    Mutation("atomic-write-copies-instead-of-rename", "storage.py",
             "        yield tmp\n        replace(tmp, path)\n",
             "        yield tmp\n        shutil.copyfile(tmp, path)\n",
             (ATOMIC,), "atomic_write publishes by copying into the final path (torn on a crash)"),
    Mutation("leaderboard-median-of-seeds", "results.py",
             'board[f"{metric}_mean"] = grouped[metric].mean()',
             'board[f"{metric}_mean"] = grouped[metric].median()',
             ("tests/test_leaderboard_seeds.py",), "the leaderboard's mean over seeds is a median"),
    Mutation("early-stopping-keeps-last-epoch", "models/keras/training.py",
             "patience=config.patience, restore_best_weights=True))",
             "patience=config.patience, restore_best_weights=False))",
             ("tests/test_training.py::test_early_stopping_restores_the_best_valid_epoch",),
             "Keras early stopping keeps the last epoch's weights, not the best valid epoch's"),
    Mutation("top-k-fit-returns-k-plus-one", "protocol/predictors.py",
             '"top-k": Predictor("top-k", "multi-label", lambda s, y, *, k, threshold: {"k": k}, top_k,',
             '"top-k": Predictor("top-k", "multi-label", lambda s, y, *, k, threshold: {"k": k + 1}, top_k,',
             (TOP_K,), "the registered top-k predictor's fit asks for k+1 labels"),
    Mutation("top-k-apply-predicts-k-plus-one", "protocol/predictors.py",
             '"top-k": Predictor("top-k", "multi-label", lambda s, y, *, k, threshold: {"k": k}, top_k,',
             '"top-k": Predictor("top-k", "multi-label", lambda s, y, *, k, threshold: {"k": k}, '
             'lambda scores, *, k: top_k(scores, k=k + 1),',
             (TOP_K,), "the registered top-k predictor's apply returns k+1 labels"),
    # --- the mutations the suite already killed: they must stay killed
    Mutation("split-leak-train-clips-in-test", "datasets/base.py",
             "return [c for c in self.clips if c.split == name]",
             'return [c for c in self.clips if c.split == name or (name == "test" and c.split == "train")]',
             (DISJOINT,), "Dataset.split('test') also returns the train clips"),
    Mutation("split-leak-gm-notes-train-notes-in-test", "datasets/gm_notes.py",
             "per_split[splits[program]].update(examples)",
             'per_split[splits[program]].update(examples); per_split["test"].update(examples)',
             (DISJOINT,), "gm-notes lists every train and valid note in the test split too"),
    Mutation("resume-recomputes-finished-cells", "results.py",
             'return set(runs.loc[runs["status"] == "ok", "run_key"])',
             "return set()",
             ("tests/test_resume.py",), "finished_keys forgets the finished cells: every cell recomputed"),
    Mutation("feature-cache-key-ignores-params", "features/store.py",
             '"split": split, "clips": ids, "feature": spec.name, "params": spec.params,',
             '"split": split, "clips": ids, "feature": spec.name,',
             ("tests/test_features.py::test_cache_key_changes_with_params_and_split",),
             "the feature cache key drops the feature's parameters"),
    Mutation("nan-audio-accepted", "audio.py",
             "if not np.isfinite(mono).all():",
             "if False:",
             ("tests/test_audio.py::test_nan_samples",), "load_audio accepts NaN/inf samples"),
    Mutation("path-escape-allowed", "datasets/base.py",
             "if not path.resolve().is_relative_to(root.resolve()):",
             "if False:",
             ("tests/datasets/test_base.py::test_safe_path_refuses_paths_that_leave_the_root",),
             "safe_path lets a metadata path climb out of the dataset folder"),
)


def stage(root: Path) -> None:
    """The tests, setup.cfg (pytest's settings) and the probe plugin in ``root``."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(REPO / "tests", root / "tests", ignore=ignore)
    shutil.copy2(REPO / "setup.cfg", root / "setup.cfg")
    (root / "_mutation_probe.py").write_text(PROBE.format(status=WRONG_IMPORT, package=PACKAGE))


def fresh_package(root: Path) -> Path:
    """An unmutated copy of the package in ``root`` (replacing the previous one)."""
    target = root / PACKAGE
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(REPO / PACKAGE, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return target


def environment(root: Path) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(root), env.get("PYTHONPATH", "")) if p)
    env["MUTATION_CHECK_ROOT"] = str(root)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def sanity_check(root: Path) -> None:
    """Import the package and the tests the way the runs will; stop unless both are the copies."""
    code = f"import {PACKAGE}, tests; print({PACKAGE}.__file__); print(tests.__file__)"
    out = subprocess.run([sys.executable, "-c", code], cwd=root, env=environment(root), capture_output=True,
                         text=True, timeout=300)
    paths = out.stdout.split()
    print(f"sanity check: {PACKAGE} imported from {paths[0] if paths else '?'}")
    print(f"sanity check: tests imported from {paths[1] if len(paths) > 1 else '?'}")
    real = os.path.realpath(root) + os.sep
    if out.returncode != 0 or len(paths) != 2 or not all(os.path.realpath(p).startswith(real) for p in paths):
        sys.exit(f"sanity check failed: the copies in {root} are not what Python imports\n{out.stderr}")


def run_tests(root: Path, tests) -> tuple[int, str, float]:
    """pytest on ``tests`` from ``root``: (exit status, output, seconds); status None on a timeout."""
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "_mutation_probe",
               f"--basetemp={root / '.pytest-tmp'}", *tests]
    start = time.perf_counter()
    try:
        out = subprocess.run(command, cwd=root, env=environment(root), capture_output=True, text=True,
                             timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        text = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout
        return None, text or "", time.perf_counter() - start
    return out.returncode, out.stdout + out.stderr, time.perf_counter() - start


def first_failure(output: str) -> str:
    """The first failed test id of pytest's summary and its first error line (``E   ...``)."""
    found = re.search(r"^(?:FAILED|ERROR) (\S+)", output, re.MULTILINE)
    error = re.search(r"^E +(.+)$", output, re.MULTILINE)
    reason = f": {error[1].strip()[:150]}" if error else ""
    return f"{found[1]}{reason}" if found else "?"


def check(mutation: Mutation, root: Path) -> tuple[str, str, float]:
    """Apply ``mutation`` to a fresh copy and run its tests: (result, detail, seconds)."""
    package = fresh_package(root)
    path = package / mutation.file
    if not path.is_file():
        return "ERROR", f"no longer applies: {PACKAGE}/{mutation.file} does not exist", 0.0
    text = path.read_text(encoding="utf-8")
    count = text.count(mutation.old)
    if count != 1:
        return "ERROR", f"no longer applies: the old text is found {count} times (needs exactly 1)", 0.0
    mutated = text.replace(mutation.old, mutation.new)
    try:
        compile(mutated, str(path), "exec")
    except SyntaxError as exc:
        return "ERROR", f"the mutated file does not compile: {exc}", 0.0
    path.write_text(mutated, encoding="utf-8")
    status, output, seconds = run_tests(root, mutation.tests)
    if status == 1:
        return "killed", f"by {first_failure(output)}", seconds
    if status == 0:
        return "SURVIVED", "every test passed", seconds
    if status is None:
        return "ERROR", f"timed out after {TIMEOUT} s", seconds
    if status == WRONG_IMPORT:
        return "ERROR", "imported code from outside the mutated copy", seconds
    tail = " | ".join(output.strip().splitlines()[-3:])
    return "ERROR", f"pytest exit status {status}: {tail}", seconds


def table(rows) -> str:
    head = ("mutation", "file", "tests run", "result", "seconds")
    body = [(m.name, f"{PACKAGE}/{m.file}", " ".join(m.tests), result, f"{seconds:.1f}")
            for m, result, _, seconds in rows]
    widths = [max(len(r[i]) for r in (head, *body)) for i in range(len(head))]
    def line(cells):
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    return "\n".join([line(head), line(["-" * w for w in widths]), *(line(r) for r in body)])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Apply each mutation to a copy of the package and check "
                                                 "that the tests guarding it fail.")
    parser.add_argument("--only", metavar="NAME", help="run one mutation (see --list)")
    parser.add_argument("--list", action="store_true", help="list the mutations and their tests")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (for debugging)")
    args = parser.parse_args(argv)
    if args.list:
        for m in MUTATIONS:
            print(f"{m.name}\n    {PACKAGE}/{m.file}: {m.what}\n    tests: {' '.join(m.tests)}")
        return 0
    chosen = [m for m in MUTATIONS if args.only in (None, m.name)]
    if not chosen:
        names = ", ".join(m.name for m in MUTATIONS)
        print(f"unknown mutation {args.only!r}; one of: {names}", file=sys.stderr)
        return 2
    root = Path(tempfile.mkdtemp(prefix="mutation-check-")).resolve()
    try:
        stage(root)
        fresh_package(root)
        sanity_check(root)
        baseline = list(dict.fromkeys(t for m in chosen for t in m.tests))
        status, output, seconds = run_tests(root, baseline)
        print(f"unmutated copy: {len(baseline)} test ids, exit status {status}, {seconds:.1f} s")
        if status != 0:
            print(output[-5000:])
            print("the unmutated copy does not pass its tests: the mutation table would mean nothing",
                  file=sys.stderr)
            return 1
        rows = []
        for m in chosen:
            result, detail, seconds = check(m, root)
            rows.append((m, result, detail, seconds))
            print(f"{m.name}: {result} in {seconds:.1f} s; {detail}", flush=True)
        print()
        print(table(rows))
        killed = sum(r[1] == "killed" for r in rows)
        print(f"\n{killed} of {len(rows)} mutations killed")
        for m, result, detail, _ in rows:
            if result != "killed":
                print(f"{result}: {m.name} ({m.what}): {detail}")
        return 0 if killed == len(rows) else 1
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
