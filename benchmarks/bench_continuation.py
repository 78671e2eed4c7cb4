# ruff: noqa: E501  (report lines read better unbroken)
"""Cost of taking Keras fold models through budget rungs: retrain vs continue.

Digits as 8x8x1 images (the first 1,000 rows), StratifiedKFold(3), a few random
two-block CNNs (filters 4-64, kernel 2 or 3, dense 8-128, Adam with a log-uniform
learning rate), every candidate taken through every rung (no elimination: this
measures what one promotion costs, not which candidates survive).  Methods:

* ``retrain``: each rung fits from scratch (scikit-learn's HalvingRandomSearchCV);
* ``continue``: each rung loads the fold model of the rung before from a
  ``ModelStore`` and trains the extra epochs (the engine's path, one process:
  the loaded model moves into the idle traced model of its architecture);
* ``continue-cold``: the same, with the pool of traced models emptied before each
  load, as in a worker that never traced that architecture.

Reports epochs trained, wall time and the last rung's mean CV accuracy per
candidate (continue vs retrain differ by batch-shuffle noise only).  Wall times
mean something only alone on the machine.

Run:    python benchmarks/bench_continuation.py             (about 3-5 min alone)
Check:  python benchmarks/bench_continuation.py --quick     (about 1 min)
"""

import argparse
import os
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir))

from sklearn.model_selection import StratifiedKFold  # noqa: E402

from skautosearch._continuation import ModelStore, fit_to_budget  # noqa: E402
from skautosearch.keras import (  # noqa: E402
    KerasClassifier,
    build_cnn,
    clear_model_pool,
    load_digits_images,
)


def candidates(n, seed):
    rng = np.random.default_rng(seed)
    for _ in range(n):
        yield KerasClassifier(
            build_cnn,
            model__n_blocks=2,
            model__filters_0=int(rng.integers(4, 65)),
            model__filters_1=int(rng.integers(4, 65)),
            model__kernel_size=int(rng.choice([2, 3])),
            model__dense_units=int(rng.integers(8, 129)),
            loss="sparse_categorical_crossentropy",
            optimizer="adam",
            optimizer__learning_rate=float(10 ** rng.uniform(-3.5, -1.5)),
            batch_size=32,
            epochs=1,
            verbose=0,
            random_state=0,
        )


def run(method, cands, X, y, folds, rungs, store):
    epochs, last = 0, []
    start = time.perf_counter()
    for i, estimator in enumerate(cands):
        for budget in rungs:
            scores = []
            for split, (train, test) in enumerate(folds):
                previous = None
                if method != "retrain":
                    if method == "continue-cold":
                        clear_model_pool()
                    previous = store.load((i, split))
                fitted = fit_to_budget(
                    estimator, X[train], y[train], resource="epochs",
                    budget=budget, previous=previous,
                )
                epochs += fitted.trained
                scores.append(fitted.estimator.score(X[test], y[test]))
                if method != "retrain" and budget != rungs[-1]:
                    store.save((i, split), fitted.estimator)
            if budget == rungs[-1]:
                last.append(float(np.mean(scores)))
                store.discard(i)
    return epochs, time.perf_counter() - start, last


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 candidates, 2 folds, rungs 1 2")
    parser.add_argument("--candidates", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    X, y = load_digits_images()
    X, y = X[:1000], y[:1000]
    n_candidates, n_folds, rungs = (2, 2, [1, 2]) if args.quick else (args.candidates, 3, [1, 3, 9])
    folds = list(StratifiedKFold(n_folds).split(X, y))
    cands = list(candidates(n_candidates, args.seed))
    # One throw-away fit so that no method pays TensorFlow's start-up.
    fit_to_budget(cands[0], X[:64], y[:64], resource="epochs", budget=1)
    print(f"{n_candidates} candidates x {n_folds} folds, rungs {rungs}")
    results = {}
    with ModelStore() as store:
        for method in ("retrain", "continue", "continue-cold"):
            clear_model_pool()
            results[method] = run(method, cands, X, y, folds, rungs, store)
            epochs, wall, last = results[method]
            print(f"{method:14s} epochs {epochs:4d}  wall {wall:6.1f} s  last-rung CV accuracy {np.round(last, 3).tolist()}")
    retrain = np.array(results["retrain"][2])
    for method in ("continue", "continue-cold"):
        diff = np.abs(np.array(results[method][2]) - retrain)
        print(f"{method}: |accuracy - retrain| mean {diff.mean():.3f}, max {diff.max():.3f}")


if __name__ == "__main__":
    main()
