"""Shared machinery of the sequential searches.

A strategy subclasses :class:`BaseSequentialSearchCV` and implements ``_search(ev, rng)``:
it proposes batches of genomes to ``ev.evaluate`` (:mod:`skautosearch._evaluator`), which
answers repeats from memory, keeps the budget and the stopping rules, and hands the new
candidates to :class:`~skautosearch._trials.Trials`, which runs their fits through joblib
(:mod:`skautosearch._dispatch`) and journals them (:mod:`skautosearch._journal`).

``fit`` is ``BaseSearchCV.fit``'s, told in our own words around scikit-learn's pieces
(scorers, metadata routing, ``_format_results``, the best-candidate rule; see
:mod:`skautosearch._sklearn_private`): scoring, ``cv_results_``, ``best_*`` and refit are
those of ``GridSearchCV``, and nothing of scikit-learn's is patched.
"""

import contextlib
import copy
import numbers
import os
import re
import time
import warnings
from abc import abstractmethod

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor

from . import _journal
from ._budget import check_schedule
from ._dispatch import make_parallel
from ._evaluator import Evaluator
from ._inputs import checked_cv, prepare
from ._objectives import Objectives
from ._progress import _expected_fits, progress_bar
from ._sklearn_private import (
    BaseSearchCV,
    Interval,
    _fit_context,
    _MultimetricScorer,
    _warn_or_raise_about_fit_failures,
)
from ._stopping import Stopping
from ._trials import Trials
from .costs import COST_MEASURES
from .pareto import knee_point, objective_matrix, parse_objectives
from .space import SearchSpace


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


class _KneeRefit:
    """``refit="knee"``: the knee of the Pareto front (see :func:`~.pareto.knee_point`)."""

    def __init__(self, objectives, scoring):
        self.objectives = objectives
        self.scoring = scoring

    def __call__(self, cv_results):
        scoring = self.scoring if isinstance(self.scoring, str) else None
        return knee_point(objective_matrix(cv_results, self.objectives, scoring=scoring))


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
        "checkpoint": [str, os.PathLike, None],
        "candidate_timeout": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "objectives": [dict, None],
        "objective_weights": [dict, None],
        "resource": [str, None],
        "min_resources": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "max_resources": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "factor": [Interval(numbers.Integral, 2, None, closed="left")],
        "n_brackets": [Interval(numbers.Integral, 1, None, closed="left"), None],
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
        checkpoint=None,
        candidate_timeout=None,
        objectives=None,
        objective_weights=None,
        resource=None,
        min_resources=None,
        max_resources=None,
        factor=3,
        n_brackets=None,
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
        self.checkpoint = checkpoint
        self.candidate_timeout = candidate_timeout
        self.objectives = objectives
        self.objective_weights = objective_weights
        self.resource = resource
        self.min_resources = min_resources
        self.max_resources = max_resources
        self.factor = factor
        self.n_brackets = n_brackets

    @_fit_context(prefer_skip_nested_validation=False)
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
        # A Keras-backed estimator is searched in its adapted form; the user's stays.
        estimator = _adapt_estimator(self.estimator)
        refit = self._refit_rule()
        cv = checked_cv(self, estimator, y)
        space = self._check_search_params(estimator)
        objectives = self._objectives()
        inputs = prepare(self._with_refit(refit), estimator, X, y, params, cv,
                         costs=[name for name, _ in objectives if name in COST_MEASURES])
        self.n_splits_ = inputs.n_splits
        schedule = self._check_schedule(estimator, space, inputs)
        if self.checkpoint is not None and self.random_state is None:
            warnings.warn(
                "checkpoint is set but random_state is None: a resumed search draws other "
                "candidates, so only fits it happens to repeat are replayed. Set "
                "random_state to an int to resume the same search.", stacklevel=2,
            )
        root_ctx = self._begin_callbacks(refit, inputs, params)
        ev, trials = self._run(space, inputs, objectives, refit, root_ctx, schedule)
        self._record(ev, trials, refit, inputs)
        if refit:
            self._refit_best(inputs, root_ctx, params, schedule)
        if root_ctx is not None:
            root_ctx.call_on_fit_task_end(estimator=self, X=inputs.X, y=inputs.y,
                                          metadata=_callback_metadata(params))
        return self

    def _validate_params(self):
        # Before scikit-learn's own checks, which fail obscurely on a class.
        if isinstance(self.estimator, type):
            name = self.estimator.__name__
            raise TypeError(
                f"estimator must be an estimator instance, not the class {name}: pass "
                f"{name}() instead."
            )
        super()._validate_params()

    def _refit_rule(self):
        """``refit`` as ``BaseSearchCV`` understands it: ``"knee"`` becomes a callable."""
        if isinstance(self.refit, str) and self.refit == "knee":
            if self.objectives is None:
                raise ValueError("refit='knee' needs objectives: the knee of which front?")
            return _KneeRefit(self.objectives, self.scoring)
        return self.refit

    def _with_refit(self, refit):
        """``self``, or a shallow copy of it with ``refit`` (never changes ``self``).

        scikit-learn's scorer checks read ``refit`` from the search itself.
        """
        if refit is self.refit:
            return self
        view = copy.copy(self)
        view.refit = refit
        return view

    def _begin_callbacks(self, refit, inputs, params):
        """scikit-learn >= 1.9's callback context of this fit, begun; None before 1.9."""
        if not hasattr(self, "_init_callback_context"):
            return None
        return self._init_callback_context(
            max_subtasks=1 + (refit is not False)
        ).call_on_fit_task_begin(estimator=self, X=inputs.X, y=inputs.y,
                                 metadata=_callback_metadata(params))

    def _check_schedule(self, estimator, space, inputs):
        """The budget :class:`~skautosearch._budget.Schedule`, or None; checked before fits."""
        schedule = check_schedule(self, estimator,
                                  n_rows=min(len(train) for train, _ in inputs.splits))
        if schedule is not None:
            searched = {param.name for subspace in space.subspaces for param in subspace}
            if schedule.resource in searched:
                raise ValueError(
                    f"resource={schedule.resource!r} is also a parameter of the search space; "
                    "the budget sets it: remove it from param_distributions."
                )
        return schedule

    def _run(self, space, inputs, objectives, refit, root_ctx, schedule=None):
        """Run the strategy to its end; return its evaluator and trials."""
        rng = _seed_generator(self.random_state)
        # Only a multi-objective search draws its scalarisation weights' seed, so that
        # single-objective searches keep their random stream.
        tracker = None
        if objectives:
            tracker = Objectives(objectives, self.objective_weights,
                                 int(rng.integers(2**31)))
        callbacks = self._callback_list()
        parallel = make_parallel(self.n_jobs, self.pre_dispatch,
                                 scatter=[a for a in (inputs.X, inputs.y) if a is not None])
        search_ctx = None
        if root_ctx is not None:
            search_ctx = root_ctx.subcontext(
                task_name="search", max_subtasks=None, sequential_subtasks=False
            ).call_on_fit_task_begin(estimator=self)
        journal = None
        if self.checkpoint is not None:
            journal = _journal.Journal(self.checkpoint, _journal.fingerprint(self, inputs))
        store = None
        if schedule is not None:
            from ._continuation import ModelStore

            # Fold models between rungs: beside the checkpoint, else in a temporary folder.
            store = ModelStore(None if self.checkpoint is None
                               else os.path.dirname(os.path.abspath(self.checkpoint)))
        try:
            with progress_bar(self, total=_expected_fits(self)) as bar, parallel:
                trials = Trials(self, inputs, parallel, journal, search_ctx)
                stopping = Stopping(self, space.size(), callbacks + [bar] * (bar is not None))
                ev = Evaluator(space, trials, stopping, self.n_iter,
                               self._guiding_metric(refit), tracker, schedule, store)
                self._search(ev, rng)
                ev.finish()
        finally:
            if journal is not None:
                journal.close()
            if store is not None:
                store.close()
        if search_ctx is not None:
            search_ctx.call_on_fit_task_end(estimator=self)
        self.n_batches_ = ev.n_batches
        self.stop_reason_ = stopping.reason or "strategy"
        self.n_replayed_fits_ = trials.n_replayed
        if schedule is not None:
            self.n_resources_ = schedule.rungs
            self.n_candidates_ = [sum(1 for _, _, row in trials.records if row["iter"] == k)
                                  for k in range(len(schedule.rungs))]
        return ev, trials

    def _record(self, ev, trials, refit, inputs):
        """``cv_results_``, ``best_*``, ``scorer_`` and ``pareto_front_``, as scikit-learn's."""
        if trials.all_failed:
            raise ValueError(
                f"Every one of the {len(ev.scores)} candidates failed to fit or score; "
                f"there is no model to choose. The last error was: {trials.last_failure}"
            )
        outs = trials.all_outs()
        _warn_or_raise_about_fit_failures(outs, self.error_score)
        results = trials.results()
        first_test_score = outs[0]["test_scores"]
        self.multimetric_ = isinstance(first_test_score, dict)
        refit_metric = inputs.refit_metric
        if callable(self.scoring) and self.multimetric_:
            # A callable scoring's return type is only known now.
            self._with_refit(refit)._check_refit_for_multimetric(first_test_score)
            refit_metric = refit
        if refit or not self.multimetric_:
            self.best_index_ = self._select_best_index(refit, refit_metric, results)
            if not callable(refit):
                self.best_score_ = results[f"mean_test_{refit_metric}"][self.best_index_]
            self.best_params_ = results["params"][self.best_index_]
        scorers = inputs.scorers
        self.scorer_ = scorers._scorers if isinstance(scorers, _MultimetricScorer) else scorers
        self.cv_results_ = results
        if ev.objectives:
            self.pareto_front_ = ev.pareto_front(results)
        elif hasattr(self, "pareto_front_"):
            del self.pareto_front_  # from an earlier fit with objectives

    def _refit_best(self, inputs, root_ctx, params, schedule=None):
        """Fit ``best_estimator_`` on the whole data, as ``BaseSearchCV.fit`` does.

        A budgeted search refits with ``max_resources`` of its resource.
        """
        best_params = dict(self.best_params_)
        if schedule is not None and schedule.resource != "n_samples":
            best_params[schedule.resource] = schedule.max_resources
        # Clone the parameters too: they may be estimators (pipeline steps).
        self.best_estimator_ = clone(inputs.estimator).set_params(
            **clone(best_params, safe=False)
        )
        X, y, metadata = inputs.X, inputs.y, _callback_metadata(params)
        ctx = None
        if root_ctx is not None:
            ctx = root_ctx.subcontext(task_name="refit-with-best-params")
        with (ctx.propagate_callback_context(self.best_estimator_) if ctx is not None
              else contextlib.nullcontext()):
            if ctx is not None:
                ctx.call_on_fit_task_begin(estimator=self, X=X, y=y, metadata=metadata)
            start = time.time()
            if y is None:
                self.best_estimator_.fit(X, **inputs.fit_params)
            else:
                self.best_estimator_.fit(X, y, **inputs.fit_params)
            self.refit_time_ = time.time() - start
        if hasattr(self.best_estimator_, "feature_names_in_"):
            self.feature_names_in_ = self.best_estimator_.feature_names_in_
        if ctx is not None:
            ctx.call_on_fit_task_end(estimator=self, X=X, y=y, metadata=metadata)

    @staticmethod
    def _select_best_index(refit, refit_metric, results):
        """``BaseSearchCV``'s rule; with budgets, among the largest budget reached.

        As in ``HalvingRandomSearchCV``: a candidate stopped at a small budget is not
        comparable with one trained to the full budget.
        """
        if "n_resources" not in results or callable(refit):
            return BaseSearchCV._select_best_index(refit, refit_metric, results)
        top = np.flatnonzero(results["n_resources"] == np.max(results["n_resources"]))
        return top[np.argmin(results[f"rank_test_{refit_metric}"][top])]

    def _check_search_params(self, estimator):
        """Everything ``_parameter_constraints`` cannot say; runs before any fit.

        Returns the search space.
        """
        self._check_strategy_params()
        _check_pre_dispatch(self.pre_dispatch)
        self._check_objectives(estimator)
        self._callback_list()
        space = SearchSpace(self.param_distributions)
        _check_param_names(estimator, space)
        return space

    def _check_strategy_params(self):
        """Checks beyond ``_parameter_constraints``; strategies extend it."""

    def _objectives(self):
        """``objectives`` as ``(name, sign)`` pairs, ``sign * value`` to minimise; [] if none."""
        return [] if self.objectives is None else parse_objectives(self.objectives)

    def _scorer_names(self, estimator):
        """The names an objective may use for a scorer; None if only a fit can tell."""
        scoring = self.scoring
        if isinstance(scoring, dict):
            return set(scoring)
        if isinstance(scoring, (list, tuple, set)):
            return set(scoring)
        if isinstance(scoring, str):
            return {scoring, "score"}
        if scoring is None:
            default = ("accuracy" if is_classifier(estimator)
                       else "r2" if is_regressor(estimator) else "score")
            return {"score", default}
        return None

    def _check_objectives(self, estimator):
        if self.objectives is None:
            if self.objective_weights is not None:
                raise ValueError("objective_weights needs objectives: set both, or neither.")
            return
        parsed = self._objectives()
        scorers = self._scorer_names(estimator)
        for name, _ in parsed:
            if name not in COST_MEASURES and scorers is not None and name not in scorers:
                raise ValueError(
                    f"objectives: unknown objective {name!r}. An objective is a cost "
                    f"measure ({', '.join(COST_MEASURES)}) or a scorer of scoring "
                    f"({', '.join(sorted(scorers))})."
                )
        if self.objective_weights is not None:
            names = [name for name, _ in parsed]
            weights = self.objective_weights
            if set(weights) != set(names):
                raise ValueError(
                    f"objective_weights must give a weight to each objective {names}; "
                    f"got {sorted(weights)}."
                )
            for name, weight in weights.items():
                if not (isinstance(weight, numbers.Real) and np.isfinite(weight)
                        and weight > 0):
                    raise ValueError(
                        f"objective_weights[{name!r}] must be a finite number > 0, "
                        f"got {weight!r}."
                    )

    def _callback_list(self):
        if self.callbacks is None:
            return []
        if callable(self.callbacks):
            return [self.callbacks]
        for cb in self.callbacks:
            if not callable(cb):
                raise TypeError(f"callbacks must be callables, got {cb!r}.")
        return list(self.callbacks)

    def _guiding_metric(self, refit):
        """The metric the strategy maximises; None for one metric (or not yet known).

        With several metrics: the ``refit`` metric, or the first metric of ``scoring``
        when ``refit`` is a callable or False; for a callable ``scoring`` returning a
        dict, the first metric by name.
        """
        if isinstance(self.scoring, (dict, list, tuple)):
            if isinstance(refit, str):
                return refit
            return next(iter(self.scoring))
        if callable(self.scoring) and isinstance(refit, str):
            return refit
        return None

    @abstractmethod
    def _search(self, ev, rng):
        """Propose batches to ``ev.evaluate`` until ``ev.done``."""


def _callback_metadata(params):
    """The metadata scikit-learn's callbacks are given, as ``BaseSearchCV.fit`` gives it."""
    sample_weight = params.get("sample_weight")
    return None if sample_weight is None else {"sample_weight": sample_weight}


def _check_pre_dispatch(pre_dispatch):
    """joblib evaluates ``pre_dispatch`` only when the first batch runs: check it now."""
    if isinstance(pre_dispatch, str) and not re.fullmatch(
        r"\s*(all|\d+|(\d+\s*\*\s*)?n_jobs)\s*", pre_dispatch
    ):
        raise ValueError(
            f"pre_dispatch={pre_dispatch!r} is not 'all', a number or an expression like "
            "'2*n_jobs'."
        )
