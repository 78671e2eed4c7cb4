"""What a fitted model costs: its parameters, its size on disk, its prediction time.

:func:`measure_costs` measures a fitted estimator on one cross-validation test
fold, for multi-objective searches that trade accuracy against model size and
latency (see :mod:`skautosearch.pareto`). It works for any estimator:

* scikit-learn models are counted from their fitted arrays and sized by pickle;
* Keras-backed estimators (:mod:`skautosearch.keras`, SciKeras, ``keras.wrappers``,
  :mod:`skautosearch.compression`) are counted from their Keras weights and
  sized as a ``.keras`` file.

TensorFlow is never imported here: a Keras model can only exist if Keras is
already loaded, so the Keras branch looks for it in ``sys.modules``.
"""

import os
import pickle
import sys
import tempfile
from time import perf_counter

import numpy as np

__all__ = ["COST_MEASURES", "check_cost_names", "measure_costs"]

#: The cost measures :func:`measure_costs` knows, all to be minimised:
#:
#: ``n_params``
#:     Number of numeric values the fitted model holds (Keras: its weights).
#: ``n_nonzero``
#:     How many of them are non-zero (what pruning reduces).
#: ``size_bytes``
#:     Bytes of the model serialised: pickled (scikit-learn) or saved as
#:     ``.keras`` without optimizer state (Keras).
#: ``latency``
#:     Seconds per row of ``predict`` on the test fold.
#: ``gzip_bytes``
#:     ``size_bytes`` after gzip (level 9): what zeros (pruning) save.
COST_MEASURES = ("n_params", "n_nonzero", "size_bytes", "latency", "gzip_bytes")

# Fitted attributes that describe the training rather than hold the model.
_NOT_PARAMETERS = frozenset({
    "classes_", "feature_names_in_", "loss_curve_",
    "loss_", "best_loss_", "validation_scores_", "validation_score_", "train_score_",
    "oob_score_", "oob_decision_function_", "oob_prediction_", "oob_improvement_",
    "oob_scores_", "dual_gap_", "inertia_", "lower_bound_", "cv_results_", "scores_",
    "best_score_", "best_params_", "best_index_", "history_", "compression_report_",
})
# Private attributes that hold a model's parameters all the same.
_PRIVATE_PARAMETERS = ("_fit_X", "_y", "_predictors")
# The arrays a fitted scikit-learn tree (``tree_``) predicts with.
_TREE_ARRAYS = ("children_left", "children_right", "feature", "threshold", "value")
# Rows predicted to warm up before timing (Keras traces its function on the first call).
_WARM_UP_ROWS = 8


def check_cost_names(names):
    """Validate cost-measure names.

    Parameters
    ----------
    names : str or iterable of str
        Names from :data:`COST_MEASURES`.

    Returns
    -------
    names : tuple of str
        The names, in their order, without repeats.

    Raises
    ------
    ValueError
        If a name is not one of :data:`COST_MEASURES`.

    Examples
    --------
    >>> from skautosearch.costs import check_cost_names
    >>> check_cost_names(["size_bytes", "latency", "size_bytes"])
    ('size_bytes', 'latency')
    """
    names = (names,) if isinstance(names, str) else tuple(names)
    for name in names:
        if name not in COST_MEASURES:
            raise ValueError(
                f"Unknown cost measure {name!r}; valid names are {list(COST_MEASURES)}."
            )
    return tuple(dict.fromkeys(names))


def measure_costs(estimator, X_test, names=COST_MEASURES):
    """Measure what a fitted estimator costs, on one test fold.

    Parameters
    ----------
    estimator : fitted estimator
        Any fitted scikit-learn compatible estimator: a model, a ``Pipeline``, an
        ensemble, a meta-estimator, or one backed by a Keras model.
    X_test : array-like of shape (n_samples, ...)
        The test fold; only ``latency`` uses it.
    names : str or iterable of str, default=COST_MEASURES
        The measures to take, from :data:`COST_MEASURES`:

        ``"n_params"``
            Numeric values in the model. For scikit-learn, the size of every
            numeric array among the public fitted attributes (those ending in
            ``_``, such as ``coef_``, ``support_vectors_``, MLP ``coefs_``),
            found through ``Pipeline`` steps, ``FeatureUnion`` transformers,
            lists and dicts of estimators (``estimators_``, ``transformers_``,
            ``best_estimator_``, ...) and nested estimators (any object with
            ``get_params`` or ``fit``). A fitted tree
            (``tree_``) counts its ``children_left``, ``children_right``,
            ``feature``, ``threshold`` and ``value`` arrays; the trees of
            ``HistGradientBoosting*`` and the stored training data of
            nearest-neighbour models, though private, are counted too.
            A float attribute (a scalar ``intercept_``) counts one. Not
            counted: integers, floats inside lists and dicts, counts (every
            ``n_*_`` attribute, such as ``n_features_in_`` or ``n_iter_``), and
            attributes that record the training rather than the model
            (``classes_``, ``loss_curve_``, ``oob_score_``, ``best_score_``,
            ...). A Keras model counts its weights (trainable and not; not the
            optimizer's), and the scikit-learn steps around it count as above.
            Every array and model is counted once, however many attributes
            reach it.
        ``"n_nonzero"``
            The non-zero values among those.
        ``"size_bytes"``
            Without Keras, the length of the estimator pickled (protocol 5,
            arrays included). With Keras, the bytes of each Keras model saved
            as ``.keras`` without optimizer state, and nothing else: the
            preprocessing steps around a Keras model are small beside it.
            A :mod:`skautosearch.compression` estimator's numbers are taken
            from its ``compression_report_["after"]``, which already holds them.
        ``"gzip_bytes"``
            The same file (pickle or ``.keras``) compressed with gzip at level
            9. Magnitude pruning leaves ``size_bytes`` unchanged (its zeros
            are stored); compressed, they count.
        ``"latency"``
            Seconds per row of ``estimator.predict(X_test)`` (``transform`` for
            an estimator without ``predict``), timed once after predicting a
            few rows to warm up. It includes ``predict``'s fixed overhead,
            which dominates on small folds, as it does in use.

    Returns
    -------
    costs : dict of str to float
        One entry per name, in the order of ``names``.

    Raises
    ------
    ValueError
        If a name is not one of :data:`COST_MEASURES`, or ``latency`` is asked
        of an estimator with neither ``predict`` nor ``transform``.

    See Also
    --------
    skautosearch.pareto.objective_matrix : Read the measures back from
        ``cv_results_`` as objectives.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skautosearch.costs import measure_costs
    >>> X, y = load_iris(return_X_y=True)
    >>> model = LogisticRegression(max_iter=500).fit(X, y)
    >>> measure_costs(model, X, ["n_params", "n_nonzero"])
    {'n_params': 15.0, 'n_nonzero': 15.0}
    """
    names = check_cost_names(names)
    costs = {}
    if {"n_params", "n_nonzero", "size_bytes"} & set(names):
        counter = _Counter()
        counter.add(estimator)
        costs.update(n_params=float(counter.n_params), n_nonzero=float(counter.n_nonzero))
        if "size_bytes" in names:
            costs["size_bytes"] = float(_size_bytes(estimator, counter.keras_parts))
    if "gzip_bytes" in names:
        costs["gzip_bytes"] = float(_gzip_bytes(estimator))
    if "latency" in names:
        costs["latency"] = _latency(estimator, X_test)
    return {name: costs[name] for name in names}


# --------------------------------------------------------------------------- counting


class _Counter:
    """Walks a fitted estimator, counting each array and each model once."""

    def __init__(self):
        self.n_params = 0
        self.n_nonzero = 0
        # Keras models met, or the report of a compressor that measured its own.
        self.keras_parts = []
        self._seen = set()

    def add(self, obj):
        if obj is None or isinstance(obj, (str, bytes, bool, int, float, complex)):
            return
        if id(obj) in self._seen:
            return
        self._seen.add(id(obj))
        if isinstance(obj, np.ndarray):
            self._add_array(obj)
        elif _is_keras_model(obj):
            self.keras_parts.append(obj)
            self._add_report(_keras_stats(obj))
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                self.add(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                self.add(item)
        elif _is_sparse(obj):
            self._add_array(obj.data)
        elif _is_tree(obj):
            for name in _TREE_ARRAYS:
                self._add_array(np.asarray(getattr(obj, name)))
        elif hasattr(obj, "nodes") and isinstance(obj.nodes, np.ndarray):
            self._add_array(obj.nodes)  # a HistGradientBoosting TreePredictor
        elif hasattr(obj, "get_params") or hasattr(obj, "fit"):
            self._add_estimator(obj)

    def _add_array(self, array):
        if array.dtype.names:  # a record array: every numeric field counts
            for field in array.dtype.names:
                self._add_array(array[field])
        elif array.dtype.kind in "biufc":
            self.n_params += array.size
            self.n_nonzero += int(np.count_nonzero(array))
        elif array.dtype.kind == "O":  # e.g. GradientBoosting's grid of trees
            for item in array.flat:
                self.add(item)

    def _add_report(self, stats):
        self.n_params += stats["n_params"]
        self.n_nonzero += stats["n_nonzero_params"]

    def _add_estimator(self, estimator):
        report = getattr(estimator, "compression_report_", None)
        after = report.get("after") if isinstance(report, dict) else None
        if after is not None:  # a compressor has measured its model already
            self.keras_parts.append(after)
            self._add_report(after)
            return
        for name, value in getattr(estimator, "__dict__", {}).items():
            if not _holds_parameters(name):
                continue
            if isinstance(value, (float, np.floating)):  # e.g. Lasso's intercept_
                self.n_params += 1
                self.n_nonzero += int(value != 0)
            else:
                self.add(value)


def _holds_parameters(name):
    if name in _PRIVATE_PARAMETERS or name in ("steps", "transformer_list"):
        return True  # Pipeline and FeatureUnion fit their steps in place
    # n_features_in_, n_samples_seen_, n_support_ ...: counts, not parameters.
    return (name.endswith("_") and not name.startswith(("_", "n_"))
            and name not in _NOT_PARAMETERS)


def _is_sparse(obj):
    return hasattr(obj, "nnz") and isinstance(getattr(obj, "data", None), np.ndarray)


def _is_tree(obj):
    return type(obj).__name__ == "Tree" and hasattr(obj, "node_count")


# --------------------------------------------------------------------------- Keras


def _is_keras_model(obj):
    keras = sys.modules.get("keras")  # no Keras loaded: no Keras model can exist
    return keras is not None and isinstance(obj, keras.Model)


def _keras_weight_counts(model):
    """Scalar weights of a Keras model (trainable and not; not the optimizer's)
    and how many of them are non-zero."""
    weights = model.get_weights()
    return (int(sum(w.size for w in weights)),
            int(sum(np.count_nonzero(w) for w in weights)))


def _keras_stats(model):
    n_params, n_nonzero = _keras_weight_counts(model)
    return {"n_params": n_params, "n_nonzero_params": n_nonzero}


def _inference_copy(model):
    """An uncompiled copy of ``model`` with the same weights.

    Saving a compiled model stores the optimizer's slots as well (Adam: two
    more copies of every weight, never sparse nor quantized); a model is
    measured, and exported, for inference, so it is saved without them.
    """
    import keras

    # clone_model would compile the copy like the original; rebuilding from the
    # serialized config without its compile_config gives an uncompiled model.
    # (safe_mode=False: this round-trips a live model, not a file.)
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)
    copy = keras.saving.deserialize_keras_object(config, safe_mode=False)
    copy.set_weights(model.get_weights())
    return copy


def _keras_file(model):
    """The bytes of ``model`` saved as a ``.keras`` file, without optimizer state."""
    # Keras saves a .keras file only to a path ending in .keras.
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        _inference_copy(model).save(path)
        with open(path, "rb") as f:
            return f.read()


def _keras_bytes(model_or_report):
    if isinstance(model_or_report, dict):  # a compressor's compression_report_["after"]
        return model_or_report["keras_bytes"]
    return len(_keras_file(model_or_report))


# --------------------------------------------------------------------------- size, time


def _size_bytes(estimator, keras_parts):
    if keras_parts:
        return sum(map(_keras_bytes, keras_parts))
    # Out-of-band buffers: the arrays are measured, not copied into the pickle.
    buffers = []
    data = pickle.dumps(estimator, protocol=5, buffer_callback=buffers.append)
    return len(data) + sum(buffer.raw().nbytes for buffer in buffers)


def _latency(estimator, X_test):
    predict = getattr(estimator, "predict", None) or getattr(estimator, "transform", None)
    if predict is None:
        raise ValueError(
            f"The 'latency' cost needs predict or transform; "
            f"{type(estimator).__name__} has neither."
        )
    return _seconds_per_row(predict, X_test)


def _seconds_per_row(predict, X, *, repeats=1, warm_up_rows=_WARM_UP_ROWS):
    """Best-of-``repeats`` seconds of ``predict(X)``, per row of ``X``.

    ``predict`` first runs, untimed, on the first ``warm_up_rows`` rows (Keras
    traces its function on a first call); 0 skips the warm-up.
    """
    from ._sklearn_private import _safe_indexing

    n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
    if warm_up_rows:
        predict(_safe_indexing(X, np.arange(min(warm_up_rows, n_rows))))
    best = np.inf
    for _ in range(repeats):
        start = perf_counter()
        predict(X)
        best = min(best, perf_counter() - start)
    return best / max(n_rows, 1)


def _gzip_bytes(estimator):
    """``size_bytes`` after gzip: each Keras model's ``.keras`` file, or the pickle."""
    import gzip

    counter = _Counter()
    counter.add(estimator)
    if counter.keras_parts:
        return sum(map(_keras_gzip_bytes, counter.keras_parts))
    return len(gzip.compress(pickle.dumps(estimator, protocol=5), compresslevel=9))


def _keras_gzip_bytes(model_or_report):
    if isinstance(model_or_report, dict):  # a compressor's compression_report_["after"]
        return model_or_report["keras_gzip_bytes"]
    from skautosearch.compression._base import keras_file_sizes

    return keras_file_sizes(model_or_report)[1]
