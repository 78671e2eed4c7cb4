"""Distributed-engine benchmark (issue 6, part 3): joblib's Dask and Ray backends vs loky.

Runs the same searches (GeneticSearchCV and AnnealingSearchCV, fixed ``random_state``,
``n_jobs=2``, ``cv=3``, ``refit=False``) under joblib's default loky backend and under
``joblib.parallel_config(backend="dask")`` with a ``Client`` on a 2-worker
``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``; optionally also under
``backend="dask"`` with ``scatter=[X, y]`` ("dask-scatter") and under Ray's joblib backend
(``ray.init(num_cpus=2)``, ``register_ray()``). Every backend is warmed up first (loky
starts its workers, the Dask and Ray workers import scikit-learn), then the backends run
one after the other in each repeat, the order rotated from repeat to repeat, so that load
from other jobs on the machine hits all of them. Reported per workload and search: the wall
time of every run, the ratio backend / loky of each repeat and its median, the median
single-fit time (``mean_fit_time`` of the loky runs' candidates), the extra time per fit and
per batch, and whether ``cv_results_`` (params, per-split and mean test scores) are
identical to loky's. The script exits with status 1 if they are not.

Workloads: ``svc_digits`` (SVC on digits, C in [0.001, 0.1], gamma in [0.001, 0.1]: fits
of 0.1-0.15 s on a quiet machine), ``svc_iris`` (SVC on iris, fits of a few ms: only the
per-task cost of the engine is left to see) and, on request, ``rf_digits``
(RandomForestClassifier(n_estimators=100) on digits, fits of 0.3-0.8 s; the forest's own
``joblib.Parallel`` over its trees inherits the Dask backend inside the worker, so its
trees become cluster tasks).

Example::

    python benchmarks/bench_distributed.py --repeats 3 --backends loky,dask,dask-scatter,ray

``--worker-death`` instead kills one Dask worker process in the middle of a search and
reports what the search did (finished with the same results, or the error it raised).
"""

import argparse
import contextlib
import json
import os
import platform
import signal
import statistics
import sys
import threading
import time
import warnings
from pathlib import Path

os.environ.setdefault("PYTHONWARNINGS", "ignore")
warnings.filterwarnings("ignore")

import joblib  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits, load_iris  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from skautosearch import AnnealingSearchCV, GeneticSearchCV, Integer, Real  # noqa: E402

HERE = Path(__file__).resolve().parent
SEARCHES = {"genetic": GeneticSearchCV, "annealing": AnnealingSearchCV}
COMPARED = ("params", "split0_test_score", "split1_test_score", "split2_test_score",
            "mean_test_score")


# --------------------------------------------------------------------------- workloads
def svc_digits():
    X, y = load_digits(return_X_y=True)
    # Small C keeps every sample a support vector: fits of 0.1-0.15 s on a quiet machine.
    space = {"C": Real(1e-3, 1e-1, prior="log-uniform"),
             "gamma": Real(1e-3, 1e-1, prior="log-uniform")}
    return SVC(), space, X / 16.0, y


def rf_digits():
    X, y = load_digits(return_X_y=True)
    space = {
        "max_depth": Integer(4, 24),
        "max_features": Real(0.05, 0.5),
        "min_samples_leaf": Integer(1, 8),
    }
    return RandomForestClassifier(n_estimators=100, random_state=0), space, X / 16.0, y


def svc_iris():
    X, y = load_iris(return_X_y=True)
    space = {"C": Real(1e-2, 1e3, prior="log-uniform"),
             "gamma": Real(1e-4, 10, prior="log-uniform")}
    return SVC(), space, X, y


WORKLOADS = {"svc_digits": svc_digits, "rf_digits": rf_digits, "svc_iris": svc_iris}


# --------------------------------------------------------------------------- backends
class Engines:
    """Starts the Dask cluster and Ray once; hands out a joblib context per backend."""

    def __init__(self, backends):
        self.cluster = self.client = None
        self.ray = False
        if any(b.startswith("dask") for b in backends):
            from dask.distributed import Client, LocalCluster

            self.cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        if "ray" in backends:
            import ray
            from ray.util.joblib import register_ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            register_ray()
            self.ray = True

    def context(self, backend, X, y):
        if backend == "loky":
            return contextlib.nullcontext()  # joblib's default
        if backend == "dask":
            return joblib.parallel_config(backend="dask")
        if backend == "dask-scatter":
            return joblib.parallel_config(backend="dask", scatter=[X, y])
        if backend == "ray":
            return joblib.parallel_config(backend="ray")
        raise ValueError(backend)

    def close(self):
        if self.client is not None:
            self.client.close()
            self.cluster.close()
        if self.ray:
            import ray

            ray.shutdown()


# --------------------------------------------------------------------------- runs
def make_search(name, estimator, space, n_iter, pre_dispatch="2*n_jobs"):
    return SEARCHES[name](estimator, space, n_iter=n_iter, n_jobs=2, refit=False,
                          cv=StratifiedKFold(3, shuffle=True, random_state=0),
                          random_state=0, pre_dispatch=pre_dispatch)


def run(engines, backend, workload, search, n_iter, pre_dispatch="2*n_jobs"):
    estimator, space, X, y = WORKLOADS[workload]()
    s = make_search(search, estimator, space, n_iter, pre_dispatch)
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    with engines.context(backend, X, y):
        s.fit(X, y)
    wall = time.perf_counter() - t0
    res = s.cv_results_
    return dict(
        backend=backend, workload=workload, search=search, wall=wall, load=load,
        n_candidates=len(res["params"]), n_fits=3 * len(res["params"]),
        n_batches=len(set(res["batch"])) if "batch" in res else None,
        fit_time=float(np.median(res["mean_fit_time"])),
        fit_score_time=float(np.median(res["mean_fit_time"] + res["mean_score_time"])),
        results={k: (list(map(repr, res[k])) if k == "params" else res[k].tolist())
                 for k in COMPARED},
    )


def warm_up(engines, backends):
    """Start every backend's workers; returns {backend: error} for those that fail."""
    failed = {}
    for backend in backends:
        t0 = time.perf_counter()
        try:
            run(engines, backend, "svc_iris", "genetic", 4)
        except Exception as exc:  # a backend the searches cannot run on: report it
            failed[backend] = f"{type(exc).__name__}: {exc}"
            print(f"[warm-up] {backend} FAILED: {failed[backend]}", flush=True)
            continue
        print(f"[warm-up] {backend}: {time.perf_counter() - t0:.2f} s", flush=True)
    return failed


def benchmark(engines, args):
    backends, runs = args.backends, []
    for rep in range(args.repeats):
        order = backends[rep % len(backends):] + backends[:rep % len(backends)]
        for workload in args.workloads:
            n_iter = args.cheap_n_iter if workload == "svc_iris" else args.n_iter
            for search in args.searches:
                for backend in order:
                    r = run(engines, backend, workload, search, n_iter, args.pre_dispatch)
                    r["repeat"] = rep
                    runs.append(r)
                    print(f"[{rep}] {workload:9s} {search:9s} {backend:12s} "
                          f"{r['wall']:7.2f} s  ({r['n_fits']} fits, {r['n_batches']} "
                          f"batches, load {r['load']:.1f})", flush=True)
    return runs


# --------------------------------------------------------------------------- report
def summarise(runs, backends):
    lines, identical = [], True
    keys = sorted({(r["workload"], r["search"]) for r in runs}, reverse=True)
    for workload, search in keys:
        rs = [r for r in runs if r["workload"] == workload and r["search"] == search]
        loky = {r["repeat"]: r for r in rs if r["backend"] == "loky"}
        ref = next(iter(loky.values()))
        fit = statistics.median(r["fit_time"] for r in loky.values())
        fit_score = statistics.median(r["fit_score_time"] for r in loky.values())
        lines.append(f"\n**{workload} / {search}**: {ref['n_candidates']} candidates, "
                     f"{ref['n_fits']} fits in {ref['n_batches']} batches, median single fit "
                     f"{fit * 1e3:.0f} ms (fit+score {fit_score * 1e3:.0f} ms)\n")
        lines.append("| backend | wall s per repeat | median wall s | ratio to loky per repeat "
                     "| median ratio | extra ms / fit | extra ms / batch | identical cv_results_ |")
        lines.append("|---|---|---|---|---|---|---|---|")
        for b in backends:
            br = {r["repeat"]: r for r in rs if r["backend"] == b}
            if not br:
                continue
            ratios = [br[k]["wall"] / loky[k]["wall"] for k in sorted(br) if k in loky]
            extra = statistics.median(br[k]["wall"] - loky[k]["wall"] for k in br if k in loky)
            same = all(r["results"] == ref["results"] for r in br.values())
            identical &= same
            walls = " / ".join(f"{br[k]['wall']:.2f}" for k in sorted(br))
            lines.append(
                f"| {b} | {walls} | {statistics.median(r['wall'] for r in br.values()):.2f} "
                f"| {' / '.join(f'{x:.2f}' for x in ratios)} "
                f"| **{statistics.median(ratios):.2f}** "
                f"| {extra / ref['n_fits'] * 1e3:+.0f} | {extra / ref['n_batches'] * 1e3:+.0f} "
                f"| {'yes' if same else 'NO'} |")
    return "\n".join(lines), identical


# --------------------------------------------------------------------------- worker death
def worker_death(args):
    """Kill one Dask worker process (SIGKILL) while a search runs; report what happens."""
    from dask.distributed import Client, LocalCluster

    estimator, space, X, y = svc_digits()
    loky = make_search("genetic", estimator, space, args.n_iter).fit(X, y)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        pids = client.run(os.getpid)
        victim = next(iter(pids.values()))

        def kill():
            time.sleep(args.kill_after)
            print(f"[worker-death] SIGKILL worker pid {victim} at {args.kill_after} s",
                  flush=True)
            os.kill(victim, signal.SIGKILL)

        threading.Thread(target=kill, daemon=True).start()
        t0 = time.perf_counter()
        try:
            with joblib.parallel_config(backend="dask"):
                dask = make_search("genetic", estimator, space, args.n_iter).fit(X, y)
        except Exception as exc:  # report whatever the search raised
            print(f"[worker-death] search raised {type(exc).__name__}: {exc} "
                  f"after {time.perf_counter() - t0:.1f} s")
            return 1
        same = all(np.array_equal(loky.cv_results_[k], dask.cv_results_[k])
                   if k != "params" else loky.cv_results_[k] == dask.cv_results_[k]
                   for k in COMPARED)
        time.sleep(2)
        print(f"[worker-death] search finished in {time.perf_counter() - t0:.1f} s, "
              f"cv_results_ identical to loky: {same}; workers now: "
              f"{len(client.scheduler_info()['workers'])} (nanny restarts the killed one)")
        return 0 if same else 1


# --------------------------------------------------------------------------- main
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=3, help="repeats of every backend (pairs)")
    p.add_argument("--n-iter", type=int, default=24,
                   help="candidates per svc_digits / rf_digits search")
    p.add_argument("--cheap-n-iter", type=int, default=30, help="candidates per svc_iris search")
    p.add_argument("--backends", default="loky,dask",
                   help="comma-separated: loky,dask,dask-scatter,ray (loky is always run)")
    p.add_argument("--searches", default="genetic,annealing")
    p.add_argument("--workloads", default="svc_digits,svc_iris",
                   help="svc_digits, svc_iris, rf_digits (its inner joblib.Parallel "
                   "runs on the cluster under the Dask backend: slow)")
    p.add_argument("--pre-dispatch", default="2*n_jobs",
                   help="the searches' pre_dispatch (e.g. 'all')")
    p.add_argument("--quick", action="store_true",
                   help="1 repeat, 8 candidates: a smoke test, not a measurement")
    p.add_argument("--json", help="write every run to this file (e.g. benchmarks/out/...)")
    p.add_argument("--worker-death", action="store_true",
                   help="only the worker-death experiment (Dask)")
    p.add_argument("--kill-after", type=float, default=3.0, help="seconds, --worker-death")
    args = p.parse_args(argv)
    args.backends = ["loky"] + [b for b in args.backends.split(",") if b and b != "loky"]
    args.searches = args.searches.split(",")
    args.workloads = args.workloads.split(",")
    if args.quick:
        args.repeats, args.n_iter, args.cheap_n_iter = 1, 8, 8
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.worker_death:
        return worker_death(args)
    import dask
    import sklearn

    print(f"{platform.platform()}, {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; Python "
          f"{platform.python_version()}, scikit-learn {sklearn.__version__}, joblib "
          f"{joblib.__version__}, dask {dask.__version__}", flush=True)
    engines = Engines(args.backends)
    try:
        if engines.ray:
            import ray

            print(f"ray {ray.__version__}", flush=True)
        failed = warm_up(engines, args.backends)
        args.backends = [b for b in args.backends if b not in failed]
        runs = benchmark(engines, args)
    finally:
        engines.close()
    table, identical = summarise(runs, args.backends)
    print(table)
    for backend, error in failed.items():
        print(f"\n{backend}: not measured, the search failed: {error}")
    print(f"\nload average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(runs, indent=1))
    if not identical:
        print("cv_results_ DIFFER between backends", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
