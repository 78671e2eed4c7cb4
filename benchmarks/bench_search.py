"""Search-efficiency benchmark (issue 2, section 7).

Runs GridSearchCV, RandomizedSearchCV, the peers (scikit-optimize's BayesSearchCV,
Optuna's OptunaSearchCV with TPE, sklearn-genetic-opt's GASearchCV) and our three searches
side by side: same data, same CV splitter object, same budget of candidates, several seeds,
interleaved so that noise from other jobs on the machine hits every method alike.

For every (task, method, seed) the script records the ``mean_test_score`` of each candidate in
evaluation order, the number of fits and of distinct candidates, and the wall time of ``fit``.
It then reports, per task and method: in how many seeds the grid's best score was reached
(within ``--tol``) inside the budget, the median number of candidates needed, the best score at
equal budget, and the wall time (absolute and as a ratio to RandomizedSearchCV's of the same
seed). With ``--overhead-repeats`` > 0 it also times our searches against GridSearchCV on the
same fixed candidate list (the 49 SVC grid points) at ``n_jobs=1``.

Tasks (``--tasks``, default: the wide set of issue 14, one splitter per task shared by
every method):

* ``svc_digits_unshuffled`` -- SVC C/gamma, unshuffled StratifiedKFold: a narrow optimum;
* ``rf_breast_cancer_unshuffled`` -- random forest, integer-heavy, unshuffled folds;
* ``hgb_diabetes`` -- HistGradientBoostingRegressor, regression (r2), 5 dimensions,
  integer-heavy, unshuffled KFold;
* ``svc_conditional_digits`` -- SVC kernel with gamma only for rbf/poly and degree only for
  poly: a conditional space for our searches (``Conditional``), the same flat space for the
  peers (which have no conditional dimensions; the inactive values are ignored by SVC), and
  one sub-grid per kernel for GridSearchCV;
* ``mlp_digits`` -- scikit-learn MLP, shuffled folds;
* ``keras_mlp_digits`` -- a Keras MLP (``skautosearch.keras.KerasClassifier`` over
  ``build_mlp``, 5 epochs), shuffled folds.

The earlier ``svc_digits`` and ``rf_breast_cancer`` (shuffled folds) remain available.

Example::

    python benchmarks/bench_search.py --seeds 10 --budget 30 --cv 3 --n-jobs 2

Outputs (under ``--out``, default ``benchmarks/out/``, which is git-ignored):
``bench_search_runs.csv`` (one row per run), ``bench_search_traces.json`` (scores in order),
``bench_search_overhead.csv``, ``bench_search_summary.md``; the convergence figure goes to
``benchmarks/search_convergence.png`` (see ``plot_search.py``).
"""

import argparse
import contextlib
import io
import json
import os
import platform
import random
import sys
import time
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

# Workers started by joblib read this, so MLP ConvergenceWarnings stay out of the output.
os.environ.setdefault("PYTHONWARNINGS", "ignore")
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits  # noqa: E402
from sklearn.ensemble import (  # noqa: E402
    HistGradientBoostingRegressor,
    RandomForestClassifier,
)
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
)
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

HERE = Path(__file__).resolve().parent
OURS = ("GeneticSearchCV", "AnnealingSearchCV", "BayesianSearchCV")
PEERS = ("RandomizedSearchCV", "BayesSearchCV", "OptunaSearchCV", "GASearchCV")
ALL_METHODS = ("GridSearchCV",) + PEERS + OURS
WIDE_TASKS = (
    "svc_digits_unshuffled",
    "rf_breast_cancer_unshuffled",
    "hgb_diabetes",
    "svc_conditional_digits",
    "mlp_digits",
    "keras_mlp_digits",
)


# --------------------------------------------------------------------------- search spaces
@dataclass(frozen=True)
class Dim:
    """One hyper-parameter of a continuous space, converted to each library's own type."""

    kind: str  # "real", "int" or "cat"
    low: float = None
    high: float = None
    log: bool = False
    choices: tuple = ()
    # Active only when these parameters take these values (our searches); the peers
    # get the dimension unconditionally.
    when: dict = None


def to_skopt(space, conditional=False):
    from skopt.space import Categorical, Integer, Real

    prior = {True: "log-uniform", False: "uniform"}
    make = {
        "real": lambda d: Real(d.low, d.high, prior=prior[d.log]),
        "int": lambda d: Integer(d.low, d.high, prior=prior[d.log]),
        "cat": lambda d: Categorical(list(d.choices)),
    }
    skopt_space = {name: make[d.kind](d) for name, d in space.items()}
    if conditional:
        from skautosearch import Conditional

        skopt_space = {
            name: Conditional(dim, when=space[name].when) if space[name].when else dim
            for name, dim in skopt_space.items()
        }
    return skopt_space


def to_scipy(space):
    make = {
        "real": lambda d: (
            stats.loguniform(d.low, d.high)
            if d.log
            else stats.uniform(d.low, d.high - d.low)
        ),
        "int": lambda d: stats.randint(d.low, d.high + 1),
        "cat": lambda d: list(d.choices),
    }
    return {name: make[d.kind](d) for name, d in space.items()}


def to_optuna(space):
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    make = {
        "real": lambda d: FloatDistribution(d.low, d.high, log=d.log),
        "int": lambda d: IntDistribution(d.low, d.high, log=d.log),
        "cat": lambda d: CategoricalDistribution(list(d.choices)),
    }
    return {name: make[d.kind](d) for name, d in space.items()}


def to_sgo(space):
    from sklearn_genetic.space import Categorical, Continuous, Integer

    dist = {True: "log-uniform", False: "uniform"}
    make = {
        "real": lambda d: Continuous(d.low, d.high, distribution=dist[d.log]),
        "int": lambda d: Integer(
            d.low, d.high
        ),  # sklearn-genetic-opt has no log prior for ints
        "cat": lambda d: Categorical(list(d.choices)),
    }
    return {name: make[d.kind](d) for name, d in space.items()}


# --------------------------------------------------------------------------- tasks
@dataclass
class Task:
    """A data set, an estimator, a GridSearchCV grid and the matching continuous space."""

    name: str
    load: callable
    estimator: object
    grid: dict
    space: dict
    grid_best: float = None
    grid_time: float = None
    extra: dict = field(default_factory=dict)
    # "shuffled": a wide good region; "unshuffled": the same folds in data order, where
    # the optimum is narrow (see /work/shared/FACTS.md).
    folds: str = "shuffled"
    regression: bool = False
    # Builds the estimator on first use (Keras: imports TensorFlow only when chosen).
    factory: callable = None

    def splitter(self, n_splits):
        cls = KFold if self.regression else StratifiedKFold
        if self.folds == "unshuffled":
            return cls(n_splits)
        return cls(n_splits, shuffle=True, random_state=0)

    def build(self):
        if self.estimator is None and self.factory is not None:
            self.estimator = self.factory()
        return self


def _digits():
    return load_digits(return_X_y=True)


def _digits_scaled():
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y  # fixed scaling, no fitted state, so no leakage between folds


def _breast_cancer():
    return load_breast_cancer(return_X_y=True)


def _diabetes():
    return load_diabetes(return_X_y=True)


def _digits_float32():
    X, y = _digits_scaled()
    return X.astype(np.float32), y


def _keras_mlp():
    from skautosearch.keras import KerasClassifier, build_mlp

    return KerasClassifier(
        build_mlp, loss="sparse_categorical_crossentropy", optimizer="adam",
        epochs=5, batch_size=64, verbose=0, random_state=0,
    )


def make_wide_tasks():
    """The tasks issue 14 adds: narrow optima, regression, 5 dimensions, conditional, Keras."""
    svc_space = {
        "C": Dim("real", 1e-2, 1e4, log=True),
        "gamma": Dim("real", 1e-6, 1.0, log=True),
    }
    svc = Task(
        "svc_digits_unshuffled", _digits, SVC(),
        grid={"C": np.logspace(-2, 4, 7), "gamma": np.logspace(-6, 0, 7)},
        space=svc_space, folds="unshuffled",
    )
    rf = Task(
        "rf_breast_cancer_unshuffled", _breast_cancer, RandomForestClassifier(random_state=0),
        grid={
            "n_estimators": [10, 25, 50],
            "max_depth": [2, 4, 8, 16],
            "min_samples_leaf": [1, 2, 4],
            "max_features": [0.1, 0.2, 0.5, 1.0],
        },
        space={
            "n_estimators": Dim("int", 10, 50),
            "max_depth": Dim("int", 2, 16),
            "min_samples_leaf": Dim("int", 1, 4),
            "max_features": Dim("real", 0.1, 1.0),
        },
        folds="unshuffled",
    )
    hgb = Task(
        "hgb_diabetes", _diabetes, HistGradientBoostingRegressor(random_state=0),
        grid={
            "max_iter": [30, 100],
            "max_depth": [2, 4, 8],
            "min_samples_leaf": [5, 20, 60],
            "learning_rate": [0.03, 0.1, 0.3],
            "l2_regularization": [1e-3, 1e-1, 10.0],
        },
        space={
            "max_iter": Dim("int", 20, 120),
            "max_depth": Dim("int", 2, 8),
            "min_samples_leaf": Dim("int", 5, 60),
            "learning_rate": Dim("real", 0.01, 0.5, log=True),
            "l2_regularization": Dim("real", 1e-3, 10.0, log=True),
        },
        folds="unshuffled", regression=True,
    )
    C, gamma = np.logspace(-2, 3, 6), np.logspace(-4, -1, 4)
    conditional = Task(
        "svc_conditional_digits", _digits_scaled, SVC(),
        grid=[
            {"kernel": ["linear"], "C": C},
            {"kernel": ["rbf"], "C": C, "gamma": gamma},
            {"kernel": ["poly"], "C": C, "gamma": gamma, "degree": [2, 3, 4]},
        ],
        space={
            "kernel": Dim("cat", choices=("linear", "rbf", "poly")),
            "C": Dim("real", 1e-2, 1e3, log=True),
            "gamma": Dim("real", 1e-4, 1e-1, log=True, when={"kernel": ["rbf", "poly"]}),
            "degree": Dim("int", 2, 4, when={"kernel": ["poly"]}),
        },
        folds="unshuffled",
    )
    keras_mlp = Task(
        "keras_mlp_digits", _digits_float32, None,
        grid={
            "model__hidden_units": [8, 16, 32, 64],
            "optimizer__learning_rate": np.logspace(-4, -1, 4),
        },
        space={
            "model__hidden_units": Dim("int", 8, 64, log=True),
            "optimizer__learning_rate": Dim("real", 1e-4, 1e-1, log=True),
        },
        factory=_keras_mlp,
    )
    return {t.name: t for t in (svc, rf, hgb, conditional, keras_mlp)}


def make_tasks():
    svc = Task(
        "svc_digits",
        _digits,
        SVC(),
        grid={"C": np.logspace(-2, 4, 7), "gamma": np.logspace(-6, 0, 7)},
        space={
            "C": Dim("real", 1e-2, 1e4, log=True),
            "gamma": Dim("real", 1e-6, 1.0, log=True),
        },
    )
    rf = Task(
        "rf_breast_cancer",
        _breast_cancer,
        RandomForestClassifier(random_state=0),
        grid={
            "n_estimators": [10, 25, 50],
            "max_depth": [2, 4, 8, 16],
            "min_samples_leaf": [1, 2, 4],
            "max_features": [0.1, 0.2, 0.5, 1.0],
        },
        space={
            "n_estimators": Dim("int", 10, 50),
            "max_depth": Dim("int", 2, 16),
            "min_samples_leaf": Dim("int", 1, 4),
            "max_features": Dim("real", 0.1, 1.0),
        },
    )
    mlp = Task(
        "mlp_digits",
        _digits_scaled,
        MLPClassifier(max_iter=12, random_state=0),
        grid={
            "hidden_layer_sizes": [16, 32, 64],
            "alpha": np.logspace(-5, 0, 4),
            "learning_rate_init": np.logspace(-4, -1, 4),
        },
        space={
            "hidden_layer_sizes": Dim("int", 16, 64),
            "alpha": Dim("real", 1e-5, 1.0, log=True),
            "learning_rate_init": Dim("real", 1e-4, 1e-1, log=True),
        },
    )
    return {**{t.name: t for t in (svc, rf, mlp)}, **make_wide_tasks()}


# --------------------------------------------------------------------------- method runners
# Each runner fits one search and returns (scores in evaluation order, number of fitted
# candidates, number of distinct candidates). refit=False everywhere: the refit is the same
# single fit for every method and would only add noise to the wall times.


def _sklearn_trace(search):
    res = search.cv_results_
    scores = np.asarray(res["mean_test_score"], dtype=float)
    distinct = len({repr(sorted(p.items())) for p in res["params"]})
    return scores, len(scores), distinct, list(res["params"])


def run_grid(task, X, y, cv, budget, seed, n_jobs):
    search = GridSearchCV(task.estimator, task.grid, cv=cv, n_jobs=n_jobs, refit=False)
    return _sklearn_trace(search.fit(X, y))


def run_random(task, X, y, cv, budget, seed, n_jobs):
    search = RandomizedSearchCV(
        task.estimator,
        to_scipy(task.space),
        n_iter=budget,
        cv=cv,
        n_jobs=n_jobs,
        refit=False,
        random_state=seed,
    )
    return _sklearn_trace(search.fit(X, y))


def run_skopt(task, X, y, cv, budget, seed, n_jobs):
    from skopt import BayesSearchCV

    search = BayesSearchCV(
        task.estimator,
        to_skopt(task.space),
        n_iter=budget,
        cv=cv,
        n_jobs=n_jobs,
        refit=False,
        random_state=seed,
    )
    return _sklearn_trace(search.fit(X, y))  # skopt may re-propose (and refit) a point


def run_optuna(task, X, y, cv, budget, seed, n_jobs):
    import optuna
    from optuna_integration import OptunaSearchCV

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # OptunaSearchCV runs n_jobs trials in threads (folds are sequential inside a trial).
    search = OptunaSearchCV(
        task.estimator,
        to_optuna(task.space),
        cv=cv,
        n_trials=budget,
        n_jobs=n_jobs,
        refit=False,
        random_state=seed,
        verbose=0,
    )
    search.fit(X, y)
    trials = sorted(search.trials_, key=lambda t: t.number)
    scores = np.array([t.user_attrs.get("mean_test_score", np.nan) for t in trials])
    distinct = len({repr(sorted(t.params.items())) for t in trials})
    return scores, len(trials), distinct, [t.params for t in trials]


GA_POPULATION = (
    10  # gen 0: 10 random; gen 1: up to 20 offspring; gen 2 tops up to the budget
)


def _capped_gasearch_cls():
    """GASearchCV that fits at most ``budget`` distinct candidates, then stops.

    eaMuPlusLambda evaluates whole generations, so a budget of 30 cannot be met exactly by
    choosing population and generations; offspring beyond the budget get fitness -inf without
    being fitted or logged, and a callback stops the run after that generation.
    """
    from sklearn_genetic import GASearchCV
    from sklearn_genetic.callbacks.base import BaseCallback

    class CappedGASearchCV(GASearchCV):
        def evaluate(self, individual):
            params = {k: individual[n] for n, k in enumerate(self.space.parameters)}
            key = tuple(sorted(params.items()))
            if (
                key not in self.fitness_cache
                and len(self.fitness_cache) >= self.budget_
            ):
                return [-np.inf, 0.0]
            return super().evaluate(individual)

    class StopAtBudget(BaseCallback):
        def on_step(self, record=None, logbook=None, estimator=None):
            return len(estimator.fitness_cache) >= estimator.budget_

    return CappedGASearchCV, StopAtBudget


def run_gasearch(task, X, y, cv, budget, seed, n_jobs):
    cls, stop = _capped_gasearch_cls()
    search = cls(
        task.estimator,
        cv=cv,
        param_grid=to_sgo(task.space),
        population_size=GA_POPULATION,
        generations=20,
        n_jobs=n_jobs,
        verbose=False,
        refit=False,
    )
    search.budget_ = budget
    # sklearn-genetic-opt draws from the global `random` and numpy generators (its
    # Categorical even reseeds `random` on construction), so seed them right before fit.
    # Offset, or its generation 0 would be RandomizedSearchCV's first draws (same stream).
    random.seed(10_000 + seed)
    np.random.seed(10_000 + seed)
    with contextlib.redirect_stdout(io.StringIO()):  # it prints "INFO: Stopping ..."
        search.fit(X, y, callbacks=[stop()])
    records = search.logbook.chapters["parameters"]
    first = {}
    for rec in records:  # cached re-evaluations are logged again with the same index
        first.setdefault(rec["index"], rec)
    recs = [first[i] for i in sorted(first)]
    params = [{k: rec[k] for k in search.space.parameters} for rec in recs]
    return np.array([rec["score"] for rec in recs]), len(recs), len(recs), params


def _ours(name):
    import skautosearch

    return getattr(skautosearch, name)


def _run_ours(name):
    def run(task, X, y, cv, budget, seed, n_jobs):
        cls = _ours(name)
        search = cls(
            task.estimator,
            to_skopt(task.space, conditional=True),
            n_iter=budget,
            cv=cv,
            n_jobs=n_jobs,
            refit=False,
            random_state=seed,
        )
        return _sklearn_trace(search.fit(X, y))

    run.__name__ = f"run_{name}"
    return run


RUNNERS = {
    "GridSearchCV": run_grid,
    "RandomizedSearchCV": run_random,
    "BayesSearchCV": run_skopt,
    "OptunaSearchCV": run_optuna,
    "GASearchCV": run_gasearch,
    **{name: _run_ours(name) for name in OURS},
}


def available(method):
    if method not in OURS:
        return True
    try:
        _ours(method)
    except (ImportError, AttributeError):
        return False
    return True


# --------------------------------------------------------------------------- metrics
def candidates_needed(scores, target, budget):
    """1-based index of the first candidate within budget scoring >= target, else None."""
    hits = np.flatnonzero(np.nan_to_num(scores[:budget], nan=-np.inf) >= target)
    return int(hits[0]) + 1 if hits.size else None


def summarise(runs, tasks, methods, budget, tol):
    """One summary row per (task, method) from the per-seed run records."""
    rows = []
    for tname in tasks:
        rand_wall = {
            r["seed"]: r["wall"]
            for r in runs
            if r["task"] == tname and r["method"] == "RandomizedSearchCV"
        }
        for m in methods:
            rs = [r for r in runs if r["task"] == tname and r["method"] == m]
            if m == "GridSearchCV" or not rs:
                continue
            needed = [r["needed"] for r in rs if r["needed"] is not None]
            best = [r["best_at_budget"] for r in rs]
            # Runs merged from separate invocations carry the wall time of the random search
            # that ran beside them ("wall_random_pair"), so that each ratio stays paired.
            ratios = [
                r["wall"] / r.get("wall_random_pair", rand_wall.get(r["seed"], np.nan))
                for r in rs
            ]
            ratios = [x for x in ratios if np.isfinite(x)]
            rows.append(
                dict(
                    task=tname,
                    method=m,
                    seeds=len(rs),
                    reached=len(needed),
                    median_needed=float(np.median(needed)) if needed else None,
                    # a seed that never reached the target counts as needing more than the budget
                    median_needed_all=float(
                        np.median(
                            [
                                r["needed"] if r["needed"] is not None else np.inf
                                for r in rs
                            ]
                        )
                    ),
                    best_median=float(np.median(best)),
                    best_min=float(np.min(best)),
                    wall_median=float(np.median([r["wall"] for r in rs])),
                    wall_ratio_random=float(np.median(ratios)) if ratios else None,
                    fits_median=float(np.median([r["n_fits"] for r in rs])),
                    distinct_min=int(np.min([r["n_distinct"] for r in rs])),
                    failed_seeds=[r["seed"] for r in rs if r["needed"] is None],
                )
            )
    return rows


def _needed_all(x, budget):
    return f">{budget}" if not np.isfinite(x) else format(x, "g")


def _fmt(x, spec):
    return "–" if x is None else format(x, spec)


def markdown_summary(rows, tasks, budget, tol, overhead_rows):
    out = []
    for tname, task in tasks.items():
        out.append(
            f"\n**{tname}** — grid best {task.grid_best:.4f} "
            f"({task.extra['n_grid']} candidates, {task.grid_time:.1f} s); "
            f"target = grid best − {tol}\n"
        )
        out.append(
            "| method | reached | median cand. needed (seeds reached) | "
            f"median cand. needed (all seeds, miss = >{budget}) | "
            f"best @{budget} (median / worst) | "
            "wall s (median) | wall / random | fits (median) | distinct (min) | "
            "seeds missed |"
        )
        out.append("|---|---|---|---|---|---|---|---|---|---|")
        for r in (r for r in rows if r["task"] == tname):
            out.append(
                f"| {r['method']} | {r['reached']}/{r['seeds']} | {_fmt(r['median_needed'], 'g')} "
                f"| {_needed_all(r['median_needed_all'], budget)} "
                f"| {r['best_median']:.4f} / {r['best_min']:.4f} | {r['wall_median']:.1f} "
                f"| {_fmt(r['wall_ratio_random'], '.2f')} | {r['fits_median']:g} "
                f"| {r['distinct_min']} | {','.join(map(str, r['failed_seeds'])) or '–'} |"
            )
    if overhead_rows:
        out.append(
            "\n**Overhead** — same fixed 49 SVC grid candidates, n_jobs=1, "
            "interleaved repeats, median of per-repeat ratios to GridSearchCV\n"
        )
        out.append(
            "| method | candidates evaluated | same set as grid | batches | "
            "median wall s | median ratio to grid | s outside fit+score (median) | "
            "share of wall |"
        )
        out.append("|---|---|---|---|---|---|---|---|")
        for r in overhead_rows:
            out.append(
                f"| {r['method']} | {r['n_candidates']} | {r['same_set']} "
                f"| {r.get('n_batches', '?')} "
                f"| {r['wall_median']:.2f} | {_fmt(r['ratio_median'], '.3f')} "
                f"| {_fmt(r.get('outside_fit_median'), '.2f')} "
                f"| {_fmt(r.get('outside_fit_frac'), '.1%')} |"
            )
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- overhead
def _param_set(search):
    return {
        tuple(sorted((k, float(v)) for k, v in p.items()))
        for p in search.cv_results_["params"]
    }


def _fit_and_score_time(search):
    """Seconds spent inside fit and score, summed over candidates and folds."""
    res = search.cv_results_
    n = search.n_splits_
    return float(np.sum(res["mean_fit_time"]) * n + np.sum(res["mean_score_time"]) * n)


def measure_overhead(task, X, y, cv, repeats, methods):
    """Time our searches against GridSearchCV on the same fixed candidate list, n_jobs=1."""
    n_grid = int(np.prod([len(v) for v in task.grid.values()]))
    grid_list = {k: list(v) for k, v in task.grid.items()}
    builders = {
        "GridSearchCV": lambda: GridSearchCV(
            task.estimator, task.grid, cv=cv, n_jobs=1, refit=False
        )
    }
    for m in methods:
        builders[m] = lambda m=m: _ours(m)(
            task.estimator,
            grid_list,
            n_iter=n_grid,
            cv=cv,
            n_jobs=1,
            refit=False,
            random_state=0,
        )
    times = {m: [] for m in builders}
    fitting = {m: [] for m in builders}
    sets, search_last = {}, {}
    names = list(builders)
    for rep in range(repeats):
        for m in names[rep % len(names) :] + names[: rep % len(names)]:
            search = builders[m]()
            search_last[m] = search
            t0 = time.perf_counter()
            search.fit(X, y)
            times[m].append(time.perf_counter() - t0)
            sets[m] = _param_set(search)
            fitting[m].append(_fit_and_score_time(search))
            print(
                f"  overhead rep {rep} {m}: {times[m][-1]:.2f} s, "
                f"{len(sets[m])} candidates",
                flush=True,
            )
    rows = []
    for m in names:
        ratios = [t / g for t, g in zip(times[m], times["GridSearchCV"])]
        rows.append(
            dict(
                method=m,
                n_candidates=len(sets[m]),
                same_set=sets[m] == sets["GridSearchCV"],
                wall_median=float(np.median(times[m])),
                ratio_median=float(np.median(ratios)),
                walls=times[m],
                outside_fit_median=float(
                    np.median([w - f for w, f in zip(times[m], fitting[m])])
                ),
                outside_fit_frac=float(
                    np.median([(w - f) / w for w, f in zip(times[m], fitting[m])])
                ),
                n_batches=getattr(search_last[m], "n_batches_", 1),
            )
        )
    return rows


# --------------------------------------------------------------------------- driver
def parse_seeds(text):
    return (
        list(range(int(text)))
        if "," not in text and "-" not in text
        else (
            [int(s) for s in text.split(",")]
            if "," in text
            else list(range(int(text.split("-")[0]), int(text.split("-")[1]) + 1))
        )
    )


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--tasks",
        default=",".join(WIDE_TASKS),
        help="comma-separated task names (also svc_digits, rf_breast_cancer)",
    )
    p.add_argument(
        "--methods", default=",".join(ALL_METHODS), help="comma-separated methods"
    )
    p.add_argument(
        "--seeds", default="10", help="N (seeds 0..N-1), a list 0,3,7 or a range 2-5"
    )
    p.add_argument("--budget", type=int, default=30, help="candidates per search")
    p.add_argument(
        "--cv", type=int, default=3,
        help="folds per task: StratifiedKFold (KFold for regression), shuffled with "
        "random_state=0 or in data order as the task says",
    )
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument(
        "--tol", type=float, default=0.002, help="'reached' = score >= grid best - tol"
    )
    p.add_argument(
        "--overhead-repeats",
        type=int,
        default=3,
        help="interleaved repeats of the fixed-list overhead timing (0: skip)",
    )
    p.add_argument(
        "--overhead-methods",
        default="GeneticSearchCV,AnnealingSearchCV",
        help="our searches timed on the fixed list (BayesianSearchCV cannot "
        "enumerate a finite list: skopt re-proposes seen points)",
    )
    p.add_argument(
        "--overhead-only",
        action="store_true",
        help="only the fixed-list overhead timing, to bench_search_overhead.json",
    )
    p.add_argument("--out", default=str(HERE / "out"), help="output directory")
    p.add_argument(
        "--plot",
        default=str(HERE / "search_convergence.png"),
        help="convergence figure path ('' to skip)",
    )
    p.add_argument(
        "--grid-from",
        metavar="TRACES_JSON",
        help="reuse the GridSearchCV results of an earlier run with the same "
        "tasks and --cv (the grid is deterministic) instead of refitting it",
    )
    p.add_argument(
        "--summarise",
        metavar="TRACES_JSON",
        help="only rebuild summary and figure from an earlier (maybe partial) run",
    )
    return p.parse_args(argv)


def versions():
    import optuna
    import sklearn
    import sklearn_genetic
    import skopt

    v = dict(
        python=platform.python_version(),
        sklearn=sklearn.__version__,
        skopt=skopt.__version__,
        optuna=optuna.__version__,
        sklearn_genetic=sklearn_genetic.__version__,
        numpy=np.__version__,
    )
    try:
        import skautosearch

        v["skautosearch"] = skautosearch.__version__
    except ImportError:
        pass
    return v


def run_grids(tasks, data, cvs, n_jobs, tol):
    for t in tasks.values():
        t0 = time.perf_counter()
        scores, n, _, _ = run_grid(t, *data[t.name], cvs[t.name], None, None, n_jobs)
        t.grid_time = time.perf_counter() - t0
        t.grid_best = float(np.nanmax(scores))
        t.extra.update(n_grid=n, grid_scores=scores.tolist())
        n_ok = int(np.sum(scores >= t.grid_best - tol))
        print(
            f"[grid] {t.name}: best {t.grid_best:.4f} of {n} candidates "
            f"({n_ok} within tol), {t.grid_time:.1f} s",
            flush=True,
        )


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def run_one(task, method, X, y, cv, budget, seed, n_jobs, tol):
    t0 = time.perf_counter()
    scores, n_fits, n_distinct, params = RUNNERS[method](
        task, X, y, cv, budget, seed, n_jobs
    )
    wall = time.perf_counter() - t0
    scores = np.asarray(scores, dtype=float)
    return dict(
        task=task.name,
        method=method,
        seed=seed,
        wall=wall,
        n_fits=int(n_fits),
        n_distinct=int(n_distinct),
        needed=candidates_needed(scores, task.grid_best - tol, budget),
        best_at_budget=float(np.nanmax(scores[:budget])),
        scores=scores.tolist(),
        params=[{k: _plain(v) for k, v in p.items()} for p in params],
    )


def save(out, runs, tasks, meta, overhead_rows):
    import csv

    out.mkdir(parents=True, exist_ok=True)
    keys = [
        "task",
        "method",
        "seed",
        "wall",
        "n_fits",
        "n_distinct",
        "needed",
        "best_at_budget",
    ]
    with open(out / "bench_search_runs.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(runs)
    payload = dict(
        meta=meta,
        tasks={
            n: dict(grid_best=t.grid_best, grid_time=t.grid_time, **t.extra)
            for n, t in tasks.items()
        },
        runs=runs,
        overhead=overhead_rows,
    )
    (out / "bench_search_traces.json").write_text(json.dumps(payload, indent=1))


def report(payload, out, plot):
    """Write and print the markdown summary of a traces payload; draw the figure."""
    meta, runs = payload["meta"], payload["runs"]
    separate = Path(out) / "bench_search_overhead.json"
    overhead = payload["overhead"] or (
        json.loads(separate.read_text())["overhead"] if separate.exists() else []
    )
    tasks = {}
    for name, info in payload["tasks"].items():
        t = make_tasks()[name]
        t.grid_best, t.grid_time = info["grid_best"], info["grid_time"]
        t.extra.update(n_grid=info["n_grid"])
        tasks[name] = t
    done = sorted({r["seed"] for r in runs})
    rows = summarise(runs, tasks, meta["methods"], meta["budget"], meta["tol"])
    total = meta.get("total_wall_s")
    md = (
        f"Command: `{meta['command']}`  \nDate: {meta['date']}; CPUs: {meta['cpus']}; "
        f"n_jobs={meta['n_jobs']}; cv={meta['cv']}; budget={meta['budget']}; "
        f"seeds present: {len(done)} ({done[0]}..{done[-1]}; per method see 'reached'); "
        + (f"total wall {total / 60:.1f} min; " if total else "run incomplete; ")
        + "versions: "
        + ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
        + "\n"
        + markdown_summary(rows, tasks, meta["budget"], meta["tol"], overhead)
    )
    (Path(out) / "bench_search_summary.md").write_text(md)
    print(md)
    if plot:
        from plot_search import plot_convergence

        plot_convergence(Path(out) / "bench_search_traces.json", plot)
        print(f"figure: {plot}")


def overhead_only(args):
    task = make_tasks()["svc_digits"]
    cv = StratifiedKFold(args.cv, shuffle=True, random_state=0)
    t0 = datetime.now(timezone.utc).isoformat(timespec="seconds")
    rows = measure_overhead(
        task, *task.load(), cv, args.overhead_repeats, args.overhead_methods.split(",")
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(
        command="python " + " ".join(sys.argv),
        date=t0,
        cpus=os.cpu_count(),
        versions=versions(),
    )
    (out / "bench_search_overhead.json").write_text(
        json.dumps(dict(meta=meta, overhead=rows), indent=1)
    )
    print(markdown_summary([], {}, args.budget, args.tol, rows))


def main(argv=None):
    args = parse_args(argv)
    if args.summarise:
        payload = json.loads(Path(args.summarise).read_text())
        return report(payload, Path(args.summarise).parent, args.plot)
    if args.overhead_only:
        return overhead_only(args)
    all_tasks = make_tasks()
    tasks = {n: all_tasks[n].build() for n in args.tasks.split(",")}
    methods = [m for m in args.methods.split(",") if m]
    missing = [m for m in methods if not available(m)]
    if missing:
        print(f"not importable yet, skipped: {', '.join(missing)}", flush=True)
    methods = [m for m in methods if m not in missing]
    seeds = parse_seeds(args.seeds)
    # One splitter per task, shared by every method.
    cvs = {n: t.splitter(args.cv) for n, t in tasks.items()}
    data = {n: t.load() for n, t in tasks.items()}
    out = Path(args.out)
    meta = dict(
        command="python " + " ".join([sys.argv[0]] + (argv or sys.argv[1:])),
        date=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        cpus=os.cpu_count(),
        budget=args.budget,
        cv=args.cv,
        n_jobs=args.n_jobs,
        tol=args.tol,
        seeds=seeds,
        methods=methods,
        versions=versions(),
        ga_population=GA_POPULATION,
    )
    t_start = time.perf_counter()
    if args.grid_from:
        earlier = json.loads(Path(args.grid_from).read_text())["tasks"]
        for name, t in tasks.items():
            t.grid_best, t.grid_time = (
                earlier[name]["grid_best"],
                earlier[name]["grid_time"],
            )
            t.extra.update(
                {
                    k: v
                    for k, v in earlier[name].items()
                    if k not in ("grid_best", "grid_time")
                }
            )
    else:
        run_grids(tasks, data, cvs, args.n_jobs, args.tol)
    search_methods = [m for m in methods if m != "GridSearchCV"]
    runs, overhead_rows = [], []
    for i, seed in enumerate(seeds):
        for tname, task in tasks.items():
            k = i % len(
                search_methods
            )  # rotate the order so no method always runs first
            for m in search_methods[k:] + search_methods[:k]:
                r = run_one(
                    task, m, *data[tname], cvs[tname], args.budget, seed, args.n_jobs,
                    args.tol,
                )
                runs.append(r)
                print(
                    f"[seed {seed}] {tname:17s} {m:19s} needed={_fmt(r['needed'], 'd'):>3} "
                    f"best={r['best_at_budget']:.4f} fits={r['n_fits']} "
                    f"wall={r['wall']:.1f}s",
                    flush=True,
                )
            save(out, runs, tasks, meta, overhead_rows)
    ours = [m for m in args.overhead_methods.split(",") if m in methods]
    if args.overhead_repeats and ours and "svc_digits" in tasks:
        print(
            "[overhead] fixed list of the 49 SVC grid candidates, n_jobs=1", flush=True
        )
        overhead_rows = measure_overhead(
            tasks["svc_digits"], *data["svc_digits"], cvs["svc_digits"],
            args.overhead_repeats, ours,
        )
    meta["total_wall_s"] = time.perf_counter() - t_start
    save(out, runs, tasks, meta, overhead_rows)
    report(json.loads((out / "bench_search_traces.json").read_text()), out, args.plot)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
