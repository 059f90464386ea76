"""Command line: ``python -m instrument_bench`` / ``instrument-bench``. Thin: parse, call, print."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from . import __version__
from .config import RunOptions, list_suites, load_suite
from .datasets import DATASETS
from .errors import ConfigError, FeatureError, InstrumentBenchError, SuiteError, UnknownNameError
from .features import FEATURES
from .features.perturbations import PERTURBATIONS, severity_text
from .models import MODELS
from .models.keras.losses import LOSS_DESCRIPTIONS
from .models.plugins import added_models, load_plugins, register_suite
from .parallel import EXECUTORS
from .printing import print_leaderboard, print_plan, print_robustness, print_transfer, skipped_lines
from .protocol.predictors import PREDICTORS
from .protocol.tasks import TASKS

REGISTRIES = {"datasets": DATASETS, "features": FEATURES, "models": MODELS, "tasks": TASKS,
              "losses": LOSS_DESCRIPTIONS, "predictors": PREDICTORS, "perturbations": PERTURBATIONS}


def _positive(value: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number


def _jobs(value: str) -> int:
    """An argparse type: worker processes, at least 1 and at most the machine's cores."""
    jobs, cores = _positive(value), os.cpu_count() or 1
    if jobs > cores:
        print(f"instrument-bench: --jobs {jobs} is more than the {cores} cores here; using {cores}",
              file=sys.stderr)
    return min(jobs, cores)


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _check_names(kind: str, names, registry) -> None:
    for name in names or ():
        if name not in registry:
            raise UnknownNameError(kind, name, registry)


def _results_option(parser) -> None:
    parser.add_argument("--results", type=Path, default=Path("results"),
                        help="results folder (default: ./results)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="instrument-bench",
        description="Benchmark harness for musical instrument recognition.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run a suite and update results/leaderboard.csv",
                         description="Run a suite (a shipped name or a TOML file) and write "
                                     "runs.csv, per_class.csv and leaderboard.csv.")
    run.add_argument("suite", nargs="?", default="all",
                     help=f"suite name ({', '.join(list_suites())}) or path to a .toml file "
                          "(default: all)")
    run.add_argument("--datasets", type=_names, help="only these datasets (comma-separated)")
    run.add_argument("--tasks", type=_names, help="only these tasks (comma-separated)")
    run.add_argument("--features", type=_names, help="only these features (comma-separated)")
    run.add_argument("--models", type=_names, help="only these models (comma-separated)")
    run.add_argument("--seeds", type=int, help="seeds per cell (default: the suite's, 3)")
    run.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1,
                     help="worker processes (default: all cores)")
    _results_option(run)
    run.add_argument("--data-root", type=Path,
                     help="folder holding real datasets (default: $INSTRUMENT_BENCH_DATA)")
    run.add_argument("--group-by", metavar="REGEX",
                     help="audio-folder: a regular expression on file names naming each file's group "
                          "(player, source recording); a group's files stay in one split")
    run.add_argument("--on-bad-clip", choices=("fail", "skip"), default="fail",
                     help="a clip whose audio cannot be used: fail its feature's cells, listing every "
                          "such clip (default), or skip it (files are read once when the dataset "
                          "loads; skipped clips go to results/skipped.csv)")
    run.add_argument("--executor", choices=EXECUTORS, default="local",
                     help="local (default: joblib processes for extraction, cells here), dask (a "
                          "running cluster, --scheduler) or dask-local (a LocalCluster of --jobs "
                          "workers started here)")
    run.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="the Dask scheduler (--executor dask)")
    run.add_argument("--force", action="store_true", help="recompute cells already in runs.csv")
    run.add_argument("--resamples", type=int, default=1000,
                     help="bootstrap resamples of the leaderboard's confidence intervals and ties "
                          "(default 1000; 0 turns the statistics off)")
    run.add_argument("--dry-run", action="store_true",
                     help="print the cells the run would compute, their run keys, which are already in "
                          "runs.csv and a time estimate; compute nothing (datasets are loaded, and the "
                          "built-in ones rendered if missing, since run keys hash their splits)")
    noise = run.add_mutually_exclusive_group()
    noise.add_argument("-q", "--quiet", action="store_true", help="no progress bars or cell lines")
    noise.add_argument("-v", "--verbose", action="store_true", help="also Keras' per-epoch lines")

    report = sub.add_parser("report", help="write results/report.html and its figures",
                            description="Figures and a self-contained HTML report from a results folder.")
    _results_option(report)
    report.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    predict = sub.add_parser("predict", help="recognise the instruments in audio files",
                             description="Run a trained model on audio files (wav, flac, ogg, mp3; any "
                                         "rate, mono or stereo, any length).")
    predict.add_argument("files", nargs="+", type=Path, metavar="FILE")
    _results_option(predict)
    predict.add_argument("--model", help="a model folder, or a model_key / run_key from runs.csv "
                                         "(default: the best saved model on the leaderboard)")
    predict.add_argument("--dataset", help="pick the best model of this dataset (default: any)")
    predict.add_argument("--task", help="pick the best model of this task (default: any)")
    predict.add_argument("--predictor", help="predictor to apply (default: the leaderboard row's)")
    predict.add_argument("--hop", type=float, help="seconds between windows (default: the clip length)")
    predict.add_argument("--top", type=_positive, default=3, help="instruments to list per file (default 3)")
    predict.add_argument("--json", action="store_true", help="print JSON (one object per file)")
    predict.add_argument("--trust", action="store_true",
                         help="load a pickled model this tool did not sign on this machine (unpickling "
                              "runs code: only for a model you made)")

    trust = sub.add_parser("trust", help="sign the pickled models of a results folder moved here",
                           description="Sign every pickled model under RESULTS/models with this machine's "
                                       "key, so that predict loads them without --trust. Do this only "
                                       "for a results folder you made (unpickling runs code).")
    _results_option(trust)

    check = sub.add_parser("validate", help="check a dataset folder against its layout",
                           description="Read a dataset with its loader, then read every file its clips "
                                       "refer to; list corrupt, missing and unexpected files. Exit "
                                       "status 1 when anything is wrong.")
    check.add_argument("dataset", help="dataset name (see `list datasets`)")
    check.add_argument("--data-root", type=Path,
                       help="folder holding real datasets (default: $INSTRUMENT_BENCH_DATA)")
    check.add_argument("--root", type=Path, help="the dataset's own folder (instead of DATA_ROOT/<name>)")
    check.add_argument("--group-by", metavar="REGEX", help="audio-folder: the group pattern")
    check.add_argument("--jobs", type=_jobs, default=os.cpu_count() or 1,
                       help="worker processes (default: all cores)")
    check.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    stats = sub.add_parser("stats", help="recompute confidence intervals, ties and ranks",
                           description="Recompute leaderboard.csv (confidence intervals over test units, "
                                       "ties with the best row) and ranks.csv (ranks across datasets) "
                                       "from runs.csv and the saved test predictions; nothing is refitted.")
    _results_option(stats)
    stats.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    stats.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    enc = sub.add_parser("check-encoder", help="run an encoder on a few rendered notes and check it",
                         description="Run an encoder twice on rendered notes (16 kHz) and report its "
                                     "output's shape and dtype, NaN/inf, determinism and clips per "
                                     "second; exit status 2 on a problem. SPEC: a .keras file, "
                                     "module:function or a registered feature. module:function runs "
                                     "that module's code.")
    enc.add_argument("spec", metavar="SPEC", help="a .keras file, module:function, or a feature name")
    enc.add_argument("--input", choices=("audio", "log-mel"), default="audio",
                     help="what a .keras file or module:function takes (default: audio)")
    enc.add_argument("--sample-rate", type=_positive, default=16000, help="its sample rate (default 16000)")
    enc.add_argument("--suite", help="also the [encoders.<name>] tables of this suite")

    show = sub.add_parser("list", help="list datasets, tasks, features, models, perturbations and suites")
    show.add_argument("what", nargs="?", choices=[*REGISTRIES, "suites"],
                      help="only one kind (default: all)")
    return parser


def _describe(name, obj) -> str:
    text = getattr(obj, "description", "") or (obj.__doc__ or "").strip().splitlines()[0]
    return f"  {name:<22} {text}"


def cmd_list(args) -> int:
    """Print the registries."""
    load_plugins()  # entry points' features and models are listed with the built-in ones
    kinds = [args.what] if args.what else [*REGISTRIES, "suites"]
    for kind in kinds:
        print(f"{kind}:")
        if kind == "suites":
            for name in list_suites():
                print(f"  {name:<22} {load_suite(name).description}")
        elif kind == "models":
            for name, spec in MODELS.items():
                choice = "(Keras; epoch chosen on valid)" if spec.is_keras else f"grid={spec.grid}"
                print(f"  {name:<22} {spec.summary}  {choice}")
        elif kind == "losses":
            for name, text in LOSS_DESCRIPTIONS.items():
                print(f"  {name:<22} {text}")
        elif kind == "perturbations":
            for name, spec in PERTURBATIONS.items():
                levels = ", ".join(severity_text(v) for v in spec.severities if v is not None)
                print(f"  {name:<22} {spec.description}" + (f"  [{levels} {spec.unit}]" if levels else ""))
        else:
            for name, obj in REGISTRIES[kind].items():
                print(_describe(name, obj))
    return 0


def cmd_run(args) -> int:
    """Run a suite and print the leaderboard."""
    from .dry_run import dry_run
    from .results import LEADERBOARD, read_csv
    from .runner import run_suite

    suite = load_suite(args.suite)
    load_plugins()  # the filters below may name a plugin's or the suite's own encoders and models
    register_suite(suite)
    for kind, names in (("dataset", args.datasets), ("task", args.tasks),
                        ("feature", args.features), ("model", args.models)):
        _check_names(kind, names, REGISTRIES[f"{kind}s"])
    suite = suite.filtered(datasets=args.datasets, tasks=args.tasks, features=args.features,
                           models=args.models)
    if not suite.experiments:
        raise InstrumentBenchError(f"suite {suite.name!r}: nothing left to run after the filters")
    if args.group_by:
        folder = {**suite.datasets.get("audio-folder", {}), "group_by": args.group_by}
        suite = replace(suite, datasets={**suite.datasets, "audio-folder": folder})
    options = RunOptions(results_dir=args.results, seeds=suite.seeds if args.seeds is None else args.seeds,
                         jobs=max(1, args.jobs), force=args.force, data_root=args.data_root,
                         verbose=args.verbose, on_bad_clip=args.on_bad_clip, executor=args.executor,
                         scheduler=args.scheduler, resamples=args.resamples)
    custom = sorted({m for exp in suite.experiments for m in exp.models} & added_models())
    if custom and options.executor != "local":  # Dask workers know the built-in models only
        raise ConfigError(f"model(s) {', '.join(custom)} come from a plugin or the suite's [models] "
                          f"tables and run with --executor local only, not {options.executor}")
    log = (lambda *a: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))
    if args.dry_run:
        return print_plan(dry_run(suite, options, progress=not args.quiet, log=log), options)
    summary = run_suite(suite, options, progress=not args.quiet, log=log)
    board = read_csv(options.results_dir / LEADERBOARD)
    print_leaderboard(board)
    print_transfer(board)
    print_robustness(board)
    print(f"\n{summary.computed} cells computed, {summary.cached} reused from "
          f"{options.results_dir / 'runs.csv'}, {len(summary.failed)} failed; "
          f"leaderboard: {options.results_dir / 'leaderboard.csv'}")
    for line in skipped_lines(summary):
        print(line)
    for cell, error in summary.failed:
        print(f"failed {cell}: {error}", file=sys.stderr)
    return 1 if summary.failed else 0


def cmd_trust(args) -> int:
    """Sign the pickled models of a results folder with this machine's key."""
    from .artifacts import sign_models

    signed = sign_models(args.results)
    print(f"signed {len(signed)} pickled model(s) under {args.results / 'models'} with this machine's key")
    return 0


def cmd_stats(args) -> int:
    """Recompute the leaderboard's intervals, ties and ranks across datasets from a results folder."""
    from .results import RANKS, write_leaderboard

    board = write_leaderboard(args.results, resamples=args.resamples, progress=not args.quiet)
    if board.empty:
        raise InstrumentBenchError(f"{args.results / 'runs.csv'}: no finished runs")
    print_leaderboard(board)
    print(f"\nleaderboard: {args.results / 'leaderboard.csv'}; ranks across datasets: {args.results / RANKS}")
    return 0


def cmd_validate(args) -> int:
    """Validate a dataset folder; exit 1 when anything is wrong."""
    from .validate import validate_dataset

    options = {k: v for k, v in (("root", args.root), ("group_by", args.group_by)) if v is not None}
    report = validate_dataset(args.dataset, data_root=args.data_root, options=options,
                              jobs=max(1, args.jobs), progress=not args.quiet)
    for line in report.lines():
        print(line)
    print("OK" if report.ok else "FAILED")
    return 0 if report.ok else 1


def cmd_report(args) -> int:
    """Write the HTML report."""
    from .report import write_report

    path = write_report(args.results, progress=not args.quiet)
    print(f"report: {path} (figures in {path.parent / 'figures'})")
    return 0


def _model_folder(args) -> tuple[Path, str | None, str]:
    from .predict import choose_model
    from .results import read_runs

    if not args.model:
        return choose_model(args.results, dataset=args.dataset, task=args.task)
    folder = Path(args.model)
    if folder.is_dir():
        return folder, None, "given"
    runs = read_runs(args.results)
    if not runs.empty and "model_key" in runs:
        match = runs[(runs["model_key"] == args.model) | (runs["run_key"] == args.model)]
        if len(match):
            predictor = match["predictor"].iloc[0] if (match["run_key"] == args.model).any() else None
            return args.results / "models" / match["model_key"].iloc[0], predictor, "given"
    return args.results / "models" / args.model, None, "given"


def cmd_predict(args) -> int:
    """Recognise instruments in files; exit 1 if any file could not be read."""
    import json

    from .errors import AudioError
    from .predict import check_hop, load_model, predict_file

    folder, predictor, why = _model_folder(args)
    loaded = load_model(folder, predictor=args.predictor or predictor,
                        trust=args.trust)
    manifest = loaded.manifest
    check_hop(manifest, args.hop)
    if not args.json:
        print(f"model {folder.name}: {manifest['dataset']}/{manifest['task']} {manifest['feature']} "
              f"{manifest['model']}, predictor {loaded.predictor} ({why})", file=sys.stderr)
    failed = 0
    for path in args.files:
        try:
            out = predict_file(loaded, path, hop_seconds=args.hop, top=args.top)
        except AudioError as exc:
            failed += 1
            print(f"instrument-bench: error: {exc}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps(out))
            continue
        top = ", ".join(f"{name} {score:.2f}" for name, score in out["top"])
        print(f"{path}: {' + '.join(out['labels']) or '(none)'}   [{top}]")
        for window in out["windows"]:
            wtop = ", ".join(f"{name} {score:.2f}" for name, score in window["top"])
            print(f"  {window['start']:8.2f}s  {' + '.join(window['labels']) or '(none)':<30} [{wtop}]")
    return 1 if failed else 0


def cmd_check_encoder(args) -> int:
    """Check an encoder; exit 2 (one line naming it) when anything is wrong."""
    from .check_encoder import check, report_lines

    try:
        result = check(args.spec, input=args.input, sample_rate=args.sample_rate, suite=args.suite)
    except (FeatureError, ConfigError) as exc:
        print(f"instrument-bench: error: check-encoder {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    print("\n".join(report_lines(result)))
    return 0


def main(argv=None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        return {"run": cmd_run, "list": cmd_list, "report": cmd_report, "predict": cmd_predict,
                "validate": cmd_validate, "stats": cmd_stats, "trust": cmd_trust,
                "check-encoder": cmd_check_encoder}[args.command](args)
    except (UnknownNameError, SuiteError) as exc:
        print(f"instrument-bench: error: {exc}", file=sys.stderr)
        return 2
    except InstrumentBenchError as exc:
        print(f"instrument-bench: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("instrument-bench: interrupted; finished cells are kept in runs.csv", file=sys.stderr)
        return 130
