"""CNN architecture search on CIFAR-10: GeneticSearchCV against GridSearchCV.

The workflow: blocks of Conv2D + MaxPooling2D(2x2), Flatten, Dense(64), softmax;
search the number of blocks (1 to 3), the filters of each block in {32, 64} and the
kernel size in {3, 5}; retrain the best structure and score it on the test set.  A
block's filters are a Conditional dimension, active only when the block exists, so
the space holds 28 distinct networks (4 with one block, 8 with two, 16 with three).
Both searches get those same networks, the same folds and the same estimator; the
genetic search evaluates fewer of them.

    python examples/cifar10_cnn_search.py                  # a CIFAR-10 subset, minutes
    python examples/cifar10_cnn_search.py --two-stage      # then tune the training
    python examples/cifar10_cnn_search.py --full           # all of CIFAR-10, 50 epochs, cv=5
    python examples/cifar10_cnn_search.py --budget --epochs 9   # successive halving on epochs

Offline without a cached CIFAR-10 it says so and runs on scikit-learn's digits (8x8x1).
"""

import argparse
import time

import numpy as np
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skautosearch import BayesianSearchCV, Conditional, GeneticSearchCV, Real
from skautosearch.keras import (
    DatasetUnavailableError,
    KerasClassifier,
    TwoStageSearchCV,
    build_cnn,
    load_cifar10,
    load_digits_images,
)
from skautosearch.space import to_param_grid


def load_data(args):
    if not args.offline:
        try:
            (X, y), (X_test, y_test) = load_cifar10(
                n_train=None if args.full else args.n_train,
                n_test=None if args.full else args.n_test,
            )
            print(f"Data: CIFAR-10, {len(X)} training and {len(X_test)} test images.")
            return X, y, X_test, y_test
        except DatasetUnavailableError as exc:
            print(f"CIFAR-10 unavailable: {exc}")
    print(
        "FALLBACK: running on scikit-learn's bundled digits as 8x8x1 images, "
        "not CIFAR-10."
    )
    X, y = load_digits_images()
    rng = np.random.RandomState(0)
    order = rng.permutation(len(X))
    split = int(0.75 * len(X))
    return X[order[:split]], y[order[:split]], X[order[split:]], y[order[split:]]


FILTERS = [32, 64]
KERNEL_SIZES = [3, 5]
MAX_BLOCKS = 3


def architecture_space():
    """Blocks 1 to 3; block i's filters exist only when there are more than i blocks."""
    space = {"model__n_blocks": list(range(1, MAX_BLOCKS + 1)), "model__filters_0": FILTERS}
    for i in range(1, MAX_BLOCKS):
        space[f"model__filters_{i}"] = Conditional(
            FILTERS, when={"model__n_blocks": list(range(i + 1, MAX_BLOCKS + 1))}
        )
    space["model__kernel_size"] = KERNEL_SIZES
    return space


def architecture_grid():
    """The same networks for GridSearchCV: one sub-grid per number of blocks."""
    return to_param_grid(architecture_space())


def run(name, search, X, y):
    start = time.perf_counter()
    search.fit(X, y)
    seconds = time.perf_counter() - start
    n_fits = len(search.cv_results_["params"]) * search.n_splits_
    print(
        f"{name:>16}: best CV accuracy {search.best_score_:.3f}, "
        f"{len(search.cv_results_['params'])} candidates, {n_fits} fits, {seconds:.0f} s"
    )
    print(f"{'':>16}  best {search.best_params_}")
    return search


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=1500, help="training subset")
    parser.add_argument("--n-test", type=int, default=1000, help="test subset")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument(
        "--n-iter", type=int, default=8, help="genetic search candidates (of 28)"
    )
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--checkpoint", metavar="FILE",
        help="journal the genetic search's fits (JSON lines); rerun after a crash to "
             "resume it without refitting (worth it with --full)",
    )
    parser.add_argument(
        "--offline", action="store_true", help="use the digits fallback"
    )
    parser.add_argument(
        "--two-stage",
        action="store_true",
        help="then search learning rate and batch size for the best CNN",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="all of CIFAR-10, 50 epochs, batch 32, cv=5 (hours on a CPU)",
    )
    parser.add_argument(
        "--budget",
        action="store_true",
        help="successive halving over epochs in the genetic search: candidates start "
             "with 1/9 of --epochs and the best third go on, continuing their training",
    )
    args = parser.parse_args()
    if args.full:
        args.epochs, args.cv = 50, 5
    X, y, X_test, y_test = load_data(args)

    cnn = KerasClassifier(
        build_cnn,
        model__n_blocks=2,
        model__dense_units=64,
        model__activation="relu",
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=1e-3,
        batch_size=32,
        epochs=args.epochs,
        verbose=0,
        random_state=0,
    )
    space = architecture_space()
    cv = StratifiedKFold(args.cv, shuffle=True, random_state=0)
    print(f"Space: {space}; {args.epochs} epochs, cv={args.cv}, n_jobs={args.n_jobs}")

    budget = {}
    if args.budget:
        # A population of 9 so that each rung promotes a third: 9 -> 3 -> 1.
        budget = dict(resource="epochs", max_resources=args.epochs, factor=3)
        print(f"Budgets: epochs from {max(1, args.epochs // 9)} to {args.epochs}, "
              "promoted candidates continue their training.")
    genetic = run(
        "GeneticSearchCV",
        GeneticSearchCV(
            cnn,
            space,
            n_iter=args.n_iter,
            population_size=9 if args.budget else 4,
            cv=cv,
            n_jobs=args.n_jobs,
            random_state=0,
            checkpoint=args.checkpoint,
            **budget,
        ),
        X,
        y,
    )
    grid = run(
        "GridSearchCV",
        GridSearchCV(cnn, architecture_grid(), cv=cv, n_jobs=args.n_jobs),
        X,
        y,
    )
    for name, search in (("genetic", genetic), ("grid", grid)):
        print(
            f"Test accuracy of the {name} search's best CNN (retrained on all "
            f"training data): {search.score(X_test, y_test):.3f}"
        )

    if args.two_stage:
        print(
            "Two stages: the architecture (genetic), then learning rate and batch "
            "size (Bayesian) for the best one."
        )
        two = TwoStageSearchCV(
            GeneticSearchCV(
                cnn,
                space,
                n_iter=args.n_iter,
                population_size=4,
                cv=cv,
                n_jobs=args.n_jobs,
                random_state=0,
                refit=False,
            ),
            BayesianSearchCV(
                cnn,
                {
                    "optimizer__learning_rate": Real(3e-4, 3e-3, prior="log-uniform"),
                    "batch_size": [32, 64],
                },
                n_iter=4,
                cv=cv,
                n_jobs=args.n_jobs,
                random_state=0,
            ),
        )
        start = time.perf_counter()
        two.fit(X, y)
        print(
            f"Two-stage: best CV accuracy {two.best_score_:.3f} with {two.best_params_}, "
            f"{time.perf_counter() - start:.0f} s; test accuracy {two.score(X_test, y_test):.3f}"
        )


if __name__ == "__main__":
    main()
