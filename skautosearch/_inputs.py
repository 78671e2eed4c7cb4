"""What every fit of one search needs, prepared once as ``BaseSearchCV.fit`` prepares it.

:func:`prepare` turns the user's ``X``, ``y`` and fit parameters into the folds, the
routed fit and score parameters and the scorers; the result is passed explicitly to
whatever runs fits, never stashed on the search.
"""

import inspect
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import check_cv
from sklearn.utils import assert_all_finite, get_tags, indexable

from ._sklearn_private import _check_method_params, _num_samples, _yields_constant_splits


@dataclass
class FitInputs:
    """The data, folds and settings shared by every fit of a search."""

    estimator: object  # a clone of the (adapted) estimator; never fitted itself
    X: object
    y: object
    splits: list  # [(train, test), ...] as index arrays
    scorers: object
    refit_metric: str
    fit_params: dict  # routed to the estimator's fit
    score_params: dict  # routed to the scorers
    fit_kwargs: dict = field(default_factory=dict)  # for _fit_and_score
    costs: tuple = ()  # cost measures recorded for the objectives

    @property
    def n_splits(self):
        return len(self.splits)


def checked_cv(search, estimator, y=None):
    """The search's ``cv`` checked once; its folds must not change between batches.

    Checked once per fit because ``check_cv`` consumes a generator passed as ``cv``.
    """
    cv = check_cv(search.cv, y, classifier=is_classifier(estimator))
    if not _yields_constant_splits(cv):
        raise ValueError(
            "The cv parameter must yield consistent folds across calls to split(), "
            "because a sequential search compares scores across batches. Set its "
            "random_state to an int, or set shuffle=False."
        )
    return cv


def prepare(search, estimator, X, y, params, cv, costs=()):
    """The :class:`FitInputs` of ``search`` fitted on ``X``, ``y`` with ``params``.

    Raises ``ValueError`` before any fit when the folds are empty, with scikit-learn's
    own message.
    """
    X, y = indexable(X, y)
    _check_data(estimator, X, y, params)
    params = _check_method_params(X, params=params)
    routed = search._get_routed_params_for_fit(params)
    scorers, refit_metric = search._get_scorers()
    splits = list(cv.split(X, y, **routed.splitter.split))
    if not splits:
        raise ValueError(
            "No fits were performed. Was the CV iterator empty? Were there no candidates?"
        )
    inputs = FitInputs(
        estimator=clone(estimator), X=X, y=y, splits=splits, scorers=scorers,
        refit_metric=refit_metric, fit_params=routed.estimator.fit,
        score_params=routed.scorer.score, costs=tuple(costs),
    )
    inputs.fit_kwargs = dict(
        scorer=scorers,
        fit_params=inputs.fit_params,
        score_params=inputs.score_params,
        return_train_score=search.return_train_score,
        return_n_test_samples=True,
        return_times=True,
        return_parameters=False,
        error_score=search.error_score,
        verbose=search.verbose,
    )
    return inputs


def _numeric_values(a):
    """The values of a numeric array-like (sparse: its stored ones); None otherwise."""
    if sp.issparse(a):
        return a.data
    if not isinstance(a, np.ndarray) and not hasattr(a, "to_numpy"):
        return None
    values = np.asarray(a)
    return values if values.dtype.kind in "fc" else None


def _check_data(estimator, X, y, params):
    """What would make every fit fail, refused once before any: scikit-learn's messages."""
    if y is None and (is_classifier(estimator) or is_regressor(estimator)):
        kind = "classifier" if is_classifier(estimator) else "regressor"
        raise ValueError(f"y=None, but {type(estimator).__name__} is a {kind}: it requires y.")
    if y is not None and (values := _numeric_values(y)) is not None:
        assert_all_finite(values, input_name="y")
    if not get_tags(estimator).input_tags.allow_nan and (
        (values := _numeric_values(X)) is not None
    ):
        assert_all_finite(values, input_name="X")
    n_samples = _num_samples(X)
    weights = params.get("sample_weight")
    if weights is not None and _num_samples(weights) != n_samples:
        raise ValueError(
            f"sample_weight has {_num_samples(weights)} rows but X has {n_samples}."
        )
    _check_fit_params(estimator, params)


def _check_fit_params(estimator, params):
    """Without metadata routing, every fit parameter goes to ``estimator.fit``."""
    from sklearn import get_config

    if get_config().get("enable_metadata_routing", False):
        return  # scikit-learn's routing checks them itself
    accepted = inspect.signature(estimator.fit).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values()):
        return
    unknown = [name for name in params if name not in accepted and name != "groups"]
    if unknown:
        raise TypeError(
            f"{type(estimator).__name__}.fit() does not take the fit parameter "
            f"{unknown[0]!r}; it takes {', '.join(n for n in accepted if n not in ('X', 'y'))}."
        )
