"""What every sub-command shares: errors, argument types, progress, output files."""

import argparse
import csv
import json
import math
import os
import sys
import time
import warnings

import numpy as np

STRATEGIES = ("grid", "random", "genetic", "annealing", "bayes")
LABELS = {
    "grid": "GridSearchCV",
    "random": "RandomizedSearchCV",
    "genetic": "GeneticSearchCV",
    "annealing": "AnnealingSearchCV",
    "bayes": "BayesianSearchCV",
}
_MAX_SEED = 2**32 - 1  # numpy's RandomState and train_test_split accept no more


class UsageError(Exception):
    """A bad argument: reported in one line, exit status 2."""


# ------------------------------------------------------------------ argument types


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, whatever the sub-command."""

    def error(self, message):
        # argparse prints the whole usage block; one line is easier to read and grep.
        self.exit(2, f"skautosearch: error: {message} (see {self.prog} --help)\n")


def comma_list(choices):
    """Parse ``a,b,c`` into a list of distinct names from ``choices``."""
    def parse(text):
        names = [n.strip().lower() for n in text.split(",") if n.strip()]
        unknown = [n for n in names if n not in choices]
        if unknown or not names:
            raise argparse.ArgumentTypeError(
                f"unknown strategy {', '.join(unknown) or repr(text)}; choose from "
                f"{','.join(choices)}")
        return list(dict.fromkeys(names))
    return parse


def _integer(text, message="{text!r} is not an integer"):
    """``int(text)``, or argparse's error with ``message`` (formatted with ``text``)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(message.format(text=text)) from None


def positive_int(minimum):
    """Parse an integer of at least ``minimum``."""
    def parse(text):
        value = _integer(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below {minimum}")
        return value
    return parse


def n_jobs(text):
    """Parse ``--n-jobs``: a non-zero integer (-1 is every core)."""
    value = _integer(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 jobs; use 1, 2, ... or -1 for all cores")
    return value


def seed(text):
    """Parse ``--seed``: an integer NumPy accepts as a seed."""
    value = _integer(text, "invalid int value: {text!r}")
    if not 0 <= value <= _MAX_SEED:
        raise argparse.ArgumentTypeError(f"{value} is not in [0, {_MAX_SEED}]")
    return value


def add_common_options(parser, n_jobs_default=1, n_jobs_why=""):
    """Options every running sub-command takes: jobs, seed, output, progress, debug."""
    parser.add_argument(
        "--n-jobs", type=n_jobs, default=n_jobs_default, metavar="N",
        help=f"parallel fits in each search; -1 uses all cores (default: "
             f"%(default)s{n_jobs_why})")
    parser.add_argument(
        "--seed", type=seed, default=0,
        help="random seed of the split, the folds and every search "
             "(default: %(default)s)")
    parser.add_argument(
        "--output", default="skautosearch-output", metavar="FOLDER",
        help="folder for the results, created if needed (default: %(default)s)")
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false",
        help="do not draw progress bars")
    add_debug_option(parser)


def add_debug_option(parser):
    parser.add_argument(
        "--debug", action="store_true",
        help="on an error, print the whole traceback instead of one line")


def check_output_folder(path):
    """Refuse an ``--output`` that is a file, before anything is fitted."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise UsageError(f"--output {path!r} is a file, not a folder")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.exists(path) and not os.path.isdir(parent):
        raise UsageError(f"--output {path!r}: its parent folder {parent!r} does not "
                         "exist")


# ------------------------------------------------------------------------ progress


def stage(number, total, text, eta=None):
    """Print one line announcing a stage of the run, with the time left if known."""
    left = "" if eta is None else f" (about {format_seconds(eta)} left)"
    print(f"[{number}/{total}] {text}{left}", flush=True)


def format_seconds(seconds):
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60} min {seconds % 60:02d} s" if seconds >= 60 else f"{seconds} s"


def fit_with_progress(label, search, X, y, n_fits, show_progress):
    """Fit ``search`` with a tqdm bar over its fits; report its warnings once each.

    Returns the wall time of the fit, in seconds.
    """
    from skautosearch._progress import ProgressCallback

    bar = ProgressCallback(n_fits, desc=f"  {label:<18}", disable=not show_progress)
    bar.on_batch_start(search, 0)  # start the clock (and the bar) now
    local = LocalCallback(bar)
    if hasattr(search, "progress"):  # our chunked scikit-learn searches
        search.progress = local
    else:
        search.set_params(callbacks=[local])
    start = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            # scikit-learn's Parallel gives the workers these filters; what a worker
            # warns it prints itself, once per fit under "always". Deprecations are for
            # the libraries' authors (report_warnings leaves them out too): a budgeted
            # search's workers printed hundreds of Keras's NumPy-copy deprecations.
            for category in (DeprecationWarning, PendingDeprecationWarning):
                warnings.filterwarnings("ignore", category=category)
            search.fit(X, y)
    finally:
        bar.close()
    report_warnings(label, caught)
    return time.perf_counter() - start


class LocalCallback:
    """A search callback that stays in this process: it pickles to a no-op.

    scikit-learn sends the search itself to every joblib worker (``caller=self``),
    callbacks included; a progress bar holds a terminal stream that cannot be
    pickled, and a worker has no business drawing it anyway.
    """

    def __init__(self, callback):
        self.callback = callback

    def __reduce__(self):
        return (LocalCallback, (None,))

    def on_batch_start(self, search, n_fits):
        if self.callback is not None:
            self.callback.on_batch_start(search, n_fits)

    def __call__(self, search, results):
        return None if self.callback is None else self.callback(search, results)


def report_warnings(label, caught):
    """One line per distinct warning, with its count, instead of one per fit.

    Deprecation warnings are for the libraries' authors, not for the user of the
    command: they are left out.
    """
    counts = {}
    for w in caught:
        if issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            continue
        first = str(w.message).strip().splitlines()[0] if str(w.message).strip() else ""
        key = f"{w.category.__name__}: {first}"
        counts[key] = counts.get(key, 0) + 1
    for key, n in counts.items():
        print(f"{label}: {n} x {key}", file=sys.stderr)


# -------------------------------------------------------------------------- output


def jsonable(value):
    """``value`` with NumPy scalars, tuples and non-finite floats made JSON-safe."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def write_csv(path, rows, first=()):
    """Rows (dicts) as a CSV file; lists and dicts as JSON cells."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    columns = [c for c in first if c in columns] + [c for c in columns if c not in first]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (json.dumps(v) if isinstance(v, (list, dict)) else v)
                             for k, v in row.items()})


def write_json(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(jsonable(data), f, indent=2)


def search_record(search):
    """The columns of a fitted search's ``cv_results_`` the report draws from.

    Parameters, scores (mean, std, per split), the strategy columns and the cost
    means: enough for :mod:`skautosearch.plot` to redraw every figure from
    ``results.json`` alone (``skautosearch report``).
    """
    from skautosearch.results import STRATEGY_COLUMNS

    res = search.cv_results_
    keep = [k for k in res if k == "params" or k in STRATEGY_COLUMNS
            or k.startswith(("mean_", "std_", "rank_test_"))
            or (k.startswith("split") and "_test_" in k)]
    scores = np.asarray(res["mean_test_score"], dtype=float)
    return {
        "cv_results": {k: jsonable(list(res[k])) for k in keep},
        "best_index": int(np.nanargmax(scores)) if np.isfinite(scores).any() else None,
        "n_splits": int(search.n_splits_),
        "objectives": dict(getattr(search, "objectives", None) or {}) or None,
    }


def fits_to_reach(results, n_splits, target):
    """Fits made when the best-so-far score first reached ``target`` (or None)."""
    scores = np.asarray(results["mean_test_score"], dtype=float)
    best = np.fmax.accumulate(scores)
    reached = np.flatnonzero(best >= target - 1e-9)
    return int((reached[0] + 1) * n_splits) if reached.size else None


def format_table(headers, body):
    """A plain-text table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])]
                     + [line(b) for b in body])
