"""Every private scikit-learn name skautosearch uses, in one place, each with why.

scikit-learn does not promise these names across releases. Keeping them here means a
new scikit-learn release that renames or changes one fails at import with an error
that says which one, instead of a search that silently does something else;
``tests/test_sklearn_private.py`` checks that each still means what we rely on. No
module of skautosearch assigns to any scikit-learn attribute.

The names, and what we would lose without each:

* ``model_selection._validation._fit_and_score``: fits and scores one (candidate, split)
  exactly as ``GridSearchCV`` does (fit params sliced, error_score, timings); our
  dispatcher runs it in the workers.
* ``model_selection._validation._score``: scores a fitted model as ``_fit_and_score``
  does (error_score, several metrics); a budgeted search's rung fits continue a model
  from the previous rung, which ``_fit_and_score`` cannot, and score it with this.
* ``model_selection._validation._warn_or_raise_about_fit_failures`` and
  ``_insert_error_scores``: ``GridSearchCV``'s FitFailedWarning text and its error
  scores for a callable scoring returning a dict.
* ``model_selection._split._yields_constant_splits``: whether a splitter gives the same
  folds on every call, which a sequential search needs (scikit-learn issue 15149).
* ``utils.validation._check_method_params``: slices and validates fit parameters as
  ``BaseSearchCV.fit`` does.
* ``utils.validation._num_samples``: the number of rows of any array-like, as
  scikit-learn counts them, for checks of the data before any fit.
* ``base._fit_context``: validates ``_parameter_constraints`` on ``fit``, as every
  scikit-learn estimator does.
* ``metrics._scorer._MultimetricScorer``: the type ``BaseSearchCV._get_scorers`` returns
  for several metrics; we shape error scores and ``scorer_`` after it.
* ``utils._safe_indexing``: rows of any array-like (lists, DataFrames, sparse), as
  scikit-learn indexes them, for budget subsamples and cost measures.
* ``utils.metaestimators._safe_split``: the test rows of a fold, kernel matrices included,
  for the cost measures.
* ``utils._param_validation.Interval`` / ``StrOptions`` /
  ``validate_parameter_constraints``: parameter constraints, as in scikit-learn's own
  estimators (the Keras wrappers check their routed ``fit__`` values with them).
* ``model_selection._search.BaseSearchCV``: the base class of ``GridSearchCV``, which
  scikit-learn documents for third-party searches but exports from a private module.
* Methods of ``BaseSearchCV``: ``_get_scorers``, ``_get_routed_params_for_fit``,
  ``_format_results``, ``_select_best_index``, ``_check_refit_for_multimetric``: the
  scoring, metadata routing, ``cv_results_`` layout and best-candidate rule of
  ``GridSearchCV``, which our ``fit`` reuses rather than copies (see
  :data:`BASE_SEARCH_METHODS`).
"""

import inspect

import sklearn

try:
    from sklearn.base import _fit_context
    from sklearn.metrics._scorer import _MultimetricScorer
    from sklearn.model_selection._search import BaseSearchCV
    from sklearn.model_selection._split import _yields_constant_splits
    from sklearn.model_selection._validation import (
        _fit_and_score,
        _insert_error_scores,
        _score,
        _warn_or_raise_about_fit_failures,
    )
    from sklearn.utils import _safe_indexing
    from sklearn.utils._param_validation import (
        Interval,
        StrOptions,
        validate_parameter_constraints,
    )
    from sklearn.utils.metaestimators import _safe_split
    from sklearn.utils.validation import _check_method_params, _num_samples
except ImportError as exc:  # pragma: no cover - only on an unsupported scikit-learn
    raise ImportError(
        f"skautosearch needs private scikit-learn names that scikit-learn "
        f"{sklearn.__version__} no longer has ({exc}). Install a scikit-learn between 1.6 "
        "and 1.9, or a skautosearch release that supports this one."
    ) from exc

__all__ = [
    "BASE_SEARCH_METHODS",
    "BaseSearchCV",
    "FIT_AND_SCORE_PARAMETERS",
    "Interval",
    "StrOptions",
    "_MultimetricScorer",
    "_check_method_params",
    "_fit_and_score",
    "_fit_context",
    "_insert_error_scores",
    "_num_samples",
    "_safe_indexing",
    "_safe_split",
    "_score",
    "_warn_or_raise_about_fit_failures",
    "_yields_constant_splits",
    "check_signatures",
    "validate_parameter_constraints",
]

# The keyword arguments we pass to _fit_and_score (``caller`` and ``callback_ctx`` only
# where scikit-learn has callbacks, 1.9 on).
FIT_AND_SCORE_PARAMETERS = (
    "estimator", "X", "y", "scorer", "train", "test", "verbose", "parameters",
    "fit_params", "score_params", "return_train_score", "return_parameters",
    "return_n_test_samples", "return_times", "return_estimator", "split_progress",
    "candidate_progress", "error_score",
)

SCORE_PARAMETERS = ("estimator", "X_test", "y_test", "scorer", "score_params", "error_score")

# BaseSearchCV methods our fit calls, with the parameters we pass them.
BASE_SEARCH_METHODS = {
    "_get_scorers": ("self",),
    "_get_routed_params_for_fit": ("self", "params"),
    "_format_results": ("self", "candidate_params", "n_splits", "out", "more_results"),
    "_select_best_index": ("refit", "refit_metric", "results"),
    "_check_refit_for_multimetric": ("self", "scores"),
}

# Whether _fit_and_score takes scikit-learn 1.9's experimental callback context.
HAS_FIT_CALLBACKS = "callback_ctx" in inspect.signature(_fit_and_score).parameters


def check_signatures():
    """Raise ``ImportError`` if a private name's signature is not the one we call.

    Run once when :mod:`skautosearch` builds its first search, so that a scikit-learn
    release that changed one fails loudly before any fit instead of misbehaving.
    """
    problems = []
    score_params = tuple(inspect.signature(_score).parameters)
    if score_params[:6] != SCORE_PARAMETERS:
        problems.append(f"_score{score_params} is not _score{SCORE_PARAMETERS}")
    have = inspect.signature(_fit_and_score).parameters
    missing = [name for name in FIT_AND_SCORE_PARAMETERS if name not in have]
    if missing:
        problems.append(f"_fit_and_score lacks {missing}")
    for method, expected in BASE_SEARCH_METHODS.items():
        function = getattr(BaseSearchCV, method, None)
        if function is None:
            problems.append(f"BaseSearchCV.{method} is gone")
            continue
        params = tuple(inspect.signature(function).parameters)
        if params[: len(expected)] != expected:
            problems.append(f"BaseSearchCV.{method}{params} is not {method}{expected}")
    if problems:
        raise ImportError(
            f"skautosearch does not support scikit-learn {sklearn.__version__}: "
            + "; ".join(problems)
            + ". Install a scikit-learn between 1.6 and 1.9."
        )


check_signatures()
