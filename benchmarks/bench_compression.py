# ruff: noqa: E501  (markdown table rows and report lines read better unbroken)
"""Benchmark of skautosearch.compression on digits (MLP and CNN), several seeds.

For each seed: a stratified 70/30 split of scikit-learn's digits (1,797 8x8
images, pixels / 16). A dense MLP (64-512-256-10, 167,178 parameters) and a CNN
(64/128 filters, 256 units, 601,610 parameters) are trained once; every
compressor receives the fitted model through ``sklearn.frozen.FrozenEstimator``
(compressed without retraining, the original left untouched) and everything is
scored on the same 30 % test split. Sizes are of the inference-only ``.keras``
file; latency is the best of 7 ``predict_on_batch`` calls on 8,192 rows, the two
models timed alternately in the same run.

Distillation: teacher = the CNN; student = 64-12-10 MLP (910 parameters,
0.15 % of the teacher), trained alone, distilled by ours (default settings and
without mixup) and by ``keras.distillation.Distiller`` (LogitsDistillation T=4,
student_loss_weight=0.5), all for the same number of epochs.

Run:  python benchmarks/bench_compression.py --seeds 0 1 2 [--write]
``--write`` replaces the ``## Compression`` section of benchmarks/RESULTS.md.
"""

import argparse
import json
import os
import platform
import re
import sys
import time
import warnings

import numpy as np

warnings.filterwarnings("ignore")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.frozen import FrozenEstimator  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from skautosearch.compression import (  # noqa: E402
    Distillation,
    MagnitudePruning,
    Quantization,
    StructuredPruning,
)
from skautosearch.compression._base import (  # noqa: E402
    keras_file_sizes,
    predict_latency,
)
from skautosearch.compression._models import cnn, mlp  # noqa: E402
from skautosearch.costs import _inference_copy, _keras_weight_counts  # noqa: E402
from skautosearch.keras import KerasClassifier  # noqa: E402

LATENCY_ROWS = 8192
HERE = os.path.dirname(os.path.abspath(__file__))


def classifier(builder, epochs, seed, **model_params):
    params = {f"model__{k}": v for k, v in model_params.items()}
    return KerasClassifier(
        builder,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=epochs,
        batch_size=32,
        verbose=0,
        random_state=seed,
        **params,
    )


def stats(model, score):
    raw, gz = keras_file_sizes(model)
    n_params, n_nonzero = _keras_weight_counts(model)
    return {
        "acc": 100 * score,
        "params": n_params,
        "nonzero": n_nonzero,
        "bytes": raw,
        "gzip": gz,
    }


def paired_latency(before, after, X, rounds=7):
    """Seconds per row of both models, timed alternately (best of ``rounds``).

    The cores are shared with other jobs: alternating the two models exposes
    both to the same load, so their ratio is fairer than two separate runs.
    """
    times = ([], [])
    for _ in range(rounds):
        for model, out in zip((before, after), times):
            out.append(predict_latency(model, X, n_rows=LATENCY_ROWS, repeats=1))
    return min(times[0]), min(times[1])


def both(base_model, base_score, model, score, X):
    before, after = stats(base_model, base_score), stats(model, score)
    before["latency"], after["latency"] = paired_latency(base_model, model, X)
    return before, after


def compare(rows, name, base, compressed, Xte, yte, seconds):
    before, after = both(
        base.model_,
        base.score(Xte, yte),
        compressed.model_,
        compressed.score(Xte, yte),
        Xte,
    )
    rows.append({"name": name, "before": before, "after": after, "seconds": seconds})
    print(
        f"  {name:<34} acc {before['acc']:.2f} -> {after['acc']:.2f}  params "
        f"{before['params']} -> {after['params']} (nz {after['nonzero']})  bytes "
        f"{before['bytes']} -> {after['bytes']}  gzip {before['gzip']} -> {after['gzip']}  "
        f"latency x{before['latency'] / after['latency']:.2f}  ({seconds:.0f} s)",
        flush=True,
    )


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def keras_builtin_int8(rows, base, Xte, yte):
    """Keras 3's own model.quantize('int8') on a copy, for the size comparison."""
    model = keras.models.clone_model(base.model_)
    model.set_weights(base.model_.get_weights())
    model.quantize("int8")
    acc = np.mean(np.argmax(model.predict_on_batch(Xte), axis=1) == yte)
    before, after = both(base.model_, base.score(Xte, yte), model, acc, Xte)
    rows.append(
        {
            "name": "CNN int8, Keras model.quantize",
            "before": before,
            "after": after,
            "seconds": 0.0,
        }
    )
    print(f"  Keras int8 CNN: bytes {before['bytes']} -> {after['bytes']}", flush=True)


def keras_distiller(teacher, Xtr, ytr, Xte, yte, epochs, seed):
    from skautosearch._keras_state import keras_fit_scope
    from skautosearch.compression._base import _seed

    with keras_fit_scope(_seed(seed)):
        student = mlp(hidden=(12,), meta={"n_features_in_": 64, "n_classes_": 10})
        # The Distiller sets teacher.trainable = False: give it a copy, or the
        # frozen model goes back to skautosearch.keras's model pool and is
        # lent, frozen, to a later fit of the same architecture.
        distiller = keras.distillation.Distiller(
            teacher=_inference_copy(teacher.model_),
            student=student,
            distillation_losses=keras.distillation.LogitsDistillation(temperature=4.0),
            student_loss_weight=0.5,
        )
        distiller.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        distiller.fit(Xtr, ytr, epochs=epochs, batch_size=32, verbose=0)
    return 100 * np.mean(np.argmax(student.predict_on_batch(Xte), axis=1) == yte)


def run_seed(seed, args):
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype("float32")
    Xtr, Xte, ytr, yte = train_test_split(
        X, y, test_size=0.3, random_state=seed, stratify=y
    )
    rows, extra = [], {}
    frozen = dict(validation_fraction=None, random_state=seed)

    dense_mlp, t = timed(
        lambda: classifier(mlp, args.mlp_epochs, seed, hidden=(512, 256)).fit(Xtr, ytr)
    )
    print(f"seed {seed}: MLP trained in {t:.0f} s", flush=True)
    pruned, t = timed(
        lambda: MagnitudePruning(
            FrozenEstimator(dense_mlp),
            sparsity=0.8,
            pruning_epochs=10,
            fine_tune_epochs=5,
            **frozen,
        ).fit(Xtr, ytr)
    )
    compare(rows, "MLP magnitude 80%", dense_mlp, pruned, Xte, yte, t)
    for dtype in ("int8", "float16"):
        q, t = timed(
            lambda dtype=dtype: Quantization(
                FrozenEstimator(dense_mlp), dtype=dtype, **frozen
            ).fit(Xtr, ytr)
        )
        compare(rows, f"MLP {dtype}", dense_mlp, q, Xte, yte, t)
    q, t = timed(
        lambda: Quantization(
            FrozenEstimator(dense_mlp), dtype="int8", calibration="train", **frozen
        ).fit(Xtr, ytr)
    )
    compare(rows, "MLP int8 (calibrated)", dense_mlp, q, Xte, yte, t)
    q, t = timed(
        lambda: Quantization(FrozenEstimator(pruned), dtype="int8", **frozen).fit(
            Xtr, ytr
        )
    )
    compare(rows, "MLP magnitude 80% then int8", dense_mlp, q, Xte, yte, t)

    dense_cnn, t = timed(
        lambda: classifier(
            cnn, args.cnn_epochs, seed, filters=(64, 128), dense=256
        ).fit(Xtr, ytr)
    )
    print(f"seed {seed}: CNN trained in {t:.0f} s", flush=True)
    for criterion in ("l1", "activation"):
        small, t = timed(
            lambda criterion=criterion: StructuredPruning(
                FrozenEstimator(dense_cnn),
                fraction=0.5,
                criterion=criterion,
                fine_tune_epochs=5,
                **frozen,
            ).fit(Xtr, ytr)
        )
        compare(
            rows, f"CNN structured 50% ({criterion})", dense_cnn, small, Xte, yte, t
        )
    for dtype in ("int8", "float16"):
        q, t = timed(
            lambda dtype=dtype: Quantization(
                FrozenEstimator(dense_cnn), dtype=dtype, **frozen
            ).fit(Xtr, ytr)
        )
        compare(rows, f"CNN {dtype}", dense_cnn, q, Xte, yte, t)
    keras_builtin_int8(rows, dense_cnn, Xte, yte)

    epochs = args.student_epochs
    alone = classifier(mlp, epochs, seed, hidden=(12,)).fit(Xtr, ytr)
    extra["teacher"] = 100 * dense_cnn.score(Xte, yte)
    extra["alone"] = 100 * alone.score(Xte, yte)
    extra["student_params"] = alone.model_.count_params()
    extra["teacher_params"] = dense_cnn.model_.count_params()
    for name, kwargs in (("ours", {}), ("ours, no mixup", {"augment": None})):
        d, t = timed(
            lambda kwargs=kwargs: Distillation(
                FrozenEstimator(dense_cnn),
                classifier(mlp, epochs, seed, hidden=(12,)),
                **kwargs,
                **frozen,
            ).fit(Xtr, ytr)
        )
        extra[name] = 100 * d.score(Xte, yte)
        extra[name + " seconds"] = t
    extra["keras Distiller"] = keras_distiller(
        dense_cnn, Xtr, ytr, Xte, yte, epochs, seed
    )
    print(
        f"  distillation: teacher {extra['teacher']:.2f} alone {extra['alone']:.2f} ours "
        f"{extra['ours']:.2f} no-mixup {extra['ours, no mixup']:.2f} keras "
        f"{extra['keras Distiller']:.2f}",
        flush=True,
    )
    return rows, extra


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return (
        f"{values.mean():.2f} ± {values.std():.2f}"
        if len(values) > 1
        else f"{values[0]:.2f}"
    )


def markdown(results, args, elapsed):
    names = [row["name"] for row in results[0][0]]
    lines = [
        "## Compression",
        "",
        f"Command: `python benchmarks/bench_compression.py --seeds {' '.join(map(str, args.seeds))}"
        f" --mlp-epochs {args.mlp_epochs} --cnn-epochs {args.cnn_epochs} --student-epochs "
        f"{args.student_epochs} --write` ({elapsed / 60:.1f} min).",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores shared with other jobs "
        f"(load average {os.getloadavg()[0]:.1f} at the end), no GPU; Python {platform.python_version()}, "
        f"keras {keras.__version__}, {keras.backend.backend()} backend.",
        "",
        "Digits, stratified 70/30 split per seed; test accuracy in points (mean ± std over "
        f"{len(args.seeds)} seeds); `.keras` sizes without optimizer state; size and latency "
        "ratios are before/after (higher is better), latency = best of 7 `predict_on_batch` "
        f"calls on {LATENCY_ROWS} rows, the two models timed alternately in the same run.",
        "",
        "| compression | acc before | acc after | Δ acc | params after/before | non-zero after | "
        ".keras x smaller | gzip x smaller | latency x faster | fit s |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, name in enumerate(names):
        rows = [r[0][i] for r in results]
        b = [r["before"] for r in rows]
        a = [r["after"] for r in rows]
        lines.append(
            f"| {name} | {mean_std([x['acc'] for x in b])} | {mean_std([x['acc'] for x in a])} | "
            f"{mean_std([y['acc'] - x['acc'] for x, y in zip(b, a)])} | "
            f"{a[0]['params']:,}/{b[0]['params']:,} ({b[0]['params'] / a[0]['params']:.2f}x) | "
            f"{mean_std([100 * x['nonzero'] / x['params'] for x in a])} % | "
            f"{mean_std([x['bytes'] / y['bytes'] for x, y in zip(b, a)])} | "
            f"{mean_std([x['gzip'] / y['gzip'] for x, y in zip(b, a)])} | "
            f"{mean_std([x['latency'] / y['latency'] for x, y in zip(b, a)])} | "
            f"{np.mean([r['seconds'] for r in rows]):.0f} |"
        )
    ex = [r[1] for r in results]
    gap = [e["teacher"] - e["alone"] for e in ex]
    lines += [
        "",
        f"Distillation (teacher: the CNN above, {ex[0]['teacher_params']:,} parameters; student: "
        f"64-12-10 MLP, {ex[0]['student_params']:,} parameters; {args.student_epochs} epochs each; "
        "recovered = (distilled - alone) / (teacher - alone), from the seed means):",
        "",
        "| model | test accuracy | recovered gap |",
        "|---|---|---|",
        f"| teacher | {mean_std([e['teacher'] for e in ex])} | |",
        f"| student alone | {mean_std([e['alone'] for e in ex])} | 0 % |",
    ]
    for name in ("ours", "ours, no mixup", "keras Distiller"):
        recovered = (
            np.mean([e[name] for e in ex]) - np.mean([e["alone"] for e in ex])
        ) / np.mean(gap)
        label = {
            "ours": "Distillation (T=2, alpha=0.7, mixup x2)",
            "ours, no mixup": "Distillation, augment=None",
            "keras Distiller": "keras.distillation.Distiller (T=4, weight 0.5)",
        }[name]
        lines.append(
            f"| {label} | {mean_std([e[name] for e in ex])} | {100 * recovered:.0f} % |"
        )
    return "\n".join(lines) + "\n"


def write_section(text):
    path = os.path.join(HERE, "RESULTS.md")
    old = open(path).read() if os.path.exists(path) else "# Benchmark results\n\n"
    pattern = re.compile(r"^## Compression\n.*?(?=^## |\Z)", re.S | re.M)
    new = (
        pattern.sub(lambda _: text + "\n", old)
        if pattern.search(old)
        else old.rstrip("\n") + "\n\n" + text
    )
    with open(path, "w") as f:
        f.write(new)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--mlp-epochs", type=int, default=30)
    parser.add_argument("--cnn-epochs", type=int, default=10)
    parser.add_argument("--student-epochs", type=int, default=60)
    parser.add_argument(
        "--write", action="store_true", help="update benchmarks/RESULTS.md"
    )
    parser.add_argument("--json", help="also save the raw results to this file")
    parser.add_argument(
        "--merge",
        nargs="+",
        metavar="JSON",
        help="do not run: tabulate the --json files of runs made with other seeds",
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.merge:
        runs = [json.load(open(path)) for path in args.merge]
        results = [seed for run in runs for seed in run["results"]]
        args.seeds = [seed for run in runs for seed in run["seeds"]]
        elapsed = max(run["elapsed"] for run in runs)
    else:
        results = [run_seed(seed, args) for seed in args.seeds]
        elapsed = time.perf_counter() - start
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"seeds": args.seeds, "results": results, "elapsed": elapsed}, f)
    text = markdown(results, args, elapsed)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    sys.exit(main())
