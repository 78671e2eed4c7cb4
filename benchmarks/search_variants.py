"""Ablations of our strategies' operators, run through ``bench_search.py``.

Each variant is one of our searches with some of its operator settings (the private
class attributes ``_blend``, ``_numeric_mutation``, ``_adaptive_step``, ``_restart_from``
and ``_copula``, marked in the source as chosen by this benchmark, and the public
``screening``) set back or changed; it runs as one more method of
``bench_search.py``, on the same tasks, folds and seeds. Usage: the arguments of
``bench_search.py``, with variant names in ``--methods``, e.g.::

    python benchmarks/search_variants.py --methods Genetic-old,Genetic-screen-only \\
        --seeds 10 --budget 30 --cv 3 --n-jobs 2 --overhead-repeats 0 --plot ''

``python benchmarks/search_variants.py --list`` prints the variants.
``--merge OUT.json A.json B.json@M1,M2=NAME:SUFFIX ...`` writes one traces file of
several runs, for ``bench_search.py --summarise OUT.json``: of each file, the methods
listed after ``@`` (all if none; ``M2=NAME`` renames), their names with ``:SUFFIX``
appended (if given); every file's tasks, the first file's grid results where two have
the same task.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_search  # noqa: E402

# name: (our search, its operator settings). Every setting that was ever a candidate
# default is spelled out, so that a variant means the same when the defaults change.
_GA_OLD = {"_blend": 0.0, "_numeric_mutation": "some", "screening": 1}
_ANNEALING_OLD = {"_numeric_mutation": "some", "_adaptive_step": False,
                  "_restart_from": "best", "screening": 1}
_ANNEALING_NEW_MOVES = {"_numeric_mutation": "all", "_adaptive_step": True,
                        "_restart_from": "fresh"}
VARIANTS = {
    # The searches before issue 14's benchmark (the code of commit 52d3774).
    "Genetic-old": ("GeneticSearchCV", _GA_OLD),
    "Annealing-old": ("AnnealingSearchCV", _ANNEALING_OLD),
    "Bayesian-old": ("BayesianSearchCV", {"_copula": False}),
    # Pre-screening alone (the defaults after the benchmark for the genetic search).
    "Genetic-screen-only": ("GeneticSearchCV", {**_GA_OLD, "screening": 8}),
    "Annealing-screen-only": ("AnnealingSearchCV", {**_ANNEALING_OLD, "screening": 8}),
    # New moves: BLX-0.5 crossover and all-numeric-gene mutation; adaptive steps,
    # all-coordinate moves and fresh restarts (the annealing defaults), with and
    # without pre-screening.
    "Genetic-blend-allgenes": ("GeneticSearchCV", {
        "_blend": 0.5, "_numeric_mutation": "all", "screening": 8}),
    "Genetic-blend-allgenes-noscreen": ("GeneticSearchCV", {
        "_blend": 0.5, "_numeric_mutation": "all", "screening": 1}),
    "Annealing-new-moves": ("AnnealingSearchCV", {**_ANNEALING_NEW_MOVES, "screening": 8}),
    "Annealing-new-moves-noscreen": ("AnnealingSearchCV", {
        **_ANNEALING_NEW_MOVES, "screening": 1}),
    "Bayesian-copula": ("BayesianSearchCV", {"_copula": True}),
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
        source, _, suffix = source.partition(":")
        path, _, only = source.partition("@")
        part = json.loads(Path(path).read_text())
        # "A=B" keeps method A under the name B.
        names = dict(m.partition("=")[::2] for m in only.split(",")) if only else {}
        names = {a: (b or a) + suffix for a, b in names.items()} or {
            m: m + suffix for m in part["meta"]["methods"]}
        runs = [{**r, "method": names[r["method"]]} for r in part["runs"]
                if r["method"] in names]
        methods += [n for m, n in names.items() if n not in methods]
        if payload is None:
            payload = {**part, "runs": runs}
            payload["meta"]["command"] = "merged: " + " ".join(sources)
        else:
            payload["runs"] += runs
            payload["tasks"] = {**part["tasks"], **payload["tasks"]}
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
