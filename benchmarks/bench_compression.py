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

Distillation: teacher = the CNN; student = a 64-12-10 MLP (910 parameters,
0.15 % of the teacher; ``--student-hidden``), trained alone, distilled by ours
(the settings named by ``--distillers``) and by ``keras.distillation.Distiller``
(LogitsDistillation T=4, student_loss_weight=0.5), all for the same number of
epochs with the same learning-rate schedule (``--schedule cosine``: a per-epoch
cosine decay given to every student as a fit callback). ``--alone-steps`` also
trains the student alone for 3x the epochs: mixup x2 triples the rows a
distillation epoch sees, so that row is the baseline at equal gradient steps.

LiteRT: the CNN served as float32 and int8 flatbuffers; with latency on, each
interpreter thread count of ``--threads`` (default 1 and 2) is timed.

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
    LiteRTQuantization,
    MagnitudePruning,
    Quantization,
    StructuredPruning,
)
from skautosearch.compression._base import (  # noqa: E402
    keras_file_sizes,
    predict_latency,
    weight_bytes,
)
from skautosearch.compression._models import cnn, mlp  # noqa: E402
from skautosearch.costs import _inference_copy, _keras_weight_counts  # noqa: E402
from skautosearch.keras import KerasClassifier  # noqa: E402

LATENCY_ROWS = 8192
HERE = os.path.dirname(os.path.abspath(__file__))


def classifier(builder, epochs, seed, callbacks=None, **model_params):
    params = {f"model__{k}": v for k, v in model_params.items()}
    return KerasClassifier(
        builder,
        loss="sparse_categorical_crossentropy",
        optimizer="adam",
        epochs=epochs,
        batch_size=32,
        verbose=0,
        random_state=seed,
        callbacks=callbacks,
        **params,
    )


class CosineDecay:
    """Learning rate of epoch ``e`` of ``epochs``: ``lr * (1 + cos(pi e / epochs)) / 2``.

    Per epoch rather than per step, so that the same schedule spans the
    student's epochs whatever the number of rows (distillation adds mixup rows).
    """

    def __init__(self, epochs, lr=1e-3):
        self.epochs, self.lr = epochs, lr

    def __call__(self, epoch, lr=None):
        return float(self.lr * (1 + np.cos(np.pi * epoch / self.epochs)) / 2)


def schedule_callbacks(schedule, epochs):
    if schedule == "constant":
        return None
    return [keras.callbacks.LearningRateScheduler(CosineDecay(epochs))]


def stats(model, score):
    raw, gz = keras_file_sizes(model)
    n_params, n_nonzero = _keras_weight_counts(model)
    return {
        "acc": 100 * score,
        "params": n_params,
        "nonzero": n_nonzero,
        "bytes": raw,
        "gzip": gz,
        "weights": weight_bytes(model),
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


def both(base_model, base_score, model, score, X, latency=True):
    before, after = stats(base_model, base_score), stats(model, score)
    before["latency"], after["latency"] = (
        paired_latency(base_model, model, X) if latency else (float("nan"), float("nan"))
    )
    return before, after


def compare(rows, name, base, compressed, Xte, yte, seconds, latency=True):
    before, after = both(
        base.model_,
        base.score(Xte, yte),
        compressed.model_,
        compressed.score(Xte, yte),
        Xte,
        latency,
    )
    rows.append({"name": name, "before": before, "after": after, "seconds": seconds})
    print(
        f"  {name:<34} acc {before['acc']:.2f} -> {after['acc']:.2f}  params "
        f"{before['params']} -> {after['params']} (nz {after['nonzero']})  bytes "
        f"{before['bytes']} -> {after['bytes']}  gzip {before['gzip']} -> {after['gzip']}  "
        f"weights {before['weights']} -> {after['weights']}  "
        f"latency x{before['latency'] / after['latency']:.2f}  ({seconds:.0f} s)",
        flush=True,
    )


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def keras_builtin_int8(rows, base, Xte, yte, latency=True):
    """Keras 3's own model.quantize('int8') on a copy, for the size comparison."""
    model = keras.models.clone_model(base.model_)
    model.set_weights(base.model_.get_weights())
    model.quantize("int8")
    acc = np.mean(np.argmax(model.predict_on_batch(Xte), axis=1) == yte)
    before, after = both(base.model_, base.score(Xte, yte), model, acc, Xte, latency)
    rows.append(
        {
            "name": "CNN int8, Keras model.quantize",
            "before": before,
            "after": after,
            "seconds": 0.0,
        }
    )
    print(f"  Keras int8 CNN: bytes {before['bytes']} -> {after['bytes']}", flush=True)


def keras_distiller(teacher, Xtr, ytr, Xte, yte, epochs, seed, hidden, schedule):
    from skautosearch._keras_state import keras_fit_scope
    from skautosearch.compression._base import _seed

    with keras_fit_scope(_seed(seed)):
        student = mlp(hidden=hidden, meta={"n_features_in_": 64, "n_classes_": 10})
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
        distiller.fit(Xtr, ytr, epochs=epochs, batch_size=32, verbose=0,
                      callbacks=schedule_callbacks(schedule, epochs))
    return 100 * np.mean(np.argmax(student.predict_on_batch(Xte), axis=1) == yte)


GROUPS = ("pruning", "quantization", "lowbit", "structured", "litert", "distillation")
LOW_BIT = (("int4", {}), ("ternary", {}), ("binary", {}))


def run_seed(seed, args):
    X, y = load_digits(return_X_y=True)
    X = (X / 16).astype("float32")
    data = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    rows, extra = [], {}
    frozen = dict(validation_fraction=None, random_state=seed)
    Xtr, Xte, ytr, yte = data
    if {"pruning", "quantization", "lowbit"} & set(args.only):
        dense_mlp, t = timed(
            lambda: classifier(mlp, args.mlp_epochs, seed, hidden=(512, 256)).fit(Xtr, ytr)
        )
        print(f"seed {seed}: MLP trained in {t:.0f} s", flush=True)
        mlp_rows(rows, dense_mlp, data, frozen, args)
    if {"structured", "quantization", "lowbit", "litert", "distillation"} & set(args.only):
        dense_cnn, t = timed(
            lambda: classifier(cnn, args.cnn_epochs, seed, filters=(64, 128), dense=256).fit(
                Xtr, ytr
            )
        )
        print(f"seed {seed}: CNN trained in {t:.0f} s", flush=True)
        cnn_rows(rows, dense_cnn, data, frozen, args)
        if "litert" in args.only:
            extra["litert"] = litert_rows(dense_cnn, data, frozen, args)
        if "distillation" in args.only:
            extra.update(distillation_rows(dense_cnn, data, frozen, args, seed))
    return rows, extra


def fit_and_compare(rows, name, base, make, data, args):
    Xtr, Xte, ytr, yte = data
    compressed, t = timed(lambda: make().fit(Xtr, ytr))
    compare(rows, name, base, compressed, Xte, yte, t, args.latency)
    return compressed


def mlp_rows(rows, dense_mlp, data, frozen, args):
    base = FrozenEstimator(dense_mlp)
    if "pruning" in args.only:
        pruned = fit_and_compare(
            rows, "MLP magnitude 80%", dense_mlp,
            lambda: MagnitudePruning(base, sparsity=0.8, pruning_epochs=10,
                                     fine_tune_epochs=5, **frozen), data, args)
    if "quantization" in args.only:
        for dtype in ("int8", "float16"):
            fit_and_compare(rows, f"MLP {dtype}", dense_mlp,
                            lambda dtype=dtype: Quantization(base, dtype=dtype, **frozen),
                            data, args)
        fit_and_compare(rows, "MLP int8 (calibrated)", dense_mlp,
                        lambda: Quantization(base, dtype="int8", calibration="train", **frozen),
                        data, args)
        if "pruning" in args.only:
            fit_and_compare(rows, "MLP magnitude 80% then int8", dense_mlp,
                            lambda: Quantization(FrozenEstimator(pruned), dtype="int8", **frozen),
                            data, args)
    if "lowbit" in args.only:
        low_bit_rows(rows, "MLP", dense_mlp, data, frozen, args)


def low_bit_rows(rows, label, dense, data, frozen, args):
    for dtype, kwargs in LOW_BIT:
        epochs = "" if dtype == "int4" else f", {args.qat_epochs} epochs straight-through"
        kwargs = dict(kwargs, fine_tune_epochs=0 if dtype == "int4" else args.qat_epochs)
        fit_and_compare(rows, f"{label} {dtype}{epochs}", dense,
                        lambda dtype=dtype, kwargs=kwargs: Quantization(
                            FrozenEstimator(dense), dtype=dtype, **kwargs, **frozen),
                        data, args)


def cnn_rows(rows, dense_cnn, data, frozen, args):
    base = FrozenEstimator(dense_cnn)
    if "structured" in args.only:
        for criterion in ("l1", "activation"):
            fit_and_compare(rows, f"CNN structured 50% ({criterion})", dense_cnn,
                            lambda criterion=criterion: StructuredPruning(
                                base, fraction=0.5, criterion=criterion, fine_tune_epochs=5,
                                **frozen), data, args)
    if "quantization" in args.only:
        for dtype in ("int8", "float16"):
            fit_and_compare(rows, f"CNN {dtype}", dense_cnn,
                            lambda dtype=dtype: Quantization(base, dtype=dtype, **frozen),
                            data, args)
        keras_builtin_int8(rows, dense_cnn, data[1], data[3], args.latency)
    if "lowbit" in args.only:
        low_bit_rows(rows, "CNN", dense_cnn, data, frozen, args)


def litert_rows(dense_cnn, data, frozen, args):
    """Accuracy and size of the CNN served by LiteRT, float32 and int8; timed with --latency.

    The speed target compares the int8 model with the same model in float32
    in the same runtime: per-row latency at batch 1 and per-row time at
    batch 256 (throughput), with each interpreter thread count of
    ``--threads`` (the same flatbuffers, one interpreter per count), timed
    alternately (best of ``rounds``).
    """
    from skautosearch.compression.runtime import LiteRTModel

    Xtr, Xte, ytr, yte = data
    out = {"keras acc": 100 * dense_cnn.score(Xte, yte),
           "keras bytes": keras_file_sizes(dense_cnn.model_)[0]}
    served = {}
    for dtype in ("float32", "int8"):
        model, t = timed(lambda dtype=dtype: LiteRTQuantization(
            FrozenEstimator(dense_cnn), dtype=dtype, runtime=args.runtime, **frozen
        ).fit(Xtr, ytr))
        served[dtype] = model
        out[dtype] = {"acc": 100 * model.score(Xte, yte), "bytes": len(model.model_.content),
                      "seconds": t}
    if args.latency:
        for threads in args.threads:
            models = [LiteRTModel(served[d].model_.content, args.runtime, threads)
                      for d in ("float32", "int8")]
            for batch in (1, 256):
                times = interpreter_times(models, Xte, batch)
                key = f"us_per_row_{batch}" + ("" if threads == 1 else f"_t{threads}")
                out["float32"][key], out["int8"][key] = times
    print(f"  LiteRT: {out}", flush=True)
    return out


def interpreter_times(models, X, batch, rounds=7, seconds=0.5):
    """Microseconds per row of each model at ``batch`` rows per call, timed alternately."""
    x = np.resize(X, (batch,) + X.shape[1:]).astype("float32")
    best = [np.inf] * len(models)
    for model in models:
        model.predict_on_batch(x)  # allocate for this batch size before timing
    for _ in range(rounds):
        for k, model in enumerate(models):
            calls, start = 0, time.perf_counter()
            while time.perf_counter() - start < seconds:
                model.predict_on_batch(x)
                calls += 1
            best[k] = min(best[k], (time.perf_counter() - start) / calls / batch * 1e6)
    return best


# Settings of our Distillation the distillation group can run (--distillers).
DISTILLERS = {
    "ours": ("Distillation (T=2, alpha=0.7, mixup x2)", {}),
    "no-mixup": ("Distillation, augment=None", {"augment": None}),
    "alpha0.5": ("Distillation, alpha=0.5", {"alpha": 0.5}),
    "T4": ("Distillation, T=4", {"temperature": 4.0}),
    "mixup4": ("Distillation, mixup x4", {"n_augment": 4.0}),
    "mixup8": ("Distillation, mixup x8", {"n_augment": 8.0}),
    "mse": ("Distillation, loss='logits_mse'", {"loss": "logits_mse"}),
    "mse-mixup8": ("Distillation, loss='logits_mse', mixup x8",
                   {"loss": "logits_mse", "n_augment": 8.0}),
    # "-steps": 1 / (1 + n_augment) of the epochs, i.e. the student alone's gradient steps.
    "mixup8-steps": ("Distillation, mixup x8, 1/9 of the epochs (the steps of the student alone)",
                     {"n_augment": 8.0}),
    "mixup17-steps": ("Distillation, mixup x17, 1/18 of the epochs (the steps of the student alone)",
                      {"n_augment": 17.0}),
}


def distillation_epochs(name, args):
    if not name.endswith("-steps"):
        return args.student_epochs
    return max(1, round(args.student_epochs / (1 + DISTILLERS[name][1]["n_augment"])))


def student(args, seed, epochs=None):
    epochs = epochs or args.student_epochs
    return classifier(mlp, epochs, seed, schedule_callbacks(args.schedule, epochs),
                      hidden=tuple(args.student_hidden))


def distillation_rows(dense_cnn, data, frozen, args, seed):
    Xtr, Xte, ytr, yte = data
    alone = student(args, seed).fit(Xtr, ytr)
    extra = {
        "teacher": 100 * dense_cnn.score(Xte, yte),
        "alone": 100 * alone.score(Xte, yte),
        "student_params": alone.model_.count_params(),
        "teacher_params": dense_cnn.model_.count_params(),
    }
    if args.alone_steps:
        # As many gradient steps as the distilled student with mixup x2 (3x the rows).
        long = student(args, seed, 3 * args.student_epochs).fit(Xtr, ytr)
        extra["alone, 3x epochs"] = 100 * long.score(Xte, yte)
    for name in args.distillers:
        d, t = timed(
            lambda name=name: Distillation(
                FrozenEstimator(dense_cnn), student(args, seed, distillation_epochs(name, args)),
                **DISTILLERS[name][1], **frozen
            ).fit(Xtr, ytr)
        )
        extra[name] = 100 * d.score(Xte, yte)
        extra[name + " seconds"] = t
    extra["keras Distiller"] = keras_distiller(
        dense_cnn, Xtr, ytr, Xte, yte, args.student_epochs, seed, tuple(args.student_hidden),
        args.schedule)
    print("  distillation: " + ", ".join(
        f"{k} {v:.2f}" for k, v in extra.items() if "seconds" not in k and "params" not in k
    ), flush=True)
    return extra


def mean_std(values):
    values = np.asarray(values, dtype=float)
    return (
        f"{values.mean():.2f} ± {values.std():.2f}"
        if len(values) > 1
        else f"{values[0]:.2f}"
    )


def listed(values):
    return ", ".join(f"{v:.2f}" for v in values)


def ratio(values_before, values_after):
    ratios = [x / y for x, y in zip(values_before, values_after)]
    return "pending" if np.isnan(ratios).any() else mean_std(ratios)


def command(args):
    return (
        f"python benchmarks/bench_compression.py --seeds {' '.join(map(str, args.seeds))} "
        f"--only {','.join(args.only)} --mlp-epochs {args.mlp_epochs} --cnn-epochs "
        f"{args.cnn_epochs} --student-epochs {args.student_epochs} --qat-epochs {args.qat_epochs}"
        + (f" --student-hidden {' '.join(map(str, args.student_hidden))} --schedule {args.schedule}"
           f" --distillers {','.join(args.distillers)}" if "distillation" in args.only else "")
        + (" --alone-steps" if args.alone_steps and "distillation" in args.only else "")
        + (f" --threads {' '.join(map(str, args.threads))}" if "litert" in args.only else "")
        + ("" if args.latency else " --no-latency")
    )


def markdown(results, args, elapsed):
    lines = [
        "## Compression",
        "",
        f"Command: `{command(args)} --write` ({elapsed / 60:.1f} min).",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores shared with other jobs "
        f"(load average {os.getloadavg()[0]:.1f} at the end), no GPU; Python {platform.python_version()}, "
        f"keras {keras.__version__}, {keras.backend.backend()} backend.",
        "",
    ]
    if results[0][0]:
        lines += compression_table(results, args)
    ex = [r[1] for r in results]
    if "litert" in ex[0]:
        lines += litert_table(ex, args.threads)
    if "teacher" in ex[0]:
        lines += distillation_table(ex, args)
    return "\n".join(lines) + "\n"


def compression_table(results, args):
    names = [row["name"] for row in results[0][0]]
    lines = [
        "Digits, stratified 70/30 split per seed; test accuracy in points (mean ± std over "
        f"{len(args.seeds)} seeds, then per seed); `.keras` sizes without optimizer state; "
        "weights = bytes of the stored weights (packed for int4/ternary/binary), without the "
        "`.keras` file's fixed overhead; size and latency ratios are before/after (higher is "
        "better), latency = best of 7 `predict_on_batch` calls on "
        f"{LATENCY_ROWS} rows, the two models timed alternately in the same run.",
        "",
        "| compression | acc before | acc after | Δ acc | Δ acc per seed | params after/before | "
        "non-zero after | .keras x smaller | gzip x smaller | weights x smaller | "
        "latency x faster | fit s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, name in enumerate(names):
        rows = [r[0][i] for r in results]
        b = [r["before"] for r in rows]
        a = [r["after"] for r in rows]
        deltas = [y["acc"] - x["acc"] for x, y in zip(b, a)]
        lines.append(
            f"| {name} | {mean_std([x['acc'] for x in b])} | {mean_std([x['acc'] for x in a])} | "
            f"{mean_std(deltas)} | {', '.join(f'{d:+.2f}' for d in deltas)} | "
            f"{a[0]['params']:,}/{b[0]['params']:,} ({b[0]['params'] / a[0]['params']:.2f}x) | "
            f"{mean_std([100 * x['nonzero'] / x['params'] for x in a])} % | "
            f"{ratio([x['bytes'] for x in b], [y['bytes'] for y in a])} | "
            f"{ratio([x['gzip'] for x in b], [y['gzip'] for y in a])} | "
            f"{ratio([x['weights'] for x in b], [y['weights'] for y in a])} | "
            f"{ratio([x['latency'] for x in b], [y['latency'] for y in a])} | "
            f"{np.mean([r['seconds'] for r in rows]):.0f} |"
        )
    return lines


def litert_table(ex, threads=(1,)):
    lite = [e["litert"] for e in ex]
    keys = [(t, b, f"us_per_row_{b}" + ("" if t == 1 else f"_t{t}")) for t in threads
            for b in (1, 256)]
    timed = all(key in lite[0]["int8"] for *_, key in keys)
    lines = [
        "",
        "LiteRT (`LiteRTQuantization`, the CNN above; runtime: "
        f"{ex[0].get('runtime', 'auto')}, interpreter threads {', '.join(map(str, threads))}; "
        "int8 = full-integer quantization calibrated on 256 training rows; accuracy per seed):",
        "",
        "| served model | test accuracy | file bytes | x smaller than .keras float32 | "
        + " | ".join(f"µs/row at batch {b}, {t} thread{'s' * (t > 1)}" for t, b, _ in keys) + " |",
        "|---|---|---|---|" + "---|" * len(keys),
        f"| Keras float32 (`.keras`) | {mean_std([x['keras acc'] for x in lite])} "
        f"({listed(x['keras acc'] for x in lite)}) | {lite[0]['keras bytes']:,} | 1 |"
        + " |" * len(keys),
    ]
    for dtype in ("float32", "int8"):
        rows = [x[dtype] for x in lite]
        speed = [mean_std([r[key] for r in rows]) if timed else "pending" for *_, key in keys]
        lines.append(
            f"| LiteRT {dtype} | {mean_std([r['acc'] for r in rows])} "
            f"({listed(r['acc'] for r in rows)}) | {rows[0]['bytes']:,} | "
            f"{lite[0]['keras bytes'] / rows[0]['bytes']:.2f} | " + " | ".join(speed) + " |"
        )
    if timed:
        for t, b, key in keys:
            gain = [x["float32"][key] / x["int8"][key] for x in lite]
            lines.append(f"\nint8 vs float32 in the same runtime, batch {b}, {t} thread"
                         f"{'s' * (t > 1)}: {mean_std(gain)}x faster.")
    return lines


def distillation_table(ex, args):
    gap = [e["teacher"] - e["alone"] for e in ex]
    lines = [
        "",
        f"Distillation (teacher: the CNN above, {ex[0]['teacher_params']:,} parameters; student: "
        f"64-{'-'.join(map(str, args.student_hidden))}-10 MLP, {ex[0]['student_params']:,} "
        f"parameters; {args.student_epochs} epochs each, learning rate {args.schedule}; "
        "recovered = (distilled - alone) / (teacher - alone), per seed and from the seed means):",
        "",
        "| model | test accuracy | per seed | recovered gap per seed | recovered gap (means) |",
        "|---|---|---|---|---|",
        f"| teacher | {mean_std([e['teacher'] for e in ex])} | "
        f"{listed(e['teacher'] for e in ex)} | | |",
        f"| student alone | {mean_std([e['alone'] for e in ex])} | "
        f"{listed(e['alone'] for e in ex)} | | 0 % |",
    ]
    labels = {name: DISTILLERS[name][0] for name in args.distillers}
    if "alone, 3x epochs" in ex[0]:
        labels = {"alone, 3x epochs": "student alone, 3x the epochs (the steps of mixup x2)",
                  **labels}
    labels["keras Distiller"] = "keras.distillation.Distiller (T=4, weight 0.5)"
    for name, label in labels.items():
        recovered = (np.mean([e[name] for e in ex]) - np.mean([e["alone"] for e in ex])) / np.mean(gap)
        per_seed = [(e[name] - e["alone"]) / g for e, g in zip(ex, gap)]
        lines.append(
            f"| {label} | {mean_std([e[name] for e in ex])} | "
            f"{listed(e[name] for e in ex)} | "
            f"{', '.join(f'{100 * r:.0f} %' for r in per_seed)} | {100 * recovered:.0f} % |"
        )
    return lines


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
    parser.add_argument("--student-hidden", type=int, nargs="+", default=[12],
                        help="hidden layer sizes of the distillation group's MLP student")
    parser.add_argument("--schedule", default="constant", choices=["constant", "cosine"],
                        help="learning rate of every student (alone, ours, Keras's), per epoch")
    parser.add_argument("--distillers", default="ours,no-mixup", type=lambda v: v.split(","),
                        help=f"settings of our Distillation to run, from {','.join(DISTILLERS)}")
    parser.add_argument("--alone-steps", action="store_true",
                        help="also train the student alone for 3x the epochs")
    parser.add_argument("--qat-epochs", type=int, default=10,
                        help="straight-through fine-tuning epochs of the ternary/binary rows")
    parser.add_argument("--only", default=",".join(GROUPS), type=lambda v: v.split(","),
                        help=f"comma-separated groups to run, from {','.join(GROUPS)}")
    parser.add_argument("--no-latency", dest="latency", action="store_false",
                        help="skip every timing (quality-only run on a loaded machine)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="interpreter thread counts the litert group times")
    parser.add_argument("--runtime", default="auto", choices=["auto", "litert", "tflite"],
                        help="LiteRT interpreter of the litert group")
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
    if args.write and set(args.only) != set(GROUPS):
        # --write replaces the whole section: a partial run would drop the other rows.
        parser.error("--write needs every group (no --only); paste a partial run's table by hand")
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
