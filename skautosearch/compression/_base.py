"""Shared machinery of the compression estimators.

Everything that touches a wrapped Keras estimator lives here: recognising one,
reaching its Keras model, encoding data the way the wrapper does, and the
``compression_report_``.  A fit runs in :func:`skautosearch._keras_state.keras_fit_scope`
(seeded from ``random_state``); the report's measures are those of
:mod:`skautosearch.costs`.
"""

import gzip
import os
import pickle
from numbers import Integral, Real

import keras
import numpy as np
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    clone,
    is_classifier,
    is_regressor,
)
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from .._sklearn_private import Interval

try:  # SciKeras is optional: Keras's own wrappers work without it.
    from scikeras.wrappers import BaseWrapper as _SciKerasBase
    from scikeras.wrappers import KerasClassifier as _SciKerasClassifier
    from scikeras.wrappers import KerasRegressor as _SciKerasRegressor
except ImportError:  # pragma: no cover
    _SciKerasBase = _SciKerasClassifier = _SciKerasRegressor = ()

from keras.src.wrappers.sklearn_wrapper import SKLBase as _KerasWrapperBase

from .._keras_state import keras_fit_scope
from ..costs import _inference_copy, _keras_file, _keras_weight_counts, _seconds_per_row

_DEFAULT_BATCH_SIZE = 32
_LATENCY_ROWS = 1024


# --------------------------------------------------------------------------- wrappers


def _unfreeze(estimator):
    """The estimator inside a ``FrozenEstimator`` (a fitted, not-to-be-refitted one)."""
    return estimator.estimator if isinstance(estimator, FrozenEstimator) else estimator


def _is_keras_estimator(estimator):
    """Whether ``estimator`` trains a Keras model we can reach through ``model_``."""
    estimator = _unfreeze(estimator)
    kinds = tuple(k for k in (_SciKerasBase, _KerasWrapperBase) if k) + (
        _BaseCompressor,
    )
    return isinstance(estimator, kinds)


def _check_keras_estimator(estimator, name):
    if not _is_keras_estimator(estimator):
        raise TypeError(
            f"`{name}` must be a Keras-backed estimator (skautosearch.keras, SciKeras "
            "or keras.wrappers KerasClassifier/KerasRegressor/SKLearnClassifier/"
            f"SKLearnRegressor, or a skautosearch.compression estimator); got "
            f"{type(estimator).__name__}."
        )


def _estimator_kind(estimator):
    """'classifier', 'regressor' or None, working around SciKeras's missing tags."""
    estimator = _unfreeze(estimator)
    if isinstance(estimator, _BaseCompressor):
        return estimator._kind()
    if _SciKerasClassifier and isinstance(estimator, _SciKerasClassifier):
        return "classifier"
    if _SciKerasRegressor and isinstance(estimator, _SciKerasRegressor):
        return "regressor"
    if is_classifier(estimator):
        return "classifier"
    if is_regressor(estimator):
        return "regressor"
    return None


def _get_model(estimator):
    """The fitted Keras model behind a wrapped estimator."""
    if isinstance(estimator, _BaseCompressor):
        return _get_model(estimator.estimator_)
    return estimator.model_


def _set_model(estimator, model):
    """Make ``estimator`` predict with ``model`` from now on."""
    if isinstance(estimator, _BaseCompressor):
        _set_model(estimator.estimator_, model)
    else:
        estimator.model_ = model


def _base_wrapper(estimator):
    """The innermost SciKeras/Keras wrapper (through nested compressors)."""
    while isinstance(estimator, _BaseCompressor):
        estimator = estimator.estimator_
    return estimator


def _encode(estimator, X, y=None):
    """Encode ``X`` (and ``y``) exactly as the fitted wrapper feeds its model."""
    wrapper = _base_wrapper(estimator)
    if isinstance(wrapper, _KerasWrapperBase):
        from keras.src.wrappers.fixes import _validate_data

        if y is None:
            return _validate_data(wrapper, X, reset=False), None
        X, y = _validate_data(wrapper, X, y, reset=False)
        return X, wrapper._process_target(y)
    X, y = wrapper._validate_data(X, y, reset=False)
    X = wrapper.feature_encoder_.transform(X)
    return X, (None if y is None else wrapper.target_encoder_.transform(y))


def _wrapper_batch_size(estimator):
    wrapper = _base_wrapper(estimator)
    if isinstance(wrapper, _KerasWrapperBase):
        return (wrapper.fit_kwargs or {}).get("batch_size") or _DEFAULT_BATCH_SIZE
    params = wrapper.get_params()
    return (
        params.get("fit__batch_size") or params.get("batch_size") or _DEFAULT_BATCH_SIZE
    )


def _build_untrained(estimator, X, y):
    """Build (not train) the Keras model a clone of ``estimator`` would fit.

    For a ``FrozenEstimator``, the fitted model itself (it will not be refit).
    """
    if isinstance(estimator, FrozenEstimator):
        check_is_fitted(estimator.estimator)
        return _get_model(estimator.estimator)
    est = clone(estimator)
    while isinstance(est, _BaseCompressor):
        est = clone(est.estimator)
    _initialize(est, X, y)
    return est.model_


def _initialize(estimator, X, y):
    """Build the wrapper's model and encoders without training."""
    if hasattr(estimator, "initialize"):  # SciKeras and subclasses
        estimator.initialize(X, y)
    else:
        estimator.fit(X, y, epochs=0, verbose=0)
    return estimator


def _compile_like(model, reference):
    """Compile ``model`` with the compile configuration of ``reference``."""
    config = reference.get_compile_config()
    if config:
        model.compile_from_config(config)
    return model


# --------------------------------------------------------------------------- seeding


def _seed(random_state):
    """The int seed a fit with ``random_state`` runs under (None: unseeded)."""
    if random_state is None:
        return None
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


# --------------------------------------------------------------------------- report


def weight_bytes(model):
    """Bytes of a Keras model's weights as stored (packed low-bit kernels, int8, ...).

    The weights alone, without the ``.keras`` file's fixed overhead (config,
    zip and HDF5 metadata: about 25 KB), which dominates for small models.
    """
    return int(
        sum(np.dtype(w.dtype).itemsize * int(np.prod(w.shape)) for w in model.weights)
    )


def keras_file_sizes(model):
    """Bytes of ``model`` saved (inference only) as ``.keras``: raw, gzipped."""
    raw = _keras_file(model)
    return len(raw), len(gzip.compress(raw, compresslevel=9))


def predict_latency(model, X, *, n_rows=_LATENCY_ROWS, repeats=5):
    """Best-of-``repeats`` seconds per sample to predict ``n_rows`` rows in one batch.

    ``predict_on_batch`` times the model, not ``model.predict``'s per-call
    data-pipeline set-up (about 0.1 s here, which would swamp a small model).
    A first call on the same batch traces the function and is not timed.
    """
    X = np.asarray(X)
    X = np.resize(X, (n_rows,) + X.shape[1:]).astype(X.dtype)
    return _seconds_per_row(model.predict_on_batch, X, repeats=repeats, warm_up_rows=n_rows)


def _model_stats(model, X_enc):
    raw, gz = keras_file_sizes(model)
    n_params, n_nonzero = _keras_weight_counts(model)
    return {
        "n_params": n_params,
        "n_nonzero_params": n_nonzero,
        "keras_bytes": raw,
        "keras_gzip_bytes": gz,
        "weight_bytes": weight_bytes(model),
        "latency_s_per_sample": predict_latency(model, X_enc),
    }


# --------------------------------------------------------------------------- base class


def _estimator_has(attr):
    def check(self):
        fitted = getattr(self, "estimator_", None)
        return hasattr(fitted if fitted is not None else self._wrapped(), attr)

    return check


class _BaseCompressor(MetaEstimatorMixin, BaseEstimator):
    """Fit a clone of a Keras-backed estimator, compress its model, predict with it.

    Subclasses implement ``_validate(X, y)`` (all checks, before any training)
    and ``_compress(X, y)`` (train/compress, leaving the compressed model in
    ``self.estimator_``). The held-out split of ``validation_fraction`` is used
    only for ``compression_report_``.
    """

    _parameter_constraints = {
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _wrapped(self):
        return self.estimator

    def _kind(self):
        return _estimator_kind(self._wrapped())

    def __sklearn_tags__(self):
        from sklearn.utils import ClassifierTags, RegressorTags

        tags = super().__sklearn_tags__()
        kind = self._kind()
        tags.estimator_type = kind
        if kind == "classifier":
            tags.classifier_tags = ClassifierTags()
        elif kind == "regressor":
            tags.regressor_tags = RegressorTags()
        tags.non_deterministic = True
        tags.input_tags.allow_nan = False
        return tags

    # -- fit ---------------------------------------------------------------
    def fit(self, X, y):
        """Train the wrapped estimator and compress its Keras model.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training inputs, as the wrapped estimator takes them.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.

        Returns
        -------
        self : object
            The fitted compressor.
        """
        self._validate_params()
        X, y = np.asarray(X) if not hasattr(X, "iloc") else X, np.asarray(y)
        with keras_fit_scope(_seed(self.random_state)) as seed:
            # Validation builds models; the fit then starts from the seeded state.
            with keras_fit_scope(seed):
                self._validate(X, y)
            X_fit, X_val, y_fit, y_val = self._split(X, y, seed)
            self._fit_and_compress(X_fit, y_fit, X_val, y_val)
        return self

    def _split(self, X, y, seed):
        if self.validation_fraction is None:
            return X, None, y, None
        stratify = (
            y
            if self._kind() == "classifier"
            and _can_stratify(y, self.validation_fraction)
            else None
        )
        return train_test_split(
            X,
            y,
            test_size=self.validation_fraction,
            random_state=seed,
            stratify=stratify,
        )

    def _fit_and_compress(self, X_fit, y_fit, X_val, y_val):
        before = self._fit_uncompressed(X_fit, y_fit)
        stats_before = self._report_stats(before, X_fit, X_val, y_val)
        self._compress(X_fit, y_fit)
        stats_after = self._report_stats(self.estimator_, X_fit, X_val, y_val)
        self.compression_report_ = {"before": stats_before, "after": stats_after}
        self.n_features_in_ = getattr(
            _base_wrapper(self.estimator_), "n_features_in_", None
        )
        if self.n_features_in_ is None:
            del self.n_features_in_

    def _fit_uncompressed(self, X, y):
        """Fit ``self.estimator_`` (a clone); return the estimator holding the
        uncompressed model, for the 'before' half of the report.

        A ``FrozenEstimator`` is not refit: its fitted estimator is copied
        (through pickle, which SciKeras and Keras support), so compressing it
        leaves the user's model untouched.
        """
        if isinstance(self.estimator, FrozenEstimator):
            check_is_fitted(self.estimator.estimator)
            self.estimator_ = pickle.loads(pickle.dumps(self.estimator.estimator))
            return self.estimator_
        self.estimator_ = clone(self.estimator).fit(X, y)
        return self.estimator_

    def _report_stats(self, estimator, X_fit, X_val, y_val):
        model = _get_model(estimator)
        X_probe = X_val if X_val is not None else X_fit
        stats = _model_stats(model, _encode(estimator, X_probe)[0])
        stats["score"] = (
            float(estimator.score(X_val, y_val)) if X_val is not None else float("nan")
        )
        return stats

    # -- delegation --------------------------------------------------------
    @property
    def model_(self):
        """The compressed Keras model (a ``keras.Model``)."""
        check_is_fitted(self, "estimator_")
        return _get_model(self.estimator_)

    @property
    def classes_(self):
        """Class labels (classifiers only)."""
        check_is_fitted(self, "estimator_")
        return self.estimator_.classes_

    def predict(self, X):
        """Predict with the compressed model.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        y : ndarray
            Predictions of the wrapped estimator, made by the compressed model.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict(X)

    @available_if(_estimator_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the compressed model.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probabilities.
        """
        check_is_fitted(self, "estimator_")
        return self.estimator_.predict_proba(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy (classifiers) or R² (regressors) of the compressed model.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Inputs.
        y : array-like of shape (n_samples,)
            True targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Accuracy or coefficient of determination.
        """
        from sklearn.metrics import accuracy_score, r2_score

        metric = accuracy_score if self._kind() == "classifier" else r2_score
        return float(metric(y, self.predict(X), sample_weight=sample_weight))

    def save(self, path):
        """Save the compressed Keras model as a ``.keras`` file.

        The file holds the architecture and weights, not the optimizer state.
        Load it back with :func:`skautosearch.compression.load_model`.

        Parameters
        ----------
        path : str or path-like
            Destination; must end in ``.keras``.

        Returns
        -------
        path : str
            The path written.
        """
        path = os.fspath(path)
        if not path.endswith(".keras"):
            raise ValueError(f"`path` must end in '.keras'; got {path!r}.")
        _inference_copy(self.model_).save(path)
        return path


def _can_stratify(y, fraction):
    _, counts = np.unique(y, return_counts=True)
    n_val = int(np.ceil(fraction * len(y)))
    return counts.min() >= 2 and n_val >= len(counts) and len(y) - n_val >= len(counts)


def load_model(path):
    """Load a model saved by a compression estimator, in Keras safe mode.

    Parameters
    ----------
    path : str or path-like
        A ``.keras`` file written by ``save``.

    Returns
    -------
    model : keras.Model
        The compressed model. Quantized layers come back quantized.

    Examples
    --------
    >>> from skautosearch.compression import load_model
    >>> model = load_model("pruned.keras")  # doctest: +SKIP
    """
    from . import quantization  # noqa: F401  (registers the quantized layers)

    return keras.saving.load_model(os.fspath(path), safe_mode=True)
