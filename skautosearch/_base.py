"""Shared machinery of the sequential searches.

A strategy subclasses :class:`BaseSequentialSearchCV` and implements ``_search(ev, rng)``:
it proposes batches of genomes and hands each batch to ``ev.evaluate``, which sends the
new ones to scikit-learn's ``evaluate_candidates`` in one call (so joblib parallelises
candidates x folds), answers repeats from memory, keeps the budget and decides when to
stop. Cross-validation, scoring, refit and ``cv_results_`` stay scikit-learn's.
"""

import numbers
import re
import time
import warnings
from abc import abstractmethod

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._split import _yields_constant_splits
from sklearn.utils._param_validation import Interval

from ._progress import progress_bar
from .space import SearchSpace

# Consecutive batches with no new candidate before a search is declared exhausted.
_MAX_STALLED_BATCHES = 10


def _seed_generator(random_state):
    """A ``np.random.Generator`` from a scikit-learn ``random_state``.

    Never touches the global NumPy state: ``None`` draws fresh OS entropy.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, numbers.Integral):
        return np.random.default_rng(int(random_state))
    return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))


def _is_keras_object(obj):
    return type(obj).__module__.split(".")[0] in ("scikeras", "keras")


def _adapt_estimator(estimator):
    """Keras-backed estimators go through ``skautosearch.keras.adapt_estimator``.

    Only imports TensorFlow when the user's estimator already came from Keras.
    """
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") else {}
    if _is_keras_object(estimator) or any(map(_is_keras_object, params.values())):
        from .keras import adapt_estimator

        return adapt_estimator(estimator)
    return estimator


def _valid_param_names(estimator, subspace):
    """Parameter names ``set_params`` accepts, counting estimators set by the candidate."""
    names = set(estimator.get_params(deep=True))
    for param in subspace:
        if param.is_categorical and param.name in names:
            for value in param.categories:
                if hasattr(value, "get_params"):
                    names.update(
                        f"{param.name}__{key}" for key in value.get_params(deep=True)
                    )
    return names


def _check_param_names(estimator, space):
    for k, subspace in enumerate(space.subspaces):
        valid = _valid_param_names(estimator, subspace)
        unknown = [param.name for param in subspace if param.name not in valid]
        if not unknown:
            continue
        # Some estimators accept names they do not list (SciKeras routes any
        # ``model__*`` / ``fit__*``): ask set_params itself, on a clone, with the
        # candidate at the middle of every dimension.
        candidate = space.decode((k, tuple(p.from_unit(0.5) for p in subspace)))
        try:
            clone(estimator).set_params(**candidate)
        except (ValueError, TypeError, AttributeError):
            raise ValueError(
                f"Invalid parameter {unknown[0]!r} in param_distributions for "
                f"estimator {estimator!r}. Valid parameters are: {sorted(valid)!r}."
            ) from None


class _Evaluator:
    """Budget, memory and stopping rules around scikit-learn's ``evaluate_candidates``."""

    def __init__(self, search, evaluate_candidates, space, callback_ctx):
        self.search = search
        self.space = space
        self._evaluate_candidates = evaluate_candidates
        self._callback_ctx = callback_ctx
        self.callbacks = search._callback_list()
        self.scores = {}  # genome -> score used to guide the search
        self.n_batches = 0
        self.stop_reason = None
        self.best = -np.inf
        self._stalled = 0
        self._since_improvement = 0
        self._start = time.monotonic()
        self._space_size = space.size()
        self.last_error = None
        self.results = None  # what evaluate_candidates returned last; None until a batch succeeds

    @property
    def remaining(self):
        return self.search.n_iter - len(self.scores)

    @property
    def done(self):
        return self.stop_reason is not None

    def evaluate(self, genomes, more_results):
        """Scores of ``genomes`` (``-inf`` for failures), fitting only the new ones.

        ``more_results`` maps column names to one value per genome. Genomes beyond the
        budget are not evaluated and get ``nan``.
        """
        new = []
        for i, genome in enumerate(genomes):
            if genome not in self.scores and genome not in (genomes[j] for j in new):
                new.append(i)
        new = new[: max(self.remaining, 0)]
        if new:
            self._run_batch([genomes[i] for i in new], more_results, new)
        self._after_batch(bool(new))
        return np.array([self.scores.get(g, np.nan) for g in genomes])

    def _run_batch(self, batch, more_results, rows):
        more = {key: [values[i] for i in rows] for key, values in more_results.items()}
        more["batch"] = [self.n_batches] * len(batch)
        kwargs = {"more_results": more}
        ctx = None
        if self._callback_ctx is not None:
            ctx = self._callback_ctx.subcontext(
                task_name="batch",
                max_subtasks=len(batch) * self.search.n_splits_,
                sequential_subtasks=False,
            ).call_on_fit_task_begin(estimator=self.search)
            kwargs["callback_ctx"] = ctx
        self.n_batches += 1
        params = [self.space.decode(g) for g in batch]
        try:
            self.results = self._evaluate_candidates(params, **kwargs)
        except ValueError as exc:
            if "fits failed" not in str(exc):
                raise
            # scikit-learn raises when every fit of one call failed; for a sequential
            # search that is one bad batch, not a bad search. Earlier results are kept.
            warnings.warn(f"Every fit of batch {self.n_batches - 1} failed: {exc}", stacklevel=2)
            self.last_error = exc
            scores = [-np.inf] * len(batch)
        else:
            column = self.search._guiding_column(self.results)
            if not hasattr(self.search, "n_splits_"):
                # scikit-learn < 1.7 sets it only after the search; progress needs it.
                metric = column[len("mean_test_"):]
                self.search.n_splits_ = sum(
                    1 for key in self.results if re.fullmatch(rf"split\d+_test_{metric}", key)
                )
            scores = np.asarray(self.results[column][-len(batch):], dtype=float)
            scores = np.where(np.isfinite(scores), scores, -np.inf)
        if ctx is not None:
            ctx.call_on_fit_task_end(estimator=self.search)
        self.scores.update(zip(batch, scores))

    def _after_batch(self, any_new):
        self._stalled = 0 if any_new else self._stalled + 1
        best = max(self.scores.values(), default=-np.inf)
        improved = best > self.best
        self.best = max(best, self.best)
        self._since_improvement = 0 if improved else self._since_improvement + 1
        search = self.search
        if self.remaining <= 0:
            self.stop_reason = "n_iter"
        elif len(self.scores) >= self._space_size or self._stalled >= _MAX_STALLED_BATCHES:
            self.stop_reason = "exhausted"
        elif search.max_time is not None and time.monotonic() - self._start >= search.max_time:
            self.stop_reason = "max_time"
        elif search.patience is not None and self._since_improvement >= search.patience:
            self.stop_reason = "patience"
        if any_new and self.results is not None:
            # Every callback sees every batch, even once one has asked to stop.
            if any([cb(search, self.results) for cb in self.callbacks]):
                self.stop_reason = self.stop_reason or "callback"


class BaseSequentialSearchCV(BaseSearchCV):
    """Base class of the searches that choose their next candidates from earlier scores.

    Subclasses implement ``_search(ev, rng)`` only. Parameters shared by every strategy
    are documented on each public class.
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "param_distributions": [dict, list],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "max_time": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "patience": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "callbacks": [callable, list, tuple, None],
    }

    @abstractmethod
    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_iter=30,
        scoring=None,
        n_jobs=None,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        max_time=None,
        patience=None,
        callbacks=None,
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.param_distributions = param_distributions
        self.n_iter = n_iter
        self.random_state = random_state
        self.max_time = max_time
        self.patience = patience
        self.callbacks = callbacks

    def fit(self, X, y=None, **params):
        """Run the search: fit the estimator on the candidates the strategy proposes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Target.
        **params : dict
            Parameters for the estimator's ``fit``, the scorer and the CV splitter,
            routed as in :class:`~sklearn.model_selection.GridSearchCV`.

        Returns
        -------
        self : object
            The fitted search.
        """
        user_estimator = self.estimator
        adapted = _adapt_estimator(user_estimator)
        if adapted is user_estimator:
            return super().fit(X, y, **params)
        # Search the adapted estimator, but leave the user's parameter as it was.
        self.estimator = adapted
        try:
            return super().fit(X, y, **params)
        finally:
            self.estimator = user_estimator

    def _check_search_params(self):
        """Everything ``_parameter_constraints`` cannot say; runs before any fit.

        Called from ``_run_search`` rather than ``_check_input_parameters``, which
        scikit-learn < 1.7 does not call from ``BaseSearchCV.fit``.
        """
        # Sequential searches compare scores across batches: every batch must see
        # the same folds (see scikit-learn issue 15149).
        # scikit-learn < 1.7 keeps its checked cv local to fit: check it the same way.
        cv = check_cv(self.cv, classifier=is_classifier(self.estimator))
        if not _yields_constant_splits(cv):
            raise ValueError(
                "The cv parameter must yield consistent folds across calls to split(), "
                "because a sequential search compares scores across batches. Set its "
                "random_state to an int, or set shuffle=False."
            )
        self._check_strategy_params()
        space = SearchSpace(self.param_distributions)
        _check_param_names(self.estimator, space)
        return space

    def _check_strategy_params(self):
        """Checks beyond ``_parameter_constraints``; strategies extend it."""

    def _callback_list(self):
        if self.callbacks is None:
            return []
        if callable(self.callbacks):
            return [self.callbacks]
        for cb in self.callbacks:
            if not callable(cb):
                raise TypeError(f"callbacks must be callables, got {cb!r}.")
        return list(self.callbacks)

    def _guiding_column(self, results):
        """The ``cv_results_`` column the strategy maximises.

        ``mean_test_score`` for one metric; with several, the ``refit`` metric, or the
        first metric of ``scoring`` when ``refit`` is a callable or False.
        """
        if "mean_test_score" in results:
            return "mean_test_score"
        if isinstance(self.refit, str):
            return f"mean_test_{self.refit}"
        if isinstance(self.scoring, dict):
            return f"mean_test_{next(iter(self.scoring))}"
        if isinstance(self.scoring, (list, tuple)):
            return f"mean_test_{self.scoring[0]}"
        return sorted(k for k in results if k.startswith("mean_test_"))[0]

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        space = self._check_search_params()
        rng = _seed_generator(self.random_state)
        search_ctx = None
        if callback_ctx is not None:
            search_ctx = callback_ctx.subcontext(
                task_name="search", max_subtasks=None
            ).call_on_fit_task_begin(estimator=self)
        with progress_bar(self, total=self._expected_fits()) as bar:
            ev = _Evaluator(self, evaluate_candidates, space, search_ctx)
            if bar is not None:
                ev.callbacks.append(bar)
            self._search(ev, rng)
        if search_ctx is not None:
            search_ctx.call_on_fit_task_end(estimator=self)
        if ev.results is None:
            # Every batch failed whole, so scikit-learn recorded nothing to choose from.
            raise ValueError(
                f"Every one of the {len(ev.scores)} candidates failed to fit or score; "
                f"there is no model to choose. The last error was: {ev.last_error}"
            ) from ev.last_error
        self.n_batches_ = ev.n_batches
        self.stop_reason_ = ev.stop_reason or "strategy"

    def _expected_fits(self):
        """``n_iter`` x folds for the progress bar, or None if the folds need the data.

        scikit-learn >= 1.7 has set ``n_splits_`` by now; older versions have not.
        """
        n_splits = getattr(self, "n_splits_", None)
        if n_splits is None:
            try:
                cv = check_cv(self.cv, classifier=is_classifier(self.estimator))
                n_splits = cv.get_n_splits()
            except (TypeError, ValueError):
                return None
        return self.n_iter * n_splits

    @abstractmethod
    def _search(self, ev, rng):
        """Propose batches to ``ev.evaluate`` until ``ev.done``."""
