"""``skautosearch compare``: the searches side by side on one tabular problem.

:class:`~skautosearch.GeneticSearchCV`, :class:`~skautosearch.AnnealingSearchCV`
and :class:`~skautosearch.BayesianSearchCV` against ``GridSearchCV`` and
``RandomizedSearchCV`` over the same space, for one estimator on a bundled data
set or a CSV file; prints a comparison table and writes the results (CSV, JSON),
figures and ``report.html`` into ``--output``.
"""

import argparse
import os
import textwrap

import numpy as np

from . import report, spaces
from ._common import (
    LABELS,
    STRATEGIES,
    UsageError,
    add_common_options,
    check_output_folder,
    comma_list,
    fit_with_progress,
    fits_to_reach,
    format_table,
    jsonable,
    positive_int,
    search_record,
    write_csv,
    write_json,
)
from .data import DATASETS, MAX_CLASSES, TEST_SIZE, load_data
from .estimators import ESTIMATORS, distributions, int_range, make_grid

# ------------------------------------------------------------------------ searches


def _pipeline(spec, data, estimator):
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = "passthrough" if not spec.scale else StandardScaler()
    if data.categorical:
        n_features = data.X.shape[1]
        prep = ColumnTransformer([
            ("text", OneHotEncoder(handle_unknown="ignore"), data.categorical),
            ("numbers", numeric,
             [j for j in range(n_features) if j not in data.categorical]),
        ], sparse_threshold=0)
    else:
        prep = numeric
    return Pipeline([("prep", prep), ("model", estimator)])


def _make_searches(args, spec, data, X_train, entries):
    """One unfitted search per strategy, labelled, over the same space."""
    from sklearn.model_selection import KFold, ParameterGrid, StratifiedKFold

    from ._searches import ChunkedGridSearchCV

    model = spec.make(data.task, args.seed, args.quick)
    space = _space(args, spec, data, X_train, model, entries)
    estimator = _pipeline(spec, data, model)
    space = spaces.prefixed(space, "model__")
    grid = make_grid(space, _grid_size(spec, args.quick))
    space = distributions(space)
    splitter = StratifiedKFold if data.task == "classification" else KFold
    cv = splitter(args.cv, shuffle=True, random_state=args.seed)
    n_iter = args.n_iter or max(8, round(len(ParameterGrid(grid)) / 3))
    common = dict(cv=cv, n_jobs=args.n_jobs, refit=True, error_score=np.nan)
    searches = {}
    for name in args.strategies:
        if name == "grid":
            searches[name] = ChunkedGridSearchCV(estimator, grid, **common)
        else:
            cls = _search_class(name)
            space_for = space if name == "random" else _ours(space)
            ours = {} if name == "random" else _reliability_params(args, name)
            searches[name] = cls(estimator, space_for, n_iter=n_iter,
                                 random_state=args.seed, **common,
                                 **_strategy_params(name, n_iter), **ours)
    return searches, grid, n_iter


def _space(args, spec, data, X_train, model, entries):
    """The space searched: ``--space``/``--param`` if given, else the estimator's own."""
    if entries:
        return spaces.for_estimator(entries, model)[0]
    space = spec.space_for(data.task)
    if "n_neighbors" in space:  # no more neighbours than rows in a training fold
        n_fit = len(X_train) * (args.cv - 1) // args.cv
        space = {**space, "n_neighbors": int_range(1, max(2, min(30, n_fit - 1)))}
    return space


def _reliability_params(args, name):
    """``--checkpoint``: one journal per search under the output folder."""
    if not args.checkpoint:
        return {}
    folder = os.path.join(args.output, "checkpoints")
    os.makedirs(folder, exist_ok=True)
    return {"checkpoint": os.path.join(folder, f"{name}.jsonl")}


def _strategy_params(name, n_iter):
    if name == "genetic":
        # At least two generations on a small budget: a population as large as the
        # budget is a random sample with no evolution. On the default run (digits,
        # 6 seeds) populations of 6 and 8 gave the same median best score.
        return {"population_size": max(4, min(8, n_iter // 2))}
    return {}


def _grid_size(spec, quick):
    if spec.keras:  # a Keras fit costs about a second: keep the grid small
        return 8 if quick else 18
    return 16 if quick else 36


def _ours(distributions):
    """The same space for our searches; tuple-valued choices as skopt Categorical.

    skautosearch 0.1.0.dev0's space parser reads a plain list of tuples such as
    ``[(32,), (64, 32)]`` as an array and fails; ``Categorical`` is read as choices.
    """
    from skautosearch import Categorical

    return {name: Categorical(values)
            if isinstance(values, list) and any(isinstance(v, tuple) for v in values)
            else values for name, values in distributions.items()}


def _search_class(name):
    if name == "random":
        from ._searches import ChunkedRandomizedSearchCV

        return ChunkedRandomizedSearchCV
    import skautosearch

    return getattr(skautosearch, LABELS[name])


# ----------------------------------------------------------------------------- run


def _fit_all(searches, X_train, y_train, show_progress):
    from sklearn.model_selection import ParameterGrid

    fitted = {}
    for name, search in searches.items():
        n_candidates = (len(ParameterGrid(search.param_grid)) if name == "grid"
                        else search.n_iter)
        n_fits = n_candidates * search.cv.get_n_splits()
        search.wall_time_ = fit_with_progress(LABELS[name], search, X_train, y_train,
                                              n_fits, show_progress)
        fitted[name] = search
    return fitted


def _summary(fitted, X_test, y_test):
    grid_best = fitted["grid"].best_score_ if "grid" in fitted else None
    rows = []
    for name, search in fitted.items():
        n_candidates = len(search.cv_results_["params"])
        rows.append({
            "method": LABELS[name],
            "best_cv_score": float(search.best_score_),
            "test_score": float(search.score(X_test, y_test)),
            "n_candidates": n_candidates,
            "n_fits": n_candidates * search.n_splits_,
            "fits_to_grid_best": (None if grid_best is None else fits_to_reach(
                search.cv_results_, search.n_splits_, grid_best)),
            "wall_time_s": round(search.wall_time_, 3),
            "best_params": jsonable(search.best_params_),
        })
    return rows


def _table(rows):
    headers = ["method", "best CV score", "test score", "fits",
               "fits to grid best", "time (s)"]
    no_grid = not any(r["method"] == "GridSearchCV" for r in rows)
    body = []
    for r in rows:
        reach = r["fits_to_grid_best"]
        reach = "n/a (no grid)" if no_grid else (
            "not reached" if reach is None else str(reach))
        body.append([r["method"], f"{r['best_cv_score']:.4f}",
                     f"{r['test_score']:.4f}", str(r["n_fits"]), reach,
                     f"{r['wall_time_s']:.1f}"])
    return format_table(headers, body)


def _result_rows(fitted):
    """Every candidate of every search, long format, JSON-ready."""
    from skautosearch.results import STRATEGY_COLUMNS, convergence

    rows = []
    for name, search in fitted.items():
        res = search.cv_results_
        n_fits, best = convergence(search)
        for i, params in enumerate(res["params"]):
            row = {"method": LABELS[name], "candidate": i, "n_fits": int(n_fits[i])}
            row.update({col: jsonable(res[col][i])
                        for col in STRATEGY_COLUMNS if col in res})
            row.update({k: jsonable(v) for k, v in params.items()})
            row.update({
                "mean_test_score": jsonable(float(res["mean_test_score"][i])),
                "std_test_score": jsonable(float(res["std_test_score"][i])),
                "rank_test_score": int(res["rank_test_score"][i]),
                "best_so_far": jsonable(float(best[i])),
                "mean_fit_time": float(res["mean_fit_time"][i]),
            })
            rows.append(row)
    return rows


def _write_outputs(out, results, fitted):
    from skautosearch.results import STRATEGY_COLUMNS

    os.makedirs(out, exist_ok=True)
    write_csv(os.path.join(out, "summary.csv"), results["summary"])
    write_csv(os.path.join(out, "cv_results.csv"), results["cv_results"],
              first=("method", "candidate", "n_fits") + STRATEGY_COLUMNS)
    write_json(os.path.join(out, "results.json"), results)
    return ["summary.csv", "cv_results.csv", "results.json"] + report.write_report(out)


# ---------------------------------------------------------------------- arguments


def add_parser(subparsers):
    """Add the ``compare`` sub-command to ``subparsers``; return its parser."""
    description = textwrap.fill(
        "Compare GeneticSearchCV, AnnealingSearchCV and BayesianSearchCV with "
        "GridSearchCV and RandomizedSearchCV on one dataset, one estimator and one "
        "search space. Prints a table (best CV score, test score on a held-out 25% "
        "split, number of fits, fits needed to reach GridSearchCV's best CV score, "
        "wall time) and writes summary.csv, cv_results.csv, results.json, the "
        "figures and report.html into --output. GridSearchCV evaluates a grid over "
        "the space; the others draw --n-iter candidates from it.", 79)
    estimators = "\n".join(f"  {name:<18} {spec.help}"
                           for name, spec in ESTIMATORS.items())
    parser = subparsers.add_parser(
        "compare", help="the searches side by side on a tabular data set or a CSV file",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"estimators (--estimator NAME):\n{estimators}\n\nexamples:\n"
               "  skautosearch compare                 digits, SVM, all five searches\n"
               "  skautosearch compare --quick --dataset wine --estimator knn\n"
               "  skautosearch compare --dataset data.csv --target label --encode\n"
               "  skautosearch compare --estimator svm --param 'kernel=[rbf, poly]' \\\n"
               "      --param 'C=real(1e-2, 1e3, log)' --param 'degree=[2, 3] if "
               "kernel==poly'\n"
               "                                       a space of your own, conditional",
    )
    _add_options(parser)
    return parser


def _add_options(parser):
    parser.add_argument(
        "--dataset", default="digits", metavar="NAME_OR_CSV",
        help=f"a bundled scikit-learn dataset ({', '.join(DATASETS)}) or the path "
             "of a CSV file with a header row (default: %(default)s)")
    parser.add_argument(
        "--target", metavar="COLUMN",
        help="the target column of the CSV file given to --dataset (required then)")
    parser.add_argument(
        "--task", choices=["auto", "classification", "regression"], default="auto",
        help="auto treats text targets and integer targets with at most "
             f"{MAX_CLASSES} values as classes (default: %(default)s)")
    parser.add_argument(
        "--encode", action="store_true",
        help="one-hot encode non-numeric CSV feature columns (without it they are "
             "an error)")
    parser.add_argument(
        "--estimator", default="svm", choices=list(ESTIMATORS), metavar="NAME",
        help="the model and its search space, listed below (default: %(default)s)")
    spaces.add_options(parser, "the estimator's own (names are its parameters: C, "
                               "gamma, ...); int() and real() ranges get a grid of "
                               "points for GridSearchCV")
    parser.add_argument(
        "--strategies", type=comma_list(STRATEGIES), default=list(STRATEGIES),
        metavar="LIST",
        help=f"comma-separated searches to run (default: {','.join(STRATEGIES)}); "
             "without grid there is no 'fits to grid best'")
    parser.add_argument(
        "--n-iter", type=positive_int(1), metavar="N",
        help="candidates each non-grid search evaluates (default: a third of the "
             "grid's size, at least 8)")
    parser.add_argument(
        "--cv", type=positive_int(2), default=3, metavar="K",
        help="cross-validation folds, stratified for classification "
             "(default: %(default)s)")
    parser.add_argument(
        "--quick", action="store_true",
        help="a run of under a minute (longer for the Keras models): a 16-point "
             "grid instead of 36, shorter training for the boosting, MLP and Keras "
             "models")
    parser.add_argument(
        "--checkpoint", action="store_true",
        help="journal every fit of the genetic, annealing and bayes searches under "
             "OUTPUT/checkpoints/; after a crash, the same command resumes them "
             "without refitting what was journaled")
    add_common_options(parser)


# --------------------------------------------------------------------------- main


def run(args, command):
    """Run ``skautosearch compare`` with parsed ``args``; return the exit status."""
    from sklearn.model_selection import ParameterGrid, train_test_split

    check_output_folder(args.output)
    lines = spaces.read(args)
    entries = spaces.parse(lines)
    spec = ESTIMATORS[args.estimator]
    data = load_data(args)
    if spec.needs_images and not data.images:
        raise UsageError(f"--estimator {args.estimator} needs 8x8 images: use "
                         "--dataset digits")
    stratify = data.y if data.task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=TEST_SIZE, random_state=args.seed,
        stratify=stratify)
    searches, grid, n_iter = _make_searches(args, spec, data, X_train, entries)
    print(f"{data.name}: {data.X.shape[0]} rows, {data.X.shape[1]} features, "
          f"{data.task}; estimator {args.estimator}"
          f"{' (the space of --space/--param)' if lines else ''}; {args.cv}-fold CV; "
          f"grid of {len(ParameterGrid(grid))} points, n_iter={n_iter}")
    fitted = _fit_all(searches, X_train, y_train, args.progress)
    summary = _summary(fitted, X_test, y_test)
    print(_table(summary))
    config = dict(vars(args))
    config.update(task=data.task, n_iter=n_iter, grid=jsonable(grid),
                  n_train=len(y_train), n_test=len(y_test),
                  space_lines=[text for _, text in lines] or None)
    results = {
        "kind": "compare", "command": command, "config": config, "summary": summary,
        "cv_results": _result_rows(fitted),
        "searches": {LABELS[n]: search_record(s) for n, s in fitted.items()},
    }
    written = _write_outputs(args.output, results, fitted)
    print(f"wrote {', '.join(written)} to {os.path.abspath(args.output)}")
    return 0
