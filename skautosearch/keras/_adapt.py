"""Make SciKeras and keras.wrappers estimators searchable as they are."""

import warnings

import scikeras.wrappers as _skw
from keras import wrappers as _kw
from sklearn.base import BaseEstimator, clone

from .._keras_state import keras_fit_scope
from ._fast import build_training_state
from ._wrappers import KerasClassifier, KerasRegressor

__all__ = [
    "adapt_estimator",
    "SKLearnClassifier",
    "SKLearnRegressor",
    "KERAS_DICT_PARAMS",
]

#: The dict-valued parameters of keras.wrappers estimators whose entries
#: ``SKLearnClassifier`` / ``SKLearnRegressor`` expose as ``<dict>__<key>``.
KERAS_DICT_PARAMS = ("model_kwargs", "fit_kwargs")


class _FlatDictParamsMixin:
    """Expose the entries of dict-valued parameters as nested parameters.

    ``get_params(deep=True)`` lists ``model_kwargs__units`` for every key of
    ``model_kwargs`` (and ``fit_kwargs__epochs`` ... for ``fit_kwargs``), and
    ``set_params(model_kwargs__units=64)`` replaces ``model_kwargs`` by an
    updated copy, so the dict the user passed is never changed.
    """

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        if deep:
            for name in KERAS_DICT_PARAMS:
                for key, value in (params.get(name) or {}).items():
                    params[f"{name}__{key}"] = value
        return params

    def set_params(self, **params):
        plain = {}
        for key, value in params.items():
            name, sep, entry = key.partition("__")
            if sep and name in KERAS_DICT_PARAMS and "__" not in entry:
                updated = dict(plain.get(name, getattr(self, name)) or {})
                updated[entry] = value
                plain[name] = updated
            else:
                plain[key] = value
        return super().set_params(**plain)

    def __sklearn_clone__(self):
        # keras.wrappers' own __sklearn_clone__ drops ``fit_kwargs``; use the
        # standard parameter-based clone instead.
        return BaseEstimator.__sklearn_clone__(self)

    def _get_model(self, X, y):
        # keras.wrappers builds a fresh model for every fit: create its
        # training state before the first trace (see build_training_state).
        model = super()._get_model(X, y)
        build_training_state(model, X, y)
        return model

    def fit(self, X, y, **kwargs):
        # keras.wrappers' fit updates ``fit_kwargs`` in place with ``kwargs``:
        # give it a copy so neither the user's dict nor a clone's is changed.
        saved = self.fit_kwargs
        self.fit_kwargs = dict(saved or {})
        try:
            with keras_fit_scope():
                return super().fit(X, y, **kwargs)
        finally:
            self.fit_kwargs = saved


class SKLearnClassifier(_FlatDictParamsMixin, _kw.SKLearnClassifier):
    """``keras.wrappers.SKLearnClassifier`` with searchable dict entries.

    The entries of ``model_kwargs`` and ``fit_kwargs`` are nested parameters
    named ``model_kwargs__<key>`` and ``fit_kwargs__<key>``: search spaces use
    them like any ``<step>__<param>`` key.  Give every searched key a default
    in the dict, since search-space keys are checked against
    ``get_params(deep=True)``.  Also fixes two traps of the Keras wrapper:
    ``clone`` keeps ``fit_kwargs`` and ``fit`` no longer writes into it.

    Parameters
    ----------
    model : callable or keras.Model
        ``model(X=X, y=y, **model_kwargs)`` returning a compiled model.
    warm_start : bool, default=False
        Reuse the weights of the previous fit.
    model_kwargs : dict or None, default=None
        Keyword arguments of ``model``.
    fit_kwargs : dict or None, default=None
        Keyword arguments of ``Model.fit`` (``epochs``, ``batch_size`` ...).

    See Also
    --------
    adapt_estimator : Builds this from a ``keras.wrappers.SKLearnClassifier``.
    KerasClassifier : The SciKeras-based classifier, with faster refits.

    Examples
    --------
    >>> from skautosearch.keras import SKLearnClassifier
    >>> def build(X, y, units=8):
    ...     import keras
    ...     model = keras.Sequential([keras.Input(X.shape[1:]),
    ...                               keras.layers.Dense(units, "relu"),
    ...                               keras.layers.Dense(y.shape[1], "softmax")])
    ...     model.compile(loss="categorical_crossentropy")
    ...     return model
    >>> clf = SKLearnClassifier(build, model_kwargs={"units": 8},
    ...                         fit_kwargs={"epochs": 1, "verbose": 0})
    >>> clf.get_params()["model_kwargs__units"]
    8
    >>> clf.set_params(model_kwargs__units=16).model_kwargs
    {'units': 16}
    """


class SKLearnRegressor(_FlatDictParamsMixin, _kw.SKLearnRegressor):
    """``keras.wrappers.SKLearnRegressor`` with searchable dict entries.

    Same key scheme as :class:`SKLearnClassifier`: ``model_kwargs__<key>``
    and ``fit_kwargs__<key>``.

    Parameters
    ----------
    model : callable or keras.Model
        ``model(X=X, y=y, **model_kwargs)`` returning a compiled model.
    warm_start : bool, default=False
        Reuse the weights of the previous fit.
    model_kwargs : dict or None, default=None
        Keyword arguments of ``model``.
    fit_kwargs : dict or None, default=None
        Keyword arguments of ``Model.fit``.

    See Also
    --------
    SKLearnClassifier : The classifier counterpart.

    Examples
    --------
    >>> from skautosearch.keras import SKLearnRegressor
    >>> reg = SKLearnRegressor(lambda X, y, units=4: None,
    ...                        model_kwargs={"units": 4})
    >>> sorted(k for k in reg.get_params() if "__" in k)
    ['model_kwargs__units']
    """


_REPLACEMENTS = (
    (_skw.KerasClassifier, KerasClassifier),
    (_skw.KerasRegressor, KerasRegressor),
    (_kw.SKLearnClassifier, SKLearnClassifier),
    (_kw.SKLearnRegressor, SKLearnRegressor),
)


def _is_keras_estimator(obj):
    return isinstance(obj, BaseEstimator) and type(obj).__module__.split(".")[0] in (
        "scikeras",
        "keras",
    )


def _replace(estimator):
    """Our class for a SciKeras / keras.wrappers estimator, same parameters."""
    for theirs, ours in _REPLACEMENTS:
        if type(estimator) is theirs:
            # Not clone(estimator): keras.wrappers' __sklearn_clone__ drops
            # fit_kwargs.  clone(value, safe=False) deep-copies plain values.
            params = {
                k: clone(v, safe=False)
                for k, v in estimator.get_params(deep=False).items()
            }
            if theirs.__module__.startswith("scikeras"):
                warnings.warn(
                    f"scikeras.wrappers.{theirs.__name__} is not recognised as a "
                    f"{'classifier' if ours is KerasClassifier else 'regressor'} "
                    "by scikit-learn >= 1.6 (no __sklearn_tags__), so a search "
                    "would use unstratified folds and the wrong default scorer. "
                    f"The search uses skautosearch.keras.{ours.__name__} with the "
                    f"same parameters instead; use skautosearch.keras."
                    f"{ours.__name__} directly to silence this warning.",
                    UserWarning,
                    stacklevel=3,
                )
            return ours(**params)
    return None


def adapt_estimator(estimator):
    """Return an estimator a search can use as is, for Keras-based estimators.

    The searches call this before fitting when the estimator, or an estimator
    among its ``get_params(deep=True)`` values, comes from ``scikeras`` or
    ``keras``.  The given estimator is never modified.

    * ``scikeras.wrappers.KerasClassifier`` / ``KerasRegressor`` become
      :class:`KerasClassifier` / :class:`KerasRegressor` with the same
      parameters (with a warning naming the fix), so that the search sees a
      classifier (stratified folds, accuracy) or a regressor.
    * ``keras.wrappers.SKLearnClassifier`` / ``SKLearnRegressor`` become
      :class:`SKLearnClassifier` / :class:`SKLearnRegressor`, whose
      ``model_kwargs`` and ``fit_kwargs`` entries are the nested parameters
      ``model_kwargs__<key>`` and ``fit_kwargs__<key>``.
    * A composite estimator (``Pipeline``, ``TransformedTargetRegressor``,
      ...) is cloned with its Keras-based parts adapted.
    * Anything else, including subclasses of the wrappers (which may
      override methods a replacement would lose), is returned unchanged.

    Parameters
    ----------
    estimator : estimator object
        The estimator given to a search.

    Returns
    -------
    adapted : estimator object
        ``estimator`` itself when nothing needed adapting, else a new,
        unfitted estimator.

    Examples
    --------
    >>> import warnings
    >>> from scikeras.wrappers import KerasClassifier as SciKerasClassifier
    >>> from sklearn.base import is_classifier
    >>> from skautosearch.keras import adapt_estimator
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     adapted = adapt_estimator(SciKerasClassifier(epochs=1))
    >>> is_classifier(SciKerasClassifier(epochs=1)), is_classifier(adapted)
    (False, True)
    >>> type(adapted).__module__
    'skautosearch.keras._wrappers'
    """
    if _is_keras_estimator(estimator):
        replaced = _replace(estimator)
        return estimator if replaced is None else replaced
    if not isinstance(estimator, BaseEstimator):
        return estimator
    updates = {}
    for name, value in estimator.get_params(deep=False).items():
        adapted = adapt_estimator(value) if isinstance(value, BaseEstimator) else value
        if adapted is not value:
            updates[name] = adapted
    # Composites keep their parts in lists (Pipeline.steps, ColumnTransformer
    # .transformers) that get_params(deep=True) exposes by name.
    if hasattr(estimator, "_get_params") or hasattr(estimator, "steps"):
        deep = estimator.get_params(deep=True)
        for name, value in deep.items():
            if "__" in name or name in updates or not isinstance(value, BaseEstimator):
                continue
            adapted = adapt_estimator(value)
            if adapted is not value:
                updates[name] = adapted
    if not updates:
        return estimator
    return clone(estimator).set_params(**updates)
