"""Load test (issue 6, section 4): thousands of cheap candidates.

A search of ``--n-iter`` candidates (default 2,000) of a near-free estimator, run by
our searches and, on the very same candidate list, by ``GridSearchCV``, side by side
in one process, ``--repeats`` times interleaved. Reported per method:

* the wall time of ``fit``;
* the time of the fits themselves: the sum over every fit of ``fit_time`` and
  ``score_time`` (what ``cv_results_`` records);
* the overhead per candidate: (wall - fits) / candidates, and its excess over
  GridSearchCV's on the same candidates, which pays the same scikit-learn machinery
  (cloning, ``set_params``, ``_fit_and_score``);
* memory: the process's resident set size, sampled every 20 ms, at 25/50/75/100 %
  of the search, against the size of ``cv_results_`` itself.

The estimator is a ``Ridge`` on 150 rows (a fit takes a fraction of a millisecond), so
what is measured is the machinery, not the model. ``n_jobs=1`` by default: with
workers, dispatch overlaps the fits and the overhead cannot be separated.

Example::

    python benchmarks/bench_load.py --n-iter 2000 --repeats 3
"""

import argparse
import os
import platform
import sys
import threading
import time
import warnings
from datetime import datetime, timezone

import numpy as np
import psutil
from sklearn.datasets import load_iris
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold

from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV, Real

warnings.filterwarnings("ignore")


class RSSSampler:
    """Samples the process's resident set size in a thread."""

    def __init__(self, interval=0.02):
        self.interval = interval
        self.samples = []  # (seconds since start, bytes)
        self._stop = threading.Event()
        self._process = psutil.Process(os.getpid())

    def __enter__(self):
        self._start = time.perf_counter()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.samples.append((time.perf_counter() - self._start,
                                 self._process.memory_info().rss))
            self._stop.wait(self.interval)

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def at_fractions(self, fractions=(0.25, 0.5, 0.75, 1.0)):
        """RSS (MB) at fractions of the run's duration."""
        times = np.array([t for t, _ in self.samples])
        rss = np.array([r for _, r in self.samples]) / 2**20
        return [float(rss[min(np.searchsorted(times, f * times[-1]), len(rss) - 1)])
                for f in fractions]


def results_size(cv_results):
    """Bytes of the arrays and lists of ``cv_results_`` (params dicts counted roughly)."""
    total = 0
    for value in cv_results.values():
        if isinstance(value, np.ndarray):
            total += value.nbytes
            if value.dtype == object:
                total += sum(sys.getsizeof(v) for v in value)
        else:
            total += sum(sys.getsizeof(v) for v in value)
    return total


def make_search(method, n_iter, n_jobs, seed, candidates):
    space = {"alpha": Real(1e-6, 1e6, prior="log-uniform")}
    cv = KFold(3, shuffle=True, random_state=0)
    common = dict(n_iter=n_iter, cv=cv, random_state=seed, n_jobs=n_jobs)
    if method == "GeneticSearchCV":
        return GeneticSearchCV(Ridge(), space, population_size=20, **common)
    if method == "AnnealingSearchCV":
        return AnnealingSearchCV(Ridge(), space, n_chains=10, n_initial_points=20, **common)
    if method == "BayesianSearchCV":
        return BayesianSearchCV(Ridge(), space, n_points=10, **common)
    return GridSearchCV(Ridge(), {"alpha": candidates}, cv=cv, n_jobs=n_jobs)


def run(method, X, y, n_iter, n_jobs, seed, candidates):
    search = make_search(method, n_iter, n_jobs, seed, candidates)
    with RSSSampler() as sampler:
        start = time.perf_counter()
        search.fit(X, y)
        wall = time.perf_counter() - start
    res = search.cv_results_
    n = len(res["params"])
    fits = float(np.sum(res["mean_fit_time"] + res["mean_score_time"])) * search.n_splits_
    return {
        "method": method, "candidates": n, "wall": wall, "fits": fits,
        "overhead_ms": 1e3 * (wall - fits) / n, "rss_mb": sampler.at_fractions(),
        "results_mb": results_size(res) / 2**20,
        "params": [p["alpha"] for p in res["params"]],
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-iter", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--methods", nargs="+",
                        default=["GeneticSearchCV", "AnnealingSearchCV"])
    parser.add_argument("--quick", action="store_true", help="200 candidates, 1 repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.n_iter, args.repeats = 200, 1
    X, y = load_iris(return_X_y=True)
    print(f"# bench_load {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.node()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"n_iter={args.n_iter}, n_jobs={args.n_jobs}, cv=3")
    rows = []
    for repeat in range(args.repeats):
        for method in args.methods:
            ours = run(method, X, y, args.n_iter, args.n_jobs, repeat, None)
            # GridSearchCV on exactly the candidates ours evaluated, right after it.
            grid = run("GridSearchCV", X, y, None, args.n_jobs, repeat, ours["params"])
            for row in (ours, grid):
                row["pair"] = f"{method}#{repeat}"
                rows.append(row)
                print(f"{row['pair']:<22} {row['method']:<18} n={row['candidates']:>5} "
                      f"wall={row['wall']:7.2f}s fits={row['fits']:6.2f}s "
                      f"overhead={row['overhead_ms']:5.2f} ms/candidate "
                      f"rss@25/50/75/100%={'/'.join(f'{r:.0f}' for r in row['rss_mb'])} MB "
                      f"cv_results_={row['results_mb']:.1f} MB")
            excess = ours["overhead_ms"] - grid["overhead_ms"]
            print(f"{'':<22} excess over GridSearchCV: {excess:+.2f} ms/candidate, "
                  f"wall ratio {ours['wall'] / grid['wall']:.2f}x")
    print("\n| method | candidates | median overhead (ms/candidate) | median excess over "
          "GridSearchCV | median wall ratio | RSS growth 25%->100% (MB) | cv_results_ (MB) |")
    print("|---|---|---|---|---|---|---|")
    for method in args.methods:
        mine = [r for r in rows if r["method"] == method]
        grids = [r for r in rows if r["method"] == "GridSearchCV"
                 and r["pair"].startswith(method)]
        excess = [m["overhead_ms"] - g["overhead_ms"] for m, g in zip(mine, grids)]
        ratio = [m["wall"] / g["wall"] for m, g in zip(mine, grids)]
        growth = [m["rss_mb"][-1] - m["rss_mb"][0] for m in mine]
        print(f"| {method} | {mine[0]['candidates']} | "
              f"{np.median([m['overhead_ms'] for m in mine]):.2f} | {np.median(excess):+.2f} | "
              f"{np.median(ratio):.2f}x | {np.median(growth):+.1f} | "
              f"{np.median([m['results_mb'] for m in mine]):.1f} |")
    grids = [r for r in rows if r["method"] == "GridSearchCV"]
    print(f"| GridSearchCV (same candidates) | {grids[0]['candidates']} | "
          f"{np.median([g['overhead_ms'] for g in grids]):.2f} | | 1.00x | "
          f"{np.median([g['rss_mb'][-1] - g['rss_mb'][0] for g in grids]):+.1f} | "
          f"{np.median([g['results_mb'] for g in grids]):.1f} |")


if __name__ == "__main__":
    main()
