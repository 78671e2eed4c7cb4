"""Idle workers in a parallel budgeted search: the top rung run alone or beside the next batch.

A batch's top rung is one or two candidates' folds, the longest fits of the batch: run
alone, they leave the other workers idle (issue 12: "workers are never left idle waiting
for a rung to fill"). ``Evaluator.defer_top_rung`` runs it in one dispatch with the next
batch's first rung instead. This script runs each budgeted search both ways, cross-validated
(``StratifiedKFold(3)``) with ``n_jobs`` workers, on bench_budget.py's digits CNN, and reports
per seed and strategy

* the wall time, and its ratio to the full-budget random search (12 x 27 epochs) of the
  same seed, folds and workers;
* the workers' utilisation: the seconds the fit tasks took (fit and score times of
  ``cv_results_``) over ``n_jobs`` x wall;
* the best cross-validated score, to see what the strategies' one-batch lag in learning
  the top rung's scores costs (the held-out test score is bench_budget_model.py's job:
  ``--switch defer_top_rung``).

Time it alone on the machine (2 cores here: ``--n-jobs 2``)::

    python benchmarks/bench_budget_parallel.py --seeds 2 --n-jobs 2

``--n-brackets 0`` rotates over all Hyperband brackets, whose batches shrink as they start
higher (``Evaluator.batch_size``), so that their rungs are smaller still.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_budget as bb  # noqa: E402

VARIANTS = {"alone": False, "deferred": True}


def run_search(name, variant, seed, data, args):
    from sklearn.model_selection import RandomizedSearchCV, StratifiedKFold

    from skautosearch._evaluator import Evaluator

    task = bb.Digits()
    cv = StratifiedKFold(3, shuffle=True, random_state=seed)
    est = bb.make_estimator(task, args.max_epochs, seed)
    if name == "random":
        search = RandomizedSearchCV(est, bb.scipy_space(task), n_iter=args.full_n_iter, cv=cv,
                                    n_jobs=args.n_jobs, refit=False, random_state=seed)
    else:
        Evaluator.defer_top_rung = VARIANTS[variant]
        cfg = argparse.Namespace(max_epochs=args.max_epochs, n_brackets=args.n_brackets)
        cls, batch = bb.strategy(name, cfg, args.batch_size)
        search = cls(est, bb.ours_space(task), n_iter=args.n_iter, **batch,
                     **bb.budget_kwargs(cfg), cv=cv, n_jobs=args.n_jobs, refit=False,
                     random_state=seed)
    start = time.perf_counter()
    search.fit(data["X_search"], data["y_search"])
    wall = time.perf_counter() - start
    Evaluator.defer_top_rung = True
    res = search.cv_results_
    busy = float(np.sum(res["mean_fit_time"] + res["mean_score_time"]) * 3)
    return {"seed": seed, "method": name, "variant": variant, "wall": wall, "busy": busy,
            "utilisation": busy / (args.n_jobs * wall), "best_score": float(search.best_score_),
            "rows": len(res["params"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=bb.parse_seeds, default="2")
    parser.add_argument("--strategies", default="genetic,annealing,bayes")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--n-iter", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--full-n-iter", type=int, default=12)
    parser.add_argument("--max-epochs", type=int, default=27)
    parser.add_argument("--n-brackets", type=int, default=1,
                        help="Hyperband brackets of the budgeted searches (0: all)")
    parser.add_argument("--out", default=None, help="write the records as JSON here")
    args = parser.parse_args()
    task = bb.Digits()
    print(f"# bench_budget_parallel: n_jobs={args.n_jobs}, cv=3, {args.n_iter} configurations "
          f"in batches of {args.batch_size}, n_brackets={args.n_brackets or 'all'}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    records = []
    for seed in args.seeds:
        data = bb.prepare(task, seed)
        warm = argparse.Namespace(**{**vars(args), "n_iter": 2, "batch_size": 2,
                                     "full_n_iter": 2, "max_epochs": 1})
        run_search("random", "", seed, data, warm)  # start the workers and TensorFlow
        order = list(VARIANTS) if seed % 2 == 0 else list(VARIANTS)[::-1]
        runs = [("random", "")] + [(s, v) for s in args.strategies.split(",") for v in order]
        for name, variant in runs:
            rec = run_search(name, variant, seed, data, args)
            records.append(rec)
            print(f"  seed {seed} {name:9s} {variant:8s} wall {rec['wall']:6.1f} s  "
                  f"utilisation {rec['utilisation']:.2f}  best {rec['best_score']:.4f}",
                  flush=True)
        if args.out:
            with open(args.out, "w") as f:
                json.dump({"args": vars(args), "records": records}, f, indent=1)
    print(f"# load at the end {os.getloadavg()[0]:.1f}")
    print("| strategy | seed | wall s alone / deferred | wall / random, alone / deferred "
          "| deferred / alone | utilisation alone / deferred | best CV score alone / deferred |")
    print("|---|---|---|---|---|---|---|")
    by = {(r["seed"], r["method"], r["variant"]): r for r in records}
    for name in args.strategies.split(","):
        for seed in args.seeds:
            a, d, r = by[seed, name, "alone"], by[seed, name, "deferred"], by[seed, "random", ""]
            print(f"| {name} | {seed} | {a['wall']:.1f} / {d['wall']:.1f} | "
                  f"{a['wall'] / r['wall']:.2f} / {d['wall'] / r['wall']:.2f} | "
                  f"{d['wall'] / a['wall']:.2f} | {a['utilisation']:.2f} / "
                  f"{d['utilisation']:.2f} | {a['best_score']:.4f} / {d['best_score']:.4f} |")
    for seed in args.seeds:
        r = by[seed, "random", ""]
        print(f"random search, seed {seed}: wall {r['wall']:.1f} s, utilisation "
              f"{r['utilisation']:.2f}, best CV score {r['best_score']:.4f}")


if __name__ == "__main__":
    main()
