"""Ablations of our strategies' operators, run through ``bench_search.py``.

Each variant is one of our searches with some of its operator settings (the private
class attributes ``_blend``, ``_numeric_mutation``, ``_adaptive_step``, ``_restart_from``
and ``_copula``, marked in the source as chosen by this benchmark, and the public
``screening``) set back or changed; it runs as one more method of
``bench_search.py``, on the same tasks, folds and seeds. Usage: the arguments of
``bench_search.py``, with variant names in ``--methods``, e.g.::

    python benchmarks/search_variants.py --methods Genetic-old,Genetic-noscreen \\
        --seeds 10 --budget 30 --cv 3 --n-jobs 2 --overhead-repeats 0 --plot ''

``python benchmarks/search_variants.py --list`` prints the variants.
``--merge OUT.json A.json B.json:SUFFIX ...`` writes one traces file of several runs
(the tasks' grid results from the first; each file's method names with its
``:SUFFIX`` appended, if given), for ``bench_search.py --summarise OUT.json``.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_search  # noqa: E402

# name: (our search, operator settings that differ from its defaults)
VARIANTS = {
    # GeneticSearchCV before the benchmark of issue 14: swap crossover, some genes mutate.
    "Genetic-old": ("GeneticSearchCV", {
        "_blend": 0.0, "_numeric_mutation": "some", "screening": 1}),
    "Genetic-noscreen": ("GeneticSearchCV", {"screening": 1}),
    "Genetic-screen-only": ("GeneticSearchCV", {"_blend": 0.0, "_numeric_mutation": "some"}),
    "Genetic-blend": ("GeneticSearchCV", {"_numeric_mutation": "some"}),
    "Genetic-allgenes": ("GeneticSearchCV", {"_blend": 0.0}),
    "Annealing-old": ("AnnealingSearchCV", {
        "_numeric_mutation": "some", "_adaptive_step": False, "_restart_from": "best",
        "screening": 1}),
    "Annealing-noscreen": ("AnnealingSearchCV", {"screening": 1}),
    "Annealing-screen-only": ("AnnealingSearchCV", {
        "_numeric_mutation": "some", "_adaptive_step": False, "_restart_from": "best"}),
    "Annealing-restart-best": ("AnnealingSearchCV", {"_restart_from": "best"}),
    "Annealing-fixed-step": ("AnnealingSearchCV", {"_adaptive_step": False}),
    "Annealing-somegenes": ("AnnealingSearchCV", {"_numeric_mutation": "some"}),
    "Bayesian-old": ("BayesianSearchCV", {"_copula": False}),
}


def _variant_runner(name, base, settings):
    def run(task, X, y, cv, budget, seed, n_jobs):
        private = {k: v for k, v in settings.items() if k.startswith("_")}
        public = {k: v for k, v in settings.items() if not k.startswith("_")}
        cls = type(name.replace("-", "_"), (bench_search._ours(base),), private)
        search = cls(
            task.estimator,
            bench_search.to_skopt(task.space, conditional=True),
            n_iter=budget, cv=cv, n_jobs=n_jobs, refit=False, random_state=seed, **public,
        )
        return bench_search._sklearn_trace(search.fit(X, y))

    run.__name__ = f"run_{name}"
    return run


def merge(out, sources):
    """One traces payload from several runs; see the module docstring."""
    payload, methods = None, []
    for source in sources:
        path, _, suffix = source.partition(":")
        part = json.loads(Path(path).read_text())
        runs = [{**r, "method": r["method"] + suffix} for r in part["runs"]]
        methods += [m + suffix for m in part["meta"]["methods"] if m + suffix not in methods]
        if payload is None:
            payload = {**part, "runs": runs}
            payload["meta"]["command"] = "merged: " + " ".join(sources)
        else:
            payload["runs"] += runs
    payload["meta"]["methods"] = methods
    payload["meta"]["seeds"] = sorted({r["seed"] for r in payload["runs"]})
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(payload, indent=1))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--merge"]:
        return merge(argv[1], argv[2:])
    if "--list" in argv:
        for name, (base, settings) in VARIANTS.items():
            print(f"{name}: {base} with {settings}")
        return
    for name, (base, settings) in VARIANTS.items():
        bench_search.RUNNERS[name] = _variant_runner(name, base, settings)
    bench_search.main(argv)


if __name__ == "__main__":
    main()
