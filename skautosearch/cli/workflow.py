"""``skautosearch`` (``skautosearch run``): the whole workflow on a Keras model.

1. **Architecture search**: ``GridSearchCV`` over the CIFAR-10 workflow's grid
   against :class:`~skautosearch.GeneticSearchCV`,
   :class:`~skautosearch.AnnealingSearchCV` and
   :class:`~skautosearch.BayesianSearchCV` over a wider space, each with the
   grid's number of candidates and the same folds.
2. **Training hyper-parameters** (learning rate, batch size, dropout) of the best
   architecture, by a second (Bayesian) search, whose refit is the final model.
3. **Compression** of that model: structured pruning, int8 quantization, both.
4. **Report**: results (CSV, JSON), figures and ``report.html`` in ``--output``.

The model is a CNN on scikit-learn's digits as 8x8x1 images (bundled, offline),
or with ``--model lstm`` an LSTM on IMDB reviews (or, offline without a cached
``imdb.npz``, on synthetic token sequences).
"""

import dataclasses
import os
import time

import numpy as np

from . import report, spaces
from ._common import (
    LABELS,
    UsageError,
    add_common_options,
    check_output_folder,
    comma_list,
    fit_with_progress,
    fits_to_reach,
    format_seconds,
    format_table,
    jsonable,
    positive_int,
    search_record,
    stage,
    write_csv,
    write_json,
)
from .recipes import RECIPES, estimator_for, load_data

ARCHITECTURE_STRATEGIES = ("grid", "random", "genetic", "annealing", "bayes")
DEFAULT_STRATEGIES = ("grid", "genetic", "annealing", "bayes")
_STAGES = 4
# The batch the latency column is for: compression_report_'s latency_s_per_sample
# is documented as per row of a 1,024-row predict_on_batch call.
_BATCH_ROWS = 1024


# ------------------------------------------------------------------------ searches


def _strategy_params(name, budget):
    """Batch sizes that leave room for several batches within ``budget``."""
    half = max(2, budget // 2)
    if name == "genetic":
        return {"population_size": half, "elitism": min(2, half - 1)}
    if name == "annealing":
        return {"n_chains": 2, "n_initial_points": half}
    if name == "bayes":
        return {"n_initial_points": half, "n_points": 2}
    return {}


def _architecture_searches(args, recipe, estimator, cv, budget, objectives):
    import skautosearch
    from skautosearch.cli._searches import ChunkedGridSearchCV, ChunkedRandomizedSearchCV

    common = dict(cv=cv, n_jobs=args.n_jobs, refit=False, error_score=np.nan)
    searches = {}
    for name in args.strategies:
        if name == "grid":
            search = ChunkedGridSearchCV(estimator, recipe.grid, **common)
        elif name == "random":
            search = ChunkedRandomizedSearchCV(estimator, recipe.space, n_iter=budget,
                                               random_state=args.seed, **common)
        else:
            search = getattr(skautosearch, LABELS[name])(
                estimator, recipe.space, n_iter=budget, random_state=args.seed,
                objectives=objectives, **common, **_strategy_params(name, budget),
                **_budget_params(args, recipe))
        if hasattr(search, "chunk_size"):  # a Keras fit takes seconds: a chunk each
            search.chunk_size = 1
        searches[name] = search
    return searches


def _budget_params(args, recipe):
    """``--budget``: successive halving over epochs, promoted models training on."""
    if not getattr(args, "budget", False):
        return {}
    return {"resource": "epochs", "min_resources": 1, "max_resources": recipe.epochs,
            "factor": 3, "n_brackets": 1}


def _n_candidates(search):
    from sklearn.model_selection import ParameterGrid

    return len(ParameterGrid(search.param_grid)) if hasattr(search, "param_grid") \
        else search.n_iter


# ----------------------------------------------------------------------------- run


class _Clock:
    """Seconds per fit so far, for the time left in the run."""

    def __init__(self, seconds_per_fit):
        self.start = time.perf_counter()
        self.seconds = 0.0
        self.fits = 0
        self.prior = seconds_per_fit

    def add(self, seconds, fits):
        self.seconds += seconds
        self.fits += fits

    def left(self, fits):
        rate = self.seconds / self.fits if self.fits else self.prior
        return rate * fits

    def elapsed(self):
        return time.perf_counter() - self.start


def _short(params):
    return ", ".join(f"{k.split('__')[-1]}={_fmt(v)}" for k, v in params.items())


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _stage_architecture(args, recipe, searches, X, y, clock, n_splits, later_fits):
    """Stage 1: every architecture search, one bar each; their summary rows."""
    plans = {name: _n_candidates(s) * n_splits for name, s in searches.items()}
    described = ", ".join(f"{LABELS[n]} ({_n_candidates(s)} candidates)"
                          for n, s in searches.items())
    stage(1, _STAGES, f"Architecture search, {n_splits}-fold CV: {described}",
          clock.left(sum(plans.values()) + later_fits))
    rows = []
    for i, (name, search) in enumerate(searches.items()):
        seconds = fit_with_progress(LABELS[name], search, X, y, plans[name],
                                    args.progress)
        n_fits = len(search.cv_results_["params"]) * n_splits
        clock.add(seconds, n_fits)
        rest = sum(list(plans.values())[i + 1:]) + later_fits
        print(f"  {LABELS[name]}: best {search.best_score_:.4f} "
              f"({_short(search.best_params_)}), {n_fits} fits in "
              f"{format_seconds(seconds)}; about {format_seconds(clock.left(rest))} "
              "left in the run", flush=True)
        rows.append({"method": LABELS[name], "best_cv_score": float(search.best_score_),
                     "n_candidates": len(search.cv_results_["params"]),
                     "n_fits": n_fits, "wall_time_s": round(seconds, 3),
                     "best_params": jsonable(search.best_params_)})
    _fits_to_grid_best(searches, rows, n_splits)
    return rows


def _fits_to_grid_best(searches, rows, n_splits):
    grid = searches.get("grid")
    for row, search in zip(rows, searches.values()):
        row["fits_to_grid_best"] = None if grid is None else fits_to_reach(
            search.cv_results_, n_splits, grid.best_score_)


def _winner(searches):
    """The label and parameters of the best architecture over every search."""
    name = max(searches, key=lambda n: searches[n].best_score_)  # first on ties
    return name, dict(searches[name].best_params_)


def _stage_training(args, recipe, estimator, params, cv, X, y, clock, n_splits):
    from skautosearch import BayesianSearchCV

    fits = recipe.n_training * n_splits
    stage(2, _STAGES, f"Training hyper-parameters of the best architecture "
          f"({_short(params)}): BayesianSearchCV over "
          f"{', '.join(k.split('__')[-1] for k in recipe.training)}, "
          f"{recipe.n_training} candidates", clock.left(fits + 4 * n_splits))
    search = BayesianSearchCV(
        estimator.set_params(**params), recipe.training, n_iter=recipe.n_training,
        cv=cv, n_jobs=args.n_jobs, refit=True, random_state=args.seed,
        error_score=np.nan, **_strategy_params("bayes", recipe.n_training))
    seconds = fit_with_progress("BayesianSearchCV", search, X, y, fits, args.progress)
    clock.add(seconds, fits)
    print(f"  BayesianSearchCV: best {search.best_score_:.4f} "
          f"({_short(search.best_params_)}) in {format_seconds(seconds)}", flush=True)
    return search, seconds


def _stage_compression(args, recipe, final, X, y, X_test, y_test, clock):
    from sklearn.frozen import FrozenEstimator

    from skautosearch.compression import Quantization, StructuredPruning

    stage(3, _STAGES, "Compression of the final model: structured pruning (half the "
          "units and filters, then fine-tuning), int8 quantization, both",
          clock.left(4 * 2))
    variants = {
        "structured pruning (50 %)": lambda: StructuredPruning(
            FrozenEstimator(final), fraction=0.5, fine_tune_epochs=recipe.epochs,
            validation_fraction=None, random_state=args.seed),
        "int8 quantization": lambda: Quantization(
            FrozenEstimator(final), dtype="int8", validation_fraction=None,
            random_state=args.seed),
    }
    fitted, rows, base = {}, [], None
    for name, make in variants.items():
        fitted[name], row = _compress(name, make, X, y, X_test, y_test)
        rows.append(row)
        if fitted[name] is not None and base is None:
            base = fitted[name].compression_report_["before"]
    pruned = fitted["structured pruning (50 %)"]
    combined = "pruning + int8 quantization"
    if pruned is not None:
        rows.append(_compress(combined, lambda: Quantization(
            FrozenEstimator(pruned), dtype="int8", validation_fraction=None,
            random_state=args.seed), X, y, X_test, y_test)[1])
    else:
        rows.append({"model": combined, "note": "needs the pruned model"})
    uncompressed = {"model": "uncompressed", **_stats(base, final.score(X_test, y_test))}
    return _relative([uncompressed] + rows)


def _compress(name, make, X, y, X_test, y_test):
    start = time.perf_counter()
    try:
        compressor = make().fit(X, y)
    except (ValueError, TypeError) as exc:  # e.g. no layer pruning can shrink
        first = str(exc).strip().splitlines()[0]
        print(f"  {name}: not applicable ({first})", flush=True)
        return None, {"model": name, "note": f"not applicable: {first}"}
    stats = _stats(compressor.compression_report_["after"],
                   compressor.score(X_test, y_test))
    print(f"  {name}: test accuracy {stats['test_accuracy']:.4f}, "
          f"{stats['size_bytes']:,} bytes, {stats['n_params']:,} parameters "
          f"({time.perf_counter() - start:.0f} s)", flush=True)
    return compressor, {"model": name, **stats}


def _stats(stats, accuracy):
    if stats is None:
        return {"test_accuracy": float(accuracy)}
    return {"test_accuracy": float(accuracy), "size_bytes": int(stats["keras_bytes"]),
            "n_params": int(stats["n_params"]),
            "n_nonzero_params": int(stats["n_nonzero_params"]),
            "batch_latency_ms": 1000 * _BATCH_ROWS * stats["latency_s_per_sample"]}


def _relative(rows):
    """Each model's size and latency against the uncompressed one."""
    base = rows[0]
    for row in rows:
        for key, out in (("size_bytes", "size_ratio"), ("batch_latency_ms", "speed_up")):
            if key in row and key in base:
                row[out] = (row[key] / base[key] if out == "size_ratio"
                            else base[key] / row[key])
        if "test_accuracy" in row:
            row["accuracy_change"] = row["test_accuracy"] - base["test_accuracy"]
    return rows


def _mark_pareto(rows):
    """Flag the compression rows on the accuracy/size Pareto front."""
    from skautosearch.pareto import pareto_front

    measured = [r for r in rows if "size_bytes" in r]
    front = set(pareto_front([[-r["test_accuracy"], r["size_bytes"]]
                              for r in measured]).tolist())
    for i, row in enumerate(measured):
        row["pareto"] = i in front


# ------------------------------------------------------------------------- tables


def architecture_table(rows):
    """The stage-1 comparison as text."""
    no_grid = not any(r["method"] == "GridSearchCV" for r in rows)
    body = []
    for r in rows:
        reach = r["fits_to_grid_best"]
        reach = "n/a (no grid)" if no_grid else (
            "not reached" if reach is None else str(reach))
        body.append([r["method"], f"{r['best_cv_score']:.4f}", str(r["n_fits"]),
                     reach, f"{r['wall_time_s']:.1f}"])
    return format_table(["architecture search", "best CV accuracy", "fits",
                         "fits to grid best", "time (s)"], body)


def compression_table(rows):
    """The stage-3 comparison as text."""
    notes = any("note" in r for r in rows)
    body = []
    for r in rows:
        note = [r.get("note", "")] if notes else []
        if "size_bytes" not in r:
            body.append([r["model"], "", "", "", "", ""] + note)
            continue
        body.append([r["model"] + (" *" if r.get("pareto") else ""),
                     f"{r['test_accuracy']:.4f}", f"{r['size_bytes']:,}",
                     f"{r['size_ratio']:.2f}", f"{r['n_params']:,}",
                     f"{r['batch_latency_ms']:.2f}"] + note)
    table = format_table(["model", "test accuracy", "size (bytes)", "size ratio",
                          "parameters", "latency (ms/batch)"]
                         + (["note"] if notes else []), body)
    if any(r.get("pareto") for r in rows):
        table += "\n* on the accuracy/size Pareto front of these models"
    return table


# --------------------------------------------------------------------------- main


def add_parser(subparsers):
    """Add the ``run`` sub-command (also the default) to ``subparsers``."""
    parser = subparsers.add_parser(
        "run", help="the whole workflow (the default): architecture search, "
                    "training hyper-parameters, compression, report",
        description="The whole workflow on a Keras model: architecture search "
                    "(GridSearchCV against the genetic, annealing and Bayesian "
                    "searches, same fits budget), the training hyper-parameters of "
                    "the best architecture, compression of the final model, and "
                    "report.html. 'skautosearch' without a sub-command runs it.")
    add_options(parser)
    return parser


def add_options(parser):
    """The workflow's options (on ``skautosearch`` itself and on ``run``)."""
    parser.add_argument(
        "--model", choices=sorted(RECIPES), default="cnn",
        help="cnn: a CNN on digits as 8x8x1 images; lstm: an LSTM on IMDB (offline: "
             "synthetic token sequences) (default: %(default)s)")
    parser.add_argument(
        "--strategies", type=comma_list(ARCHITECTURE_STRATEGIES),
        default=list(DEFAULT_STRATEGIES), metavar="LIST",
        help="comma-separated architecture searches (default: "
             f"{','.join(DEFAULT_STRATEGIES)}; random also possible)")
    parser.add_argument(
        "--n-iter", type=positive_int(1), metavar="N",
        help="candidates of each non-grid architecture search (default: the grid's "
             "size, so that every search has the same fits budget)")
    parser.add_argument(
        "--cv", type=positive_int(2), default=2, metavar="K",
        help="cross-validation folds, stratified (default: %(default)s)")
    spaces.add_options(parser, "the recipe's architecture space for every search, "
                               "the grid included (names are build_cnn's or "
                               "build_lstm_classifier's arguments: n_blocks, filters_1, "
                               "...); GridSearchCV needs lists, not int() or real()")
    parser.add_argument(
        "--objectives", action="store_true",
        help="search architectures for accuracy and model size (size_bytes) at once, "
             "and show the accuracy/size Pareto fronts of the architectures and of "
             "the compressed models")
    parser.add_argument(
        "--quick", action="store_true",
        help="a tiny run (300 rows, tiny models) to check the set-up: seconds a fit")
    parser.add_argument(
        "--budget", action="store_true",
        help="the genetic, annealing and Bayesian architecture searches train each "
             "batch's candidates for 1 epoch first and only the best third on, "
             "continuing their training (successive halving over epochs)")
    # Most of a small Keras fit is single-threaded set-up (tracing): two worker
    # processes finish many fits sooner on two cores (measured here: 1.4x-1.9x on
    # 25 fits of a small Keras model).
    add_common_options(parser, n_jobs_default=2,
                       n_jobs_why="; most of a small Keras fit is single-threaded")


def run(args, command):
    """Run the workflow with parsed ``args``; return the exit status."""
    check_output_folder(args.output)
    lines = spaces.read(args)
    entries = spaces.parse(lines)  # a bad line is refused before TensorFlow loads
    from .estimators import quiet_tensorflow

    quiet_tensorflow()
    start = time.perf_counter()
    try:
        import skautosearch.keras  # noqa: F401
    except ImportError as exc:
        raise UsageError("the workflow needs the keras extra: pip install "
                         f"'skautosearch[keras]' ({exc})") from None
    return _run(args, command, start, lines, entries)


def _run(args, command, start, lines, entries):
    from sklearn.model_selection import StratifiedKFold

    recipe = RECIPES[args.model](args.quick)
    estimator = estimator_for(recipe, args.seed)
    recipe = _with_space(args, recipe, estimator, entries)
    X, X_test, y, y_test, note = load_data(recipe, args.seed)
    print(f"Data: {note}; {len(X)} training and {len(X_test)} test rows "
          f"(TensorFlow loaded in {format_seconds(time.perf_counter() - start)}).")
    cv = StratifiedKFold(args.cv, shuffle=True, random_state=args.seed)
    grid_size = _grid_size(recipe.grid)
    budget = args.n_iter or grid_size
    objectives = {"score": "max", "size_bytes": "min"} if args.objectives else None
    searches = _architecture_searches(args, recipe, estimator, cv, budget, objectives)
    clock = _Clock(recipe.seconds_per_fit)
    later = (recipe.n_training + 4) * args.cv  # stage 2, the refit and compression
    arch_rows = _stage_architecture(args, recipe, searches, X, y, clock, args.cv, later)
    print(architecture_table(arch_rows))
    winner, params = _winner(searches)
    training, _ = _stage_training(args, recipe, estimator, params, cv, X, y, clock,
                                  args.cv)
    final = training.best_estimator_
    rows = _stage_compression(args, recipe, final, X, y, X_test, y_test, clock)
    if args.objectives:
        _mark_pareto(rows)
    print(compression_table(rows))
    stage(4, _STAGES, "Report")
    results = {
        "kind": "workflow", "command": command, "config": dict(vars(args)),
        "data": {"note": note, "n_train": len(X), "n_test": len(X_test)},
        "architecture": {
            "summary": arch_rows,
            "searches": {LABELS[n]: search_record(s) for n, s in searches.items()},
            "grid_size": grid_size, "budget": budget,
            "space_lines": [text for _, text in lines] or None,
        },
        "winner": {"search": LABELS[winner], "params": jsonable(params),
                   "cv_score": float(searches[winner].best_score_)},
        "training": {"search": search_record(training),
                     "best_params": jsonable(training.best_params_),
                     "best_cv_score": float(training.best_score_),
                     "final_params": _final_params(recipe, final, params),
                     "test_score": float(final.score(X_test, y_test))},
        "compression": rows,
        "objectives": ({"score": "max", "size_bytes": "min"}
                       if args.objectives else None),
        "wall_time_s": time.perf_counter() - start,
    }
    written = _write_outputs(args.output, results)
    print(f"Final model: {_short(results['training']['final_params'])}; test accuracy "
          f"{results['training']['test_score']:.4f}.")
    print(f"Wrote {', '.join(written)} to {os.path.abspath(args.output)} in "
          f"{format_seconds(time.perf_counter() - start)}; open report.html in a browser.")
    return 0


def _with_space(args, recipe, estimator, entries):
    """``recipe`` searching the space of ``--space``/``--param``, if given.

    Every architecture search gets that space, GridSearchCV as its grids (one per
    activity pattern of the conditions). Without grid in ``--strategies``, the
    space's grid (or, for a space with ranges, the recipe's) still sets the
    default budget. The training search is unchanged.
    """
    if not entries:
        return recipe
    space, sources = spaces.for_estimator(entries, estimator)
    if "grid" in args.strategies:
        grid = spaces.grid(space, sources)
    else:  # the grid's size is still the default budget, if the space has one
        grid = recipe.grid if not _is_finite(space) else spaces.grid(space, sources)
    return dataclasses.replace(recipe, space=space, grid=grid)


def _is_finite(space):
    from skautosearch import Conditional

    return all(isinstance(d.dimension if isinstance(d, Conditional) else d, list)
               for d in space.values())


def _grid_size(grid):
    from sklearn.model_selection import ParameterGrid

    return len(ParameterGrid(grid))


def _final_params(recipe, final, winner):
    """Every searched parameter of the final model, defaults included.

    A conditional parameter the winning architecture leaves inactive is left out.
    """
    from skautosearch import Conditional

    names = [n for grid in recipe.grid for n in grid] + [*recipe.space, *recipe.training]
    names = [n for n in dict.fromkeys(names)
             if not (isinstance(recipe.space.get(n), Conditional) and n not in winner)]
    params = final.get_params()
    return jsonable({name: params[name] for name in names if name in params})


def _write_outputs(out, results):
    from skautosearch.results import STRATEGY_COLUMNS

    os.makedirs(out, exist_ok=True)
    write_csv(os.path.join(out, "summary.csv"), results["architecture"]["summary"])
    rows = []
    for label, record in results["architecture"]["searches"].items():
        rows += _long_rows(label, record)
    rows += _long_rows("BayesianSearchCV (training)", results["training"]["search"])
    write_csv(os.path.join(out, "cv_results.csv"), rows,
              first=("method", "candidate") + STRATEGY_COLUMNS)
    write_csv(os.path.join(out, "compression.csv"), results["compression"])
    write_json(os.path.join(out, "results.json"), results)
    written = ["summary.csv", "cv_results.csv", "compression.csv", "results.json"]
    return written + report.write_report(out)


def _long_rows(label, record):
    """One row per candidate: its parameters and the scalar columns."""
    res = record["cv_results"]
    rows = []
    for i, params in enumerate(res["params"]):
        row = {"method": label, "candidate": i, **params}
        row.update({k: v[i] for k, v in res.items() if k != "params"})
        rows.append(row)
    return rows
