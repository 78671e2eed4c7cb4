"""Which rung a budgeted search's model of the space learns from (issue 12).

In a budgeted search each candidate has a score at every rung it reached. The strategies'
models of the space (the Bayesian surrogate, the genetic and annealing pre-screens) can
learn from

* ``reached``: every candidate's score at the highest rung *it* reached, so a candidate
  eliminated after one epoch is compared with another trained to the end; or
* ``highest``: as BOHB does (Falkner et al., 2018), the scores at the highest rung that
  more candidates reached than the space has parameters, so that the model compares
  candidates trained alike (``Evaluator.model_rung``).

This script runs both on the same seeds, folds and candidates budget, on scikit-learn
estimators that continue (``warm_start``) so that many seeds are affordable, and reports
the held-out test score of each search's refitted best model, paired by seed.

``--switch annealing_resample`` A/Bs another budget rule the same way: whether
AnnealingSearchCV resamples its chains by their scores after each batch in a budgeted
search (population annealing; ``never`` against ``budgeted``, see
``AnnealingSearchCV._resampling``). ``--switch defer_top_rung`` measures what running each
batch's top rung beside the next batch's first rung costs in accuracy: the strategies
propose the next batch before they know the top rung's scores (``Evaluator.defer_top_rung``;
its wall time is bench_budget_parallel.py's). ``--switch bracket_sizes`` compares batches
that shrink in the higher Hyperband brackets (Hyperband's shares, ``Evaluator.batch_size``)
with batches of the strategy's full size in every bracket; at the same ``n_iter`` the two
train different amounts, so the table reports each arm's resource units trained too.
``--switch genetic_parents --strategies genetic`` compares the genetic search's parents
drawn from its population (scores at the highest rung each reached) with DEHB's selection
within a budget: the best candidates at the rung the children start at
(``GeneticSearchCV._parent_rung``).

Tasks (each its own kind of space and folds):

* ``hgb_breast_cancer_unshuffled`` -- HistGradientBoostingClassifier over ``max_iter``
  (3..81), 4 dimensions, integer-heavy, unshuffled StratifiedKFold;
* ``mlp_digits`` -- MLPClassifier over ``max_iter`` (3..81), a narrow learning-rate
  optimum, shuffled folds;
* ``sgd_conditional_digits`` -- SGDClassifier over ``max_iter`` (1..27), a conditional
  space (``l1_ratio`` only with the elastic-net penalty), unshuffled folds.

Example (accuracy only, so ``--n-jobs 2`` is fine; nothing here is timed)::

    python benchmarks/bench_budget_model.py --seeds 8 --n-jobs 2
"""

import argparse
import os
import warnings

os.environ.setdefault("PYTHONWARNINGS", "ignore")  # MLP/SGD ConvergenceWarnings
warnings.filterwarnings("ignore")

import numpy as np  # noqa: E402
from scipy import stats  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402
from sklearn.linear_model import SGDClassifier  # noqa: E402
from sklearn.model_selection import StratifiedKFold, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from skautosearch import (  # noqa: E402
    AnnealingSearchCV,
    BayesianSearchCV,
    Categorical,
    Conditional,
    GeneticSearchCV,
    Integer,
    Real,
)
from skautosearch._evaluator import Evaluator  # noqa: E402


def _set_model_rung(variant):
    Evaluator.model_rung = variant


def _set_annealing_resample(variant):
    AnnealingSearchCV._resampling = variant


def _set_defer_top_rung(variant):
    Evaluator.defer_top_rung = variant == "deferred"


def _set_bracket_sizes(variant):
    Evaluator.bracket_sizes = variant


def _set_genetic_parents(variant):
    GeneticSearchCV._parent_rung = variant


# --switch: the two variants compared (the default first) and how to set one.
SWITCHES = {
    "model_rung": (("reached", "highest"), _set_model_rung),
    "annealing_resample": (("never", "budgeted"), _set_annealing_resample),
    "defer_top_rung": (("deferred", "alone"), _set_defer_top_rung),
    "bracket_sizes": (("hyperband", "equal"), _set_bracket_sizes),
    "genetic_parents": (("population", "entry"), _set_genetic_parents),
}


def tasks():
    """name -> (X, y, estimator, space, resource, min_resources, max_resources, shuffle)."""
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xd, yd = load_digits(return_X_y=True)
    Xd = Xd / 16.0
    return {
        "hgb_breast_cancer_unshuffled": (
            Xb, yb, HistGradientBoostingClassifier(early_stopping=False, random_state=0),
            {"learning_rate": Real(0.005, 0.5, prior="log-uniform"),
             "max_leaf_nodes": Integer(2, 64),
             "min_samples_leaf": Integer(2, 60),
             "l2_regularization": Real(1e-4, 10, prior="log-uniform")},
            "max_iter", 3, 81, False),
        "mlp_digits": (
            Xd, yd, MLPClassifier(random_state=0),
            {"hidden_layer_sizes": Integer(4, 128),
             "alpha": Real(1e-6, 1.0, prior="log-uniform"),
             "learning_rate_init": Real(1e-5, 0.3, prior="log-uniform")},
            "max_iter", 3, 81, True),
        "sgd_conditional_digits": (
            Xd, yd, make_pipeline(StandardScaler(), SGDClassifier(tol=None, random_state=0)),
            {"sgdclassifier__penalty": Categorical(["l2", "l1", "elasticnet"]),
             "sgdclassifier__alpha": Real(1e-7, 1.0, prior="log-uniform"),
             "sgdclassifier__l1_ratio": Conditional(
                 Real(0.05, 0.95), when={"sgdclassifier__penalty": ["elasticnet"]}),
             "sgdclassifier__learning_rate": Categorical(["optimal", "invscaling"]),
             "sgdclassifier__eta0": Real(1e-4, 1.0, prior="log-uniform")},
            "sgdclassifier__max_iter", 1, 27, False),
    }


def strategy(name, batch):
    if name == "genetic":
        return GeneticSearchCV, dict(population_size=batch + 2, elitism=2)
    if name == "annealing":
        return AnnealingSearchCV, dict(n_chains=batch, n_initial_points=batch)
    return BayesianSearchCV, dict(n_points=batch, n_initial_points=batch)


def run(task, name, set_variant, seed, args):
    X, y, estimator, space, resource, low, high, shuffle = task
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed)
    cv = StratifiedKFold(3, shuffle=shuffle, random_state=seed if shuffle else None)
    cls, batch = strategy(name, args.batch_size)
    set_variant()
    search = cls(estimator, space, n_iter=args.n_iter, resource=resource, min_resources=low,
                 max_resources=high, factor=3, cv=cv, n_jobs=args.n_jobs, random_state=seed,
                 **batch).fit(X_train, y_train)
    trained = int(np.sum(search.cv_results_["resources_trained"]))
    return search.best_score_, search.score(X_test, y_test), trained


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--n-iter", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--strategies", default="genetic,annealing,bayes")
    parser.add_argument("--tasks", default=",".join(tasks()))
    parser.add_argument("--switch", choices=sorted(SWITCHES), default="model_rung")
    args = parser.parse_args()
    all_tasks = tasks()
    (old, new), setter = SWITCHES[args.switch]
    print(f"# bench_budget_model: {args.switch}, n_iter={args.n_iter}, batches of "
          f"{args.batch_size}, seeds 0-{args.seeds - 1}; test score of the refitted best model")
    print(f"| task | strategy | test, {old} | test, {new} | {new} − {old} "
          f"(median) | wins/ties/losses | Wilcoxon p | units trained, {new} / {old} |")
    print("|---|---|---|---|---|---|---|---|")
    for task_name in args.tasks.split(","):
        for name in args.strategies.split(","):
            tests = {v: [] for v in (old, new)}
            trained = {v: [] for v in (old, new)}
            for seed in range(args.seeds):
                for variant in (old, new):
                    _, test, units = run(all_tasks[task_name], name,
                                         lambda v=variant: setter(v), seed, args)
                    tests[variant].append(test)
                    trained[variant].append(units)
            setter(old)
            a, b = np.array(tests[old]), np.array(tests[new])
            diff = b - a
            p = stats.wilcoxon(diff).pvalue if np.any(diff != 0) else 1.0
            print(f"| {task_name} | {name} | {np.mean(a):.4f} | {np.mean(b):.4f} | "
                  f"{np.median(diff):+.4f} | {np.sum(diff > 0)}/{np.sum(diff == 0)}/"
                  f"{np.sum(diff < 0)} | {p:.2f} | "
                  f"{np.sum(trained[new]) / np.sum(trained[old]):.2f} |", flush=True)


if __name__ == "__main__":
    main()
