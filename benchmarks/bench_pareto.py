# ruff: noqa: E501  (markdown table rows and report lines read better unbroken)
"""Multi-objective search on the digits CNN: accuracy against model size (issue #7).

Baseline: ``GridSearchCV`` over a CNN architecture grid, single objective
(accuracy). Ours: ``GeneticSearchCV`` (NSGA-II) with
``objectives={"accuracy": "max", "size_bytes": "min"}`` and ``refit="knee"``
over a space that spans the same architecture ranges AND post-training
quantization: two sub-spaces, one where the network is wrapped in
``skautosearch.compression.Quantization`` (``dtype`` int8 or float16), one
without compression (float32). Both searches run in the same process, on the
same folds (``StratifiedKFold(3, shuffle=True, random_state=seed)``), with the
same ``skautosearch.keras.KerasClassifier`` settings.

Data: scikit-learn's digits as 8x8x1 images (``load_digits_images``, bundled).
Sizes are the ``.keras`` file without optimizer state (``skautosearch.costs``;
a compression estimator reports its compressed model's file).

Issue 7's target: the front found with at most 60 candidates holds a model at
least 4x smaller (``size_bytes``) than GridSearchCV's best model, whose mean
CV accuracy is at most 0.01 lower than the grid best's (``--no-compress
--target-ratio 4`` reruns that space). Issue 15's: at least 15x smaller
(the default ``--target-ratio``), with the space grown by int4/ternary/binary
quantization and structured pruning (25/50/75 % of each hidden layer), and
with ``--size gzip_bytes`` by magnitude pruning, sizes then gzipped.

Run (from the repository root)::

    python benchmarks/bench_pareto.py                  # the full run (11-15 min on 2 shared cores)
    python benchmarks/bench_pareto.py --quick          # smoke run, about a minute
    python benchmarks/bench_pareto.py --replot benchmarks/out/bench_pareto.json  # redraw only

Options: ``--n-iter`` (candidates of each multi-objective search, default 60), ``--seed``, ``--out`` (the
figure, default ``benchmarks/pareto_digits_cnn.png``), ``--json`` (raw results),
``--n-jobs``, ``--epochs``, ``--searches genetic,bayes`` (also a BayesianSearchCV, same space).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import warnings

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
OBJECTIVES = {"accuracy": "max", "size_bytes": "min"}
# The grid: 2 x 3 x 3 = 18 architectures (n_blocks=1 uses only the first filters value).
GRID = {
    "model__n_blocks": [1, 2],
    "model__filters": [(16, 32), (32, 64), (64, 128)],
    "model__dense_units": [32, 64, 128],
}
QUICK_GRID = {
    "model__n_blocks": [2],
    "model__filters": [(16, 32), (32, 64)],
    "model__dense_units": [32],
}
TARGET_RATIO, TARGET_GAP = 4.0, 0.01


def load_data(quick):
    from skautosearch.keras import load_digits_images

    X, y = load_digits_images()
    if quick:  # a stratified 600-row subsample
        from sklearn.model_selection import train_test_split

        X, _, y, _ = train_test_split(X, y, train_size=600, stratify=y, random_state=0)
    return X, y


def make_cnn(epochs, seed):
    from skautosearch.keras import KerasClassifier, build_cnn

    return KerasClassifier(
        build_cnn,
        model__n_blocks=2,
        model__kernel_size=3,
        model__dense_units=64,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        optimizer__learning_rate=1e-3,
        batch_size=32,
        epochs=epochs,
        verbose=0,
        random_state=seed,
    )


def ga_space_v1(grid, cnn):
    """The first round's space (issue 7): int8/float16 quantization or float32."""
    space = ga_space(grid, cnn)
    space[0]["clf__dtype"] = ["int8", "float16"]
    return [space[0], space[-1]]


DTYPES = ["int8", "float16", "int4", "ternary", "binary"]
FRACTIONS = [0.25, 0.5, 0.75]
SPARSITIES = [0.5, 0.8, 0.9]


def ga_space(grid, cnn, size="size_bytes", qat_epochs=3):
    """Sub-spaces over the grid's ranges: quantized, structured-pruned, (pruned,) float32.

    Each block's filters and the dense units are integers, log-uniform between
    the grid's smallest and largest values; ``n_blocks`` takes the grid's values.
    Quantization: int8/float16/int4 post-training, ternary/binary with
    ``qat_epochs`` straight-through epochs. Structured pruning removes
    ``FRACTIONS`` of each hidden layer's units (2 fine-tuning epochs).
    Magnitude pruning (``SPARSITIES``, 2 + 1 epochs) only with
    ``size="gzip_bytes"``: its zeros are stored, so ``size_bytes`` never sees them.
    """
    from sklearn.base import clone

    from skautosearch import Integer
    from skautosearch.compression import MagnitudePruning, Quantization, StructuredPruning

    f0 = [f[0] for f in grid["model__filters"]]
    f1 = [f[1] for f in grid["model__filters"]]
    dense = grid["model__dense_units"]

    def between(values):
        low, high = min(values), max(values)
        return Integer(low, high, prior="log-uniform") if low < high else [low]

    def arch(prefix):
        return {
            f"{prefix}model__n_blocks": list(grid["model__n_blocks"]),
            f"{prefix}model__filters_0": between(f0),
            f"{prefix}model__filters_1": between(f1),
            f"{prefix}model__dense_units": between(dense),
        }

    # validation_fraction=None: compressed networks train on the whole
    # training fold, as the float32 one does (no report hold-out).
    quantized = Quantization(clone(cnn), fine_tune_epochs=qat_epochs, validation_fraction=None)
    structured = StructuredPruning(clone(cnn), fine_tune_epochs=2, validation_fraction=None)
    space = [
        {"clf": [quantized], "clf__dtype": list(DTYPES), **arch("clf__estimator__")},
        {"clf": [structured], "clf__fraction": list(FRACTIONS), **arch("clf__estimator__")},
        {"clf": [clone(cnn)], **arch("clf__")},
    ]
    if size == "gzip_bytes":
        pruned = MagnitudePruning(clone(cnn), pruning_epochs=2, fine_tune_epochs=1,
                                  validation_fraction=None)
        space.insert(2, {"clf": [pruned], "clf__sparsity": list(SPARSITIES),
                         **arch("clf__estimator__")})
    return space


def describe(params):
    """'int8 2x(24,57) d40' for a candidate's parameters (any sub-space or the grid).

    Structured pruning reads 'pruned50% 2x(24,57) d40' (the architecture before
    pruning), magnitude pruning 'sparse80% ...'.
    """
    flat = {k.rsplit("__", 1)[-1]: v for k, v in params.items() if k != "clf"}
    dtype = flat.get("dtype", "float32")
    if "fraction" in flat:
        dtype = f"pruned{100 * flat['fraction']:.0f}%"
    if "sparsity" in flat:
        dtype = f"sparse{100 * flat['sparsity']:.0f}%"
    n_blocks = flat.get("n_blocks")
    if "filters" in flat:
        filters = tuple(flat["filters"])[:n_blocks]
    else:
        filters = (flat["filters_0"], flat["filters_1"])[:n_blocks]
    return f"{dtype} {n_blocks}x({','.join(map(str, filters))}) d{flat['dense_units']}"


def arch_kwargs(params):
    """Builder arguments of a candidate (after structured pruning), and its dtype."""
    flat = {k.rsplit("__", 1)[-1]: v for k, v in params.items() if k != "clf"}
    out = {k: flat[k] for k in ("n_blocks", "dense_units")}
    if "filters" in flat:
        out["filters"] = tuple(flat["filters"])
    else:
        out["filters_0"], out["filters_1"] = flat["filters_0"], flat["filters_1"]
    if "fraction" in flat:  # StructuredPruning keeps round(n (1 - fraction)) units a layer
        keep = lambda n: max(1, int(round(n * (1 - flat["fraction"]))))  # noqa: E731
        out = {k: (v if k == "n_blocks" else tuple(map(keep, v)) if isinstance(v, tuple)
                   else keep(v)) for k, v in out.items()}
    return out, flat.get("dtype")


def untrained_size(params):
    """n_params and .keras bytes of a candidate's architecture (weights untrained).

    Used for the grid's other candidates (GridSearchCV records no sizes) and
    for the n_params column of the front: size depends on the architecture and
    dtype only, not on the weights' values (gzip sizes do depend on them).
    """
    from skautosearch.compression._base import keras_file_sizes
    from skautosearch.compression.quantization import quantize_model
    from skautosearch.keras import build_cnn

    kwargs, dtype = arch_kwargs(params)
    meta = {"X_shape_": (1, 8, 8, 1), "n_classes_": 10, "target_type_": "multiclass"}
    model = build_cnn(meta, **kwargs)
    n_params = model.count_params()  # before packing: logical parameters
    if dtype:
        model, _ = quantize_model(model, dtype)
    return n_params, keras_file_sizes(model)[0]


def timed_fit(search, X, y):
    start = time.perf_counter()
    search.fit(X, y)
    return time.perf_counter() - start


def loadavg():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def uptime():
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return f"load average: {loadavg()}"


def _import_keras():
    import keras  # noqa: F401

    return os.getpid()


def warm_workers(n_jobs):
    """Start the joblib workers and import Keras in them before either search,
    so that the search run first does not pay the workers' TensorFlow import alone."""
    from joblib import Parallel, delayed

    if n_jobs and n_jobs != 1:
        Parallel(n_jobs=n_jobs)(delayed(_import_keras)() for _ in range(2 * n_jobs))


def run(args):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import Pipeline

    from skautosearch import BayesianSearchCV, GeneticSearchCV
    from skautosearch.costs import measure_costs

    X, y = load_data(args.quick)
    grid = QUICK_GRID if args.quick else GRID
    cnn = make_cnn(args.epochs, args.seed)
    cv = StratifiedKFold(args.cv, shuffle=True, random_state=args.seed)
    out = {"args": vars(args), "uptime_before": uptime(), "n_rows": len(X)}
    print(out["uptime_before"], flush=True)
    print(f"digits {X.shape}, cv={args.cv}, epochs={args.epochs}, n_jobs={args.n_jobs}", flush=True)

    warm_workers(args.n_jobs)
    # -- baseline: GridSearchCV, accuracy only --------------------------------------
    gs = GridSearchCV(cnn, grid, cv=cv, n_jobs=args.n_jobs, refit=True)
    out["grid_seconds"] = timed_fit(gs, X, y)
    costs = measure_costs(gs.best_estimator_, X[:64], [args.size, "n_params"])
    sizes = [untrained_size(p) for p in gs.cv_results_["params"]]
    out["grid"] = {
        "n_candidates": len(gs.cv_results_["params"]),
        "best_index": int(gs.best_index_),
        "best_params": describe(gs.best_params_),
        "best_score": float(gs.best_score_),
        "best_std": float(gs.cv_results_["std_test_score"][gs.best_index_]),
        "best_size_bytes": costs[args.size],
        "best_n_params": costs["n_params"],
        "mean_test_score": gs.cv_results_["mean_test_score"].tolist(),
        "std_test_score": gs.cv_results_["std_test_score"].tolist(),
        "size_bytes": [s for _, s in sizes],
        "n_params": [n for n, _ in sizes],
        "describe": [describe(p) for p in gs.cv_results_["params"]],
    }
    g = out["grid"]
    print(
        f"GridSearchCV: {g['n_candidates']} candidates, {out['grid_seconds']:.0f} s; best "
        f"{g['best_params']} acc {g['best_score']:.4f} size {g['best_size_bytes']:.0f} B "
        f"n_params {g['best_n_params']:.0f}; load {loadavg()}",
        flush=True,
    )

    # -- ours: multi-objective searches over architecture x quantization ------------
    pipe = Pipeline([("clf", make_cnn(args.epochs, args.seed))])
    space = ga_space(grid, cnn, args.size, args.qat_epochs) if args.compress else ga_space_v1(grid, cnn)
    common = dict(
        n_iter=args.n_iter,
        objectives={"accuracy": "max", args.size: "min"},
        refit="knee",
        cv=cv,
        n_jobs=args.n_jobs,
        random_state=args.seed,
    )
    searches = []
    if "genetic" in args.searches:
        searches.append(("GeneticSearchCV", GeneticSearchCV(pipe, space, population_size=args.population, **common)))
    if "bayes" in args.searches:
        searches.append(("BayesianSearchCV", BayesianSearchCV(pipe, space, **common)))
    out["searches"] = {}
    for name, search in searches:
        seconds = timed_fit(search, X, y)
        out["searches"][name] = summarise(search, seconds, args.size)
        s = out["searches"][name]
        print(f"{name}: {s['n_candidates']} candidates, {seconds:.0f} s, front of "
              f"{len(s['front'])}, knee {s['describe'][s['best_index']]}; load {loadavg()}", flush=True)
    out["uptime_after"] = uptime()
    print(out["uptime_after"], flush=True)
    return out


def summarise(search, seconds, size="size_bytes"):
    res = search.cv_results_
    front = [int(i) for i in search.pareto_front_.index]
    n_params = {i: untrained_size(res["params"][i])[0] for i in front}
    return {
        "seconds": seconds,
        "n_candidates": len(res["params"]),
        "n_batches": int(getattr(search, "n_batches_", 0)),
        "stop_reason": getattr(search, "stop_reason_", ""),
        "best_index": int(search.best_index_),
        "front": front,
        "front_n_params": {str(i): n for i, n in n_params.items()},
        "mean_test_score": np.asarray(res["mean_test_score"], dtype=float).tolist(),
        "std_test_score": np.asarray(res["std_test_score"], dtype=float).tolist(),
        # the size objective (size_bytes, or gzip_bytes with --size gzip_bytes)
        "size_bytes": np.asarray(res[f"mean_{size}"], dtype=float).tolist(),
        "describe": [describe(p) for p in res["params"]],
        "failed": int(np.sum(~np.isfinite(np.asarray(res["mean_test_score"], dtype=float)))),
    }


# --------------------------------------------------------------------------- analysis


def target_check(grid_score, grid_size, scores, sizes, front, *, ratio=TARGET_RATIO, gap=TARGET_GAP):
    """Front members within ``gap`` of the grid best's accuracy, smallest first.

    Returns ``(met, rows)``: each row ``(index, score, size, ratio, gap)`` with
    ``gap = grid_score - score`` and ``ratio = grid_size / size``; ``met`` is
    True if a row reaches ``ratio``. Exact comparisons on the rounded-to-float
    values: an accuracy gap of 0.0100000001 misses.
    """
    rows = []
    for i in front:
        g = grid_score - scores[i]
        if np.isfinite(scores[i]) and g <= gap + 1e-12:
            rows.append((i, scores[i], sizes[i], grid_size / sizes[i], g))
    rows.sort(key=lambda r: r[2])
    return bool(rows and rows[0][3] >= ratio), rows


def report(out):
    g = out["grid"]
    target_ratio = out["args"].get("target_ratio", TARGET_RATIO)
    size_name = out["args"].get("size", "size_bytes")
    lines = [
        f"GridSearchCV best: {g['best_params']}, mean CV accuracy {g['best_score']:.4f} "
        f"(std {g['best_std']:.4f}), {g['best_size_bytes']:,.0f} bytes ({size_name}), {g['best_n_params']:,.0f} "
        f"parameters; {g['n_candidates']} candidates, {out['grid_seconds']:.0f} s.",
    ]
    for name, s in out["searches"].items():
        met, rows = target_check(g["best_score"], g["best_size_bytes"], s["mean_test_score"],
                                 s["size_bytes"], s["front"], ratio=target_ratio)
        lines += [
            "",
            f"{name}: {s['n_candidates']} candidates ({s['n_batches']} batches, stop: "
            f"{s['stop_reason']}, failed {s['failed']}), {s['seconds']:.0f} s "
            f"({s['seconds'] / out['grid_seconds']:.2f}x the grid's); front of {len(s['front'])}; "
            f"knee = candidate {s['best_index']}.",
            "",
            f"| candidate | model | mean CV accuracy | std | {size_name} | parameters | x smaller than grid best | accuracy gap | |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        order = sorted(s["front"], key=lambda i: s["size_bytes"][i])
        for i in order:
            mark = "knee" if i == s["best_index"] else ""
            lines.append(
                f"| {i} | {s['describe'][i]} | {s['mean_test_score'][i]:.4f} | {s['std_test_score'][i]:.4f} | "
                f"{s['size_bytes'][i]:,.0f} | {s['front_n_params'][str(i)]:,} | "
                f"{g['best_size_bytes'] / s['size_bytes'][i]:.2f} | {g['best_score'] - s['mean_test_score'][i]:+.4f} | {mark} |"
            )
        if rows:
            i, score, size, ratio, gap = rows[0]
            verdict = "MET" if met else "NOT MET"
            lines += ["", f"Target (>= {target_ratio:g}x smaller, <= {TARGET_GAP} accuracy lost): **{verdict}** -- "
                      f"smallest front model within {TARGET_GAP} of the grid best: candidate {i} "
                      f"({s['describe'][i]}), {ratio:.2f}x smaller, accuracy gap {gap:+.4f}."]
        else:
            lines += ["", f"Target: **NOT MET** -- no front model within {TARGET_GAP} of the grid best's accuracy."]
    lines += ["", f"Load: before `{out['uptime_before']}`; after `{out['uptime_after']}`."]
    return "\n".join(lines)


# --------------------------------------------------------------------------- figure


def plot(out, path, name="GeneticSearchCV"):
    import matplotlib

    matplotlib.use("Agg")
    from types import SimpleNamespace

    import matplotlib.pyplot as plt
    from sklearn.utils import Bunch

    from skautosearch.plot import plot_pareto

    s, g = out["searches"][name], out["grid"]
    # plot_pareto reads cv_results_, objectives, pareto_front_ and best_index_:
    # a stand-in built from the saved results lets --replot redraw without refitting.
    search = SimpleNamespace(  # not a Bunch: plot_pareto takes any dict for cv_results_
        cv_results_={"mean_test_score": np.array(s["mean_test_score"]),
                     "mean_size_bytes": np.array(s["size_bytes"])},
        objectives=OBJECTIVES,
        pareto_front_=Bunch(index=np.array(s["front"])),
        best_index_=s["best_index"],
        refit="knee",
    )
    fig, ax = plt.subplots(figsize=(9, 5.5))
    plot_pareto(search, x="size_bytes", y="accuracy", ax=ax)
    ax.scatter(g["size_bytes"], g["mean_test_score"], marker="s", s=30, facecolor="none",
               edgecolor="C1", linewidth=1.0, label=f"GridSearchCV candidates ({g['n_candidates']})", zorder=2)
    ax.scatter([g["best_size_bytes"]], [g["best_score"]], marker="X", s=160, color="C1",
               edgecolor="black", linewidth=0.6, zorder=5, label=f"GridSearchCV best: {g['best_params']}")
    ax.set_xscale("log")
    sizes = np.array(s["size_bytes"] + g["size_bytes"] + [g["best_size_bytes"]])
    scores = np.array(s["mean_test_score"] + g["mean_test_score"])
    good = scores[np.isfinite(scores)]
    # A few very poor candidates would squash the front: show the top 0.15.
    low = max(np.min(good), g["best_score"] - 0.15) - 0.005
    high = min(1.0, np.max(good) + 0.012)
    ratio = out["args"].get("target_ratio", TARGET_RATIO)
    corner_x, corner_y = g["best_size_bytes"] / ratio, g["best_score"] - TARGET_GAP
    left = min(np.nanmin(sizes), corner_x) / 1.6
    ax.set_xlim(left, np.nanmax(sizes) * 1.3)
    ax.set_ylim(low, high)
    # The target region: >= ratio x smaller and <= 0.01 lower accuracy than the grid best.
    ax.fill_between([left, corner_x], corner_y, high, color="C2", alpha=0.10, zorder=0,
                    label=f"target: >= {ratio:g}x smaller, <= 0.01 below grid best")
    ax.plot([left, corner_x, corner_x], [corner_y, corner_y, high], color="C2", linestyle=":", linewidth=1)
    met, rows = target_check(g["best_score"], g["best_size_bytes"], s["mean_test_score"], s["size_bytes"], s["front"], ratio=ratio)
    labelled = {s["best_index"]: "knee"}
    if rows:
        labelled.setdefault(rows[0][0], "smallest within 0.01")
    # Two labels on neighbouring points would overlap: one below left, the next below right.
    for k, (i, what) in enumerate(labelled.items()):
        ax.annotate(f"{s['describe'][i]}\n({what})", xy=(s["size_bytes"][i], s["mean_test_score"][i]),
                    xytext=(-30 if k % 2 == 0 else 30, -26), textcoords="offset points",
                    ha="right" if k % 2 == 0 else "left", va="top", fontsize="x-small",
                    arrowprops=dict(arrowstyle="-", color="0.4", linewidth=0.6))
    n_below = int(np.sum(good < low))
    gzipped = out["args"].get("size") == "gzip_bytes"
    ax.set_xlabel("model size, gzipped .keras file (bytes)" if gzipped else "model size, .keras file (bytes)")
    ax.set_title(f"Digits CNN, accuracy vs {'gzipped ' if gzipped else ''}.keras size: {name} ({s['n_candidates']} candidates, "
                 f"architecture x compression)\nagainst GridSearchCV ({g['n_candidates']} "
                 f"float32 architectures)"
                 + (f"; {n_below} candidates below {low:.2f} not shown" if n_below else ""),
                 fontsize="medium")
    ax.set_ylabel(f"mean CV accuracy ({out['args']['cv']} folds)")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"figure: {path}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny smoke run: 600 rows, 2 grid points, 6 candidates, 2 epochs, cv=2")
    parser.add_argument("--n-iter", type=int, default=60, help="candidates of the multi-objective search(es)")
    parser.add_argument("--seed", type=int, default=0, help="folds, networks' and searches' random_state")
    parser.add_argument("--out", help="figure path (default benchmarks/pareto_digits_cnn.png; with --quick, benchmarks/out/pareto_quick.png)")
    parser.add_argument("--json", help="raw results (default benchmarks/out/bench_pareto.json; with --quick, bench_pareto_quick.json)")
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--cv", type=int, default=3)
    parser.add_argument("--population", type=int, default=10, help="GeneticSearchCV population_size")
    parser.add_argument("--searches", default="genetic", type=lambda v: v.split(","),
                        help="comma-separated multi-objective searches to run after the grid: genetic, bayes")
    parser.add_argument("--size", default="size_bytes", choices=["size_bytes", "gzip_bytes"],
                        help="size objective; gzip_bytes also searches magnitude pruning")
    parser.add_argument("--no-compress", dest="compress", action="store_false",
                        help="the first round's space: int8/float16/float32 only")
    parser.add_argument("--qat-epochs", type=int, default=3,
                        help="straight-through epochs of ternary/binary candidates")
    parser.add_argument("--target-ratio", type=float, default=15.0,
                        help="x smaller than the grid best (issue 15: 15; issue 7: 4)")
    parser.add_argument("--replot", metavar="JSON", help="do not run: redraw the figure and report from a --json file")
    args = parser.parse_args(argv)
    suffix = "_quick" if args.quick else ""
    if args.out is None:
        args.out = os.path.join(HERE, "out", "pareto_quick.png") if args.quick else os.path.join(HERE, "pareto_digits_cnn.png")
    if args.json is None:
        args.json = os.path.join(HERE, "out", f"bench_pareto{suffix}.json")
    if args.replot:
        with open(args.replot) as f:
            out = json.load(f)
    else:
        if args.quick:
            args.n_iter, args.epochs, args.cv, args.population = min(args.n_iter, 6), 2, 2, 3
        start = time.perf_counter()
        out = run(args)
        out["total_seconds"] = time.perf_counter() - start
        out["machine"] = (f"{platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        if args.json:
            os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
            with open(args.json, "w") as f:
                json.dump(out, f, indent=1)
    print(report(out))
    if args.out:
        for k, name in enumerate(out["searches"]):
            root, ext = os.path.splitext(args.out)
            plot(out, args.out if k == 0 else f"{root}_{name.lower()}{ext}", name)


if __name__ == "__main__":
    sys.exit(main())
