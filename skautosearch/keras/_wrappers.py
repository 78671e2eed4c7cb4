"""SciKeras wrappers that scikit-learn >= 1.6 recognises, with fast refits."""

import functools
import inspect
import numbers
import warnings

import keras
import numpy as np
import scikeras.wrappers as _skw
import scipy.sparse as sp
from scikeras._utils import route_params
from sklearn.exceptions import DataConversionWarning
from sklearn.utils import ClassifierTags, RegressorTags

from .._keras_state import keras_fit_scope
from .._sklearn_private import Interval, validate_parameter_constraints
from ._fast import build_training_state, lease_model, trace_predict_once

__all__ = ["KerasClassifier", "KerasRegressor"]


def _scikeras_tags(tags, estimator):
    """Carry SciKeras's old-style ``_tags`` over to the new Tags object."""
    old = {}
    for klass in reversed(type(estimator).__mro__):
        old.update(getattr(klass, "_tags", None) or {})
    if tags.classifier_tags is not None:
        tags.classifier_tags.poor_score = bool(old.get("poor_score", False))
    if tags.regressor_tags is not None:
        tags.regressor_tags.poor_score = bool(old.get("poor_score", False))
    # SciKeras's "multilabel" / "multioutput" say what the wrapper can pass
    # through, not what a given model does; the tags stay at the safe False.
    tags.target_tags.multi_output = False
    tags.non_deterministic = estimator.random_state is None
    return tags


def _callable_key(func):
    """Name a model-building callable stably across clones and processes.

    ``clone`` deep-copies ``functools.partial`` objects and loky re-creates
    functions defined in ``__main__`` in every task, so identity would miss
    every reuse.  The architecture signature checked next to this key holds
    the layer configs and variable shapes, so the name only has to separate
    builders that make identical layers wired differently.
    """
    if isinstance(func, functools.partial):
        return (
            _callable_key(func.func),
            repr(func.args),
            repr(sorted(func.keywords.items())),
        )
    return (
        getattr(func, "__module__", None),
        getattr(func, "__qualname__", repr(type(func))),
    )


# Training parameters SciKeras hands to Keras unchecked: a bad one either fails deep
# inside Keras with a message that does not name it, or trains silently wrong
# (``epochs=-1`` trains nothing). ``fit__<name>`` overrides ``<name>``.
_TRAINING_CONSTRAINTS = {
    "epochs": [Interval(numbers.Integral, 1, None, closed="left")],
    "batch_size": [Interval(numbers.Integral, 1, None, closed="left"), None],
    "validation_split": [Interval(numbers.Real, 0, 1, closed="left")],
    "random_state": ["random_state"],
}


def _check_training_params(estimator):
    """Refuse bad training parameters before any model is built, naming them."""
    params, constraints = {}, {}
    for name, constraint in _TRAINING_CONSTRAINTS.items():
        for key in (name, f"fit__{name}"):
            if key in vars(estimator):
                params[key], constraints[key] = getattr(estimator, key), constraint
    validate_parameter_constraints(constraints, params, caller_name=type(estimator).__name__)


_NOT_ROUTED = {"meta", "compile_kwargs", "params", "X", "y", "name", "kwargs"}


def _keyword_defaults(func):
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return {}
    return {
        name: p.default
        for name, p in signature.parameters.items()
        if p.default is not inspect.Parameter.empty
        and name not in _NOT_ROUTED
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    }


@functools.cache
def _optimizer_class_named(name):
    # keras.optimizers.get builds an optimizer (and its variables): once a name.
    try:
        return type(keras.optimizers.get(name))
    except ValueError:
        return None


def _optimizer_class(optimizer):
    if isinstance(optimizer, type):
        return optimizer
    if isinstance(optimizer, str):
        return _optimizer_class_named(optimizer)
    return None  # an instance is used as given: its arguments are not routed


def _routed_defaults(estimator):
    """``model__<arg>`` and ``optimizer__<arg>`` defaults of an estimator."""
    defaults = {}
    model = estimator.model if estimator.model is not None else estimator.build_fn
    if model is not None and not isinstance(model, keras.Model) and callable(model):
        defaults.update({f"model__{k}": v for k, v in _keyword_defaults(model).items()})
    optimizer = _optimizer_class(estimator.optimizer)
    if optimizer is not None:
        defaults.update(
            {
                f"optimizer__{k}": v
                for k, v in _keyword_defaults(optimizer.__init__).items()
            }
        )
    return defaults


def _max_token(X):
    """Largest value of an integer array (token ids), else None."""
    if sp.issparse(X):
        return None
    if not hasattr(X, "dtype"):
        try:
            X = np.asarray(X)
        except (TypeError, ValueError):
            return None
    dtype = getattr(X, "dtype", None)
    if dtype is None or getattr(dtype, "kind", "") not in "iu" or not X.size:
        return None
    return int(np.max(X))


_PREDICT_HOOKS = (
    "on_predict_begin",
    "on_predict_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


def _watches_predict(callbacks):
    """Whether any of ``callbacks`` does something during ``predict``.

    SciKeras passes the wrapper's ``callbacks`` to ``predict`` as well as to
    ``fit``; most (EarlyStopping, ModelCheckpoint, a counter of epochs) only
    act in ``fit``, and ``predict`` may then skip Keras's callback machinery.
    """
    return any(
        getattr(type(callback), hook, None) is not getattr(keras.callbacks.Callback, hook)
        for callback in keras.tree.flatten(callbacks or [])
        for hook in _PREDICT_HOOKS
    )


class _FastFitMixin:
    """Seeded, restorable build and fit; traced models reused across fits.

    The build and the fit each run in :func:`keras_fit_scope`, seeded with
    ``random_state`` when it is set (SciKeras seeds the same way inside), so
    that no global Python, NumPy, TensorFlow or Keras state is left changed.
    """

    def get_params(self, deep=True):
        """Get parameters; ``deep=True`` also lists the routed defaults.

        SciKeras only knows a routed parameter (``model__units_0``,
        ``optimizer__learning_rate``) once it has been set.  With
        ``deep=True`` this also lists every keyword argument of the model
        function and of the optimizer class with its default, so that a
        search space can name them without setting them first.

        Parameters
        ----------
        deep : bool, default=True
            Include nested and routed parameters.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        params = super().get_params(deep=deep)
        if deep:
            for key, value in _routed_defaults(self).items():
                params.setdefault(key, value)
        return params

    def __repr__(self):
        # SciKeras prints get_params() (deep); the routed defaults would
        # bury the parameters the user set.
        params = super().get_params(deep=False)
        lines = "".join(f"\t{key}={value}\n" for key, value in params.items())
        return f"{self.__name__}(\n{lines})" if lines else f"{self.__name__}()"

    def _build_keras_model(self):
        with keras_fit_scope(self._random_state):
            model = super()._build_keras_model()
        # Lend a traced model only once the fresh one is compiled.
        self._lease_pending = True
        return model

    def _ensure_compiled_model(self):
        super()._ensure_compiled_model()
        if getattr(self, "_lease_pending", False):
            self._lease_pending = False
            if isinstance(self.model, keras.Model):
                return  # the user's own model object: never swap it
            self.model_ = lease_model(
                self.model_, (self._builder_key(), self._data_key()), self
            )

    def _initialize(self, X, y=None):
        _check_training_params(self)
        self._X_max = _max_token(X)
        return super()._initialize(X, y)

    def _validate_data(self, X=None, y=None, reset=False, **kwargs):
        # The standard messages scikit-learn's tools and checks rely on.
        if X is not None and sp.issparse(X):
            raise TypeError(
                f"Sparse data was passed for X, but {type(self).__name__} requires "
                "dense data. Use X.toarray() to convert to a dense numpy array."
            )
        if reset and y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, "
                "but the target y is None."
            )
        if reset and getattr(y, "ndim", 1) == 2 and y.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; "
                "treating it as 1d.",
                DataConversionWarning,
                stacklevel=4,
            )
        expected = getattr(self, "n_features_in_", None)
        shape = getattr(X, "shape", None)
        if (
            not reset
            and expected is not None
            and shape is not None
            and len(shape) == 2
            and len(self.X_shape_) == 2
            and shape[1] != expected
        ):
            raise ValueError(
                f"X has {shape[1]} features, but {type(self).__name__} is expecting "
                f"{expected} features as input."
            )
        return super()._validate_data(X, y, reset=reset, **kwargs)

    def _get_metadata(self):
        # Builders of token models read the largest token id (vocabulary
        # size) from ``meta``; it is kept private so it is no fitted attribute.
        meta = super()._get_metadata()
        meta["X_max_"] = getattr(self, "_X_max", None)
        return meta

    def _data_key(self):
        # Shapes, dtypes and target encoding: a traced step is only reused on
        # data of the same structure (tf.function would otherwise relax the
        # signature, down to unknown ranks that Keras losses cannot handle).
        meta = self._get_metadata()
        meta["X_shape_"] = tuple(meta.get("X_shape_", ()))[1:]
        plain = (
            type(None),
            bool,
            int,
            float,
            str,
            tuple,
            np.dtype,
            np.ndarray,
            np.generic,
        )
        return repr(sorted((k, v) for k, v in meta.items() if isinstance(v, plain)))

    def _builder_key(self):
        model = self.model if self.model is not None else self.build_fn
        if model is None:  # subclass implementing _keras_build_fn
            return (type(self).__module__, type(self).__qualname__)
        return _callable_key(model)

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
    ):
        with keras_fit_scope(self._random_state):
            build_training_state(self.model_, X, y)
            return super()._fit_keras_model(
                X, y, sample_weight, warm_start, epochs, initial_epoch, **kwargs
            )

    def _predict_raw(self, X, **kwargs):
        # Keras's predict builds a tf.data pipeline on every call, which costs
        # more than the arithmetic for small models.  For a plain array and no
        # callback that watches predict, run the same traced step on the same batches
        # directly: identical numbers, a fraction of the overhead.
        if (
            kwargs
            or not self.initialized_
            or _watches_predict(getattr(self, "_predict_callbacks", None))
        ):
            return super()._predict_raw(X, **kwargs)
        params = self.get_params()
        pred_args = route_params(
            params, destination="predict", pass_filter=self._predict_kwargs, strict=True
        )
        pred_args = {
            k: v for k, v in pred_args.items() if not k.startswith("callbacks")
        }
        if (
            set(pred_args)
            - {"batch_size", "verbose"}
            - {k for k, v in pred_args.items() if v is None}
        ):
            return super()._predict_raw(X, **kwargs)
        X, _ = self._validate_data(X=X, y=None)
        X = self.feature_encoder_.transform(X)
        if not isinstance(X, np.ndarray) or X.ndim == 0 or len(X) == 0:
            return self.model_.predict(x=X, **pred_args)
        batch_size = pred_args.get("batch_size") or 32
        if batch_size == -1:
            batch_size = X.shape[0]
        if len(X) > batch_size:  # batches of two sizes: one relaxed trace for both
            trace_predict_once(self.model_, X)
        chunks = [
            self.model_.predict_on_batch(X[i : i + batch_size])
            for i in range(0, len(X), batch_size)
        ]
        return keras.tree.map_structure(lambda *parts: np.concatenate(parts), *chunks)

    def __getstate__(self):
        state = super().__getstate__() if hasattr(super(), "__getstate__") else None
        state = dict(self.__dict__ if state is None else state)
        state.pop("_lease_pending", None)
        state.pop("_skautosearch_lease", None)  # this process's pool only
        return state


class KerasClassifier(_FastFitMixin, _skw.KerasClassifier):
    """SciKeras's ``KerasClassifier`` that scikit-learn >= 1.6 sees as a classifier.

    Same parameters, parameter routing (``model__``, ``fit__``, ``compile__``,
    ``optimizer__``, ``loss__``, ``predict__`` ...) and pickling as
    :class:`scikeras.wrappers.KerasClassifier`, with three differences:

    * ``is_classifier`` is True and ``__sklearn_tags__`` is a classifier's, so
      ``cv=5`` means ``StratifiedKFold`` and scorers that need
      ``predict_proba`` work (SciKeras 0.13 only sets the old ``_more_tags``,
      which scikit-learn >= 1.6 ignores).
    * Fits are faster: a compiled, traced model of the same architecture left
      by an earlier fit in this process (another fold or another candidate)
      is reused after receiving the exact initial state of a freshly built
      model, so results are those of the fresh model.
    * No global state is left changed by a fit, seeded or not: SciKeras
      leaves TensorFlow op determinism on after a seeded fit in a fresh
      process (and Keras's global seed generator replaced), after which any
      unseeded random op of the user's own Keras code raises.

    Parameters
    ----------
    model : callable or keras.Model, default=None
        Function returning a (compiled or not) Keras model, as in SciKeras;
        its arguments are filled from parameters prefixed ``model__`` or
        given by their own name.  See :mod:`skautosearch.keras.builders`.
    **kwargs
        Every other SciKeras parameter: ``optimizer``, ``loss``, ``metrics``,
        ``batch_size``, ``epochs``, ``verbose``, ``random_state``,
        ``warm_start``, ``callbacks``, ``class_weight``, and routed ones such
        as ``optimizer__learning_rate`` or ``model__n_units``.

    Attributes
    ----------
    model_ : keras.Model
        The fitted model.  It belongs to this estimator: once the estimator is
        garbage collected the model may be reset and reused by a later fit of
        the same architecture, so keep the estimator (or ``copy.deepcopy`` the
        model) as long as you use ``model_``.
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    history_ : dict
        Training history, one list per metric.

    See Also
    --------
    KerasRegressor : The regressor counterpart.
    adapt_estimator : Converts SciKeras and keras.wrappers estimators.

    Examples
    --------
    >>> from sklearn.base import is_classifier
    >>> from skautosearch.keras import KerasClassifier, build_mlp
    >>> clf = KerasClassifier(build_mlp, model__hidden_units=(8,), epochs=1,
    ...                       loss="sparse_categorical_crossentropy",
    ...                       random_state=0, verbose=0)
    >>> is_classifier(clf)
    True
    """

    def __sklearn_tags__(self):
        # SciKeras lists ClassifierMixin after BaseEstimator, whose
        # __sklearn_tags__ does not call super(): set what the mixin would.
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return _scikeras_tags(tags, self)


class KerasRegressor(_FastFitMixin, _skw.KerasRegressor):
    """SciKeras's ``KerasRegressor`` that scikit-learn >= 1.6 sees as a regressor.

    Same parameters, parameter routing and pickling as
    :class:`scikeras.wrappers.KerasRegressor`; ``is_regressor`` is True, the
    tags are a regressor's, and fits reuse traced models exactly as
    :class:`KerasClassifier` does.

    Parameters
    ----------
    model : callable or keras.Model, default=None
        Function returning a Keras model, as in SciKeras.
    **kwargs
        Every other SciKeras parameter (``optimizer``, ``loss``, ``epochs``,
        ``batch_size``, ``random_state``, ``model__...`` ...).

    Attributes
    ----------
    model_ : keras.Model
        The fitted model (see :class:`KerasClassifier` on its lifetime).
    history_ : dict
        Training history, one list per metric.

    See Also
    --------
    KerasClassifier : The classifier counterpart.

    Examples
    --------
    >>> from sklearn.base import is_regressor
    >>> from skautosearch.keras import KerasRegressor, build_mlp
    >>> reg = KerasRegressor(build_mlp, model__hidden_units=(8,),
    ...                      model__task="regression", loss="mse", epochs=1,
    ...                      random_state=0, verbose=0)
    >>> is_regressor(reg)
    True
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        return _scikeras_tags(tags, self)
