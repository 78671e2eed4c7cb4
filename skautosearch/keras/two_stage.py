"""Architecture first, training hyper-parameters second: two chained searches."""

from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = ["TwoStageSearchCV"]


def _best_has(name):
    def check(self):
        if hasattr(self, "best_estimator_"):
            return hasattr(self.best_estimator_, name)
        return hasattr(self.training_search.estimator, name) or True

    return check


class TwoStageSearchCV(MetaEstimatorMixin, BaseEstimator):
    """Search the architecture, then the training hyper-parameters for the best one.

    The way architecture search is used in practice: stage 1 searches the
    structure (blocks, filters, units) with the training settings fixed;
    stage 2 takes the stage-1 estimator with its best parameters and searches
    the training hyper-parameters (learning rate, batch size, dropout,
    epochs).  Both stages are ordinary searches (any of skautosearch's or
    scikit-learn's), each keeping its own ``cv_results_``.

    Parameters
    ----------
    architecture_search : search object
        Unfitted search over the architecture (e.g. ``GeneticSearchCV``).
        ``refit=False`` saves a fit: only its ``best_params_`` are used.
    training_search : search object
        Unfitted search over the training hyper-parameters.  Its
        ``estimator`` is ignored: it is replaced by the architecture search's
        estimator with that search's best parameters.  Keys it shares with
        the architecture search's space override the stage-1 values.

    Attributes
    ----------
    architecture_search_ : search object
        The fitted stage-1 search (its ``cv_results_``, ``best_params_``).
    training_search_ : search object
        The fitted stage-2 search.
    best_params_ : dict
        Stage-1 best parameters updated with stage-2 best parameters.
    best_score_ : float
        Stage-2 best cross-validated score.
    best_estimator_ : estimator
        Stage-2 ``best_estimator_`` (if its ``refit`` is on).
    cv_results_ : dict
        Stage-2 ``cv_results_``; stage 1's are in
        ``architecture_search_.cv_results_``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skautosearch.keras import TwoStageSearchCV
    >>> X, y = load_iris(return_X_y=True)
    >>> lr = LogisticRegression(max_iter=500)
    >>> two = TwoStageSearchCV(
    ...     GridSearchCV(lr, {"fit_intercept": [True, False]}, cv=3, refit=False),
    ...     GridSearchCV(lr, {"C": [0.1, 1.0]}, cv=3)).fit(X, y)
    >>> sorted(two.best_params_)
    ['C', 'fit_intercept']
    """

    def __init__(self, architecture_search, training_search):
        self.architecture_search = architecture_search
        self.training_search = training_search

    def fit(self, X, y=None, **fit_params):
        """Run the architecture search, then the training search.

        Parameters
        ----------
        X : array-like
            Training data.
        y : array-like, default=None
            Targets.
        **fit_params : dict
            Passed to both searches' ``fit``.

        Returns
        -------
        self : TwoStageSearchCV
        """
        for name in ("architecture_search", "training_search"):
            search = getattr(self, name)
            if not (hasattr(search, "fit") and "estimator" in search.get_params()):
                raise TypeError(
                    f"{name} must be a search estimator with an 'estimator' "
                    f"parameter (e.g. GeneticSearchCV); got {type(search).__name__}."
                )
        stage1 = clone(self.architecture_search).fit(X, y, **fit_params)
        best = clone(stage1.get_params()["estimator"]).set_params(**stage1.best_params_)
        stage2 = clone(self.training_search).set_params(estimator=best)
        stage2.fit(X, y, **fit_params)
        self.architecture_search_ = stage1
        self.training_search_ = stage2
        self.best_params_ = {**stage1.best_params_, **stage2.best_params_}
        self.best_score_ = stage2.best_score_
        self.cv_results_ = stage2.cv_results_
        if hasattr(stage2, "best_estimator_"):
            self.best_estimator_ = stage2.best_estimator_
        if hasattr(stage2, "classes_"):
            self.classes_ = stage2.classes_
        return self

    def _stage2(self):
        check_is_fitted(self, "training_search_")
        return self.training_search_

    @available_if(_best_has("predict"))
    def predict(self, X):
        """Predict with the stage-2 best estimator."""
        return self._stage2().predict(X)

    @available_if(_best_has("predict_proba"))
    def predict_proba(self, X):
        """Class probabilities from the stage-2 best estimator."""
        return self._stage2().predict_proba(X)

    def score(self, X, y=None):
        """Score of the stage-2 search (its scorer) on ``(X, y)``."""
        return self._stage2().score(X, y)
