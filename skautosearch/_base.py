"""Shared machinery of the sequential searches.

A strategy subclasses :class:`BaseSequentialSearchCV` and implements ``_search(ev, rng)``:
it proposes batches of genomes and hands each batch to ``ev.evaluate``, which sends the
new ones to scikit-learn's ``evaluate_candidates`` in one call (so joblib parallelises
candidates x folds), answers repeats from memory, keeps the budget and decides when to
stop. Cross-validation, scoring, refit and ``cv_results_`` stay scikit-learn's.
"""

import contextlib
import numbers
import os
import threading
import time
from abc import abstractmethod

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import _search as _sk_search
from sklearn.model_selection import check_cv
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._split import _yields_constant_splits
from sklearn.utils import Bunch, indexable
from sklearn.utils._param_validation import Interval

from . import _journal
from ._dispatch import Task, make_parallel, run_tasks
from ._progress import progress_bar
from .costs import COST_MEASURES
from .pareto import (
    crowding_distance,
    knee_point,
    non_dominated_sort,
    objective_matrix,
    pareto_front,
    parse_objectives,
)
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


class _Answered(dict):
    """A candidate's parameters, carrying its per-split results already computed."""

    __slots__ = ("outs",)


# Keys our fits add to scikit-learn's ``_fit_and_score`` output; not for scikit-learn.
_OWN_KEYS = ("failure_reason", "costs")
_original_fit_and_score = _sk_search._fit_and_score
_answering_lock = threading.Lock()
_answering_depth = 0


def _answer_or_fit(*args, parameters, split_progress, **kwargs):
    """``_fit_and_score`` for scikit-learn's ``evaluate_candidates``: answers known fits.

    Parameters of any other kind (another search running meanwhile) are fitted as usual.
    """
    if isinstance(parameters, _Answered):
        return dict(parameters.outs[split_progress[0]])
    return _original_fit_and_score(
        *args, parameters=parameters, split_progress=split_progress, **kwargs
    )


@contextlib.contextmanager
def _answering():
    """Let scikit-learn's ``evaluate_candidates`` record fits our evaluator already ran.

    The fits ran through :mod:`skautosearch._dispatch`; scikit-learn still formats
    ``cv_results_``, picks the best candidate and refits it, from the same outputs its
    own ``_fit_and_score`` would have returned.
    """
    global _answering_depth
    with _answering_lock:
        _answering_depth += 1
        _sk_search._fit_and_score = _answer_or_fit
    try:
        yield
    finally:
        with _answering_lock:
            _answering_depth -= 1
            if _answering_depth == 0:
                _sk_search._fit_and_score = _original_fit_and_score


def _sklearn_out(out):
    return {key: value for key, value in out.items() if key not in _OWN_KEYS}


class _FitInputs:
    """What every fit of a search needs, prepared as ``BaseSearchCV.fit`` prepares it."""

    def __init__(self, search, X, y, params):
        self.X, self.y = indexable(X, y)
        routed = search._get_routed_params_for_fit(params)
        scorers, _ = search._get_scorers()
        self.estimator = clone(search.estimator)
        cv = check_cv(search.cv, self.y, classifier=is_classifier(self.estimator))
        self.splits = list(cv.split(self.X, self.y, **routed.splitter.split))
        self.fit_kwargs = dict(
            scorer=scorers,
            fit_params=routed.estimator.fit,
            score_params=routed.scorer.score,
            return_train_score=search.return_train_score,
            return_n_test_samples=True,
            return_times=True,
            return_parameters=False,
            error_score=search.error_score,
            verbose=search.verbose,
        )
        self.costs = tuple(name for name, _ in search._objectives() if name in COST_MEASURES)

    def fingerprint(self, search):
        return _journal.fingerprint(
            self.estimator, self.X, self.y, self.splits, scoring=search.scoring,
            error_score=search.error_score, return_train_score=search.return_train_score,
            costs=self.costs,
        )


class _Evaluator:
    """Budget, memory, journal and stopping rules around the fits of each batch.

    Each batch's new (candidate, split) fits are answered from the checkpoint journal
    when it has them and run through :func:`skautosearch._dispatch.run_tasks`
    otherwise; every result is journaled as it arrives. All candidates are handed to
    scikit-learn's ``evaluate_candidates`` once, at the end (see :func:`_answering`).
    """

    def __init__(self, search, space, inputs, journal, callback_ctx, weights_seed=None,
                 parallel=None):
        self.search = search
        self.parallel = parallel
        self.space = space
        self.inputs = inputs
        self.journal = journal
        self._callback_ctx = callback_ctx
        self.callbacks = search._callback_list()
        self.scores = {}  # genome -> score used to guide the search
        self.records = []  # (params, outs per split, more_results row), evaluation order
        self.n_batches = 0
        self.n_replayed = 0
        self.stop_reason = None
        self.best = -np.inf
        self._stalled = 0
        self._since_improvement = 0
        self._start = time.monotonic()
        self._space_size = space.size()
        self.results = None  # cv_results_ so far, formatted for callbacks only
        # Multi-objective: each genome's objectives as a vector to minimise.
        self.objectives = search._objectives()
        self.F = {}
        self._front = []  # genomes on the Pareto front so far
        self.genomes = []  # in evaluation order, as records
        self._front_grew = False
        self._weights_rng = None
        if search.objective_weights is None:
            self._weights_rng = np.random.default_rng(weights_seed)

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
        params = [self.space.decode(g) for g in batch]
        outs = self._fit(params)
        for row, candidate_params, candidate_outs in zip(rows, params, outs):
            more = {key: values[row] for key, values in more_results.items()}
            more["batch"] = self.n_batches
            reasons = [out.get("failure_reason") for out in candidate_outs]
            more["failure_reason"] = next((r for r in reasons if r), "")
            for name in self.inputs.costs:
                values = [out["costs"][name] for out in candidate_outs]
                more[f"mean_{name}"], more[f"std_{name}"] = np.mean(values), np.std(values)
            self.records.append((candidate_params, candidate_outs, more))
        self.genomes.extend(batch)
        self.n_batches += 1
        metric = self.search._guiding_metric()
        self.scores.update(zip(batch, (_mean_score(o, metric) for o in outs)))
        if self.objectives:
            self._record_objectives(batch, outs)
        if self.callbacks:
            self.results = self.format_results()

    def _record_objectives(self, batch, outs):
        """Store each genome's objective vector; re-scalarise every score seen."""
        for genome, candidate_outs in zip(batch, outs):
            vector = []
            for name, sign in self.objectives:
                if name in COST_MEASURES:
                    value = np.mean([out["costs"][name] for out in candidate_outs])
                else:
                    value = _mean_score(candidate_outs, name)
                    value = value if np.isfinite(value) else np.nan
                vector.append(sign * value)
            self.F[genome] = np.array(vector, dtype=float)
        # The front of everything seen is the front of the old front and the batch.
        candidates = self._front + [g for g in batch if g not in self._front]
        front = pareto_front(np.array([self.F[g] for g in candidates]))
        self._front = [candidates[i] for i in front]
        self._front_grew = any(g in batch for g in self._front)
        if len(self.objectives) > 1:
            self.scores.update(self._scalarised(list(self.F)))

    def _scalarised(self, genomes):
        """Augmented Chebyshev scalarisation (ParEGO) of the objectives, to maximise.

        Each objective is normalised to [0, 1] by its rank among the finite candidates,
        so that no unit (bytes, seconds, accuracy) dominates; the weights are the
        user's ``objective_weights`` or drawn afresh for each batch.
        """
        F = np.array([self.F[g] for g in genomes])
        ok = np.isfinite(F).all(axis=1)
        scores = np.full(len(genomes), -np.inf)
        if ok.sum() == 0:
            return dict(zip(genomes, scores))
        ranks = np.argsort(np.argsort(F[ok], axis=0, kind="stable"), axis=0, kind="stable")
        normalised = ranks / max(ok.sum() - 1, 1)
        if self._weights_rng is not None:
            weights = self._weights_rng.dirichlet(np.ones(len(self.objectives)))
        else:
            weights = np.array([self.search.objective_weights[name]
                                for name, _ in self.objectives], dtype=float)
            weights = weights / weights.sum()
        weighted = normalised * weights
        scores[ok] = -(weighted.max(axis=1) + 0.05 * weighted.sum(axis=1))
        return dict(zip(genomes, scores))

    def nsga_order(self, genomes):
        """``genomes`` best first by NSGA-II: non-dominated rank, then crowding distance.

        Genomes not evaluated (the budget ran out) come last.
        """
        inf = np.full(len(self.objectives), np.inf)
        F = np.array([self.F.get(g, inf) for g in genomes])
        order = []
        for front in non_dominated_sort(F):
            crowding = crowding_distance(F[front])
            order.extend(front[np.argsort(-crowding, kind="stable")])
        return [genomes[i] for i in order]

    def _fit(self, params):
        """Per-split outputs of every candidate in ``params``: journaled, else fitted."""
        inputs, journal = self.inputs, self.journal
        n_splits = len(inputs.splits)
        keys = [_journal.params_key(p) for p in params] if journal is not None else None
        outs = [[None] * n_splits for _ in params]
        tasks = []
        for c, candidate in enumerate(params):
            for s, (train, test) in enumerate(inputs.splits):
                answer = journal.answer(keys[c], s) if journal is not None else None
                if answer is not None:
                    outs[c][s] = answer
                    self.n_replayed += 1
                else:
                    tasks.append(Task(c, len(params), s, n_splits, candidate, train, test))

        def record(task, out):
            outs[task.candidate][task.split] = out
            if journal is not None:
                journal.append(keys[task.candidate], task.split, out)

        search = self.search
        run_tasks(
            tasks, inputs.estimator, inputs.X, inputs.y, inputs.fit_kwargs,
            parallel=self.parallel, timeout=search.candidate_timeout, on_result=record,
            costs=inputs.costs,
        )
        return outs

    def _more_results(self):
        """The strategy, batch, failure and cost columns, one list per column."""
        return {key: [row[key] for _, _, row in self.records] for key in self.records[0][2]}

    def format_results(self):
        """``cv_results_`` of the candidates so far, as scikit-learn formats them."""
        params = [p for p, _, _ in self.records]
        outs = [_sklearn_out(out) for _, candidate_outs, _ in self.records
                for out in candidate_outs]
        more = self._more_results()
        return self.search._format_results(params, len(self.inputs.splits), outs, more)

    def pareto_front(self):
        """``pareto_front_``: the front's rows of ``cv_results_``, and a table of them."""
        # The front kept batch by batch (see _record_objectives), as rows of cv_results_.
        row = {genome: i for i, genome in enumerate(self.genomes)}
        front = np.array([row[g] for g in self._front], dtype=int)
        F = np.array([self.F[g] for g in self._front]).reshape(len(front), -1)
        order = np.lexsort(F.T[::-1])
        front, F = front[order], F[order]
        table = {"params": [self.records[i][0] for i in front]}
        for j, (name, sign) in enumerate(self.objectives):
            table[name] = sign * F[:, j]
        return Bunch(index=front, table=table)

    def commit(self, evaluate_candidates):
        """Hand every candidate, with its results, to scikit-learn's bookkeeping."""
        answered = []
        for params, outs, _ in self.records:
            candidate = _Answered(params)
            candidate.outs = [_sklearn_out(out) for out in outs]
            answered.append(candidate)
        more = self._more_results()
        kwargs = {"more_results": more}
        ctx = None
        if self._callback_ctx is not None:
            ctx = self._callback_ctx.subcontext(
                task_name="evaluation",
                max_subtasks=len(answered) * len(self.inputs.splits),
                sequential_subtasks=False,
            ).call_on_fit_task_begin(estimator=self.search)
            kwargs["callback_ctx"] = ctx
        with _answering():
            evaluate_candidates(answered, **kwargs)
        if ctx is not None:
            ctx.call_on_fit_task_end(estimator=self.search)

    def _after_batch(self, any_new):
        self._stalled = 0 if any_new else self._stalled + 1
        best = max(self.scores.values(), default=-np.inf)
        improved = best > self.best
        self.best = max(best, self.best)
        if self.objectives:
            # Scalarised scores move with the weights: progress is a wider front.
            improved, self._front_grew = self._front_grew, False
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


def _mean_score(outs, metric):
    """The mean test score of one candidate, as ``cv_results_`` will have it; -inf if failed.

    ``metric`` picks one score of a multimetric search (None: the first by name).
    """
    scores = []
    for out in outs:
        score = out["test_scores"]
        if isinstance(score, dict):
            score = score.get(metric if metric is not None else min(score), np.nan)
        scores.append(float(score))
    mean = float(np.average(scores))
    return mean if np.isfinite(mean) else -np.inf


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
        # Validate the user's parameters before n_jobs and refit are swapped below.
        self._validate_params()
        user_estimator, user_n_jobs, user_refit = self.estimator, self.n_jobs, self.refit
        if isinstance(user_refit, str) and user_refit == "knee":
            if self.objectives is None:
                raise ValueError("refit='knee' needs objectives: the knee of which front?")
            self.refit = _KneeRefit(self.objectives, self.scoring)
        # Our dispatcher runs the fits with the user's n_jobs (see _Evaluator); the
        # final evaluate_candidates call only records them, so it runs in-process.
        # A Keras-backed estimator is searched in its adapted form. The user's
        # parameters are restored afterwards.
        self._n_jobs_for_fits, self.n_jobs = user_n_jobs, 1
        self._fit_inputs = (X, y, params)
        self.estimator = _adapt_estimator(user_estimator)
        try:
            return super().fit(X, y, **params)
        finally:
            self.estimator, self.n_jobs, self.refit = user_estimator, user_n_jobs, user_refit
            del self._fit_inputs, self._n_jobs_for_fits

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
        self._check_objectives()
        space = SearchSpace(self.param_distributions)
        _check_param_names(self.estimator, space)
        return space

    def _check_strategy_params(self):
        """Checks beyond ``_parameter_constraints``; strategies extend it."""

    def _objectives(self):
        """``objectives`` as ``(name, sign)`` pairs, ``sign * value`` to minimise; [] if none."""
        return [] if self.objectives is None else parse_objectives(self.objectives)

    def _scorer_names(self):
        """The names an objective may use for a scorer; None if only a fit can tell."""
        scoring = self.scoring
        if isinstance(scoring, dict):
            return set(scoring)
        if isinstance(scoring, (list, tuple, set)):
            return set(scoring)
        if isinstance(scoring, str):
            return {scoring, "score"}
        if scoring is None:
            default = ("accuracy" if is_classifier(self.estimator)
                       else "r2" if is_regressor(self.estimator) else "score")
            return {"score", default}
        return None

    def _check_objectives(self):
        if self.objectives is None:
            if self.objective_weights is not None:
                raise ValueError("objective_weights needs objectives: set both, or neither.")
            return
        parsed = self._objectives()
        scorers = self._scorer_names()
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

    def _format_results(self, candidate_params, n_splits, out, more_results=None):
        # Candidates reach scikit-learn as _Answered dicts carrying their results;
        # cv_results_ and best_params_ get the plain parameter dicts.
        candidate_params = [dict(params) for params in candidate_params]
        return super()._format_results(candidate_params, n_splits, out, more_results)

    def _guiding_metric(self):
        """The metric the strategy maximises; None for one metric (or not yet known).

        With several metrics: the ``refit`` metric, or the first metric of ``scoring``
        when ``refit`` is a callable or False; for a callable ``scoring`` returning a
        dict, the first metric by name.
        """
        if isinstance(self.scoring, (dict, list, tuple)):
            if isinstance(self.refit, str):
                return self.refit
            return next(iter(self.scoring))
        if callable(self.scoring) and isinstance(self.refit, str):
            return self.refit
        return None

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        space = self._check_search_params()
        rng = _seed_generator(self.random_state)
        # Only a multi-objective search draws its scalarisation weights' seed, so that
        # single-objective searches keep their random stream.
        weights_seed = int(rng.integers(2**31)) if self.objectives else None
        inputs = _FitInputs(self, *self._fit_inputs)
        if getattr(self, "n_splits_", None) is None:
            self.n_splits_ = len(inputs.splits)  # scikit-learn < 1.7 sets it later
        parallel = make_parallel(self._n_jobs_for_fits, self.pre_dispatch,
                                 scatter=[a for a in (inputs.X, inputs.y) if a is not None])
        journal = None
        if self.checkpoint is not None:
            journal = _journal.Journal(self.checkpoint, inputs.fingerprint(self))
        search_ctx = None
        if callback_ctx is not None:
            search_ctx = callback_ctx.subcontext(
                task_name="search", max_subtasks=None
            ).call_on_fit_task_begin(estimator=self)
        try:
            with progress_bar(self, total=self._expected_fits()) as bar, parallel:
                ev = _Evaluator(self, space, inputs, journal, search_ctx, weights_seed,
                                parallel)
                if bar is not None:
                    ev.callbacks.append(bar)
                self._search(ev, rng)
        finally:
            if journal is not None:
                journal.close()
        self.n_batches_ = ev.n_batches
        self.stop_reason_ = ev.stop_reason or "strategy"
        self.n_replayed_fits_ = ev.n_replayed
        if all(out["fit_error"] is not None for _, outs, _ in ev.records for out in outs):
            reasons = [row["failure_reason"] for _, _, row in ev.records]
            raise ValueError(
                f"Every one of the {len(ev.scores)} candidates failed to fit or score; "
                f"there is no model to choose. The last error was: {reasons[-1]}"
            )
        if self.objectives:
            self.pareto_front_ = ev.pareto_front()
        elif hasattr(self, "pareto_front_"):
            del self.pareto_front_  # from an earlier fit with objectives
        ev.commit(evaluate_candidates)
        if search_ctx is not None:
            search_ctx.call_on_fit_task_end(estimator=self)

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
