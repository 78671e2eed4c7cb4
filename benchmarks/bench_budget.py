# ruff: noqa: E501  (markdown table rows and report lines read better unbroken)
"""Budgeted searches against full-budget, halving and KerasTuner searches (issue #12).

Every method searches the same space on the **same single train/validation split**
(``cv=[(train, validation)]``; KerasTuner gets the same validation rows as
``validation_data``), runs with ``n_jobs=1`` in this one process, and its chosen
configuration is scored on the same test rows.

Setting (``--task digits``, the issue's anchor)
    scikit-learn's digits as 8x8x1 images; per seed a stratified split of 1,000 train /
    400 validation / 397 test rows. A two-block CNN (``build_cnn``, n_blocks=2,
    max pooling), filters of each block an integer log-uniform in [4, 64], kernel
    {2, 3}, dense units log-uniform in [8, 128], Adam learning rate log-uniform in
    [1e-4, 0.3], batch 32, at most 27 epochs, η = 3. The estimator is
    ``skautosearch.keras.KerasClassifier`` for every scikit-learn-style method.
``--task lstm``
    The IMDB LSTM (``build_lstm_classifier``, vocabulary 5,000, 100 tokens): IMDB when
    ``~/.keras/datasets/imdb.npz`` is there, else the bundled synthetic fallback
    (``make_token_sequences``; the record says which). Same 1,000 / 400 / rest split;
    embedding 8-64 and LSTM units 4-64 (log-uniform), dropout [0, 0.5], learning rate
    log-uniform [1e-4, 0.3], recurrent dropout 0.

Methods (``--methods``, a comma list; the groups ``budget``, ``full``, ``eqtime`` expand)
    random            RandomizedSearchCV, 12 candidates x 27 epochs.
    halving           HalvingRandomSearchCV(resource="epochs", factor=3, min_resources=1,
                      max_resources=27, n_candidates=27): every promoted candidate
                      retrained from scratch (27x1 + 9x3 + 3x9 + 1x27 = 108 epochs).
    kerastuner        keras_tuner.Hyperband(max_epochs=27, factor=3, one iteration of
                      all brackets), objective val_accuracy (skipped if keras_tuner is
                      not importable: it needs ``keras-tuner`` and ``tensorboard``).
    <s>_budget        GeneticSearchCV / AnnealingSearchCV / BayesianSearchCV with
                      resource="epochs", min_resources=1 (``--min-resources``),
                      max_resources=27, factor=3, n_brackets=1 (``--n-brackets``),
                      n_iter=27 in batches of 9.
    <s>_full          the same strategy without resource: n_iter=12 candidates x 27
                      epochs, its default batches (genetic population 6).
    <s>_budget_eqtime the budgeted strategy with ``max_time`` = the wall time its own
                      ``<s>_full`` took on the same seed (n_iter up to 300): the target
                      "budgeted beats its own full-budget version at equal wall time".
    <s>_budget_cv3    the budgeted strategy cross-validated: ``StratifiedKFold(3,
                      shuffle=True)`` over the train + validation rows instead of the
                      one split; its epochs count every fold's. The target "equal or
                      better than KerasTuner's Hyperband at no more total epochs, while
                      also cross-validating (cv=3)".
    <s>_budget_small  the budgeted strategy with fewer configurations: ``--small-n-iter``
                      (default 18) in batches of ``--small-batch-size`` (default 6), on
                      the same rungs: 3 x (6x1 + 2x2 + 1x6 + 1x18) = 102 epochs, and 18
                      new models instead of 27 (each new model pays a trace of its
                      train and predict steps, see RESULTS.md).

Why n_iter=27 in batches of 9 for the budgeted searches
    27 configurations is what the halving baseline draws, so "the same candidates"
    holds in number. Halving happens inside each batch of a strategy, and a strategy
    only learns between batches, so one batch of 27 would be a random search; three
    batches of 9 give it two rounds to learn from. A batch of 9 on rungs 1, 3, 9, 27
    trains 9x1 + 3x2 + 1x6 + 1x18 = 39 epochs with continuation, so the search
    trains about 3 x 39 = 117 epochs: comparable to halving's 108, and 0.36 of the
    random search's 324 (the issue's target is at most 1/3 = 108: ``--budget-n-iter 24
    --batch-size 8`` trains 3 x 36 = 108). The genetic search's batches are its
    children (population = batch + 2 elites; the first generation is the whole
    population, 11), the annealing search uses 9 chains and 9 initial points, the
    Bayesian search 9 initial points and 9 points a batch; duplicates proposed by a
    strategy are answered from memory, so a batch can be smaller. Epochs are counted,
    not computed. ``n_brackets=1`` (plain successive halving) is the schedule of the
    halving baseline; all brackets (``--n-brackets 0``) rotate batches through entry
    rungs 1, 3, 9, 27 with Hyperband's shares of a batch of 9: 9, 4, 2 and 1 new
    candidates, 39, 36, 36 and 27 epochs (``Evaluator.batch_size``).

Figures, per method and seed
    epochs   ``on_epoch_end`` calls of a Keras callback in every fit of the search
             (a module counter: n_jobs=1 keeps every fit in this process); the
             refit is off, so the search's epochs only.
    wall     seconds of the search's ``fit`` (KerasTuner: ``search``), TensorFlow
             already warm, model pool and Keras session cleared before each method.
    val      the chosen configuration's validation accuracy as the search reports it
             (the budgeted searches: at the largest budget reached; KerasTuner: its
             best trial's best-epoch val_accuracy).
    test     accuracy on the test rows of the chosen configuration retrained
             ``--retrains`` times (default 3, seeds differ) for 27 epochs on
             **train + validation** (1,400 rows, what ``refit=True`` would train on),
             averaged; the retrains are not counted in ``epochs``.

Run alone on the machine (timings are worthless on a loaded one), from the repository root::

    python benchmarks/bench_budget.py --seeds 3                 # digits, every method
    python benchmarks/bench_budget.py --seeds 3 --task lstm     # the LSTM
    python benchmarks/bench_budget.py --quick                   # smoke run (2 epochs, 1 seed)
    python benchmarks/bench_budget.py --table benchmarks/budget_results.json   # reprint

Results are appended to ``--out`` (default ``benchmarks/budget_results.json``, a JSON
list of runs, rewritten after every method so an interrupted run keeps what it did);
the markdown tables for ``benchmarks/RESULTS.md`` are printed at the end.
"""

import argparse
import gc
import json
import os
import platform
import sys
import tempfile
import time
import warnings

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
STRATEGIES = ("genetic", "annealing", "bayes")
METHODS = (
    "random", "halving", "kerastuner",
    *(f"{s}_budget" for s in STRATEGIES),
    *(f"{s}_full" for s in STRATEGIES),
    *(f"{s}_budget_eqtime" for s in STRATEGIES),
    *(f"{s}_budget_cv3" for s in STRATEGIES),
    *(f"{s}_budget_small" for s in STRATEGIES),
)
GROUPS = {
    "budget": [f"{s}_budget" for s in STRATEGIES],
    "full": [f"{s}_full" for s in STRATEGIES],
    "eqtime": [f"{s}_budget_eqtime" for s in STRATEGIES],
    "cv3": [f"{s}_budget_cv3" for s in STRATEGIES],
    "small": [f"{s}_budget_small" for s in STRATEGIES],
    "all": list(METHODS),
}
N_TRAIN, N_VAL = 1000, 400

# ---------------------------------------------------------------------------
# Counting epochs

EPOCHS = [0]  # on_epoch_end calls since the last reset (n_jobs=1: one process)
_COUNTER_CLASS = []


def epoch_counter():
    """A Keras callback that adds one to ``EPOCHS[0]`` at every epoch's end.

    It copies to a fresh instance (``clone`` deep-copies estimator parameters, and
    Keras leaves the last model on a callback): the count lives in the module.
    """
    if not _COUNTER_CLASS:
        import keras

        class EpochCounter(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                EPOCHS[0] += 1

            def __deepcopy__(self, memo):
                return EpochCounter()

            def __reduce__(self):
                return (epoch_counter, ())

        _COUNTER_CLASS.append(EpochCounter)
    return _COUNTER_CLASS[0]()


def count_epochs(func):
    """``func()``'s result, its epochs and its wall seconds."""
    EPOCHS[0] = 0
    start = time.perf_counter()
    result = func()
    return result, EPOCHS[0], time.perf_counter() - start


# ---------------------------------------------------------------------------
# Tasks: data, estimator, and the one space in three dialects


class LogUniformInt:
    """Integers log-uniform in [low, high], with the ``rvs`` scikit-learn samples through."""

    def __init__(self, low, high):
        from scipy.stats import loguniform

        self.low, self.high = low, high
        self._dist = loguniform(low, high + 1)

    def rvs(self, size=None, random_state=None):
        values = np.floor(self._dist.rvs(size=size, random_state=random_state)).astype(int)
        return np.clip(values, self.low, self.high) if size is not None else int(
            min(max(values, self.low), self.high))


class Digits:
    name = "digits"
    # name: (kind, low, high) — "int" and "real" are log-uniform; "choice" lists values.
    SPACE = {
        "model__filters_0": ("int", 4, 64),
        "model__filters_1": ("int", 4, 64),
        "model__kernel_size": ("choice", [2, 3]),
        "model__dense_units": ("int", 8, 128),
        "optimizer__learning_rate": ("real", 1e-4, 0.3),
    }
    loss = "sparse_categorical_crossentropy"

    def load(self):
        from skautosearch.keras import load_digits_images

        X, y = load_digits_images()
        return X, y, "sklearn digits 8x8x1"

    def builder(self):
        from skautosearch.keras import build_cnn

        return build_cnn

    def fixed(self):
        return {"model__n_blocks": 2, "model__filters_0": 16, "model__filters_1": 32,
                "model__kernel_size": 3, "model__dense_units": 64}

    def meta(self, X, y):
        return {"X_shape_": X.shape, "n_classes_": 10, "target_type_": "multiclass"}


class Lstm(Digits):
    name = "lstm"
    VOCAB, MAXLEN = 5000, 100
    SPACE = {
        "model__embedding_dim": ("int", 8, 64),
        "model__n_units": ("int", 4, 64),
        "model__dropout": ("uniform", 0.0, 0.5),
        "optimizer__learning_rate": ("real", 1e-4, 0.3),
    }
    loss = "binary_crossentropy"

    def load(self):
        from skautosearch.keras import (
            DatasetUnavailableError,
            load_imdb,
            make_token_sequences,
        )

        try:
            (X, y), _ = load_imdb(num_words=self.VOCAB, maxlen=self.MAXLEN, n_train=2000,
                                  download=False)
            return X, y, "IMDB (first 2,000 training reviews)"
        except DatasetUnavailableError:
            X, y = make_token_sequences(n_samples=1800, maxlen=self.MAXLEN,
                                        vocab_size=self.VOCAB, random_state=0)
            return X, y, "synthetic token sequences (make_token_sequences, IMDB fallback)"

    def builder(self):
        from skautosearch.keras import build_lstm_classifier

        return build_lstm_classifier

    def fixed(self):
        return {"model__vocab_size": self.VOCAB, "model__embedding_dim": 32,
                "model__n_units": 32, "model__dropout": 0.2, "model__recurrent_dropout": 0.0}

    def meta(self, X, y):
        return {"X_shape_": X.shape, "X_max_": self.VOCAB - 1, "n_classes_": 2,
                "target_type_": "binary"}


TASKS = {"digits": Digits, "lstm": Lstm}


def ours_space(task):
    from skautosearch import Integer, Real

    dims = {"int": lambda lo, hi: Integer(lo, hi, prior="log-uniform"),
            "real": lambda lo, hi: Real(lo, hi, prior="log-uniform"),
            "uniform": lambda lo, hi: Real(lo, hi)}
    return {k: (v[1] if v[0] == "choice" else dims[v[0]](*v[1:]))
            for k, v in task.SPACE.items()}


def scipy_space(task):
    from scipy.stats import loguniform, uniform

    dims = {"int": LogUniformInt, "real": loguniform,
            "uniform": lambda lo, hi: uniform(lo, hi - lo)}
    return {k: (v[1] if v[0] == "choice" else dims[v[0]](*v[1:]))
            for k, v in task.SPACE.items()}


def kt_value(hp, key, spec):
    name = key.split("__", 1)[1]
    if spec[0] == "choice":
        return hp.Choice(name, spec[1])
    if spec[0] == "int":
        return hp.Int(name, spec[1], spec[2], sampling="log")
    return hp.Float(name, spec[1], spec[2], sampling="log" if spec[0] == "real" else "linear")


def make_estimator(task, epochs, seed):
    from skautosearch.keras import KerasClassifier

    return KerasClassifier(
        task.builder(), **task.fixed(), loss=task.loss, optimizer="adam",
        optimizer__learning_rate=1e-3, batch_size=32, epochs=epochs, verbose=0,
        random_state=seed, callbacks=[epoch_counter()],
    )


def split(y, seed):
    """Stratified train / validation / test indices, fixed by ``seed``."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(y))
    trval, test = train_test_split(rows, train_size=N_TRAIN + N_VAL, stratify=y,
                                   random_state=seed)
    train, val = train_test_split(trval, train_size=N_TRAIN, stratify=y[trval],
                                  random_state=seed)
    return train, val, test


# ---------------------------------------------------------------------------
# Methods: each returns (chosen params, validation score, extra figures)


def chosen(task, params):
    return {k: _plain(params[k]) for k in task.SPACE}


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def run_sklearn(search, task, data):
    search.fit(data["X_search"], data["y_search"])
    res = search.cv_results_
    extra = {"n_rows": len(res["params"]), "n_candidates": _n_candidates(task, res)}
    if "resources_trained" in res:
        extra["resources_trained"] = int(np.sum(res["resources_trained"]))
    if hasattr(search, "n_resources_"):
        extra["n_resources"] = [int(r) for r in search.n_resources_]
        extra["n_candidates_per_rung"] = [int(n) for n in search.n_candidates_]
    if getattr(search, "stopped_reason_", None) is not None:
        extra["stopped"] = str(search.stopped_reason_)
    return chosen(task, search.best_params_), float(search.best_score_), extra


def _n_candidates(task, res):
    return len({tuple(repr(p[k]) for k in task.SPACE) for p in res["params"]})


def common(cfg, data):
    return dict(cv=data["cv"], n_jobs=1, refit=False, random_state=cfg.seed)


def budget_kwargs(cfg):
    return dict(resource="epochs", min_resources=getattr(cfg, "min_resources", 1),
                max_resources=cfg.max_epochs, factor=3, n_brackets=cfg.n_brackets or None)


def strategy(name, cfg, batch):
    """The strategy class and its batch settings for batches of ``batch`` candidates."""
    from skautosearch import AnnealingSearchCV, BayesianSearchCV, GeneticSearchCV

    if name == "genetic":
        return GeneticSearchCV, dict(population_size=batch + 2, elitism=2)
    if name == "annealing":
        return AnnealingSearchCV, dict(n_chains=batch, n_initial_points=batch)
    return BayesianSearchCV, dict(n_points=batch, n_initial_points=batch)


def method_random(cfg, task, data):
    from sklearn.model_selection import RandomizedSearchCV

    est = make_estimator(task, cfg.max_epochs, cfg.seed)
    return run_sklearn(RandomizedSearchCV(est, scipy_space(task), n_iter=cfg.full_n_iter,
                                          **common(cfg, data)), task, data)


def method_halving(cfg, task, data):
    from sklearn.experimental import enable_halving_search_cv  # noqa: F401
    from sklearn.model_selection import HalvingRandomSearchCV

    est = make_estimator(task, cfg.max_epochs, cfg.seed)
    search = HalvingRandomSearchCV(est, scipy_space(task), n_candidates=cfg.halving_candidates,
                                   resource="epochs", factor=3, min_resources=1,
                                   max_resources=cfg.max_epochs, **common(cfg, data))
    return run_sklearn(search, task, data)


def method_ours(cfg, task, data, name, kind, max_time=None):
    est = make_estimator(task, cfg.max_epochs, cfg.seed)
    if kind == "full":
        cls, batch = strategy(name, cfg, cfg.full_batch)
        kwargs = dict(n_iter=cfg.full_n_iter, **batch)
        if name == "genetic":
            kwargs.update(population_size=cfg.full_batch)
    elif kind == "budget_small":
        cls, batch = strategy(name, cfg, cfg.small_batch_size)
        kwargs = dict(n_iter=cfg.small_n_iter, **batch, **budget_kwargs(cfg))
    else:
        cls, batch = strategy(name, cfg, cfg.batch_size)
        n_iter = cfg.budget_n_iter if max_time is None else cfg.eqtime_n_iter
        kwargs = dict(n_iter=n_iter, max_time=max_time, **batch, **budget_kwargs(cfg))
    settings = common(cfg, data)
    if kind == "budget_cv3":
        from sklearn.model_selection import StratifiedKFold

        settings["cv"] = StratifiedKFold(3, shuffle=True, random_state=cfg.seed)
    search = cls(est, ours_space(task), **kwargs, **settings)
    return run_sklearn(search, task, data)


def method_kerastuner(cfg, task, data):
    import keras
    import keras_tuner as kt

    meta = task.meta(data["X_train"], data["y_train"])
    build = task.builder()
    fixed = {k.split("__", 1)[1]: v for k, v in task.fixed().items()
             if k.startswith("model__")}

    def build_model(hp):
        values = {key: kt_value(hp, key, spec) for key, spec in task.SPACE.items()}
        arch = {**fixed, **{k.split("__", 1)[1]: v for k, v in values.items()
                            if k.startswith("model__")}}
        model = build(meta, **arch, compile_kwargs={"loss": task.loss})
        model.compile(optimizer=keras.optimizers.Adam(values["optimizer__learning_rate"]),
                      loss=task.loss, metrics=["accuracy"])
        return model

    keras.utils.set_random_seed(cfg.seed)
    with tempfile.TemporaryDirectory(prefix="bench_budget_kt_") as folder:
        tuner = kt.Hyperband(build_model, objective="val_accuracy", max_epochs=cfg.max_epochs,
                             factor=3, hyperband_iterations=1, seed=cfg.seed,
                             directory=folder, project_name=f"seed{cfg.seed}", overwrite=True)
        tuner.search(data["X_train"], data["y_train"], batch_size=32, verbose=0,
                     validation_data=(data["X_val"], data["y_val"]),
                     callbacks=[epoch_counter()])
        best = tuner.oracle.get_best_trials(1)[0]
        hp = best.hyperparameters.values
        trials = tuner.oracle.trials.values()
        # A promoted configuration is a new trial (its tuner/* values differ): count
        # configurations as the other methods do.
        configs = {tuple(sorted((k, v) for k, v in t.hyperparameters.values.items()
                                if not k.startswith("tuner/"))) for t in trials}
        params = {key: hp[key.split("__", 1)[1]] for key in task.SPACE}
        return params, float(best.score), {"n_trials": len(trials),
                                           "n_candidates": len(configs)}


def kerastuner_available():
    try:
        import keras_tuner  # noqa: F401
        import tensorboard  # noqa: F401  (KerasTuner imports its hparams plugin per trial)
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------
# Retraining the chosen configuration


def test_accuracy(cfg, task, data, params):
    """Test accuracies of ``params`` retrained ``cfg.retrains`` times on train + validation."""
    accs = []
    for r in range(cfg.retrains):
        est = make_estimator(task, cfg.max_epochs, 1000 * cfg.seed + r).set_params(**params)
        est.fit(data["X_search"], data["y_search"])
        accs.append(float(est.score(data["X_test"], data["y_test"])))
    return accs


# ---------------------------------------------------------------------------
# Driver


def fresh_keras():
    """Forget traced models and Keras's graph between methods, so none inherits another's."""
    import keras

    from skautosearch.keras import clear_model_pool

    clear_model_pool()
    keras.backend.clear_session()
    gc.collect()


def warm_up(task, data):
    est = make_estimator(task, 1, 0)
    est.fit(data["X_train"][:64], data["y_train"][:64]).score(data["X_val"][:64],
                                                              data["y_val"][:64])
    fresh_keras()


def prepare(task, seed):
    X, y, source = task.load()
    train, val, test = split(y, seed)
    trval = np.concatenate([train, val])
    return {
        "source": source,
        "X_search": X[trval], "y_search": y[trval],
        "cv": [(np.arange(len(train)), np.arange(len(train), len(trval)))],
        "X_train": X[train], "y_train": y[train], "X_val": X[val], "y_val": y[val],
        "X_test": X[test], "y_test": y[test],
        "sizes": [len(train), len(val), len(test)],
    }


def run_method(method, cfg, task, data, done):
    """One method on one seed: its record, or None when it cannot run."""
    if method == "kerastuner":
        if not kerastuner_available():
            print("  kerastuner: skipped (pip install keras-tuner tensorboard)", flush=True)
            return None
        func = lambda: method_kerastuner(cfg, task, data)  # noqa: E731
    elif method == "random":
        func = lambda: method_random(cfg, task, data)  # noqa: E731
    elif method == "halving":
        func = lambda: method_halving(cfg, task, data)  # noqa: E731
    else:
        name, kind = method.split("_", 1)
        max_time = None
        if kind == "budget_eqtime":
            full = done.get(f"{name}_full")
            if full is None:
                print(f"  {method}: skipped (needs {name}_full on the same seed first)",
                      flush=True)
                return None
            max_time = full["wall"]
        func = lambda: method_ours(cfg, task, data, name, kind, max_time)  # noqa: E731
    fresh_keras()
    (params, val, extra), epochs, wall = count_epochs(func)
    fresh_keras()
    accs = test_accuracy(cfg, task, data, params)
    return {"task": task.name, "seed": cfg.seed, "method": method, "epochs": epochs,
            "wall": wall, "params": params, "val_score": val, "test_accs": accs,
            "test_acc": float(np.mean(accs)), **extra}


def expand_methods(text):
    names = []
    for item in text.split(","):
        item = item.strip()
        for name in GROUPS.get(item, [item]):
            if name not in METHODS:
                raise SystemExit(f"--methods: unknown method {name!r}; choose from "
                                 f"{', '.join(METHODS)} or the groups {', '.join(GROUPS)}.")
            if name not in names:
                names.append(name)
    # eqtime runs need their full run first: keep the canonical order.
    return [m for m in METHODS if m in names]


def load_runs(path):
    if not os.path.exists(path):
        return []
    with open(path) as fh:
        return json.load(fh)


def save_run(path, run):
    """Append ``run`` to the JSON list at ``path`` (replacing an earlier copy of it)."""
    runs = [r for r in load_runs(path) if r.get("id") != run["id"]] + [run]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump(runs, fh, indent=1)
    os.replace(tmp, path)


def header(args):
    import keras
    import sklearn
    import tensorflow as tf

    try:
        import keras_tuner

        kt_version = keras_tuner.__version__
    except ImportError:
        kt_version = None
    return {
        "id": f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}",
        "command": " ".join(["python"] + sys.argv),
        "host": platform.node(), "cpus": os.cpu_count(),
        "python": platform.python_version(), "tensorflow": tf.__version__,
        "keras": keras.__version__, "sklearn": sklearn.__version__,
        "keras_tuner": kt_version, "loadavg_start": os.getloadavg()[0],
        "settings": {k: v for k, v in vars(args).items() if k != "table"},
        "results": [],
    }


def parse_seeds(text):
    """``"3"`` -> [0, 1, 2]; ``"1-2"`` -> [1, 2]; ``"0,2"`` -> [0, 2]."""
    if "," in text:
        return [int(part) for part in text.split(",")]
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return list(range(int(text)))


def configure(args):
    if args.quick:
        args.seeds, args.max_epochs, args.retrains = [0], 2, 1
        args.full_n_iter, args.halving_candidates = 2, 3
        args.budget_n_iter, args.batch_size, args.full_batch = 3, 3, 3
        args.eqtime_n_iter = 6
        args.small_n_iter, args.small_batch_size = 2, 2
    args.methods = expand_methods(args.methods)
    return args


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=sorted(TASKS), default="digits")
    parser.add_argument("--seeds", type=parse_seeds, default="3",
                        help="N: seeds 0 .. N-1; A-B: seeds A to B; or a comma list")
    parser.add_argument("--methods", default="all",
                        help="comma list of " + ", ".join(METHODS) + " or the groups "
                        + ", ".join(GROUPS))
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 epochs, 1 seed, 2-6 candidates, 1 retrain")
    parser.add_argument("--out", default=os.path.join(HERE, "budget_results.json"))
    parser.add_argument("--table", metavar="JSON",
                        help="only print the tables of the last run in JSON")
    parser.add_argument("--max-epochs", type=int, default=27)
    parser.add_argument("--full-n-iter", type=int, default=12)
    parser.add_argument("--full-batch", type=int, default=6,
                        help="genetic population of the full-budget search")
    parser.add_argument("--halving-candidates", type=int, default=27)
    parser.add_argument("--budget-n-iter", type=int, default=27)
    parser.add_argument("--batch-size", type=int, default=9,
                        help="new candidates a batch of a budgeted search")
    parser.add_argument("--eqtime-n-iter", type=int, default=300)
    parser.add_argument("--small-n-iter", type=int, default=18,
                        help="configurations of the <s>_budget_small searches")
    parser.add_argument("--small-batch-size", type=int, default=6)
    parser.add_argument("--n-brackets", type=int, default=1, help="0: all brackets")
    parser.add_argument("--min-resources", type=int, default=1,
                        help="the budgeted searches' first rung, in epochs")
    parser.add_argument("--bracket-sizes", choices=["hyperband", "equal"],
                        default="hyperband",
                        help="batches that start at a higher rung take Hyperband's smaller "
                        "shares (the library's rule), or the full batch size in every "
                        "bracket (Evaluator.bracket_sizes)")
    parser.add_argument("--retrains", type=int, default=3)
    args = parser.parse_args(argv)
    if args.table:
        print_tables(load_runs(args.table)[-1])
        return
    args = configure(args)
    from skautosearch._evaluator import Evaluator

    Evaluator.bracket_sizes = args.bracket_sizes
    run = header(args)
    task = TASKS[args.task]()
    print(f"# bench_budget: task {args.task}, seeds {args.seeds}, methods "
          f"{','.join(args.methods)}; {run['cpus']} CPUs, load {run['loadavg_start']:.1f}",
          flush=True)
    for seed in args.seeds:
        cfg = argparse.Namespace(**vars(args), seed=seed)
        data = prepare(task, seed)
        run["data"], run["split"] = data["source"], data["sizes"]
        warm_up(task, data)
        done = {}
        for method in args.methods:
            record = run_method(method, cfg, task, data, done)
            if record is None:
                continue
            done[method] = record
            run["results"].append(record)
            run["loadavg_end"] = os.getloadavg()[0]
            save_run(args.out, run)
            print(f"  seed {seed} {method:24s} epochs {record['epochs']:5d}  wall "
                  f"{record['wall']:7.1f} s  val {record['val_score']:.4f}  test "
                  f"{record['test_acc']:.4f}  {record['params']}", flush=True)
    print_tables(run)


# ---------------------------------------------------------------------------
# Tables


def _by_method(run):
    table = {}
    for r in run["results"]:
        table.setdefault(r["method"], {})[r["seed"]] = r
    return table


def _cell(values, fmt):
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return "-"
    inner = ", ".join(format(v, fmt) for v in values)
    median = float(np.median(values))
    if fmt == "d":  # the median of counts can fall between two
        median_text = str(int(median)) if median.is_integer() else f"{median:.1f}"
    else:
        median_text = format(median, fmt)
    return f"{median_text} ({inner})" if len(values) > 1 else inner


def print_tables(run):
    table = _by_method(run)
    s = run["settings"]
    print(f"\n### Budgets, task {s['task']} ({run.get('data')}, split {run.get('split')}), "
          f"max {s['max_epochs']} epochs, η = 3, n_jobs=1; `{run['command']}`\n")
    print(f"{run['host']}, {run['cpus']} CPUs, TensorFlow {run['tensorflow']}, Keras "
          f"{run['keras']}, scikit-learn {run['sklearn']}, KerasTuner {run['keras_tuner']}; "
          f"load average {run['loadavg_start']:.1f} at start, "
          f"{run.get('loadavg_end', float('nan')):.1f} at end. Medians (per seed).\n")
    print("| method | configurations | epochs trained | wall s | validation acc | "
          f"test acc (mean of {s['retrains']} retrains) | chosen configuration (seed 0) |")
    print("|---|---|---|---|---|---|---|")
    for method in METHODS:
        if method not in table:
            continue
        rows = [table[method][k] for k in sorted(table[method])]
        configs = [r.get("n_candidates", r.get("n_trials")) for r in rows]
        print(f"| {method} | {_cell(configs, 'd')} | {_cell([r['epochs'] for r in rows], 'd')}"
              f" | {_cell([r['wall'] for r in rows], '.0f')}"
              f" | {_cell([r['val_score'] for r in rows], '.4f')}"
              f" | {_cell([r['test_acc'] for r in rows], '.4f')} | {_describe(rows[0]['params'])} |")
    print_ratios(table)


def _describe(params):
    return ", ".join(f"{k.split('__', 1)[1]}={_short(v)}" for k, v in params.items())


def _short(value):
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _ratio_row(table, label, num, den, key, kind="ratio"):
    if num not in table or den not in table:
        return
    seeds = sorted(set(table[num]) & set(table[den]))
    if kind == "ratio":
        values = [table[num][k][key] / table[den][k][key] for k in seeds
                  if table[den][k][key]]
        fmt = ".2f"
    else:  # difference in points of accuracy
        values = [100 * (table[num][k][key] - table[den][k][key]) for k in seeds]
        fmt = "+.1f"
    print(f"| {label} | {key} {'ratio' if kind == 'ratio' else 'difference (points)'} "
          f"| {_cell(values, fmt)} |")


def print_ratios(table):
    print("\n| comparison (per seed, then median) | figure | value |")
    print("|---|---|---|")
    for s in STRATEGIES:
        budget = f"{s}_budget"
        _ratio_row(table, f"{budget} / random", budget, "random", "epochs")
        _ratio_row(table, f"{budget} / random", budget, "random", "wall")
        _ratio_row(table, f"{budget} - random", budget, "random", "test_acc", "diff")
        _ratio_row(table, f"halving / {budget}", "halving", budget, "epochs")
        _ratio_row(table, f"{budget} - halving", budget, "halving", "test_acc", "diff")
        _ratio_row(table, f"{budget} / kerastuner", budget, "kerastuner", "epochs")
        _ratio_row(table, f"{budget} - kerastuner", budget, "kerastuner", "test_acc", "diff")
        small = f"{s}_budget_small"
        _ratio_row(table, f"{small} / random", small, "random", "epochs")
        _ratio_row(table, f"{small} / random", small, "random", "wall")
        _ratio_row(table, f"{small} - random", small, "random", "test_acc", "diff")
        _ratio_row(table, f"{small} - halving", small, "halving", "test_acc", "diff")
        cv3 = f"{s}_budget_cv3"
        _ratio_row(table, f"{cv3} / kerastuner", cv3, "kerastuner", "epochs")
        _ratio_row(table, f"{cv3} / kerastuner", cv3, "kerastuner", "wall")
        _ratio_row(table, f"{cv3} - kerastuner", cv3, "kerastuner", "test_acc", "diff")
        _ratio_row(table, f"{budget} / {s}_full", budget, f"{s}_full", "epochs")
        _ratio_row(table, f"{budget} / {s}_full", budget, f"{s}_full", "wall")
        _ratio_row(table, f"{budget} - {s}_full", budget, f"{s}_full", "test_acc", "diff")
        eq = f"{s}_budget_eqtime"
        _ratio_row(table, f"{eq} / {s}_full", eq, f"{s}_full", "wall")
        _ratio_row(table, f"{eq} - {s}_full", eq, f"{s}_full", "test_acc", "diff")
    _ratio_row(table, "halving / random", "halving", "random", "epochs")
    _ratio_row(table, "halving / random", "halving", "random", "wall")
    _ratio_row(table, "kerastuner / random", "kerastuner", "random", "wall")


if __name__ == "__main__":
    main()
