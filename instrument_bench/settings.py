"""The rules a suite's settings must meet: every key and value of a suite file, and each
``[datasets.<name>]`` table against its loader's options. :func:`~.config.load_suite` applies
them; each problem names the key, the value and what is allowed.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re

from .errors import SuiteError

AGGREGATES = ("mean", "max")  # protocol.groups.AGGREGATES (config sits below it; a test keeps them equal)
LOADER_ARGUMENTS = ("data_root", "data_home", "jobs", "progress")  # the tool's, never a suite's
# a loader argument's default type -> (the types an option may have, what the message says)
OPTION_TYPES = ((bool, (bool,), "true or false"), (float, (int, float), "a number"),
                (int, (int,), "a whole number"), (str, (str,), "a string"))
WHOLE = "must be a whole number of at least 1"
NAMES = "must be a list of names"
# NSynth's instrument sources (datasets.gm.NSYNTH_SOURCES; a test keeps them equal)
SOURCES = ("acoustic", "electronic", "synthetic")


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _names(value, *, required: bool = True) -> bool:
    return (isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
            and (bool(value) or not required))


def _tables(value) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _item(key: str, value) -> str:
    """``key = value`` as messages show it; a table as its TOML header (``[key.sub]``) and keys."""
    if isinstance(value, dict):
        return ", ".join(f"[{key}.{k}]" if isinstance(v, dict) else f"[{key}] {_item(k, v)}"
                         for k, v in value.items()) or f"[{key}]"
    text = str(value).lower() if isinstance(value, bool) else repr(value)
    return f"{key} = {text if len(text) <= 60 else text[:57] + '...'}"


# key -> (check, what is allowed); the order is the one messages list the valid keys in
TOP_LEVEL_RULES = {
    "name": (lambda v: isinstance(v, str), "must be a string"),
    "description": (lambda v: isinstance(v, str), "must be a string"),
    "seeds": (_whole, WHOLE),
    "keras": (lambda v: isinstance(v, dict), "must be a [keras] table"),
    "datasets": (lambda v: isinstance(v, dict) and all(isinstance(o, dict) for o in v.values()),
                 "must be tables [datasets.<dataset>] of each dataset's options"),
    "experiment": (_tables, "must be [[experiment]] blocks (an array of tables)"),
    "encoders": (lambda v: isinstance(v, dict) and all(isinstance(o, dict) for o in v.values()),
                 "must be tables [encoders.<name>] of each encoder's settings"),
    "models": (lambda v: isinstance(v, dict) and all(isinstance(o, dict) for o in v.values()),
               "must be tables [models.<name>] of each model's settings"),
}
KERAS_RULES = {  # TrainConfig's fields
    "epochs": (_whole, WHOLE), "patience": (_whole, WHOLE), "batch_size": (_whole, WHOLE),
    "learning_rate": (lambda v: _number(v) and v > 0, "must be a number above 0"),
    "class_weight": (lambda v: isinstance(v, bool), "must be true or false"),
    "deterministic": (lambda v: isinstance(v, bool), "must be true or false"),
    "aggregate": (lambda v: isinstance(v, str) and v in AGGREGATES,
                  f"must be one of {', '.join(AGGREGATES)}"),
}
TARGET = "must be 'module:object', like 'mypkg.models:build'"
ENCODER_INPUTS = ("audio", "log-mel")  # features.encoders.INPUTS (a test keeps them equal)
MODEL_INPUTS = ("any", "vector", "time-frequency")  # models.spec.INPUTS (likewise)


def _target(value) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[\w.]+:[\w.]+", value) is not None


def _one_of(values):
    return lambda v: isinstance(v, str) and v in values, f"must be one of {', '.join(values)}"


def _text(value) -> bool:
    return isinstance(value, str) and bool(value.strip())


ENCODER_RULES = {  # features.encoders.encoder_feature's arguments
    "callable": (_target, TARGET), "keras": (_text, "must be the path of a .keras file"),
    "input": _one_of(ENCODER_INPUTS), "sample_rate": (_whole, WHOLE),
    "description": (lambda v: isinstance(v, str), "must be a string"),
}
MODEL_RULES = {  # models.custom.keras_model's and estimator_model's arguments
    "builder": (_target, TARGET), "estimator": (_target, TARGET),
    "grid": (lambda v: isinstance(v, dict) and all(isinstance(o, list) and o for o in v.values()),
             "must be a table of lists of values, like grid = { n_estimators = [50, 100] }"),
    "params": (lambda v: isinstance(v, dict), "must be a table of keyword arguments"),
    "input": _one_of(MODEL_INPUTS),
    "window_seconds": (lambda v: _number(v) and v > 0, "must be a number of seconds above 0"),
    "native_multi_label": (lambda v: isinstance(v, bool), "must be true or false"),
    "deterministic": (lambda v: isinstance(v, bool), "must be true or false"),
    "description": (lambda v: isinstance(v, str), "must be a string"),
}
EXPERIMENT_RULES = {  # Experiment's fields
    "dataset": (lambda v: isinstance(v, str) and bool(v.strip()), "must be a dataset name (a string)"),
    "tasks": (_names, f"{NAMES}, at least one"), "features": (_names, f"{NAMES}, at least one"),
    "models": (_names, f"{NAMES}, at least one"),
    "losses": (lambda v: _names(v, required=False), NAMES),
    "predictors": (lambda v: _names(v, required=False), NAMES),
    "top_k": (_whole, WHOLE),
    "threshold": (lambda v: _number(v) and 0 < v < 1, "must be a number between 0 and 1, exclusive"),
    "test_on": (lambda v: _names(v, required=False), NAMES),
    "train_source": (lambda v: v in SOURCES,
                     f"must be one of NSynth's instrument sources: {', '.join(SOURCES)}"),
    "perturbations": (lambda v: _names(v, required=False), NAMES),
}


def _checked(where: str, table: dict, rules: dict) -> list[str]:
    """The unknown keys of ``table`` and its values ``rules`` refuse (``where``: messages' prefix)."""
    unknown = [_item(k, v) + "".join(f" (did you mean {c!r}?)"
                                     for c in difflib.get_close_matches(k, rules, n=1))
               for k, v in table.items() if k not in rules]
    out = [f"{where}unknown keys {', '.join(unknown)}; valid: {', '.join(rules)}"] if unknown else []
    for key, value in table.items():
        check, allowed = rules.get(key, (None, ""))
        if check is not None and not check(value):
            if isinstance(value, str) and allowed.startswith(NAMES):
                allowed = f"{NAMES}, like {key} = [{value!r}]"
            out.append(f"{where}{_item(key, value)}: {allowed}")
    return out


def suite_problems(raw: dict) -> list[str]:
    """Every unknown key and refused value of a parsed suite file, each named with its value and
    what is allowed (empty: the suite is well-formed)."""
    problems = _checked("", raw, TOP_LEVEL_RULES)
    if isinstance(raw.get("keras"), dict):
        problems += _checked("[keras] ", raw["keras"], KERAS_RULES)
    blocks = raw.get("experiment", [])
    for k, block in enumerate(blocks if _tables(blocks) else (), start=1):
        problems += _checked(f"experiment {k}: ", block, EXPERIMENT_RULES)
    for header, rules in (("encoders", ENCODER_RULES), ("models", MODEL_RULES)):
        tables = raw.get(header, {})
        for name, table in tables.items() if TOP_LEVEL_RULES[header][0](tables) else ():
            problems += _checked(f"[{header}.{name}] ", table, rules)
    return problems


def check_dataset_options(suite, registry: dict) -> None:
    """Check a suite's ``[datasets.<name>]`` tables against the dataset registry: a registered name,
    options its loader takes (keyword arguments), of the type of their defaults. Ranges are the
    loader's to check; a loader taking ``**options`` checks their names itself.

    Parameters
    ----------
    suite : Suite
        A loaded suite.
    registry : dict
        Dataset name -> loader (``instrument_bench.datasets.DATASETS``).

    Raises
    ------
    SuiteError
        Naming the suite file, the table, the option, its value and what is allowed.
    """
    problems = []
    for name, options in suite.datasets.items():
        if name not in registry:
            problems.append(f"[datasets.{name}]: unknown dataset {name!r}; valid datasets: "
                            f"{', '.join(sorted(registry))}")
            continue
        parameters = inspect.signature(registry[name]).parameters.values()
        accepts_any = any(p.kind is p.VAR_KEYWORD for p in parameters)
        taken = {p.name: p.default for p in parameters
                 if p.kind is p.KEYWORD_ONLY and p.name not in LOADER_ARGUMENTS}
        for key, value in options.items():
            if key not in taken:
                if not accepts_any or key in LOADER_ARGUMENTS:
                    problems.append(f"[datasets.{name}] {_item(key, value)}: not an option of {name}; "
                                    f"valid: {', '.join(taken) or 'none'}")
                continue
            kinds, what = next(((k, w) for t, k, w in OPTION_TYPES if isinstance(taken[key], t)), ((), ""))
            if kinds and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
                problems.append(f"[datasets.{name}] {_item(key, value)}: must be {what}")
    if problems:
        raise SuiteError(f"{suite.source or suite.name}: " + "; ".join(problems))
