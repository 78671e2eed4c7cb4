"""Per-process speed machinery for Keras fits: model reuse and thread control.

Most of a small Keras model's fit is fixed cost: tracing the train and predict
functions (see ``benchmarks/RESULTS.md``).  This module keeps compiled, traced
models in a per-process pool and lends one to each new fit of the same
architecture.  A lent model first receives the initial weights (and seed-generator
and optimizer state) of a freshly built model, so its fit is exactly the fit of
that fresh model: building and compiling a model is cheap, tracing is not.

A lent model belongs to its estimator until the estimator is garbage collected
(``weakref.finalize``), so a model that someone can still reach is never
reset under their feet: the ``best_estimator_`` of a search keeps its model,
the throw-away clones of cross-validation give theirs back.
"""

import os
import sys
import threading
import weakref
from collections import OrderedDict

import numpy as np

__all__ = [
    "configure_threads",
    "configure_worker_memory",
    "model_pool_info",
    "clear_model_pool",
]

_MAX_IDLE = 16  # idle models kept per process, over all architectures
_THREAD_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def _env_thread_limit():
    """Thread limit joblib's loky backend gives its workers, or None."""
    for name in ("SKAUTOSEARCH_TF_THREADS",) + _THREAD_ENV:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return None


def configure_threads(n_threads=None):
    """Limit TensorFlow's intra- and inter-op thread pools in this process.

    joblib's loky backend starts each worker with ``OMP_NUM_THREADS`` (and the
    BLAS variables) set to ``cpu_count // n_jobs``, but TensorFlow ignores these
    and starts one thread per core in every worker, which oversubscribes the
    machine.  ``skautosearch.keras`` calls this function when it is imported, so
    each worker that unpickles a Keras estimator sizes TensorFlow's pools from
    those variables.  TensorFlow only accepts the setting before it runs its
    first operation; later calls change nothing and return False.

    Parameters
    ----------
    n_threads : int or None, default=None
        Threads for TensorFlow's intra-op pool (the inter-op pool gets
        ``min(2, n_threads)``).  None reads ``SKAUTOSEARCH_TF_THREADS``, then
        ``OMP_NUM_THREADS``, ``MKL_NUM_THREADS``, ``OPENBLAS_NUM_THREADS``; if
        none is set, TensorFlow keeps its defaults.

    Returns
    -------
    applied : bool
        Whether the limit was applied.

    Examples
    --------
    >>> from skautosearch.keras import configure_threads
    >>> configure_threads(None) in (True, False)
    True
    """
    if n_threads is None:
        n_threads = _env_thread_limit()
    if n_threads is None:
        return False
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(n_threads))
        tf.config.threading.set_inter_op_parallelism_threads(min(2, int(n_threads)))
    except RuntimeError:  # TensorFlow's runtime is already initialised
        return False
    return True


_GROWTH_ENV = "SKAUTOSEARCH_WORKER_MEMORY_GROWTH_MB"
_LOKY_GROWTH = 300 * 2**20  # loky's own allowance (process_executor._MAX_MEMORY_LEAK_SIZE)
_MAX_AUTO_GROWTH = 2 * 2**30


def _auto_growth():
    """A quarter of this machine's memory shared by its cores, within [300 MB, 2 GB]."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return _LOKY_GROWTH
    return int(min(_MAX_AUTO_GROWTH, max(_LOKY_GROWTH, total / (4 * (os.cpu_count() or 1)))))


def configure_worker_memory(growth_mb=None):
    """Let a joblib (loky) worker's memory grow more before loky replaces it.

    loky ends a worker whose memory has grown 300 MB past its size after its
    first task, taking it for a leak.  TensorFlow keeps about 8.5 MB of graph
    state per new model architecture in a process, which nothing frees
    (``keras.backend.clear_session`` included), so a long architecture search
    can outgrow it (about 20 new architectures of the CNNs measured in
    ``skautosearch._continuation``'s notes), and each successor pays
    ``import tensorflow`` (about 4.5 s) and every trace again
    (``benchmarks/bench_worker_churn.py`` counts the workers a search starts).
    ``skautosearch.keras`` calls this function when it is imported, so each
    worker that unpickles a Keras estimator raises its own allowance; the
    growth stays bounded, and loky's own check still ends a worker past it.

    Parameters
    ----------
    growth_mb : int or None, default=None
        Megabytes a worker may grow past its size after its first task.  None
        reads ``SKAUTOSEARCH_WORKER_MEMORY_GROWTH_MB``, else takes a quarter of
        the machine's memory divided by its cores, between 300 MB (loky's own
        value) and 2 GB.

    Returns
    -------
    growth : int or None
        The allowance in bytes now in force, or None outside a loky worker
        (nothing to change).
    """
    import multiprocessing

    executor = sys.modules.get("joblib.externals.loky.process_executor")
    if executor is None or "Loky" not in multiprocessing.current_process().name:
        return None
    if growth_mb is None:
        value = os.environ.get(_GROWTH_ENV, "")
        growth = int(value) * 2**20 if value.isdigit() else _auto_growth()
    else:
        growth = int(growth_mb) * 2**20
    # A module constant that loky reads in the worker at every check; joblib
    # offers no setting for it.
    executor._MAX_MEMORY_LEAK_SIZE = growth
    return growth


class _ModelPool:
    """Idle compiled models, keyed by architecture signature (LRU)."""

    def __init__(self, max_idle=_MAX_IDLE):
        self.max_idle = max_idle
        self._idle = OrderedDict()  # signature -> list of models
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def take(self, signature):
        with self._lock:
            models = self._idle.get(signature)
            if not models:
                self.misses += 1
                return None
            self._idle.move_to_end(signature)
            self.hits += 1
            model = models.pop()
            if not models:
                del self._idle[signature]
            return model

    def give_back(self, signature, model):
        with self._lock:
            self._idle.setdefault(signature, []).append(model)
            self._idle.move_to_end(signature)
            while sum(len(m) for m in self._idle.values()) > self.max_idle:
                oldest = next(iter(self._idle))
                self._idle[oldest].pop(0)
                if not self._idle[oldest]:
                    del self._idle[oldest]

    def clear(self):
        with self._lock:
            self._idle.clear()
            self.hits = self.misses = 0

    def info(self):
        with self._lock:
            return {
                "hits": self.hits,
                "misses": self.misses,
                "idle_models": sum(len(m) for m in self._idle.values()),
                "architectures": len(self._idle),
            }


_POOL = _ModelPool()


def model_pool_info():
    """Return counters of this process's pool of reusable Keras models.

    Returns
    -------
    info : dict
        ``hits`` (fits that reused a traced model), ``misses`` (fits that had
        to trace a new one), ``idle_models`` and ``architectures`` (idle models
        and distinct architectures held now).

    Examples
    --------
    >>> from skautosearch.keras import model_pool_info
    >>> sorted(model_pool_info())
    ['architectures', 'hits', 'idle_models', 'misses']
    """
    return _POOL.info()


def clear_model_pool():
    """Drop every idle model of this process's pool and reset its counters.

    Examples
    --------
    >>> from skautosearch.keras import clear_model_pool, model_pool_info
    >>> clear_model_pool()
    >>> model_pool_info()["idle_models"]
    0
    """
    _POOL.clear()


def _strip_names(obj):
    """Config without the auto-numbered names that differ between builds."""
    if isinstance(obj, dict):
        return tuple(
            sorted(
                (k, _strip_names(v))
                for k, v in obj.items()
                if k not in ("name", "build_config", "compile_config")
            )
        )
    if isinstance(obj, (list, tuple)):
        return tuple(_strip_names(v) for v in obj)
    return repr(obj)


def _optimizer_signature(optimizer):
    config = dict(optimizer.get_config())
    learning_rate = config.pop("learning_rate", None)
    if not isinstance(learning_rate, (float, int, np.floating)):
        # A schedule is part of the traced function: it must match exactly.
        config["learning_rate"] = learning_rate
    return (type(optimizer).__qualname__, _strip_names(config))


def architecture_signature(model, builder):
    """Hashable description of everything a traced train step depends on.

    Returns None for models this module does not reuse (subclassed models,
    models without a serialisable config, uncompiled models).
    """
    try:
        layers = tuple(
            (
                type(layer).__module__,
                type(layer).__qualname__,
                _strip_names(layer.get_config()),
            )
            for layer in model._flatten_layers(include_self=False)
        )
        compile_config = dict(model._compile_config.config)
        compile_config.pop("optimizer", None)
        return (
            builder,
            type(model).__qualname__,
            layers,
            tuple((tuple(v.shape), str(v.dtype), v.trainable) for v in model.variables),
            _optimizer_signature(model.optimizer),
            _strip_names(compile_config),
        )
    except Exception:  # noqa: BLE001 - any failure means "do not reuse"
        return None


def _copy_state(source, target):
    """Give ``target`` the exact variable state of the fresh model ``source``."""
    source.optimizer.build(source.trainable_variables)
    pairs = list(zip(source.variables, target.variables))
    pairs += list(zip(source.optimizer.variables, target.optimizer.variables))
    if len(source.variables) != len(target.variables) or len(
        source.optimizer.variables
    ) != len(target.optimizer.variables):
        return False
    if any(tuple(s.shape) != tuple(t.shape) for s, t in pairs):
        return False
    for s, t in pairs:
        t.assign(s.value)
    for metric in target.metrics:
        metric.reset_state()
    target.stop_training = False
    return True


def build_training_state(model, x, y):
    """Create ``model``'s optimizer and compiled-metric variables before its first fit.

    Without a distribution strategy, Keras's TensorFlow trainer creates them
    while tracing the first train step.  A ``tf.function`` that creates
    variables on its first trace is traced a second time, so every fresh
    model paid two traces of its train step (measured: 48 traces for 24 new
    models of a budgeted search; the second traces were about a fifth of its
    profiled time).  Creating
    them here, eagerly, from one training row, leaves one trace.  The metrics
    are reset afterwards and the forward pass runs in inference mode, which
    draws no random numbers: the fit that follows is the same fit.

    Parameters
    ----------
    model : keras.Model
        A compiled model.
    x, y : array-like or nested structure of arrays
        Training inputs and targets as the model takes them (one row is used).

    Returns
    -------
    built : bool
        Whether the state was created here (False: already built, or the
        model does not allow it, and Keras builds it while tracing as usual).
    """
    import keras

    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or optimizer.built or y is None:
        return False
    try:
        x1, y1 = (keras.tree.map_structure(lambda a: a[:1], v) for v in (x, y))
        model.compute_metrics(x1, y1, model(x1, training=False), sample_weight=None)
        optimizer.build(model.trainable_variables)
    except Exception:  # noqa: BLE001 - any failure: Keras builds it while tracing
        return False
    finally:
        model.reset_metrics()
    return True


def trace_predict_once(model, x):
    """Trace ``model``'s predict step once for any number of rows like ``x``.

    Keras traces its predict function for the first batch's exact shape, and
    traces it again (relaxed) for the first batch of another size: the short
    last batch of every ``predict``.  A new model of a search therefore paid
    two predict traces (48 for 24 new models, measured in a profile of a
    budgeted search).  Tracing it here once with an unknown batch dimension
    leaves one: TensorFlow dispatches every later batch to that trace, as it
    does inside Keras's own ``predict``, whose dataset has an unknown batch
    dimension too.

    Parameters
    ----------
    model : keras.Model
        A built model of the TensorFlow backend.
    x : array-like or nested structure of arrays
        Inputs as the model takes them (their shapes after the first axis and
        their dtypes are used).

    Returns
    -------
    traced : bool
        Whether the relaxed trace was made here (False: already made, eager or
        multi-step models, other backends; Keras then traces as usual).
    """
    import keras

    traced = getattr(model, "_skautosearch_relaxed_predict", None)
    if traced is not None and traced is getattr(model, "predict_function", None):
        return False  # done for this predict function (compile makes a new one)

    if (
        keras.backend.backend() != "tensorflow"
        or not isinstance(model, keras.Model)  # e.g. a LiteRT interpreter standing in
        or model.run_eagerly
        or getattr(model, "steps_per_execution", 1) != 1
    ):
        return False
    import tensorflow as tf

    try:
        model.make_predict_function()
        spec = keras.tree.map_structure(
            lambda a: tf.TensorSpec((None, *np.shape(a)[1:]), tf.as_dtype(a.dtype)), x
        )
        model.predict_function.get_concrete_function([(spec,)])
    except Exception:  # noqa: BLE001 - any failure: Keras traces on first call
        return False
    model._skautosearch_relaxed_predict = model.predict_function
    return True


def lease_model(fresh, builder, owner):
    """Return a traced model in the state of ``fresh``, owned by ``owner``.

    ``fresh`` is a newly built and compiled model.  If the pool holds an idle
    model of the same architecture, that model gets ``fresh``'s state and is
    returned; otherwise ``fresh`` itself is returned.  Either way the returned
    model goes back to the pool when ``owner`` is garbage collected.
    """
    signature = architecture_signature(fresh, builder)
    if signature is None:
        return fresh
    model = _POOL.take(signature)
    for donor in _DONORS:
        if model is not None:
            break
        model = donor(signature)
    # A lent model may have been changed since (e.g. keras.distillation freezes its
    # teacher with ``trainable = False``): reuse it only if it still matches.
    if (
        model is None
        or architecture_signature(model, builder) != signature
        or not _copy_state(fresh, model)
    ):
        model = fresh
    owner._skautosearch_lease = (signature, weakref.finalize(owner, _POOL.give_back,
                                                             signature, model))
    return model


# Callables ``donor(signature) -> model or None`` that lease_model asks when the
# pool has no idle model of an architecture: a holder of busy models (the live
# fold models of a budgeted search) may give one up rather than let a new one be
# traced.
_DONORS = []


def lease_signature(owner):
    """The architecture signature of the model ``owner`` leased, or None."""
    lease = getattr(owner, "_skautosearch_lease", None)
    return None if lease is None else lease[0]


def release_lease(owner):
    """Take ``owner``'s leased model from it for good; return the model, or None.

    The model no longer goes back to the pool when ``owner`` is collected:
    whoever receives it owns it (``owner`` must not be used again).
    """
    lease = owner.__dict__.pop("_skautosearch_lease", None)
    detached = None if lease is None else lease[1].detach()
    if detached is None:  # never leased, or already given back
        return None
    _, _, (_, model), _ = detached  # give_back's arguments: (signature, model)
    return model
