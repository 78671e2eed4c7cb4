"""Bayesian optimisation through scikit-optimize's ``Optimizer`` (ask / tell)."""

import inspect
import math
import numbers
import warnings

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from skopt import Optimizer
from skopt.space import Space
from skopt.utils import cook_estimator, normalize_dimensions
from threadpoolctl import threadpool_limits

from ._base import BaseSequentialSearchCV
from ._screening import INACTIVE_INPUT, copula
from ._sklearn_private import Interval, StrOptions

# Random draws tried for a proposal nobody has seen before giving up.
_NOVELTY_TRIES = 10


def _cook(surrogate, dimensions, seed):
    if surrogate == "GP":
        # skopt's own GP, with one hyper-parameter fit instead of three: on a few
        # dozen points the restarts tripled the strategy's cost for nothing.
        return cook_estimator(
            "GP", space=Space(dimensions), random_state=seed,
            noise="gaussian", n_restarts_optimizer=0,
        )
    return cook_estimator(surrogate, space=Space(dimensions), random_state=seed)


class _InactiveColumns:
    """Sets the surrogate inputs of a conditional sub-space's inactive dimensions.

    Works on rows as the optimiser transforms them (``space``, normalised, one-hot
    categories), reading the parents' values back to decide what is active.
    """

    def __init__(self, search_space, k, space):
        self.structure = search_space.structures[k]
        self.params = search_space.subspaces[k]
        self.space = space
        bounds = np.cumsum([0] + [d.transformed_size for d in space.dimensions])
        self.columns = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:])]

    def __deepcopy__(self, memo):
        return self  # immutable; skopt clones its surrogate before every fit

    def impute(self, X):
        X = np.array(X, dtype=float)
        points = self.space.inverse_transform(X)
        parents = self.structure.parents
        cache = {}  # activity by the parents' codes: few distinct ones
        for row, point in zip(X, points):
            codes = [0] * len(self.params)
            for j in parents:
                codes[j] = self.params[j].from_skopt(point[j])
            key = tuple(codes[j] for j in parents)
            if key not in cache:
                cache[key] = self.structure.active(codes)
            for column, active in zip(self.columns, cache[key]):
                if not active:
                    row[column] = INACTIVE_INPUT
        return X


class _InactiveImputed(RegressorMixin, BaseEstimator):
    """A surrogate that sees each inactive dimension at one value outside its range.

    skopt scores its acquisition function on random points, whose inactive
    dimensions hold random values, and tells it whatever the points hold. Imputing
    one fixed value before every fit and prediction makes the surrogate model a
    candidate by its active values only, and keeps "absent" apart from every real
    value (the imputation SMAC uses for its random forest).
    """

    def __init__(self, estimator=None, columns=None):
        self.estimator = estimator
        self.columns = columns

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(self.columns.impute(X), y)
        return self

    def predict(self, X, **kwargs):
        return self.estimator_.predict(self.columns.impute(X), **kwargs)

# skopt.Optimizer arguments the search sets from its own parameters.
_OWN_OPTIMIZER_ARGS = {
    "dimensions": "param_distributions",
    "base_estimator": "surrogate",
    "random_state": "random_state",
    "n_initial_points": "n_initial_points",
    "acq_func": "acq_func",
}


class _SubspaceOptimizer:
    """One ``skopt.Optimizer`` over one sub-space, speaking genomes."""

    def __init__(self, space, k, rng, surrogate, use_copula=True, **kwargs):
        self.k = k
        self.params = space.subspaces[k]
        self.space = space
        self.told = []  # genomes told, in order
        self.scores = []  # their scores
        self.use_copula = use_copula
        seed = int(rng.integers(np.iinfo(np.int32).max))
        dimensions = [p.skopt_dimension() for p in self.params]
        # Any in-range value will do for an inactive dimension: the surrogate never
        # sees it (see _InactiveImputed).
        self._placeholder = [p.to_skopt(p.from_unit(0.5)) for p in self.params]
        if space.structures[k].is_conditional:
            # The optimiser normalises a GP's dimensions itself, but not a wrapper's.
            dimensions = normalize_dimensions(dimensions).dimensions
            columns = _InactiveColumns(space, k, Space(dimensions))
            surrogate = _InactiveImputed(_cook(surrogate, dimensions, seed), columns)
        elif surrogate == "GP":
            surrogate = _cook(surrogate, dimensions, seed)
        self.optimizer = Optimizer(
            dimensions, base_estimator=surrogate, random_state=seed, **kwargs
        )

    def ask(self, n_points):
        # The surrogate's matrices are tiny: BLAS threads only add start-up and spinning
        # (3x slower here), and they would compete with the joblib workers.
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            # skopt warns when it proposes a point twice; the evaluator answers
            # repeats from memory, so that costs nothing.
            warnings.simplefilter("ignore", UserWarning)
            points = self.optimizer.ask(n_points=n_points)
        return [
            self.space.canonical(
                (self.k, tuple(p.from_skopt(x) for p, x in zip(self.params, point)))
            )
            for point in points
        ]

    def random(self, rng):
        """A genome of this sub-space drawn from the prior."""
        codes = tuple(p.from_unit(rng.random()) for p in self.params)
        return self.space.canonical((self.k, codes))

    def tell(self, genomes, scores, worst):
        points = [
            [p.to_skopt(c) if c is not None else x
             for p, c, x in zip(self.params, codes, self._placeholder)]
            for _, codes in genomes
        ]
        self.scores.extend(scores)
        losses = self._losses(self.scores, worst)
        # Earlier points' losses depend on every score (ranks): restate them first.
        self.optimizer.yi = losses[: len(self.told)]
        with threadpool_limits(limits=1):
            self.optimizer.tell(points, losses[len(self.told):])
        self.told.extend(genomes)

    def retell(self, genomes, scores, worst):
        """Forget the points told so far and tell these instead; the surrogate refits.

        Called once the search's own initial points are spent: the surrogate then
        proposes, however few points it is told.
        """
        self.told, self.scores = [], []
        self.optimizer.Xi, self.optimizer.yi = [], []
        self.optimizer._n_initial_points = len(genomes)  # counted down by the tell
        self.tell(genomes, scores, worst)

    def restate(self, scores, worst):
        """New scores for the points told so far; the surrogate refits at the next tell."""
        self.scores = list(scores)
        self.optimizer.yi = self._losses(self.scores, worst)

    def _losses(self, scores, worst):
        """What skopt minimises: the scores' normal quantiles by rank, negated.

        skopt cannot take a failure: it gets the worst score seen. With
        ``use_copula`` (the default) the surrogate models ranks through a Gaussian
        copula (as in Salinas et al., 2020, and HEBO) rather than raw scores: a
        cliff from 0.99 to chance accuracy would otherwise set the GP's scale, and the
        differences that matter near the top would be lost in its noise.
        """
        values = [s if math.isfinite(s) else worst for s in scores]
        if not self.use_copula or len(values) < 2:
            return [-v for v in values]
        return (-copula(values)).tolist()


def _worst(scores):
    """The worst finite score (what skopt is told for a failure); 0 if none."""
    return min((s for s in scores if math.isfinite(s)), default=0.0)


class BayesianSearchCV(BaseSequentialSearchCV):
    """Hyper-parameter search by Bayesian optimisation (scikit-optimize).

    A surrogate model of the cross-validated score over the space (a Gaussian process by
    default) picks the next ``n_points`` candidates by an acquisition function; each
    batch is one ``evaluate_candidates`` call. The optimiser is
    :class:`skopt.Optimizer`, used through its stable ask/tell interface; batches of
    several points use its constant-liar strategy. With a list of sub-spaces, each gets
    its own optimiser and batches go to them in turn. A scipy distribution is modelled in
    its quantile space (``Real(0, 1)`` mapped through ``ppf``), so an unbounded one works.
    The surrogate models the scores' normal quantiles by rank (a Gaussian copula, as
    HEBO and Salinas et al., 2020, do) rather than the scores themselves: a few
    candidates at chance accuracy would otherwise set its scale, and the differences
    that matter near the top would vanish in its noise.

    Parameters
    ----------
    estimator : estimator object
        The estimator to tune; cloned, never modified.
    param_distributions : dict or list of dicts
        The search space, as in :class:`~skautosearch.GeneticSearchCV`.
    n_iter : int, default=30
        Number of distinct candidates evaluated.
    n_points : int, default=2
        Candidates per batch, hence evaluated in parallel. Results depend on it, never
        on ``n_jobs``. With budgets, a batch that starts at a higher rung asks fewer
        (see ``n_brackets`` in :class:`~skautosearch.GeneticSearchCV`).
    n_initial_points : int, default=6
        Candidates drawn by a Latin hypercube before the surrogate is used.
    surrogate : {"GP", "RF", "ET", "GBRT"}, default="GP"
        The surrogate model (skopt's ``base_estimator``).
    acq_func : {"gp_hedge", "EI", "PI", "LCB"}, default="EI"
        The acquisition function.
    optimizer_kwargs : dict, default=None
        Further keyword arguments for :class:`skopt.Optimizer` (e.g. ``acq_func_kwargs``).
        Those the search sets from its own parameters (``base_estimator``,
        ``acq_func``, ``n_initial_points``, ``random_state``, ``dimensions``) are refused:
        set ``surrogate``, ``acq_func``, ``n_initial_points`` or ``random_state`` instead.
    scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score, return_train_score
        As in :class:`~sklearn.model_selection.GridSearchCV`.
    random_state, max_time, patience, callbacks, checkpoint, candidate_timeout, \
objectives, objective_weights, resource, min_resources, max_resources, factor, \
n_brackets
        As in :class:`~skautosearch.GeneticSearchCV` (``patience`` counts batches).

    Attributes
    ----------
    cv_results_ : dict of numpy (masked) ndarrays
        As in ``GridSearchCV``, plus ``iteration`` and ``batch`` (both the index of the
        batch that evaluated the candidate).
    best_estimator_, best_score_, best_params_, best_index_, scorer_, n_splits_, \
refit_time_, multimetric_
        As in :class:`~sklearn.model_selection.GridSearchCV`.
    n_batches_ : int
        Number of ``evaluate_candidates`` calls.
    stop_reason_ : str
        Why the search stopped (see :class:`~skautosearch.GeneticSearchCV`).
    n_resources_, n_candidates_ : list of int
        As in :class:`~skautosearch.GeneticSearchCV` (with ``resource`` only).
    n_replayed_fits_ : int
        Fits answered from the ``checkpoint`` journal instead of being run.
    pareto_front_ : Bunch
        With ``objectives`` only: ``index``, the rows of ``cv_results_`` on the Pareto
        front (sorted by the first objective), and ``table``, a dict of their
        ``params`` and objective values (``pandas.DataFrame(search.pareto_front_.table)``).

    See Also
    --------
    GeneticSearchCV : A genetic algorithm over the same space.
    AnnealingSearchCV : Simulated annealing over the same space.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from skautosearch import BayesianSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = BayesianSearchCV(
    ...     SVC(), {"C": Real(1e-2, 1e2, prior="log-uniform")},
    ...     n_iter=6, n_initial_points=4, cv=3, random_state=0,
    ... ).fit(X, y)
    >>> len(search.cv_results_["params"])
    6
    """

    _parameter_constraints: dict = {
        **BaseSequentialSearchCV._parameter_constraints,
        "n_points": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_initial_points": [Interval(numbers.Integral, 1, None, closed="left")],
        "surrogate": [StrOptions({"GP", "RF", "ET", "GBRT"})],
        "acq_func": [StrOptions({"gp_hedge", "EI", "PI", "LCB"})],
        "optimizer_kwargs": [dict, None],
    }

    def __init__(
        self,
        estimator,
        param_distributions,
        *,
        n_iter=30,
        n_points=2,
        n_initial_points=6,
        surrogate="GP",
        acq_func="EI",
        optimizer_kwargs=None,
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
            estimator,
            param_distributions,
            n_iter=n_iter,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            max_time=max_time,
            patience=patience,
            callbacks=callbacks,
            checkpoint=checkpoint,
            candidate_timeout=candidate_timeout,
            objectives=objectives,
            objective_weights=objective_weights,
            resource=resource,
            min_resources=min_resources,
            max_resources=max_resources,
            factor=factor,
            n_brackets=n_brackets,
        )
        self.n_points = n_points
        self.n_initial_points = n_initial_points
        self.surrogate = surrogate
        self.acq_func = acq_func
        self.optimizer_kwargs = optimizer_kwargs

    # Chosen by the search-efficiency benchmark (benchmarks/RESULTS.md).
    _copula = True  # the surrogate models the scores' ranks (Gaussian copula)

    def _check_strategy_params(self):
        accepted = set(inspect.signature(Optimizer).parameters) - set(_OWN_OPTIMIZER_ARGS)
        for key in self.optimizer_kwargs or {}:
            if key in _OWN_OPTIMIZER_ARGS:
                raise ValueError(
                    f"optimizer_kwargs: {key!r} is set by the search itself; use its "
                    f"{_OWN_OPTIMIZER_ARGS[key]} parameter instead."
                )
            if key not in accepted:
                raise ValueError(
                    f"optimizer_kwargs: {key!r} is not a parameter of skopt.Optimizer; "
                    f"it takes {', '.join(sorted(accepted))}."
                )

    def _search(self, ev, rng):
        kwargs = {
            "n_initial_points": self.n_initial_points,
            # The initial points are ours (the Latin hypercube every strategy starts
            # from); skopt's own "lhs" generator cost 0.5 s per Optimizer copy.
            "initial_point_generator": "random",
            "acq_func": self.acq_func,
            # Scoring 2,000 random points of the acquisition function instead of
            # L-BFGS from 10,000: the same picks on the small spaces searched here, at
            # a fraction of the cost that showed as the strategy's wall-time overhead.
            "acq_optimizer": "sampling",
            "acq_optimizer_kwargs": {"n_points": 2000},
            **(self.optimizer_kwargs or {}),
        }
        optimizers = [
            _SubspaceOptimizer(ev.space, k, rng, self.surrogate, use_copula=self._copula,
                               **kwargs)
            for k in range(len(ev.space.subspaces))
        ]
        initial = ev.space.sample(self.n_initial_points * len(optimizers), rng)
        iteration = 0
        while not ev.done:
            opt = optimizers[iteration % len(optimizers)]
            n = min(ev.batch_size(self.n_points), ev.remaining)
            mine = [g for g in initial if g[0] == opt.k]
            one_rung = False
            if mine:
                genomes = [initial.pop(initial.index(g)) for g in mine[:n]]
            else:
                model_scores = ev.model_scores
                one_rung = model_scores is not ev.scores
                if one_rung:
                    # A budgeted search: the surrogate learns from one rung (BOHB).
                    told = {g: s for g, s in model_scores.items() if g[0] == opt.k}
                    if told:
                        opt.retell(list(told), list(told.values()), _worst(told.values()))
                genomes = self._ask(ev, opt, n, rng, knows_all=not one_rung)
            scores = ev.evaluate(genomes, {"iteration": [iteration] * len(genomes)})
            worst = _worst(ev.scores.values())
            if not one_rung:  # (a surrogate told one rung is told afresh before asking)
                # Earlier points' scores may have changed with this batch: a
                # scalarisation drawn anew, or a deferred top rung that ran beside it.
                opt.restate(ev.scores_of(opt.told), worst)
            opt.tell(genomes, scores, worst)
            iteration += 1

    @staticmethod
    def _ask(ev, opt, n, rng, knows_all=True):
        """``n`` proposals; in a conditional sub-space, none already evaluated.

        Proposals that differ only in inactive values are one candidate: where two
        collapse into one, or into an earlier candidate, a random new one replaces it.
        ``knows_all=False`` (the optimiser was told one rung's candidates only) replaces
        evaluated proposals in any sub-space.
        """
        genomes = opt.ask(n)
        if knows_all and not ev.space.structures[opt.k].is_conditional:
            return genomes
        fresh = []
        for genome in genomes:
            for _ in range(_NOVELTY_TRIES):
                if genome not in ev.scores and genome not in fresh:
                    break
                genome = opt.random(rng)
            fresh.append(genome)
        return fresh
