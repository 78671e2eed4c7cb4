"""LSTM hyper-parameter search on IMDB: BayesianSearchCV against RandomizedSearchCV.

The workflow: Embedding(5000, embedding_dim) + SpatialDropout1D(dropout) +
LSTM(n_units, dropout, recurrent_dropout) + a sigmoid output, Adam, binary
cross-entropy, reviews padded to 100 tokens; 10 candidates, cv=3 (--full; the
default is a subset with smaller ranges, 5 candidates, batches of 32).  Both searches
get the same space, the same number of candidates and the same folds.  The best
model is then retrained (20 % validation split) and scored on the test set.

    python examples/imdb_lstm_search.py              # an IMDB subset, smaller ranges, minutes
    python examples/imdb_lstm_search.py --full       # the workflow's full ranges and data
    python examples/imdb_lstm_search.py --budget --epochs 9   # successive halving on epochs

Offline without a cached IMDB it says so and runs on a synthetic token-sequence task.
"""

import argparse
import time

from scipy.stats import randint, uniform
from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold

from skautosearch import BayesianSearchCV, Integer, Real
from skautosearch.keras import (
    DatasetUnavailableError,
    KerasClassifier,
    build_lstm_classifier,
    load_imdb,
    make_token_sequences,
)

VOCAB, MAXLEN = 5000, 100


def load_data(args):
    if not args.offline:
        try:
            (X, y), (X_test, y_test) = load_imdb(
                num_words=VOCAB,
                maxlen=MAXLEN,
                n_train=None if args.full else args.n_train,
                n_test=None if args.full else args.n_test,
            )
            print(f"Data: IMDB, {len(X)} training and {len(X_test)} test reviews.")
            return X, y, X_test, y_test
        except DatasetUnavailableError as exc:
            print(f"IMDB unavailable: {exc}")
    print(
        "FALLBACK: running on SYNTHETIC token sequences "
        "(skautosearch.keras.make_token_sequences), not IMDB reviews."
    )
    X, y = make_token_sequences(
        n_samples=args.n_train + args.n_test,
        maxlen=MAXLEN,
        vocab_size=VOCAB,
        random_state=0,
    )
    return X[: args.n_train], y[: args.n_train], X[args.n_train :], y[args.n_train :]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=800)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--n-iter", type=int, default=5)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument(
        "--checkpoint", metavar="FILE",
        help="journal the Bayesian search's fits (JSON lines); rerun after a crash to "
             "resume it without refitting",
    )
    parser.add_argument(
        "--offline", action="store_true", help="use the synthetic fallback"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="all of IMDB, the workflow's ranges, 10 candidates, 10 epochs",
    )
    parser.add_argument(
        "--budget",
        action="store_true",
        help="successive halving over epochs in the Bayesian search: each batch of 3 "
             "starts with fewer epochs and the best goes on, continuing its training",
    )
    args = parser.parse_args()
    if args.full:
        args.epochs, args.n_iter = 10, 10
    X, y, X_test, y_test = load_data(args)
    # On a subset, batches of 128 leave too few optimiser steps to learn
    # anything in a few epochs: smaller batches and a larger step size.
    batch_size, learning_rate = (128, 1e-3) if args.full else (32, 3e-3)

    lstm = KerasClassifier(
        build_lstm_classifier,
        model__vocab_size=VOCAB,
        loss="binary_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=learning_rate,
        batch_size=batch_size,
        epochs=args.epochs,
        verbose=0,
        random_state=0,
    )
    dims, units = ([128, 256, 512], (64, 511)) if args.full else ([16, 32, 64], (8, 64))
    bayes_space = {
        "model__embedding_dim": dims,
        "model__dropout": Real(0.2, 0.7),
        "model__recurrent_dropout": Real(0.1, 0.6),
        "model__n_units": Integer(*units),
    }
    random_space = {
        "model__embedding_dim": dims,
        "model__dropout": uniform(0.2, 0.5),
        "model__recurrent_dropout": uniform(0.1, 0.5),
        "model__n_units": randint(units[0], units[1] + 1),
    }
    cv = StratifiedKFold(args.cv, shuffle=True, random_state=0)
    print(
        f"{args.n_iter} candidates each, cv={args.cv}, {args.epochs} epochs, "
        f"n_jobs={args.n_jobs}"
    )
    searches = {
        "BayesianSearchCV": BayesianSearchCV(
            lstm,
            bayes_space,
            n_iter=args.n_iter,
            n_points=3 if args.budget else 2,
            cv=cv,
            n_jobs=args.n_jobs,
            random_state=0,
            checkpoint=args.checkpoint,
            **(dict(resource="epochs", max_resources=args.epochs) if args.budget else {}),
        ),
        "RandomizedSearchCV": RandomizedSearchCV(
            lstm,
            random_space,
            n_iter=args.n_iter,
            cv=cv,
            n_jobs=args.n_jobs,
            random_state=0,
        ),
    }
    for name, search in searches.items():
        start = time.perf_counter()
        search.fit(X, y)
        n_fits = len(search.cv_results_["params"]) * search.n_splits_
        print(
            f"{name:>18}: best CV accuracy {search.best_score_:.3f}, {n_fits} fits, "
            f"{time.perf_counter() - start:.0f} s"
        )
        print(f"{'':>18}  best {search.best_params_}")
    best = max(searches.values(), key=lambda s: s.best_score_)
    final = KerasClassifier(
        **{**best.best_estimator_.get_params(deep=False), "validation_split": 0.2}
    )
    final.set_params(**best.best_params_).fit(X, y)
    print(
        f"Best model retrained (20 % validation split): test accuracy "
        f"{final.score(X_test, y_test):.3f}"
    )


if __name__ == "__main__":
    main()
