"""How many loky workers a Keras architecture search starts (issue #12, item 4).

TensorFlow keeps about 8.5 MB of graph state per new architecture in a process (see
``skautosearch/_continuation.py``), and loky replaces a worker whose memory has grown a
fixed amount past its size after its first task, so a long architecture search starts
new workers, each paying ``import tensorflow`` (about 4.5 s) and new traces. This
script runs one search over ``--n-iter`` distinct CNN architectures (digits as 8x8x1
images, 1 epoch, ``cv=2``, ``n_jobs=2``) and counts the worker processes that fitted
a model (a Keras callback records each fit's process id), for each allowance of
memory growth given with ``--growth-mb`` (``SKAUTOSEARCH_WORKER_MEMORY_GROWTH_MB``;
300 is loky's own limit).

Counts, not times, are its figures: they hold on a loaded machine. Run from the
repository root::

    python benchmarks/bench_worker_churn.py --n-iter 80 --growth-mb 300 auto
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def search(n_iter, log):
    import keras
    from scipy.stats import randint
    from sklearn.model_selection import RandomizedSearchCV

    from skautosearch.keras import KerasClassifier, build_cnn, load_digits_images

    class LogPid(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            with open(log, "a") as fh:
                fh.write(f"{os.getpid()}\n")

    X, y = load_digits_images()
    est = KerasClassifier(build_cnn, model__n_blocks=2, loss="sparse_categorical_crossentropy",
                          epochs=1, batch_size=32, verbose=0, random_state=0,
                          callbacks=[LogPid()])
    space = {"model__filters_0": randint(2, 201), "model__filters_1": randint(2, 201)}
    start = time.perf_counter()
    RandomizedSearchCV(est, space, n_iter=n_iter, cv=2, n_jobs=2, refit=False,
                       random_state=0).fit(X[:600], y[:600])
    wall = time.perf_counter() - start
    with open(log) as fh:
        pids = [int(line) for line in fh if line.strip()]
    return {"fits": len(pids), "workers": len(set(pids)), "wall": wall}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=80)
    parser.add_argument("growth", nargs="*", default=["300", "auto"],
                        help="allowances in MB ('auto': the package's default)")
    parser.add_argument("--child", metavar="LOG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = search(args.n_iter, args.child)
        print(result["fits"], result["workers"], f"{result['wall']:.1f}")
        return
    print(f"# {args.n_iter} architectures x 2 folds, n_jobs=2; load "
          f"{os.getloadavg()[0]:.1f}")
    print("| growth allowed per worker | fits | worker processes | wall s |")
    print("|---|---|---|---|")
    for growth in args.growth:
        env = dict(os.environ)
        env.pop("SKAUTOSEARCH_WORKER_MEMORY_GROWTH_MB", None)
        if growth != "auto":
            env["SKAUTOSEARCH_WORKER_MEMORY_GROWTH_MB"] = growth
        with tempfile.TemporaryDirectory() as folder:
            log = os.path.join(folder, "pids")
            out = subprocess.run([sys.executable, __file__, "--n-iter", str(args.n_iter),
                                  "--child", log], env=env, capture_output=True, text=True,
                                 check=True).stdout.split()
        print(f"| {growth} MB | {out[-3]} | {out[-2]} | {out[-1]} |", flush=True)
    print(f"\nload {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
