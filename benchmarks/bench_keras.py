"""Keras search performance: per-fit cost, parallelism, flat long runs, determinism.

Run from the repository root (takes a few minutes on 2 cores)::

    python benchmarks/bench_keras.py                 # every part
    python benchmarks/bench_keras.py --part speed    # one part

Parts
-----
speed        The same GridSearchCV (same candidates, same StratifiedKFold, same
             n_jobs=1) over ``scikeras.wrappers.KerasClassifier`` and over
             ``skautosearch.keras.KerasClassifier``, run alternately
             ``--repeats`` times in one process; wall times, ratio, and whether
             the two give identical ``mean_test_score``.
parallel     A 24-fit search of ``skautosearch.keras.KerasClassifier`` with
             n_jobs=1 and n_jobs=2, cold (new worker processes, empty model
             pools) and warm (the same search again).
flat         200 consecutive fits in one process (clone, fit, score, drop, as a
             search does): slope of the time per fit and growth of the RSS.
determinism  A GeneticSearchCV over a Keras model run twice with n_jobs=1 and
             once with n_jobs=2: are the cv_results_ (less timings) identical?
"""

import argparse
import gc
import os
import platform
import time

import numpy as np


def _digits():
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(np.float32), y


def _mlp(cls, epochs):
    from skautosearch.keras import build_mlp

    return cls(
        build_mlp,
        model__hidden_units=(32,),
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=1e-3,
        batch_size=32,
        epochs=epochs,
        verbose=0,
        random_state=0,
    )


SPACE = {
    "model__hidden_units": [(32,), (64,)],
    "optimizer__learning_rate": [1e-3, 3e-3],
    "batch_size": [32, 64],
}


def _grid(estimator, n_jobs, cv=3):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    return GridSearchCV(
        estimator, SPACE, cv=StratifiedKFold(cv), n_jobs=n_jobs, refit=False
    )


def _timed(search, X, y):
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start, search.cv_results_["mean_test_score"]


def part_speed(repeats, epochs):
    import warnings

    from scikeras.wrappers import KerasClassifier as SciKerasClassifier

    from skautosearch.keras import KerasClassifier, clear_model_pool

    X, y = _digits()
    warnings.filterwarnings("ignore", message=".*build_fn.*")
    # Warm TensorFlow up once so that neither side pays the first-trace costs.
    _mlp(SciKerasClassifier, 1).fit(X[:100], y[:100])
    times = {"scikeras": [], "skautosearch": []}
    scores = {}
    for _ in range(repeats):
        for name, cls in (
            ("scikeras", SciKerasClassifier),
            ("skautosearch", KerasClassifier),
        ):
            clear_model_pool()  # every repeat starts with no traced model
            gc.collect()
            seconds, scores[name] = _timed(_grid(_mlp(cls, epochs), n_jobs=1), X, y)
            times[name].append(seconds)
    n_fits = 3 * int(np.prod([len(v) for v in SPACE.values()]))
    a, b = np.median(times["scikeras"]), np.median(times["skautosearch"])
    print(
        f"## speed: GridSearchCV, {n_fits} fits (8 candidates x 3 folds), digits MLP, "
        f"{epochs} epochs, n_jobs=1, {repeats} alternating repeats"
    )
    print(
        f"GridSearchCV + scikeras.KerasClassifier      : median {a:6.2f} s  "
        f"{np.round(times['scikeras'], 2)}"
    )
    print(
        f"GridSearchCV + skautosearch.KerasClassifier  : median {b:6.2f} s  "
        f"{np.round(times['skautosearch'], 2)}"
    )
    print(f"speed-up (median ratio): {a / b:.2f}x")
    print(
        "identical mean_test_score:",
        np.array_equal(scores["scikeras"], scores["skautosearch"]),
    )


def part_parallel(epochs):
    from skautosearch.keras import KerasClassifier, clear_model_pool

    X, y = _digits()
    _mlp(KerasClassifier, 1).fit(
        X[:100], y[:100]
    )  # main process warm, like the workers
    clear_model_pool()
    res = {}
    for label in ("cold", "warm"):
        for n_jobs in (1, 2):
            if label == "cold" and n_jobs == 1:
                clear_model_pool()
            res[label, n_jobs] = _timed(
                _grid(_mlp(KerasClassifier, epochs), n_jobs), X, y
            )
    print(
        f"## parallel: GridSearchCV + skautosearch.KerasClassifier, 24 fits, {epochs} epochs"
    )
    for label in ("cold", "warm"):
        t1, t2 = res[label, 1][0], res[label, 2][0]
        print(
            f"{label}: n_jobs=1 {t1:6.2f} s, n_jobs=2 {t2:6.2f} s, speed-up {t1 / t2:.2f}x, "
            f"identical scores: {np.array_equal(res[label, 1][1], res[label, 2][1])}"
        )
    print(
        "(cold: new loky workers that import TensorFlow, empty model pools; "
        "warm: the same search again, workers and pools kept)"
    )


def _rss_mb():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


def part_flat(n_fits, epochs):
    from sklearn.base import clone

    from skautosearch.keras import KerasClassifier, model_pool_info

    X, y = _digits()
    train, test = slice(0, 1200), slice(1200, None)
    base = _mlp(KerasClassifier, epochs)
    seconds, rss = [], []
    for i in range(n_fits):
        est = clone(base).set_params(
            model__hidden_units=[(32,), (64,)][i % 2],
            optimizer__learning_rate=[1e-3, 3e-3][(i // 2) % 2],
        )
        start = time.perf_counter()
        est.fit(X[train], y[train]).score(X[test], y[test])
        del est
        seconds.append(time.perf_counter() - start)
        rss.append(_rss_mb())
    seconds, rss = np.array(seconds), np.array(rss)
    steady = slice(20, None)
    idx = np.arange(n_fits)[steady]
    slope = np.polyfit(idx, seconds[steady], 1)[0]
    mean = seconds[steady].mean()
    print(
        f"## flat: {n_fits} consecutive fits in one process, digits MLP "
        f"(2 architectures x 2 learning rates), {epochs} epochs, no clear_session()"
    )
    print(
        f"time per fit: first {seconds[0]:.2f} s, fits 21-{n_fits} mean {mean:.3f} s, "
        f"median {np.median(seconds[steady]):.3f} s"
    )
    print(
        f"time slope over fits 21-{n_fits}: {100 * slope * 10 / mean:+.2f} % of the mean "
        "per 10 fits"
    )
    print(
        f"RSS: after fit 20 {rss[19]:.0f} MB, after fit {n_fits} {rss[-1]:.0f} MB, "
        f"growth {rss[-1] - rss[19]:+.0f} MB (after fit 1: {rss[0]:.0f} MB)"
    )
    print("model pool:", model_pool_info())


def part_determinism(epochs):
    import keras
    import tensorflow as tf

    from skautosearch import GeneticSearchCV
    from skautosearch.keras import KerasClassifier

    X, y = _digits()

    def run(n_jobs):
        search = GeneticSearchCV(
            _mlp(KerasClassifier, epochs),
            SPACE,
            n_iter=6,
            population_size=3,
            cv=2,
            n_jobs=n_jobs,
            random_state=0,
        )
        search.fit(X, y)
        return {k: v for k, v in search.cv_results_.items() if "time" not in k}

    before = (
        np.random.get_state()[1][:3].tolist(),
        keras.random.randint((1,), 0, 10**6, seed=None),
    )
    runs = [run(1), run(1), run(2)]
    del before  # the global-state check is in tests/keras; here we compare results

    def same(a, b):
        return all(
            np.array_equal(
                np.asarray(a[k], dtype=object), np.asarray(b[k], dtype=object)
            )
            for k in a
        )

    print(
        f"## determinism: GeneticSearchCV(n_iter=6, cv=2, random_state=0), {epochs} epochs"
    )
    print("n_jobs=1 twice identical:", same(runs[0], runs[1]))
    print("n_jobs=1 vs n_jobs=2 identical:", same(runs[0], runs[2]))
    print("mean_test_score:", np.round(runs[0]["mean_test_score"], 4).tolist())
    _ = tf  # imported for its side effect of pinning the backend


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part",
        choices=["speed", "parallel", "flat", "determinism", "all"],
        default="all",
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--n-fits", type=int, default=200)
    args = parser.parse_args()
    import sklearn
    import tensorflow as tf

    print(
        f"# {platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"TensorFlow {tf.__version__}, scikit-learn {sklearn.__version__}, "
        f"load average before {os.getloadavg()[0]:.1f}"
    )
    parts = (
        ["speed", "parallel", "flat", "determinism"]
        if args.part == "all"
        else [args.part]
    )
    for part in parts:
        start = time.perf_counter()
        if part == "speed":
            part_speed(args.repeats, args.epochs)
        elif part == "parallel":
            part_parallel(args.epochs)
        elif part == "flat":
            part_flat(args.n_fits, args.epochs)
        else:
            part_determinism(args.epochs)
        print(
            f"({part}: {time.perf_counter() - start:.0f} s; load average now "
            f"{os.getloadavg()[0]:.1f})\n"
        )


if __name__ == "__main__":
    main()
