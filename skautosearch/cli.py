"""The ``skautosearch`` command: compare the searches on one problem, one budget.

``skautosearch`` (or ``python -m skautosearch``) with no arguments runs the
package's main job on the bundled digits data: :class:`~skautosearch.GeneticSearchCV`,
:class:`~skautosearch.AnnealingSearchCV` and :class:`~skautosearch.BayesianSearchCV`
against ``GridSearchCV`` and ``RandomizedSearchCV`` over the same search space,
then prints a comparison table and writes a convergence plot and the results
(CSV and JSON) into ``skautosearch-output/``.

Run ``skautosearch --help`` for the options.
"""

import argparse
import csv
import json
import math
import os
import sys
import textwrap
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import (
    GridSearchCV,
    ParameterGrid,
    ParameterSampler,
    RandomizedSearchCV,
)

__all__ = ["main"]

DATASETS = ("digits", "iris", "wine", "breast_cancer", "diabetes")
STRATEGIES = ("grid", "random", "genetic", "annealing", "bayes")
_LABELS = {
    "grid": "GridSearchCV",
    "random": "RandomizedSearchCV",
    "genetic": "GeneticSearchCV",
    "annealing": "AnnealingSearchCV",
    "bayes": "BayesianSearchCV",
}
_MAX_CLASSES = 20  # an integer target with more distinct values is a regression
_TEST_SIZE = 0.25
_MISSING = {"", "na", "nan", "n/a", "null", "none"}  # empty CSV cells, lower-cased


class UsageError(Exception):
    """A bad argument: reported in one line, exit status 2."""


# --------------------------------------------------------------------------- space
# A dimension is ("log", low, high), ("int", low, high) or ("cat", [values]).
# GridSearchCV gets a grid over the same ranges (geometric for "log"); every other
# search gets the scipy.stats distributions, so all five search the same space.


def _log(low, high):
    return ("log", low, high)


def _int(low, high):
    return ("int", low, high)


def _cat(*values):
    return ("cat", list(values))


def _distribution(dim):
    from scipy.stats import loguniform, randint

    kind = dim[0]
    if kind == "log":
        return loguniform(dim[1], dim[2])
    if kind == "int":
        return randint(dim[1], dim[2] + 1)
    return list(dim[1])


def _grid_values(dim, points):
    kind = dim[0]
    if kind == "log":
        return [float(f"{v:.3g}") for v in np.geomspace(dim[1], dim[2], points)]
    if kind == "int":
        return sorted({int(round(v)) for v in np.linspace(dim[1], dim[2], points)})
    return list(dim[1])


def _grid(space, max_size):
    """A grid over ``space`` with at most ``max_size`` points (and >= 2 per range)."""
    n_cat = math.prod(len(d[1]) for d in space.values() if d[0] == "cat")
    n_num = sum(d[0] != "cat" for d in space.values())
    points = max(2, int((max_size / n_cat) ** (1 / n_num))) if n_num else 0
    return {name: _grid_values(dim, points) for name, dim in space.items()}


# ---------------------------------------------------------------------- estimators


@dataclass
class _EstimatorSpec:
    help: str
    make: object  # (task, seed, quick) -> estimator
    space: dict
    scale: bool = True
    keras: bool = False
    needs_images: bool = False
    regression_space: dict = field(default=None)


def _svm(task, seed, quick):
    from sklearn.svm import SVC, SVR

    return SVC() if task == "classification" else SVR()


def _linear(task, seed, quick):
    from sklearn.linear_model import LogisticRegression, Ridge

    if task == "classification":
        return LogisticRegression(max_iter=2000)
    return Ridge()


def _knn(task, seed, quick):
    from sklearn.neighbors import KNeighborsClassifier, KNeighborsRegressor

    return KNeighborsClassifier() if task == "classification" else KNeighborsRegressor()


def _forest(task, seed, quick):
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

    cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
    return cls(random_state=seed)


def _boosting(task, seed, quick):
    from sklearn.ensemble import (
        HistGradientBoostingClassifier,
        HistGradientBoostingRegressor,
    )

    cls = (HistGradientBoostingClassifier if task == "classification"
           else HistGradientBoostingRegressor)
    return cls(max_iter=50 if quick else 100, random_state=seed)


def _mlp(task, seed, quick):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    cls = MLPClassifier if task == "classification" else MLPRegressor
    return cls(max_iter=100 if quick else 300, random_state=seed)


def _quiet_tensorflow():
    # TensorFlow's C++ start-up messages and retracing warnings drown the table.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def _keras(builder_name, task, seed, quick, **model_kwargs):
    _quiet_tensorflow()
    try:
        from skautosearch import keras as sk_keras
    except ImportError as exc:
        raise UsageError(
            "the Keras estimators need the keras extra: pip install "
            f"skautosearch[keras] ({exc})"
        ) from None
    builder = getattr(sk_keras, builder_name)
    # Every searched parameter is set here too: SciKeras lists routed parameters
    # (model__..., optimizer__...) in get_params only once they are set.
    common = dict(epochs=5 if quick else 15, batch_size=32, verbose=0,
                  random_state=seed, optimizer="adam", optimizer__learning_rate=1e-3,
                  **{f"model__{k}": v for k, v in model_kwargs.items()})
    if task == "classification":
        return sk_keras.KerasClassifier(
            builder, loss="sparse_categorical_crossentropy", **common)
    if builder_name == "build_cnn":
        raise UsageError("keras-cnn is a classifier; use keras-mlp for regression")
    return sk_keras.KerasRegressor(builder, loss="mse", model__task="regression",
                                   **common)


def _keras_mlp(task, seed, quick):
    return _keras("build_mlp", task, seed, quick, hidden_units=(32,), dropout=0.0)


def _keras_cnn(task, seed, quick):
    return _keras("build_cnn", task, seed, quick, input_shape=(8, 8, 1),
                  dense_units=32, n_blocks=1, filters_0=16, kernel_size=3)


ESTIMATORS = {
    "svm": _EstimatorSpec(
        "support vector machine, RBF kernel (SVC / SVR): C, gamma",
        _svm, {"C": _log(1e-2, 1e3), "gamma": _log(1e-5, 1.0)}),
    "linear": _EstimatorSpec(
        "LogisticRegression (C) / Ridge (alpha)",
        _linear, {"C": _log(1e-4, 1e2)},
        regression_space={"alpha": _log(1e-3, 1e3)}),
    "knn": _EstimatorSpec(
        "k nearest neighbours: n_neighbors, weights, p",
        _knn, {"n_neighbors": _int(1, 30), "weights": _cat("uniform", "distance"),
               "p": _cat(1, 2)}),
    "random-forest": _EstimatorSpec(
        "random forest: n_estimators, max_depth, max_features, min_samples_leaf",
        _forest, {"n_estimators": _int(20, 200), "max_depth": _int(2, 20),
                  "max_features": _cat("sqrt", "log2"),
                  "min_samples_leaf": _int(1, 10)}, scale=False),
    "gradient-boosting": _EstimatorSpec(
        "histogram gradient boosting: learning_rate, max_leaf_nodes, "
        "l2_regularization",
        _boosting, {"learning_rate": _log(1e-2, 0.5), "max_leaf_nodes": _int(4, 64),
                    "l2_regularization": _log(1e-4, 10.0)}, scale=False),
    "mlp": _EstimatorSpec(
        "scikit-learn multi-layer perceptron: hidden_layer_sizes, alpha, "
        "learning_rate_init",
        _mlp, {"hidden_layer_sizes": _cat((32,), (64,), (64, 32)),
               "alpha": _log(1e-6, 1e-1), "learning_rate_init": _log(1e-4, 1e-1)}),
    "keras-mlp": _EstimatorSpec(
        "Keras MLP (keras extra): hidden units, dropout, learning rate",
        _keras_mlp, {"model__hidden_units": _cat((32,), (64,), (64, 32)),
                     "model__dropout": _cat(0.0, 0.3),
                     "optimizer__learning_rate": _log(1e-4, 3e-2)}, keras=True),
    "keras-cnn": _EstimatorSpec(
        "Keras CNN on 8x8 images (keras extra; digits only): filters, kernel "
        "size, learning rate",
        _keras_cnn, {"model__n_blocks": _cat(1, 2), "model__filters_0": _cat(16, 32),
                     "model__kernel_size": _cat(2, 3),
                     "optimizer__learning_rate": _log(1e-4, 3e-2)},
        keras=True, needs_images=True),
}


# ---------------------------------------------------------------------------- data


@dataclass
class _Data:
    name: str
    X: object
    y: object
    categorical: list  # indices of non-numeric feature columns
    task: str
    images: bool = False


def _load_bundled(name):
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{name}")()
    task = "regression" if name == "diabetes" else "classification"
    return _Data(name, bunch.data, bunch.target, [], task, images=name == "digits")


def _parse_number(text):
    try:
        return float(text)
    except ValueError:
        return None


def _read_csv(path):
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except OSError as exc:
        raise UsageError(f"cannot read {path!r}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise UsageError(f"{path!r} is not a readable CSV text file ({exc})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if len(rows) < 2:
        raise UsageError(f"{path!r} has no data rows (a header row and data expected)")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    bad = next((i for i, r in enumerate(body) if len(r) != len(header)), None)
    if bad is not None:
        raise UsageError(f"{path!r} line {bad + 2} has {len(body[bad])} fields, "
                         f"the header has {len(header)}")
    return header, body


def _load_csv(path, target, encode):
    header, body = _read_csv(path)
    if target is None:
        raise UsageError(f"--target is required with a CSV file; columns: "
                         f"{', '.join(header)}")
    if target not in header:
        raise UsageError(f"target column {target!r} is not in {path!r}; columns: "
                         f"{', '.join(header)}")
    columns = {name: [row[j].strip() for row in body] for j, name in enumerate(header)}
    y_text = columns.pop(target)
    if any(v.lower() in _MISSING for v in y_text):
        raise UsageError(f"target column {target!r} has missing values")
    if not columns:
        raise UsageError(f"{path!r} has no feature columns besides {target!r}")
    X, categorical = _features(columns, encode)
    y, task = _target(y_text)
    return _Data(os.path.basename(path), X, y, categorical, task)


def _features(columns, encode):
    """Feature matrix from text columns; the indices of the text (categorical) ones."""
    X_cols, categorical = [], []
    for j, (name, col) in enumerate(columns.items()):
        if any(v.lower() in _MISSING for v in col):
            raise UsageError(f"feature column {name!r} has missing values; impute "
                             "them first")
        numbers = [_parse_number(v) for v in col]
        if all(v is not None for v in numbers):
            X_cols.append(numbers)
        elif encode:
            X_cols.append(col)
            categorical.append(j)
        else:
            example = next(v for v, n in zip(col, numbers) if n is None)
            raise UsageError(f"feature column {name!r} is not numeric (e.g. "
                             f"{example!r}); pass --encode to one-hot encode text "
                             "columns")
    return np.array(X_cols, dtype=object if categorical else float).T, categorical


def _target(values):
    numbers = [_parse_number(v) for v in values]
    if any(v is None for v in numbers):
        return np.array(values), "classification"
    y = np.array(numbers)
    if np.all(y == np.round(y)) and len(np.unique(y)) <= _MAX_CLASSES:
        return y.astype(int), "classification"
    return y, "regression"


def _load_data(args):
    source = args.dataset
    key = source.replace("-", "_").lower()
    if key in DATASETS and not os.path.isfile(source):
        if args.target is not None:
            raise UsageError("--target is only for CSV files; the bundled "
                             f"{key!r} data has its own target")
        data = _load_bundled(key)
    elif os.path.isdir(source):
        raise UsageError(f"--dataset {source!r} is a folder, not a CSV file")
    elif os.path.exists(source) or source.lower().endswith(".csv") or os.sep in source:
        if not os.path.exists(source):
            raise UsageError(f"no such file: {source!r}")
        data = _load_csv(source, args.target, args.encode)
    else:
        raise UsageError(f"unknown dataset {source!r}: use one of "
                         f"{', '.join(DATASETS)} or a path to a CSV file")
    if args.task != "auto":
        data.task = args.task
    if data.task == "classification":
        _check_classes(data.y, args.cv)
    return data


def _check_classes(y, cv):
    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2:
        raise UsageError("the target has a single class: nothing to classify")
    needed = math.ceil(cv / (1 - _TEST_SIZE)) + 1
    if counts.min() < needed:
        raise UsageError(f"the rarest class has {counts.min()} rows; --cv {cv} needs "
                         f"at least {needed} (use --task regression for a numeric "
                         "target)")


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


def _make_searches(args, spec, data, X_train):
    """One unfitted search per strategy, labelled, over the same space."""
    from sklearn.model_selection import KFold, StratifiedKFold

    space = spec.space
    if data.task == "regression" and spec.regression_space is not None:
        space = spec.regression_space
    estimator = _pipeline(spec, data, spec.make(data.task, args.seed, args.quick))
    if "n_neighbors" in space:  # no more neighbours than rows in a training fold
        n_fit = len(X_train) * (args.cv - 1) // args.cv
        space = {**space, "n_neighbors": _int(1, max(2, min(30, n_fit - 1)))}
    space = {f"model__{name}": dim for name, dim in space.items()}
    grid = _grid(space, _grid_size(spec, args.quick))
    distributions = {name: _distribution(dim) for name, dim in space.items()}
    splitter = StratifiedKFold if data.task == "classification" else KFold
    cv = splitter(args.cv, shuffle=True, random_state=args.seed)
    n_grid = math.prod(len(v) for v in grid.values())
    n_iter = args.n_iter or max(8, round(n_grid / 3))
    common = dict(cv=cv, n_jobs=args.n_jobs, refit=True, error_score=np.nan)
    searches = {}
    for name in args.strategies:
        if name == "grid":
            searches[name] = _ChunkedGridSearchCV(estimator, grid, **common)
        else:
            cls = _search_class(name)
            space_for = distributions if name == "random" else _ours(distributions)
            ours = {} if name == "random" else _reliability_params(args, name)
            searches[name] = cls(estimator, space_for, n_iter=n_iter,
                                 random_state=args.seed, **common,
                                 **_strategy_params(name, n_iter), **ours)
    return searches, grid, n_iter


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
        return _ChunkedRandomizedSearchCV
    import skautosearch

    return getattr(skautosearch, _LABELS[name])


class _ChunkedMixin:
    """Evaluate the parent search's candidates in chunks, so progress can be shown.

    The candidates, their order, the CV splits and so ``cv_results_`` are those of
    the parent class; only the number of ``evaluate_candidates`` calls differs.
    """

    progress = None  # called as progress(search, results) after each chunk

    def _run_search(self, evaluate_candidates):
        from joblib import effective_n_jobs

        candidates = list(self._candidates())
        size = max(4, effective_n_jobs(self.n_jobs))  # keep every worker busy
        for start in range(0, len(candidates), size):
            results = evaluate_candidates(candidates[start:start + size])
            if self.progress is not None:
                self.progress(self, results)


class _ChunkedGridSearchCV(_ChunkedMixin, GridSearchCV):
    def _candidates(self):
        return ParameterGrid(self.param_grid)


class _ChunkedRandomizedSearchCV(_ChunkedMixin, RandomizedSearchCV):
    def _candidates(self):
        return ParameterSampler(self.param_distributions, self.n_iter,
                                random_state=self.random_state)


# ----------------------------------------------------------------------------- run


def _fit_all(searches, X_train, y_train, show_progress):
    from skautosearch._progress import ProgressCallback

    fitted = {}
    for name, search in searches.items():
        n_candidates = (len(ParameterGrid(search.param_grid)) if name == "grid"
                        else search.n_iter)
        bar = ProgressCallback(n_candidates * search.cv.get_n_splits(),
                               desc=f"{_LABELS[name]:<18}", disable=not show_progress)
        bar.on_batch_start(search, 0)  # start the clock (and the bar) now
        if isinstance(search, _ChunkedMixin):
            search.progress = bar
        else:
            search.set_params(callbacks=[bar])
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                search.fit(X_train, y_train)
        finally:
            bar.close()
        search.wall_time_ = time.perf_counter() - start
        _report_warnings(_LABELS[name], caught)
        fitted[name] = search
    return fitted


def _report_warnings(label, caught):
    """One line per distinct warning, with its count, instead of one per fit."""
    counts = {}
    for w in caught:
        first = str(w.message).strip().splitlines()[0] if str(w.message).strip() else ""
        key = f"{w.category.__name__}: {first}"
        counts[key] = counts.get(key, 0) + 1
    for key, n in counts.items():
        print(f"{label}: {n} x {key}", file=sys.stderr)


def _fits_to_reach(search, target):
    from skautosearch.results import convergence

    n_fits, best = convergence(search)
    reached = np.flatnonzero(best >= target - 1e-9)
    return int(n_fits[reached[0]]) if reached.size else None


def _summary(fitted, X_test, y_test):
    grid_best = fitted["grid"].best_score_ if "grid" in fitted else None
    rows = []
    for name, search in fitted.items():
        n_candidates = len(search.cv_results_["params"])
        rows.append({
            "method": _LABELS[name],
            "best_cv_score": float(search.best_score_),
            "test_score": float(search.score(X_test, y_test)),
            "n_candidates": n_candidates,
            "n_fits": n_candidates * search.n_splits_,
            "fits_to_grid_best": (None if grid_best is None
                                  else _fits_to_reach(search, grid_best)),
            "wall_time_s": round(search.wall_time_, 3),
            "best_params": _jsonable(search.best_params_),
        })
    return rows


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _format_table(rows):
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
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(headers)]
    def line(cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, w) in enumerate(zip(cells, widths)))
    return "\n".join([line(headers), line(["-" * w for w in widths])]
                     + [line(b) for b in body])


def _result_rows(fitted):
    """Every candidate of every search, long format, JSON-ready."""
    from skautosearch.results import STRATEGY_COLUMNS, convergence

    rows = []
    for name, search in fitted.items():
        res = search.cv_results_
        n_fits, best = convergence(search)
        for i, params in enumerate(res["params"]):
            row = {"method": _LABELS[name], "candidate": i, "n_fits": int(n_fits[i])}
            row.update({col: _jsonable(res[col][i])
                        for col in STRATEGY_COLUMNS if col in res})
            row.update({k: _jsonable(v) for k, v in params.items()})
            row.update({
                "mean_test_score": _jsonable(float(res["mean_test_score"][i])),
                "std_test_score": _jsonable(float(res["std_test_score"][i])),
                "rank_test_score": int(res["rank_test_score"][i]),
                "best_so_far": _jsonable(float(best[i])),
                "mean_fit_time": float(res["mean_fit_time"][i]),
            })
            rows.append(row)
    return rows


def _write_csv(path, rows, first=()):
    columns = list(dict.fromkeys(k for row in rows for k in row))
    columns = [c for c in first if c in columns] + [c for c in columns
                                                    if c not in first]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: (json.dumps(v) if isinstance(v, (list, dict)) else v)
                             for k, v in row.items()})


def _write_outputs(out, config, summary, fitted):
    os.makedirs(out, exist_ok=True)
    rows = _result_rows(fitted)
    _write_csv(os.path.join(out, "summary.csv"), summary)
    from skautosearch.results import STRATEGY_COLUMNS

    _write_csv(os.path.join(out, "cv_results.csv"), rows,
               first=("method", "candidate", "n_fits") + STRATEGY_COLUMNS)
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"config": config, "summary": summary, "cv_results": rows}, f,
                  indent=2)
    written = ["summary.csv", "cv_results.csv", "results.json"]
    return written + _write_plots(out, fitted)


def _write_plots(out, fitted):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib is not installed: no plots written "
              "(pip install skautosearch[plot])", file=sys.stderr)
        return []
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from skautosearch import plot

    figures = {"convergence.png": lambda: _convergence_figure(plt, plot, fitted)}
    if "genetic" in fitted:
        figures["genetic.png"] = lambda: plot.plot_generations(fitted["genetic"])
    if "annealing" in fitted:
        figures["annealing.png"] = lambda: plot.plot_annealing(fitted["annealing"])
    for name, draw in figures.items():
        ax = np.ravel(draw())[0]
        ax.figure.savefig(os.path.join(out, name), dpi=110, bbox_inches="tight")
        plt.close(ax.figure)
    return list(figures)


def _convergence_figure(plt, plot, fitted):
    """All searches; with a zoom on the top scores when a poor one squashes them."""
    searches = {_LABELS[n]: s for n, s in fitted.items()}
    grid = fitted.get("grid")
    ref = None if grid is None else grid.best_score_
    kwargs = dict(reference=ref, reference_label="GridSearchCV best")
    finals = [s.best_score_ for s in fitted.values()]
    top = max(finals)
    width = max(3 * (top - ref) if ref is not None else 0, 0.01 * abs(top), 0.005)
    if top - min(finals) <= 2 * width:
        return plot.plot_convergence(searches, **kwargs)
    fig, (ax_all, ax_top) = plt.subplots(1, 2, figsize=(14, 4.8), layout="constrained")
    plot.plot_convergence(searches, ax=ax_all, legend=False, **kwargs)
    plot.plot_convergence(searches, ax=ax_top, **kwargs)
    ax_top.set_ylim(top - width, top + width / 4)
    ax_top.set_title("Zoom on the best scores")
    return ax_all


# ---------------------------------------------------------------------- arguments


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        # argparse prints the whole usage block; one line is easier to read and grep.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _comma_list(text):
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown strategy {', '.join(unknown) or repr(text)}; choose from "
            f"{','.join(STRATEGIES)}")
    return list(dict.fromkeys(names))


def _positive_int(minimum):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below {minimum}")
        return value
    return parse


def _n_jobs(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
    if value == 0:
        raise argparse.ArgumentTypeError("0 jobs; use 1, 2, ... or -1 for all cores")
    return value


def build_parser():
    """The argument parser of the ``skautosearch`` command.

    Returns
    -------
    argparse.ArgumentParser
        Its ``parse_args`` gives the options :func:`main` runs with.

    Examples
    --------
    >>> from skautosearch.cli import build_parser
    >>> args = build_parser().parse_args(["--quick", "--strategies", "grid,bayes"])
    >>> args.dataset, args.strategies, args.quick
    ('digits', ['grid', 'bayes'], True)
    """
    description = textwrap.fill(
        "Compare GeneticSearchCV, AnnealingSearchCV and BayesianSearchCV with "
        "GridSearchCV and RandomizedSearchCV on one dataset, one estimator and one "
        "search space. Prints a table (best CV score, test score on a held-out 25% "
        "split, number of fits, fits needed to reach GridSearchCV's best CV score, "
        "wall time) and writes summary.csv, cv_results.csv, results.json and "
        "convergence.png into --output. GridSearchCV evaluates a grid over the "
        "space; the others draw --n-iter candidates from it.", 79)
    estimators = "\n".join(f"  {name:<18} {spec.help}"
                           for name, spec in ESTIMATORS.items())
    parser = _Parser(
        prog="skautosearch",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=f"estimators (--estimator NAME):\n{estimators}\n\nexamples:\n"
               "  skautosearch                      the main job: digits, SVM, "
               "all five searches\n"
               "  skautosearch --quick --dataset wine --estimator knn\n"
               "  skautosearch --dataset data.csv --target label --encode",
    )
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
             f"{_MAX_CLASSES} values as classes (default: %(default)s)")
    parser.add_argument(
        "--encode", action="store_true",
        help="one-hot encode non-numeric CSV feature columns (without it they are "
             "an error)")
    parser.add_argument(
        "--estimator", default="svm", choices=list(ESTIMATORS), metavar="NAME",
        help="the model and its search space, listed below (default: %(default)s)")
    parser.add_argument(
        "--strategies", type=_comma_list, default=list(STRATEGIES),
        metavar="LIST",
        help=f"comma-separated searches to run (default: {','.join(STRATEGIES)}); "
             "without grid there is no 'fits to grid best'")
    parser.add_argument(
        "--n-iter", type=_positive_int(1), metavar="N",
        help="candidates each non-grid search evaluates (default: a third of the "
             "grid's size, at least 8)")
    parser.add_argument(
        "--cv", type=_positive_int(2), default=3, metavar="K",
        help="cross-validation folds, stratified for classification "
             "(default: %(default)s)")
    parser.add_argument(
        "--n-jobs", type=_n_jobs, default=1, metavar="N",
        help="parallel fits in each search; -1 uses all cores "
             "(default: %(default)s)")
    parser.add_argument(
        "--seed", type=int, default=0,
        help="random seed of the split, the folds and every search "
             "(default: %(default)s)")
    parser.add_argument(
        "--output", default="skautosearch-output", metavar="FOLDER",
        help="folder for the CSV, JSON and PNG files, created if needed "
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
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false",
        help="do not draw progress bars")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {_version()}")
    return parser


def _version():
    from skautosearch import __version__

    return __version__


# --------------------------------------------------------------------------- main


def _run(args):
    from sklearn.model_selection import train_test_split

    spec = ESTIMATORS[args.estimator]
    data = _load_data(args)
    if spec.needs_images and not data.images:
        raise UsageError(f"--estimator {args.estimator} needs 8x8 images: use "
                         "--dataset digits")
    stratify = data.y if data.task == "classification" else None
    X_train, X_test, y_train, y_test = train_test_split(
        data.X, data.y, test_size=_TEST_SIZE, random_state=args.seed,
        stratify=stratify)
    searches, grid, n_iter = _make_searches(args, spec, data, X_train)
    print(f"{data.name}: {data.X.shape[0]} rows, {data.X.shape[1]} features, "
          f"{data.task}; estimator {args.estimator}; {args.cv}-fold CV; "
          f"grid of {math.prod(len(v) for v in grid.values())} points, "
          f"n_iter={n_iter}")
    fitted = _fit_all(searches, X_train, y_train, args.progress)
    summary = _summary(fitted, X_test, y_test)
    print(_format_table(summary))
    config = {k: v for k, v in vars(args).items()}
    config.update(task=data.task, n_iter=n_iter, grid=_jsonable(grid),
                  n_train=len(y_train), n_test=len(y_test))
    written = _write_outputs(args.output, config, summary, fitted)
    print(f"wrote {', '.join(written)} to {os.path.abspath(args.output)}")
    return 0


def main(argv=None):
    """Run the ``skautosearch`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit status: 0 on success, 2 for a bad argument (one line on stderr),
        1 if a search fails, 130 if interrupted.

    Examples
    --------
    >>> from skautosearch.cli import main
    >>> main(["--dataset", "no-such-data"])
    2
    """
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, or an argparse error already printed
        return exc.code if isinstance(exc.code, int) else 2
    try:
        return _run(args)
    except UsageError as exc:
        print(f"skautosearch: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("skautosearch: interrupted", file=sys.stderr)
        return 130
    except (ValueError, RuntimeError, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        print(f"skautosearch: failed: {type(exc).__name__}: {first}", file=sys.stderr)
        return 1
